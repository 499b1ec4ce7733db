"""A worker process with one slow activity, started by the lifecycle tests the way an image starts a worker:
settings from the environment, `build_worker` + `run_until_signalled` from antifragile_core.runtime."""

import asyncio

from antifragile_core.logs import configure_logging
from antifragile_core.queues import ML_QUEUE
from antifragile_core.runtime import build_worker, connect, run_process, run_until_signalled
from antifragile_core.settings import Settings
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError


class Nap(BaseModel):
    seconds: float
    fail: bool = False


class NapDone(BaseModel):
    attempt: int


@activity.defn(name="nap")
async def nap(request: Nap) -> NapDone:
    """Sleep, then say which attempt finished (or fail for good when asked to); stdout tells the test when
    an attempt starts."""
    print(f"nap started attempt={activity.info().attempt}", flush=True)
    await asyncio.sleep(request.seconds)
    if request.fail:
        raise ApplicationError("the nap was asked to fail", type="NapFailed", non_retryable=True)
    return NapDone(attempt=activity.info().attempt)


async def serve() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    client = await connect(settings)
    await run_until_signalled(build_worker(client, settings, ML_QUEUE, activities=[nap]))


if __name__ == "__main__":
    run_process(serve())
