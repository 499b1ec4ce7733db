"""Feedback on an organisation's model, and the improvement job trained from it.

Feedback rows are keyed by (organisation, feedback id), so a retried collect stores nothing twice. An
improvement turns the feedback on one succeeded job into an SFT dataset of prompt/completion JSONL
(preferred answers of A/B pairs, and responses rated 4 or 5) and submits a new job that starts from
that job's adapter.
"""

import json
from collections.abc import Callable
from typing import Any

from antifragile_core.contracts.training import (
    COLLECT_MODEL_FEEDBACK,
    START_MODEL_IMPROVEMENT,
    FeedbackReceipt,
    ImprovementRequest,
    ModelFeedback,
    TrainingJobHandle,
    TrainingJobRequest,
)
from antifragile_core.errors import INVALID_INPUT, NOT_READY, bad_input
from antifragile_core.storage import org_key
from antifragile_workflows.training import TrainingRun
from temporalio import activity

from .resources import Resources
from .training_jobs import find_job, get_job, job_id_for, reusable_adapter, submit_job, to_job

GOOD_RATING = 4
"""Responses rated at least this become training examples."""


def check_feedback(feedback: ModelFeedback) -> None:
    """A rating needs the response it rates; an A/B preference needs both answers, and they must differ."""
    rated = feedback.rating is not None
    if rated != (feedback.response is not None):
        raise bad_input(INVALID_INPUT, "a rating needs the response it rates (and a response needs a rating)")
    compared = feedback.preferred is not None or feedback.rejected is not None
    if compared and (feedback.preferred is None or feedback.rejected is None):
        raise bad_input(INVALID_INPUT, "an A/B preference needs both the preferred and the rejected answer")
    if compared and feedback.preferred == feedback.rejected:
        raise bad_input(INVALID_INPUT, "the preferred and the rejected answer are the same")
    if not rated and not compared:
        raise bad_input(INVALID_INPUT, "feedback needs a rating of a response or an A/B preference")


async def collect(res: Resources, feedback: ModelFeedback) -> FeedbackReceipt:
    check_feedback(feedback)
    await get_job(res.pool, feedback.organization_id, feedback.job_id)
    inserted = await res.pool.fetchval(
        "INSERT INTO model_feedback (organization_id, feedback_id, job_id, prompt, response, rating,"
        " preferred, rejected, comment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (organization_id, feedback_id) DO NOTHING RETURNING feedback_id",
        feedback.organization_id,
        feedback.feedback_id,
        feedback.job_id,
        feedback.prompt,
        feedback.response,
        feedback.rating,
        feedback.preferred,
        feedback.rejected,
        feedback.comment,
    )
    return FeedbackReceipt(feedback_id=feedback.feedback_id, stored=inserted is not None)


async def sft_examples(res: Resources, organization_id: str, job_id: str) -> list[dict[str, str]]:
    """Prompt/completion pairs from the job's feedback, oldest first, each pair once."""
    rows = await res.pool.fetch(
        "SELECT prompt, coalesce(preferred, response) AS completion FROM model_feedback"
        " WHERE organization_id = $1 AND job_id = $2 AND (preferred IS NOT NULL OR rating >= $3)"
        " ORDER BY created_at, feedback_id",
        organization_id,
        job_id,
        GOOD_RATING,
    )
    pairs = dict.fromkeys((r["prompt"], r["completion"]) for r in rows)
    return [{"prompt": prompt, "completion": completion} for prompt, completion in pairs]


async def improve(res: Resources, request: ImprovementRequest, running_on: str) -> TrainingJobHandle:
    """Submit a job trained on the feedback, from the current job's adapter (once per request id)."""
    org = request.organization_id
    if request.method == "dpo":
        raise bad_input(
            INVALID_INPUT,
            "DPO is not supported: train_organizational_model trains with SFT only; use method='sft'",
        )
    parent = await get_job(res.pool, org, request.job_id)
    parent_run = TrainingRun.model_validate_json(parent["run"])
    new_job_id = job_id_for(org, request.request_id)
    dataset_key = org_key(org, "datasets", f"{new_job_id}.jsonl")
    job_request = TrainingJobRequest(
        organization_id=org,
        request_id=request.request_id,
        base_model=parent_run.training.base_model,
        hyperparameters=parent_run.training.hyperparameters,
        parent_job_id=request.job_id,
        dataset_key=dataset_key,
        prompts=parent_run.prompts,
    )
    if await find_job(res.pool, org, new_job_id) is None:
        reusable_adapter(to_job(parent))  # refuse before writing a dataset nobody trains on
        examples = await sft_examples(res, org, request.job_id)
        if not examples:
            raise bad_input(
                NOT_READY,
                f"job {request.job_id} has no usable feedback yet: A/B preferences or ratings of "
                f"{GOOD_RATING} or more are needed",
            )
        lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples)
        await res.store.put(dataset_key, lines.encode())
    return await submit_job(res, job_request, running_on)


def activities(res: Resources) -> list[Callable[..., Any]]:
    @COLLECT_MODEL_FEEDBACK.implement
    async def collect_model_feedback(feedback: ModelFeedback) -> FeedbackReceipt:
        return await collect(res, feedback)

    @START_MODEL_IMPROVEMENT.implement
    async def start_model_improvement(request: ImprovementRequest) -> TrainingJobHandle:
        return await improve(res, request, activity.info().task_queue)

    return [collect_model_feedback, start_model_improvement]
