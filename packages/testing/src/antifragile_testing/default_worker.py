"""The real default-queue worker for workflow tests, with chosen activities replaced by stand-ins
registered under their contracts' names (on each contract's own queue), as samples-python does."""

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from antifragile_core.contracts import ALL_CONTRACTS
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.runtime import build_worker
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store
from antifragile_worker_default import db
from antifragile_worker_default.main import all_activities
from antifragile_worker_default.resources import Resources
from antifragile_workflows.registry import ALL_WORKFLOWS
from temporalio.client import Client

StandIns = Callable[[Resources], list[Callable[..., Any]]]


def activity_name(fn: Callable[..., Any]) -> str:
    return fn.__temporal_activity_definition.name  # type: ignore[attr-defined]


@asynccontextmanager
async def default_worker(
    settings: Settings, client: Client, stand_ins: StandIns | None = None
) -> AsyncIterator[Resources]:
    """Run every workflow and default-queue activity of the fleet `settings` names; `stand_ins(res)`
    returns activities that replace the real ones of the same name, or serve another queue."""
    queue_of = {c.name: c.queue for c in ALL_CONTRACTS}
    pool = await db.connect(settings.postgres_dsn)
    try:
        async with open_store(settings) as store, AsyncExitStack() as workers:
            res = Resources(settings=settings, pool=pool, store=store, client=client)
            replacements = stand_ins(res) if stand_ins else []
            by_queue: dict[str, list[Callable[..., Any]]] = {DEFAULT_QUEUE: []}
            for fn in replacements:
                by_queue.setdefault(queue_of[activity_name(fn)], []).append(fn)
            replaced = {activity_name(fn) for fn in replacements}
            by_queue[DEFAULT_QUEUE] += [fn for fn in all_activities(res) if activity_name(fn) not in replaced]
            for queue, activities in by_queue.items():
                workflows = ALL_WORKFLOWS if queue == DEFAULT_QUEUE else ()
                worker = build_worker(client, settings, queue, activities=activities, workflows=workflows)
                await workers.enter_async_context(worker)
            yield res
    finally:
        await pool.close()
