"""TrainingWorkflow's logic on the dev server, with stand-in activities registered under the contracts'
names (the samples-python pattern): stages are recorded in order, failures and cancellation end the job
with the right status, and ManagementWorkflow refuses what it cannot run."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from antifragile_core.contracts.training import (
    TEST_QWEN_MODEL,
    TRAIN_ORGANIZATIONAL_MODEL,
    EvaluationRequest,
    EvaluationResult,
    JobStatus,
    TrainingJob,
    TrainingMetrics,
    TrainingProgress,
    TrainingRequest,
    TrainingResult,
)
from antifragile_core.contracts.training_jobs import RECORD_TRAINING_JOB_UPDATE, TrainingJobUpdate
from antifragile_core.errors import INVALID_INPUT, bad_input
from antifragile_core.queues import DEFAULT_QUEUE, ML_QUEUE
from antifragile_workflows.management import ManagementCall, ManagementWorkflow
from antifragile_workflows.training import TrainingRun, TrainingWorkflow, workflow_id_for
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.worker import Worker


@dataclass
class StandIns:
    """ml-queue and record stand-ins; `block` keeps training running until it is cancelled."""

    block: bool = False
    fail_training: bool = False
    updates: list[TrainingJobUpdate] = field(default_factory=list)
    evaluations: list[EvaluationRequest] = field(default_factory=list)
    training_heartbeated: asyncio.Event = field(default_factory=asyncio.Event)
    training_cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    @RECORD_TRAINING_JOB_UPDATE.implement
    async def record(self, update: TrainingJobUpdate) -> TrainingJob:
        self.updates.append(update)
        now = datetime.now(UTC)
        return TrainingJob(
            job_id=update.job_id,
            organization_id=update.organization_id,
            request_id="r",
            base_model="smoke",
            status=update.status,
            metrics=update.metrics,
            evaluation=update.evaluation,
            adapter_key=update.adapter_key,
            error=update.error,
            created_at=now,
            updated_at=now,
        )

    @TRAIN_ORGANIZATIONAL_MODEL.implement
    async def train(self, request: TrainingRequest) -> TrainingResult:
        if self.fail_training:
            raise bad_input(INVALID_INPUT, "no usable text")
        step = 0
        try:
            while self.block or step < 2:
                step += 1
                activity.heartbeat(
                    TrainingProgress(step=step, total_steps=100, loss=1.0, tokens_per_second=1, eta_seconds=9)
                )
                await asyncio.sleep(0.1)
                self.training_heartbeated.set()
        except asyncio.CancelledError:
            self.training_cancelled.set()
            raise
        metrics = TrainingMetrics(
            steps=step,
            train_tokens=100,
            first_loss=2.0,
            final_loss=1.0,
            tokens_per_second=10.0,
            duration_seconds=0.2,
        )
        return TrainingResult(
            job_id=request.job_id,
            base_model=request.base_model,
            adapter_key=f"orgs/{request.organization_id}/adapters/{request.job_id}",
            heldout_key=f"orgs/{request.organization_id}/heldout/{request.job_id}.txt",
            device="cpu",
            metrics=metrics,
        )

    @TEST_QWEN_MODEL.implement
    async def evaluate(self, request: EvaluationRequest) -> EvaluationResult:
        self.evaluations.append(request)
        return EvaluationResult(
            job_id=request.job_id, base_perplexity=9.0, tuned_perplexity=5.0, heldout_tokens=50, samples=[]
        )


@pytest.fixture
async def stand_ins(temporal_client: Client, fleet_prefix: str) -> AsyncIterator[StandIns]:
    fake = StandIns()
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(
            Worker(
                temporal_client,
                task_queue=fleet_prefix + DEFAULT_QUEUE,
                workflows=[TrainingWorkflow, ManagementWorkflow],
                activities=[fake.record],
            )
        )
        await stack.enter_async_context(
            Worker(
                temporal_client,
                task_queue=fleet_prefix + ML_QUEUE,
                activities=[fake.train, fake.evaluate],
                max_heartbeat_throttle_interval=timedelta(milliseconds=200),
            )
        )
        yield fake


def _run(org_id: str, job_id: str) -> TrainingRun:
    training = TrainingRequest(organization_id=org_id, job_id=job_id, base_model="smoke")
    prompts = ["What is our plan?"]
    return TrainingRun(organization_id=org_id, job_id=job_id, training=training, prompts=prompts)


async def test_stages_are_recorded_in_order(
    temporal_client: Client, stand_ins: StandIns, fleet_prefix: str, org_id: str
) -> None:
    handle = await temporal_client.start_workflow(
        TrainingWorkflow.run,
        _run(org_id, "job-ok"),
        id=workflow_id_for(f"{fleet_prefix}ok"),
        task_queue=fleet_prefix + DEFAULT_QUEUE,
    )
    job = await handle.result()
    assert job.status == JobStatus.SUCCEEDED
    assert await handle.query(TrainingWorkflow.progress) == job
    assert job.evaluation is not None and job.evaluation.tuned_perplexity == 5.0
    assert [u.status for u in stand_ins.updates] == [
        JobStatus.RUNNING,
        JobStatus.EVALUATING,
        JobStatus.SUCCEEDED,
    ]
    evaluating = stand_ins.updates[1]
    assert evaluating.adapter_key == f"orgs/{org_id}/adapters/job-ok"
    assert evaluating.metrics is not None and evaluating.metrics.steps == 2
    (evaluation,) = stand_ins.evaluations
    assert evaluation.heldout_key == f"orgs/{org_id}/heldout/job-ok.txt"
    assert evaluation.prompts == ["What is our plan?"]


async def test_failed_training_is_recorded_with_its_reason(
    temporal_client: Client, stand_ins: StandIns, fleet_prefix: str, org_id: str
) -> None:
    stand_ins.fail_training = True
    with pytest.raises(WorkflowFailureError) as failure:
        await temporal_client.execute_workflow(
            TrainingWorkflow.run,
            _run(org_id, "job-bad"),
            id=workflow_id_for(f"{fleet_prefix}bad"),
            task_queue=fleet_prefix + DEFAULT_QUEUE,
        )
    assert isinstance(failure.value.cause, ActivityError)
    assert [u.status for u in stand_ins.updates] == [JobStatus.RUNNING, JobStatus.FAILED]
    assert stand_ins.updates[-1].error == "training failed: InvalidInput: no usable text"
    assert stand_ins.evaluations == []


async def test_cancelled_job_is_recorded_after_training_stopped(
    temporal_client: Client, stand_ins: StandIns, fleet_prefix: str, org_id: str
) -> None:
    stand_ins.block = True
    handle = await temporal_client.start_workflow(
        TrainingWorkflow.run,
        _run(org_id, "job-cancel"),
        id=workflow_id_for(f"{fleet_prefix}cancel"),
        task_queue=fleet_prefix + DEFAULT_QUEUE,
    )
    await asyncio.wait_for(stand_ins.training_heartbeated.wait(), timeout=30)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert isinstance(failure.value.cause, CancelledError)
    assert stand_ins.training_cancelled.is_set()
    assert [u.status for u in stand_ins.updates] == [JobStatus.RUNNING, JobStatus.CANCELLED]
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (ManagementCall(activity="train_organizational_model", arg={}), "is not one of"),
        (ManagementCall(activity="check_training_job_status", arg={"job_id": "j"}), "invalid"),
    ],
)
async def test_management_refuses_what_it_cannot_run(
    temporal_client: Client, stand_ins: StandIns, fleet_prefix: str, call: ManagementCall, message: str
) -> None:
    with pytest.raises(WorkflowFailureError) as failure:
        await temporal_client.execute_workflow(
            ManagementWorkflow.run, call, id=f"{fleet_prefix}manage", task_queue=fleet_prefix + DEFAULT_QUEUE
        )
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == INVALID_INPUT and cause.non_retryable
    assert message in cause.message
