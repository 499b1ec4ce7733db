"""`worker-ml`: serve ml-queue (training and evaluation) until SIGTERM."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from antifragile_core.logs import configure_logging
from antifragile_core.queues import ML_QUEUE
from antifragile_core.runtime import build_worker, connect, run_process, run_until_signalled
from antifragile_core.settings import Settings
from antifragile_core.storage import ObjectStore, open_store
from temporalio.client import Client
from temporalio.worker import Worker

from .activities import activities
from .sync_store import SyncStore

CONCURRENT_ACTIVITIES = 1
"""One model on the accelerator at a time: a second run would only fight the first for its memory."""


def create_worker(
    client: Client, settings: Settings, store: ObjectStore, executor: ThreadPoolExecutor
) -> Worker:
    """The ml-queue worker; call it on the event loop that will run it (store calls are sent there)."""
    sync_store = SyncStore(store, asyncio.get_running_loop())
    return build_worker(
        client,
        settings.model_copy(update={"max_concurrent_activities": CONCURRENT_ACTIVITIES}),
        ML_QUEUE,
        activities=activities(sync_store, settings),
        activity_executor=executor,
        max_heartbeat_throttle_interval=timedelta(seconds=settings.heartbeat_throttle_seconds),
        default_heartbeat_throttle_interval=timedelta(seconds=settings.heartbeat_throttle_seconds),
    )


async def serve(settings: Settings) -> None:
    client = await connect(settings)
    async with open_store(settings) as store:
        with ThreadPoolExecutor(max_workers=CONCURRENT_ACTIVITIES, thread_name_prefix="ml") as executor:
            await run_until_signalled(create_worker(client, settings, store, executor))


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    run_process(serve(settings))


if __name__ == "__main__":
    main()
