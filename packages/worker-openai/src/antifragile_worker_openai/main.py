"""`worker-openai`: serve openai-queue until SIGTERM."""

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from antifragile_core.faults import postgres_service, until_up
from antifragile_core.logs import configure_logging
from antifragile_core.queues import OPENAI_QUEUE
from antifragile_core.runtime import build_worker, connect_when_up, run_process, run_until_signalled
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store_when_up
from temporalio.client import Client
from temporalio.worker import Worker

from . import catchball, documents, research, wisdom
from .budget import BillingInterceptor, open_meter
from .llm import LLM, NOT_CONFIGURED
from .resources import Resources

log = logging.getLogger(__name__)

ACTIVITY_MODULES = (documents, research, catchball, wisdom)
"""Each module exposes `activities(resources)`; together they implement openai-queue's contracts."""


def all_activities(res: Resources) -> list[Callable[..., Any]]:
    return [fn for module in ACTIVITY_MODULES for fn in module.activities(res)]


def create_worker(client: Client, res: Resources) -> Worker:
    """The openai-queue worker with every openai-queue activity, billed per organisation and limited
    queue-wide by Temporal (OPENAI_QUEUE_ACTIVITIES_PER_SECOND)."""
    return build_worker(
        client,
        res.settings,
        OPENAI_QUEUE,
        activities=all_activities(res),
        interceptors=[BillingInterceptor()],
        max_task_queue_activities_per_second=res.settings.openai_queue_activities_per_second,
    )


async def serve(settings: Settings) -> None:
    llm = LLM.from_settings(settings)
    if llm.client is None:
        # Still serve: each call then fails at once, non-retryably, with this reason in the workflow.
        log.warning(NOT_CONFIGURED)
    meter = await until_up(postgres_service(settings), lambda: open_meter(settings))
    llm = dataclasses.replace(llm, meter=meter)
    client = await connect_when_up(settings)
    try:
        async with open_store_when_up(settings) as store:
            res = Resources(settings=settings, store=store, llm=llm)
            probes = {
                "postgres": lambda: meter.ledger.pool.fetchval("SELECT 1"),
                "object_store": lambda: store.exists("health/ready"),
            }
            await run_until_signalled(create_worker(client, res), probes)
    finally:
        await meter.ledger.pool.close()


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    run_process(serve(settings))
