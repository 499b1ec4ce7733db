"""`worker-default`: connect, migrate, and serve default-queue until SIGTERM; started before PostgreSQL,
the store or Temporal, it waits for them."""

from collections.abc import Callable
from typing import Any

from antifragile_core.faults import postgres_service, until_up
from antifragile_core.logs import configure_logging
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.runtime import build_worker, connect_when_up, run_process, run_until_signalled
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store_when_up
from antifragile_workflows.registry import ALL_WORKFLOWS
from temporalio.worker import Worker

from . import (
    batches,
    competitors,
    costs,
    db,
    documents,
    feedback,
    notifications,
    readiness,
    retention,
    retrieval,
    service_health,
    training_jobs,
)
from .resources import Resources

ACTIVITY_MODULES = (
    documents,
    batches,
    readiness,
    competitors,
    notifications,
    service_health,
    retention,
    training_jobs,
    feedback,
    retrieval,
    costs,
)
"""Each module exposes `activities(resources)`; together they implement default-queue's contracts."""


def all_activities(res: Resources) -> list[Callable[..., Any]]:
    return [fn for module in ACTIVITY_MODULES for fn in module.activities(res)]


def create_worker(res: Resources) -> Worker:
    """The default-queue worker with every workflow and every default-queue activity."""
    return build_worker(
        res.client, res.settings, DEFAULT_QUEUE, activities=all_activities(res), workflows=ALL_WORKFLOWS
    )


async def serve(settings: Settings) -> None:
    client = await connect_when_up(settings)
    pool = await until_up(postgres_service(settings), lambda: db.connect(settings.postgres_dsn))
    try:
        async with open_store_when_up(settings) as store:
            res = Resources(settings=settings, pool=pool, store=store, client=client)
            # Read-only, as the other workers': /readyz runs every few seconds on every pod, and a write
            # probe there would add a PUT and a DELETE (a delete marker, on a versioned bucket) each time.
            # The service-health activity keeps the full write/read/delete round trip, on demand.
            probes = {
                "postgres": lambda: service_health.probe_postgres(res),
                "object_store": lambda: store.exists("health/ready"),
            }
            await run_until_signalled(create_worker(res), probes)
    finally:
        await pool.close()


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    run_process(serve(settings))
