"""Infrastructure faults at the worker boundary: a connection error of PostgreSQL or S3 is reported by
service and address without credentials, a local OSError is not blamed on a service, and an async
activity heartbeats while it runs, carrying its last details forward."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

import asyncpg
import pytest
from antifragile_core.errors import SERVICE_UNAVAILABLE
from antifragile_core.faults import failed_service, postgres_service, store_service
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.runtime import build_worker
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store
from antifragile_testing.local_servers import free_port
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError


def test_postgres_is_named_by_address_never_by_password() -> None:
    settings = Settings(_env_file=None, database_url="postgresql://app:s3cret@db.internal:6543/flow")  # type: ignore[call-arg]
    assert postgres_service(settings).target == "db.internal:6543"
    settings = Settings(_env_file=None, postgres_password="s3cret")  # type: ignore[call-arg]
    assert "s3cret" not in repr(postgres_service(settings))


async def test_a_refused_postgres_connection_names_postgres() -> None:
    port = free_port()
    settings = Settings(_env_file=None, database_url=f"postgresql://app:s3cret@127.0.0.1:{port}/flow")  # type: ignore[call-arg]
    service = postgres_service(settings)
    with pytest.raises(OSError) as refused:
        await asyncpg.connect(settings.postgres_dsn, timeout=5)
    assert failed_service(refused.value, (service,)) is service
    message = service.unreachable(refused.value)
    assert (
        message.startswith(f"PostgreSQL unreachable at 127.0.0.1:{port}; retrying (")
        and "s3cret" not in message
    )


async def test_an_unreachable_s3_names_s3_and_a_local_oserror_names_nothing() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        s3_bucket="gone",
        s3_endpoint_url=f"http://127.0.0.1:{free_port()}",
        aws_access_key_id="k",
        aws_secret_access_key="s3cret",
    )
    services = (postgres_service(settings), store_service(settings))
    with pytest.raises(Exception) as unreachable:
        async with open_store(settings):
            pass
    assert failed_service(unreachable.value, services) is services[1]
    with pytest.raises(OSError) as local:
        open(f"/nonexistent/{uuid.uuid4()}")  # noqa: ASYNC230, SIM115
    assert failed_service(local.value, services) is None


@activity.defn(name="quiet_then_done")
async def quiet_then_done(seconds: float) -> list:
    """Stays quiet longer than its heartbeat timeout in both attempts; the first leaves a resume point."""
    if activity.info().attempt == 1:
        activity.heartbeat("resume-point")
        await asyncio.sleep(seconds)
        raise RuntimeError("fail the first attempt after a quiet stretch")
    await asyncio.sleep(seconds)
    return [activity.info().attempt, *activity.info().heartbeat_details]


@activity.defn(name="postgres_gone")
async def postgres_gone(port: int) -> None:
    await asyncpg.connect(f"postgresql://app:s3cret@127.0.0.1:{port}/flow", timeout=5)


@workflow.defn(sandboxed=False)
class RunOne:
    @workflow.run
    async def run(self, name: str, arg: object) -> object:
        return await workflow.execute_activity(
            name,
            arg,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1.5),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=2),
        )


async def run_one(client: Client, settings: Settings, name: str, arg: object) -> object:
    queue = settings.task_queue_prefix + DEFAULT_QUEUE
    worker = build_worker(
        client, settings, DEFAULT_QUEUE, activities=[quiet_then_done, postgres_gone], workflows=[RunOne]
    )
    async with worker:
        return await client.execute_workflow(
            RunOne.run, args=[name, arg], id=f"faults-{uuid.uuid4()}", task_queue=queue
        )


async def test_an_async_activity_heartbeats_while_alive_and_keeps_its_last_details(
    temporal_client: Client, make_settings: Callable[..., Settings]
) -> None:
    assert await run_one(temporal_client, make_settings(), "quiet_then_done", 4.0) == [2, "resume-point"]


async def test_a_database_outage_in_an_activity_is_a_retryable_error_naming_postgres(
    temporal_client: Client, make_settings: Callable[..., Settings]
) -> None:
    port = free_port()
    settings = make_settings(database_url=f"postgresql://app:s3cret@127.0.0.1:{port}/flow")
    with pytest.raises(WorkflowFailureError) as failed:
        await run_one(temporal_client, settings, "postgres_gone", port)
    cause = failed.value.cause
    assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
    error = cause.cause
    assert error.type == SERVICE_UNAVAILABLE and not error.non_retryable
    assert error.message.startswith(
        f"PostgreSQL unreachable at 127.0.0.1:{port}; retrying"
    ) and "s3cret" not in str(error)
