"""TrainingWorkflow: one training job, train -> evaluate -> record, each stage written to the job's row.

The `progress` query answers with the job as last recorded (stage, metrics, evaluation). Step-level
progress (step, loss, tokens/s, ETA) is not kept here: the training activity heartbeats it, only the
server holds heartbeats, and a workflow cannot read them; `check_training_job_status` adds it from the
pending activity's heartbeat via `describe()`.
"""

import asyncio
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import Model, OrgId
    from antifragile_core.contracts.training import (
        TEST_QWEN_MODEL,
        TRAIN_ORGANIZATIONAL_MODEL,
        EvaluationRequest,
        JobStatus,
        TrainingJob,
        TrainingRequest,
    )
    from antifragile_core.contracts.training_jobs import RECORD_TRAINING_JOB_UPDATE, TrainingJobUpdate

from .calls import call, step_error
from .versioning import PINNED

I = TypeVar("I", bound=BaseModel)  # noqa: E741
O = TypeVar("O", bound=BaseModel)  # noqa: E741


class TrainingRun(Model):
    """What one TrainingWorkflow runs: the ml-queue request and the prompts to sample at evaluation."""

    organization_id: OrgId
    job_id: str
    training: TrainingRequest
    prompts: list[str]


def workflow_id_for(job_id: str) -> str:
    """The job's workflow id: one workflow per job, so a retried submit cannot start a second."""
    return f"training-{job_id}"


@workflow.defn(versioning_behavior=PINNED)  # waits hours to days: see versioning.py
class TrainingWorkflow:
    def __init__(self) -> None:
        self._latest: TrainingJob | None = None

    @workflow.query
    def progress(self) -> TrainingJob | None:
        """The job as last recorded; None until the first stage is written."""
        return self._latest

    @workflow.run
    async def run(self, job: TrainingRun) -> TrainingJob:
        stage = "training"
        try:
            await self._record(job, JobStatus.RUNNING)
            trained = await call(
                TRAIN_ORGANIZATIONAL_MODEL,
                job.training,
                # "cancelled" is recorded only once the training has really stopped and freed the device.
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
            stage = "evaluation"
            await self._record(
                job,
                JobStatus.EVALUATING,
                metrics=trained.metrics,
                adapter_key=trained.adapter_key,
                heldout_key=trained.heldout_key,
            )
            evaluation = await call(
                TEST_QWEN_MODEL,
                EvaluationRequest(
                    organization_id=job.organization_id,
                    job_id=job.job_id,
                    base_model=trained.base_model,
                    adapter_key=trained.adapter_key,
                    heldout_key=trained.heldout_key,
                    prompts=job.prompts,
                ),
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
            return await self._record(job, JobStatus.SUCCEEDED, evaluation=evaluation)
        except BaseException as err:
            await self._finish_after(err, job, stage)
            raise

    async def _finish_after(self, err: BaseException, job: TrainingRun, stage: str) -> None:
        """Record why the job ended; shielded so the record is written even while being cancelled."""
        if is_cancelled_exception(err):
            update = self._record(job, JobStatus.CANCELLED)
        elif isinstance(err, ActivityError):
            update = self._record(
                job, JobStatus.FAILED, error=f"{stage} failed: {step_error(stage, err).reason}"
            )
        else:
            return
        await asyncio.shield(asyncio.ensure_future(update))

    async def _record(self, job: TrainingRun, status: JobStatus, **fields: Any) -> TrainingJob:
        update = TrainingJobUpdate(
            organization_id=job.organization_id, job_id=job.job_id, status=status, **fields
        )
        self._latest = await call(RECORD_TRAINING_JOB_UPDATE, update)
        return self._latest
