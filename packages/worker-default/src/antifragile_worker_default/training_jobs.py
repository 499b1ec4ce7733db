"""Training jobs on default-queue: submit, status, history, cancel, and the records TrainingWorkflow writes.

A job is a row in `training_jobs` plus one TrainingWorkflow whose id derives from the job id, and the job
id derives from (organisation, request id): a retried or repeated submit finds the same row and the
same workflow, so it starts nothing new.
"""

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from typing import Any

import asyncpg
from antifragile_core.base_models import base_model_source
from antifragile_core.contracts.training import (
    CANCEL_TRAINING_JOB,
    CHECK_TRAINING_JOB_STATUS,
    GET_ORGANIZATION_TRAINING_HISTORY,
    SUBMIT_MODEL_TRAINING_JOB,
    TRAIN_ORGANIZATIONAL_MODEL,
    EvaluationResult,
    JobStatus,
    TrainingHistory,
    TrainingHistoryQuery,
    TrainingJob,
    TrainingJobHandle,
    TrainingJobRef,
    TrainingJobRequest,
    TrainingMetrics,
    TrainingProgress,
    TrainingRequest,
)
from antifragile_core.contracts.training_jobs import RECORD_TRAINING_JOB_UPDATE, TrainingJobUpdate
from antifragile_core.errors import NOT_FOUND, NOT_READY, bad_input
from antifragile_core.queues import DEFAULT_QUEUE, in_fleet
from antifragile_core.storage import checked_org_key
from antifragile_workflows.training import TrainingRun, TrainingWorkflow, workflow_id_for
from temporalio import activity
from temporalio.client import (
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from .manifests import snapshot_corpus
from .readiness import check_readiness
from .resources import Resources

TERMINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
_ENDED_WITHOUT_CLEANUP = (WorkflowExecutionStatus.TERMINATED, WorkflowExecutionStatus.TIMED_OUT)
CANCEL_WAIT_SECONDS = 40.0
"""How long cancel_training_job waits for the run to stop (within its 1-minute contract timeout)."""

_COLUMNS = (
    "job_id, organization_id, request_id, workflow_id, base_model, status, parent_job_id, adapter_key,"
    " error, created_at, updated_at, run::text AS run, metrics::text AS metrics,"
    " evaluation::text AS evaluation"
)


def job_id_for(organization_id: str, request_id: str) -> str:
    """The job id of a request: the same (organisation, request id) always names the same job."""
    return "job-" + hashlib.sha256(f"{organization_id}\0{request_id}".encode()).hexdigest()[:24]


async def find_job(pool: asyncpg.Pool, organization_id: str, job_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM training_jobs WHERE organization_id = $1 AND job_id = $2",
        organization_id,
        job_id,
    )


async def get_job(pool: asyncpg.Pool, organization_id: str, job_id: str) -> asyncpg.Record:
    """The job's row, or NotFound: another organisation's job is not found either."""
    row = await find_job(pool, organization_id, job_id)
    if row is None:
        raise bad_input(NOT_FOUND, f"no training job {job_id!r} in organisation {organization_id!r}")
    return row


def to_job(row: asyncpg.Record) -> TrainingJob:
    return TrainingJob(
        job_id=row["job_id"],
        organization_id=row["organization_id"],
        request_id=row["request_id"],
        base_model=row["base_model"],
        status=JobStatus(row["status"]),
        metrics=None if row["metrics"] is None else TrainingMetrics.model_validate_json(row["metrics"]),
        evaluation=None
        if row["evaluation"] is None
        else EvaluationResult.model_validate_json(row["evaluation"]),
        adapter_key=row["adapter_key"],
        parent_job_id=row["parent_job_id"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def submit_job(res: Resources, request: TrainingJobRequest, running_on: str) -> TrainingJobHandle:
    """Record the job (once per request id) and make sure its workflow has been started."""
    job_id = job_id_for(request.organization_id, request.request_id)
    row = await find_job(res.pool, request.organization_id, job_id)
    created = False
    if row is None:
        run = await _plan_run(res, request, job_id)
        created = await _insert_job(res.pool, request, run)
        row = await get_job(res.pool, request.organization_id, job_id)
    run = TrainingRun.model_validate_json(row["run"])
    await _start_workflow(res, run, running_on)
    return TrainingJobHandle(
        job_id=job_id, workflow_id=row["workflow_id"], status=JobStatus(row["status"]), created=created
    )


async def _plan_run(res: Resources, request: TrainingJobRequest, job_id: str) -> TrainingRun:
    """Check the request against the organisation's state and turn it into the workflow's input."""
    org = request.organization_id
    base_model_source(request.base_model, res.settings)
    init_adapter_key = None
    if request.parent_job_id is not None:
        init_adapter_key = reusable_adapter(to_job(await get_job(res.pool, org, request.parent_job_id)))
    if request.dataset_key is None:
        await _check_ready(res, org)
    else:
        await _check_dataset(res, org, request.dataset_key)
    training = TrainingRequest(
        organization_id=org,
        job_id=job_id,
        base_model=request.base_model,
        hyperparameters=request.hyperparameters,
        init_adapter_key=init_adapter_key,
        dataset_key=request.dataset_key,
        manifest_key=await snapshot_corpus(res, org),
    )
    return TrainingRun(organization_id=org, job_id=job_id, training=training, prompts=request.prompts)


def reusable_adapter(job: TrainingJob) -> str:
    """The adapter a succeeded job trained, which a new job can start from."""
    if job.status != JobStatus.SUCCEEDED or job.adapter_key is None:
        raise bad_input(
            NOT_READY, f"job {job.job_id} is {job.status}; only a succeeded job's adapter can be reused"
        )
    return job.adapter_key


async def _check_ready(res: Resources, organization_id: str) -> None:
    readiness = await check_readiness(res, organization_id)
    if readiness.document_count == 0:
        raise bad_input(
            NOT_FOUND, f"organisation {organization_id!r} has no documents; upload its documents first"
        )
    if not readiness.ready:
        raise bad_input(
            NOT_READY,
            f"organisation {organization_id!r} is not ready to train: {'; '.join(readiness.reasons)}",
        )


async def _check_dataset(res: Resources, organization_id: str, key: str) -> None:
    checked_org_key(organization_id, key, "dataset")
    if not await res.store.exists(key):
        raise bad_input(NOT_FOUND, f"dataset {key!r} does not exist in the object store")


async def _insert_job(pool: asyncpg.Pool, request: TrainingJobRequest, run: TrainingRun) -> bool:
    """Insert the job row; False when a concurrent submit with the same request id got there first."""
    inserted = await pool.fetchval(
        "INSERT INTO training_jobs (job_id, organization_id, request_id, workflow_id, base_model, run,"
        " status, parent_job_id) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8)"
        " ON CONFLICT (organization_id, request_id) DO NOTHING RETURNING job_id",
        run.job_id,
        request.organization_id,
        request.request_id,
        workflow_id_for(run.job_id),
        request.base_model,
        run.model_dump_json(),
        JobStatus.QUEUED.value,
        request.parent_job_id,
    )
    return inserted is not None


async def _start_workflow(res: Resources, run: TrainingRun, running_on: str) -> None:
    """Start the job's workflow unless it runs or ran already (a retried submit lands here too)."""
    with contextlib.suppress(WorkflowAlreadyStartedError):  # closed already: its row says how it ended
        await res.client.start_workflow(
            TrainingWorkflow.run,
            run,
            id=workflow_id_for(run.job_id),
            task_queue=in_fleet(DEFAULT_QUEUE, running_on),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )


async def job_status(res: Resources, ref: TrainingJobRef) -> TrainingJob:
    """The stored job, with live training progress while it runs.

    A workflow that was terminated or timed out never ran its own cleanup, so a job still open in the
    database while its workflow is closed that way is recorded as failed here.
    """
    job = to_job(await get_job(res.pool, ref.organization_id, ref.job_id))
    if job.status in TERMINAL:
        return job
    try:
        description = await res.client.get_workflow_handle(workflow_id_for(job.job_id)).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return job  # recorded, its workflow not started yet
        raise
    if description.status in _ENDED_WITHOUT_CLEANUP:
        reason = f"its workflow was {description.status.name.lower().replace('_', ' ')}"
        update = TrainingJobUpdate(
            organization_id=job.organization_id, job_id=job.job_id, status=JobStatus.FAILED, error=reason
        )
        return await record_update(res.pool, update)
    job.progress = await _training_progress(res, description)
    return job


async def _training_progress(
    res: Resources, description: WorkflowExecutionDescription
) -> TrainingProgress | None:
    """The training activity's last heartbeat: the server holds it, and a workflow cannot read it."""
    for pending in description.raw_description.pending_activities:
        details = pending.heartbeat_details.payloads
        if pending.activity_type.name == TRAIN_ORGANIZATIONAL_MODEL.name and details:
            (progress,) = await res.client.data_converter.decode(details, [TrainingProgress])
            return progress
    return None


async def history(res: Resources, query: TrainingHistoryQuery) -> TrainingHistory:
    rows = await res.pool.fetch(
        f"SELECT {_COLUMNS} FROM training_jobs WHERE organization_id = $1"
        " ORDER BY created_at DESC, job_id LIMIT $2",
        query.organization_id,
        query.limit,
    )
    return TrainingHistory(organization_id=query.organization_id, jobs=[to_job(r) for r in rows])


async def cancel_job(res: Resources, ref: TrainingJobRef) -> TrainingJob:
    """Cancel the job's workflow and wait (bounded) until it has recorded the cancellation."""
    job = to_job(await get_job(res.pool, ref.organization_id, ref.job_id))
    if job.status in TERMINAL:
        return job
    handle = res.client.get_workflow_handle(workflow_id_for(job.job_id))
    try:
        await handle.cancel()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        # Recorded but never started (its submit failed for good): nothing runs, so cancel the row.
        return await record_update(
            res.pool,
            TrainingJobUpdate(
                organization_id=job.organization_id, job_id=job.job_id, status=JobStatus.CANCELLED
            ),
        )
    # It ends cancelled, or is still stopping when the wait runs out: the row tells which.
    with contextlib.suppress(WorkflowFailureError, TimeoutError):
        await asyncio.wait_for(handle.result(), CANCEL_WAIT_SECONDS)
    return await job_status(res, ref)


async def record_update(pool: asyncpg.Pool, update: TrainingJobUpdate) -> TrainingJob:
    """Move a job to its next stage; a job that has ended stays as it ended (retries change nothing)."""
    await pool.execute(
        "UPDATE training_jobs SET status = $3,"
        " metrics = coalesce($4::text::jsonb, metrics), evaluation = coalesce($5::text::jsonb, evaluation),"
        " adapter_key = coalesce($6, adapter_key), heldout_key = coalesce($7, heldout_key),"
        " error = coalesce($8, error), updated_at = clock_timestamp()"
        " WHERE organization_id = $1 AND job_id = $2 AND status <> ALL($9::text[])",
        update.organization_id,
        update.job_id,
        update.status.value,
        update.metrics.model_dump_json() if update.metrics else None,
        update.evaluation.model_dump_json() if update.evaluation else None,
        update.adapter_key,
        update.heldout_key,
        update.error,
        [s.value for s in TERMINAL],
    )
    return to_job(await get_job(pool, update.organization_id, update.job_id))


def activities(res: Resources) -> list[Callable[..., Any]]:
    @SUBMIT_MODEL_TRAINING_JOB.implement
    async def submit_model_training_job(request: TrainingJobRequest) -> TrainingJobHandle:
        return await submit_job(res, request, activity.info().task_queue)

    @CHECK_TRAINING_JOB_STATUS.implement
    async def check_training_job_status(ref: TrainingJobRef) -> TrainingJob:
        return await job_status(res, ref)

    @GET_ORGANIZATION_TRAINING_HISTORY.implement
    async def get_organization_training_history(query: TrainingHistoryQuery) -> TrainingHistory:
        return await history(res, query)

    @CANCEL_TRAINING_JOB.implement
    async def cancel_training_job(ref: TrainingJobRef) -> TrainingJob:
        return await cancel_job(res, ref)

    @RECORD_TRAINING_JOB_UPDATE.implement
    async def record_training_job_update(update: TrainingJobUpdate) -> TrainingJob:
        return await record_update(res.pool, update)

    return [
        submit_model_training_job,
        check_training_job_status,
        get_organization_training_history,
        cancel_training_job,
        record_training_job_update,
    ]
