"""Call an activity by its contract: the one way workflows reach a worker."""

from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import ActivityContract
    from antifragile_core.queues import in_fleet

I = TypeVar("I", bound=BaseModel)  # noqa: E741
O = TypeVar("O", bound=BaseModel)  # noqa: E741


def activity_options(contract: ActivityContract[Any, Any]) -> dict[str, Any]:
    """The contract's queue (in this workflow's fleet), timeouts and retry policy."""
    return {
        "task_queue": in_fleet(contract.queue, workflow.info().task_queue),
        "start_to_close_timeout": contract.start_to_close,
        "schedule_to_close_timeout": contract.schedule_to_close,
        "heartbeat_timeout": contract.heartbeat,
        "retry_policy": contract.retry,
    }


async def call(contract: ActivityContract[I, O], arg: I, **overrides: Any) -> O:
    """Execute `contract`'s activity with `arg`; `overrides` replace contract options."""
    options = activity_options(contract) | overrides
    return await workflow.execute_activity(contract.name, arg, result_type=contract.output, **options)


def start(contract: ActivityContract[I, O], arg: I, **overrides: Any) -> workflow.ActivityHandle[O]:
    """Start `contract`'s activity and return its handle (for cancellation or racing)."""
    options = activity_options(contract) | overrides
    return workflow.start_activity(contract.name, arg, result_type=contract.output, **options)
