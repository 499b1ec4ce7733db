"""Training jobs of the organisational model, through the default-queue management activities (the
same contracts the CLI runs)."""

from typing import Annotated

from antifragile_core.contracts.training import (
    CANCEL_TRAINING_JOB,
    CHECK_TRAINING_JOB_STATUS,
    COLLECT_MODEL_FEEDBACK,
    GET_ORGANIZATION_TRAINING_HISTORY,
    SUBMIT_MODEL_TRAINING_JOB,
    FeedbackReceipt,
    ModelFeedback,
    TrainingHistory,
    TrainingHistoryQuery,
    TrainingJob,
    TrainingJobHandle,
    TrainingJobRef,
    TrainingJobRequest,
)
from antifragile_workflows.management import manage
from fastapi import APIRouter, Query

from ..context import Admin, Ctx, Member
from ..scoped import body_of, scoped

router = APIRouter(prefix="/v1/training/jobs", tags=["training"])

TrainingJobBody = body_of(TrainingJobRequest)
FeedbackBody = body_of(ModelFeedback, "job_id")


@router.post("", status_code=202)
async def submit(body: TrainingJobBody, ctx: Ctx, caller: Admin) -> TrainingJobHandle:  # type: ignore[valid-type]
    """Train a LoRA adapter on the organisation's documents; `request_id` makes a retry idempotent."""
    request = scoped(TrainingJobRequest, caller.organization_id, body)
    return await manage(ctx.client, ctx.queue, SUBMIT_MODEL_TRAINING_JOB, request)


@router.get("")
async def history(
    ctx: Ctx, caller: Member, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> TrainingHistory:
    query = TrainingHistoryQuery(organization_id=caller.organization_id, limit=limit)
    return await manage(ctx.client, ctx.queue, GET_ORGANIZATION_TRAINING_HISTORY, query)


@router.get("/{job_id}")
async def status(job_id: str, ctx: Ctx, caller: Member) -> TrainingJob:
    ref = TrainingJobRef(organization_id=caller.organization_id, job_id=job_id)
    return await manage(ctx.client, ctx.queue, CHECK_TRAINING_JOB_STATUS, ref)


@router.post("/{job_id}/cancel")
async def cancel(job_id: str, ctx: Ctx, caller: Admin) -> TrainingJob:
    ref = TrainingJobRef(organization_id=caller.organization_id, job_id=job_id)
    return await manage(ctx.client, ctx.queue, CANCEL_TRAINING_JOB, ref)


@router.post("/{job_id}/feedback", status_code=201)
async def feedback(job_id: str, body: FeedbackBody, ctx: Ctx, caller: Member) -> FeedbackReceipt:  # type: ignore[valid-type]
    """Rate one answer of the job's model, or prefer one of two answers (for a later DPO round)."""
    fb = scoped(ModelFeedback, caller.organization_id, body, job_id=job_id)
    return await manage(ctx.client, ctx.queue, COLLECT_MODEL_FEEDBACK, fb)
