"""`worker-openai`: serve openai-queue until SIGTERM."""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from antifragile_core.logs import configure_logging
from antifragile_core.queues import OPENAI_QUEUE
from antifragile_core.runtime import build_worker, connect, run_until_signalled
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store
from temporalio.client import Client
from temporalio.worker import Worker

from . import documents
from .llm import LLM, NOT_CONFIGURED
from .resources import Resources

log = logging.getLogger(__name__)

ACTIVITY_MODULES = (documents,)
"""Each module exposes `activities(resources)`; together they implement openai-queue's contracts."""


def all_activities(res: Resources) -> list[Callable[..., Any]]:
    return [fn for module in ACTIVITY_MODULES for fn in module.activities(res)]


def create_worker(client: Client, res: Resources) -> Worker:
    """The openai-queue worker with every openai-queue activity."""
    return build_worker(client, res.settings, OPENAI_QUEUE, activities=all_activities(res))


async def serve(settings: Settings) -> None:
    llm = LLM.from_settings(settings)
    if llm.client is None:
        # Still serve: each call then fails at once, non-retryably, with this reason in the workflow.
        log.warning(NOT_CONFIGURED)
    client = await connect(settings)
    async with open_store(settings) as store:
        await run_until_signalled(create_worker(client, Resources(settings=settings, store=store, llm=llm)))


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    asyncio.run(serve(settings))
