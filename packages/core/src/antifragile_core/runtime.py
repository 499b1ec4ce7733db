"""Connecting to Temporal and running a worker until SIGTERM, the same way in every worker."""

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from .settings import Settings

log = logging.getLogger(__name__)


async def connect(settings: Settings) -> Client:
    """A client with the pydantic data converter, the only converter used on the wire."""
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        api_key=api_key,
        tls=settings.temporal_tls or api_key is not None,
    )


def build_worker(
    client: Client,
    settings: Settings,
    queue: str,
    *,
    activities: Sequence[Callable[..., Any]] = (),
    workflows: Sequence[type] = (),
    activity_executor: Executor | None = None,
    **options: Any,
) -> Worker:
    """A worker on `queue` of this fleet (the settings' prefix applied)."""
    return Worker(
        client,
        task_queue=settings.task_queue_prefix + queue,
        activities=activities,
        workflows=workflows,
        activity_executor=activity_executor,
        max_concurrent_activities=settings.max_concurrent_activities,
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_seconds),
        **options,
    )


async def run_until_signalled(worker: Worker) -> None:
    """Run `worker` until SIGTERM or SIGINT, then drain in-flight activities and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info("worker started", extra={"task_queue": worker.task_queue})
        await stop.wait()
        log.info("worker draining", extra={"task_queue": worker.task_queue})
    log.info("worker stopped", extra={"task_queue": worker.task_queue})
