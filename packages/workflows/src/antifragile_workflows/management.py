"""ManagementWorkflow: lets a client that is not a worker (the CLI) run one management activity, so the
logic stays in the activities and the client needs nothing but Temporal."""

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.client import Client

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import ActivityContract, Model
    from antifragile_core.contracts.costs import GET_ORGANIZATION_COSTS
    from antifragile_core.contracts.training import (
        CANCEL_TRAINING_JOB,
        CHECK_TRAINING_JOB_STATUS,
        COLLECT_MODEL_FEEDBACK,
        GET_ORGANIZATION_TRAINING_HISTORY,
        START_MODEL_IMPROVEMENT,
        SUBMIT_MODEL_TRAINING_JOB,
    )
    from antifragile_core.errors import INVALID_INPUT, bad_input

from .calls import call

I = TypeVar("I", bound=BaseModel)  # noqa: E741
O = TypeVar("O", bound=BaseModel)  # noqa: E741

MANAGEMENT_CONTRACTS: dict[str, ActivityContract[Any, Any]] = {
    c.name: c
    for c in (
        SUBMIT_MODEL_TRAINING_JOB,
        CHECK_TRAINING_JOB_STATUS,
        GET_ORGANIZATION_TRAINING_HISTORY,
        CANCEL_TRAINING_JOB,
        COLLECT_MODEL_FEEDBACK,
        START_MODEL_IMPROVEMENT,
        GET_ORGANIZATION_COSTS,
    )
}
"""The activities a client may run through ManagementWorkflow: training jobs and the cost report."""


class ManagementCall(Model):
    """One management activity by name, with its input as JSON-ready data."""

    activity: str
    arg: dict[str, Any]


@workflow.defn
class ManagementWorkflow:
    @workflow.run
    async def run(self, request: ManagementCall) -> BaseModel:
        contract = MANAGEMENT_CONTRACTS.get(request.activity)
        if contract is None:
            raise bad_input(
                INVALID_INPUT, f"{request.activity!r} is not one of {sorted(MANAGEMENT_CONTRACTS)}"
            )
        try:
            arg = contract.input.model_validate(request.arg)
        except ValidationError as err:
            raise bad_input(INVALID_INPUT, f"invalid {contract.name} input: {err}") from None
        return await call(contract, arg)


async def manage(client: Client, task_queue: str, contract: ActivityContract[I, O], arg: I) -> O:
    """Run one management activity from a client, through ManagementWorkflow on `task_queue`."""
    return await client.execute_workflow(
        ManagementWorkflow.run,
        ManagementCall(activity=contract.name, arg=arg.model_dump(mode="json")),
        id=f"manage-{contract.name}-{uuid.uuid4().hex}",
        task_queue=task_queue,
        result_type=contract.output,
    )
