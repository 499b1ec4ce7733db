"""Call an activity by its contract: the one way workflows reach a worker; and report a failed step."""

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import ActivityContract
    from antifragile_core.contracts.batches import MAX_MESSAGE_CHARS, StepError
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


def step_error(step: str, err: ActivityError | ChildWorkflowError) -> StepError:
    """The root cause of a failed activity or child workflow, as a StepError."""
    cause = err.cause
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        return StepError(step=step, type=cause.type, message=cause.message[:MAX_MESSAGE_CHARS])
    return StepError(
        step=step,
        type=type(cause).__name__ if cause else None,
        message=str(cause or err)[:MAX_MESSAGE_CHARS],
    )


async def run_steps(**steps: Awaitable[Any]) -> tuple[dict[str, Any], list[StepError]]:
    """Run named steps concurrently; a failed activity becomes a StepError instead of sinking the others."""
    outcomes = await asyncio.gather(*steps.values(), return_exceptions=True)
    done: dict[str, Any] = {}
    errors: list[StepError] = []
    for name, outcome in zip(steps, outcomes, strict=True):
        if isinstance(outcome, ActivityError):
            errors.append(step_error(name, outcome))
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            done[name] = outcome
    return done, errors
