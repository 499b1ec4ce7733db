"""Training-job management through the real default-queue worker, the dev server and PostgreSQL; ml-queue
is a stand-in registered under the contracts' names, so these tests need no model."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from antifragile_cli.main import parser, run_command
from antifragile_cli.training import progress_line
from antifragile_core.contracts.base import ActivityContract
from antifragile_core.contracts.documents import DocumentUpload
from antifragile_core.contracts.training import (
    CANCEL_TRAINING_JOB,
    CHECK_TRAINING_JOB_STATUS,
    COLLECT_MODEL_FEEDBACK,
    GET_ORGANIZATION_TRAINING_HISTORY,
    START_MODEL_IMPROVEMENT,
    SUBMIT_MODEL_TRAINING_JOB,
    TEST_QWEN_MODEL,
    TRAIN_ORGANIZATIONAL_MODEL,
    CorpusManifest,
    EvaluationRequest,
    EvaluationResult,
    ImprovementRequest,
    JobStatus,
    ModelFeedback,
    TrainingHistoryQuery,
    TrainingJob,
    TrainingJobHandle,
    TrainingJobRef,
    TrainingJobRequest,
    TrainingMetrics,
    TrainingProgress,
    TrainingRequest,
    TrainingResult,
)
from antifragile_core.errors import INVALID_INPUT, NOT_FOUND, NOT_READY
from antifragile_core.queues import DEFAULT_QUEUE, ML_QUEUE
from antifragile_worker_default.documents import process_upload
from antifragile_worker_default.main import create_worker
from antifragile_worker_default.readiness import check_readiness
from antifragile_worker_default.resources import Resources
from antifragile_workflows.management import manage
from antifragile_workflows.training import workflow_id_for
from pydantic import BaseModel
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

PLAN = (
    "Our strategy for the coming year is to grow the northern region by opening two depots, to cut "
    "delivery times below two days, and to train every driver in safe loading. "
) * 8


@dataclass
class MlStandIn:
    """ml-queue stand-ins: training heartbeats progress and, while `block` is set, runs until cancelled."""

    block: bool = False
    requests: list[TrainingRequest] = field(default_factory=list)
    heartbeated: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    @TRAIN_ORGANIZATIONAL_MODEL.implement
    async def train(self, request: TrainingRequest) -> TrainingResult:
        self.requests.append(request)
        step = 0
        try:
            while self.block or step < 2:
                step += 1
                progress = TrainingProgress(
                    step=step, total_steps=1000, loss=2.5, tokens_per_second=99, eta_seconds=60
                )
                activity.heartbeat(progress)
                self.heartbeated.set()
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        org, job = request.organization_id, request.job_id
        return TrainingResult(
            job_id=job,
            base_model=request.base_model,
            adapter_key=f"orgs/{org}/models/{job}/adapter",
            heldout_key=f"orgs/{org}/models/{job}/heldout.txt",
            device="cpu",
            metrics=TrainingMetrics(
                steps=step,
                train_tokens=512,
                first_loss=3.0,
                final_loss=2.0,
                tokens_per_second=99.0,
                duration_seconds=0.2,
            ),
        )

    @TEST_QWEN_MODEL.implement
    async def evaluate(self, request: EvaluationRequest) -> EvaluationResult:
        return EvaluationResult(
            job_id=request.job_id, base_perplexity=40.0, tuned_perplexity=20.0, heldout_tokens=64, samples=[]
        )


Manage = Callable[[ActivityContract[Any, Any], BaseModel], Awaitable[Any]]


@dataclass
class Fleet:
    res: Resources
    ml: MlStandIn
    manage: Manage


@pytest.fixture
async def fleet(make_resources: Callable[..., Any], fleet_prefix: str) -> AsyncIterator[Fleet]:
    """The real default worker (small readiness thresholds) and the ml stand-in, on this test's queues."""
    ml = MlStandIn()
    async with AsyncExitStack() as stack:
        res = await stack.enter_async_context(
            make_resources(readiness_min_documents=1, readiness_min_tokens=100)
        )
        await stack.enter_async_context(create_worker(res))
        await stack.enter_async_context(
            Worker(
                res.client,
                task_queue=fleet_prefix + ML_QUEUE,
                activities=[ml.train, ml.evaluate],
                max_heartbeat_throttle_interval=timedelta(milliseconds=200),
            )
        )

        async def run(contract: ActivityContract[Any, Any], arg: BaseModel) -> Any:
            return await manage(res.client, fleet_prefix + DEFAULT_QUEUE, contract, arg)

        yield Fleet(res=res, ml=ml, manage=run)


async def add_document(res: Resources, org: str, text: str = PLAN) -> None:
    key = f"orgs/{org}/uploads/{uuid.uuid4().hex}"
    await res.store.put(key, text.encode())
    await process_upload(res, DocumentUpload(organization_id=org, filename="plan.txt", upload_key=key))


async def finished(fleet: Fleet, org: str, job_id: str) -> TrainingJob:
    await fleet.res.client.get_workflow_handle(workflow_id_for(job_id)).result()
    return await fleet.manage(CHECK_TRAINING_JOB_STATUS, TrainingJobRef(organization_id=org, job_id=job_id))


async def failure_of(call: Awaitable[Any]) -> ApplicationError:
    """The application error a management call failed with (raised by the activity, not retried)."""
    with pytest.raises(WorkflowFailureError) as failure:
        await call
    activity_error = failure.value.cause
    assert isinstance(activity_error, ActivityError)
    assert isinstance(activity_error.cause, ApplicationError)
    return activity_error.cause


async def test_second_submit_with_the_same_request_id_starts_nothing_new(fleet: Fleet, org_id: str) -> None:
    await add_document(fleet.res, org_id)
    request = TrainingJobRequest(organization_id=org_id, request_id="first", prompts=["Where do we grow?"])
    first: TrainingJobHandle = await fleet.manage(SUBMIT_MODEL_TRAINING_JOB, request)
    again: TrainingJobHandle = await fleet.manage(SUBMIT_MODEL_TRAINING_JOB, request)
    assert first.created and not again.created
    assert (again.job_id, again.workflow_id) == (first.job_id, first.workflow_id)

    job = await finished(fleet, org_id, first.job_id)
    assert job.status == JobStatus.SUCCEEDED
    assert job.metrics is not None and job.metrics.final_loss == 2.0
    assert job.evaluation is not None and job.evaluation.tuned_perplexity == 20.0
    assert job.adapter_key == f"orgs/{org_id}/models/{first.job_id}/adapter"

    after: TrainingJobHandle = await fleet.manage(SUBMIT_MODEL_TRAINING_JOB, request)  # after it ended
    assert not after.created and after.status == JobStatus.SUCCEEDED
    assert len(fleet.ml.requests) == 1
    rows = await fleet.res.pool.fetchval(
        "SELECT count(*) FROM training_jobs WHERE organization_id = $1 AND request_id = 'first'", org_id
    )
    assert rows == 1


async def test_a_job_trains_on_the_corpus_readiness_judged_fixed_at_submit(
    fleet: Fleet, org_id: str, samples: Any, stage: Any
) -> None:
    """The same report as PDF and as DOCX is one document of the corpus; a later upload changes nothing."""
    files = {
        "plan.pdf": samples.pdf([PLAN]),
        "plan.docx": samples.docx([PLAN]),
        "notes.txt": (PLAN.replace("northern", "southern") * 2).encode(),
    }
    for filename, data in files.items():
        await process_upload(fleet.res, await stage(fleet.res.store, org_id, filename, data))
    request = TrainingJobRequest(organization_id=org_id, request_id="manifest")
    handle = await fleet.manage(SUBMIT_MODEL_TRAINING_JOB, request)
    await finished(fleet, org_id, handle.job_id)

    [training] = fleet.ml.requests
    assert training.manifest_key is not None
    stored = await fleet.res.store.get(training.manifest_key)
    manifest = CorpusManifest.model_validate_json(stored)
    rows = await fleet.res.pool.fetch("SELECT text_hash FROM documents WHERE organization_id = $1", org_id)
    assert len(rows) == 3 and len(manifest.documents) == 2
    assert {d.text_hash for d in manifest.documents} == {r["text_hash"] for r in rows}
    readiness = await check_readiness(fleet.res, org_id)
    assert readiness.unique_documents == len(manifest.documents)

    await add_document(fleet.res, org_id, "A late upload about western depots. " * 40)
    await fleet.manage(SUBMIT_MODEL_TRAINING_JOB, request)  # a retried submit plans nothing new
    run = await fleet.res.pool.fetchval(
        "SELECT run::text FROM training_jobs WHERE job_id = $1", handle.job_id
    )
    assert json.loads(run)["training"]["manifest_key"] == training.manifest_key
    assert await fleet.res.store.get(training.manifest_key) == stored


async def test_bad_requests_are_clear_non_retryable_errors(fleet: Fleet, org_id: str) -> None:
    unknown_org = await failure_of(
        fleet.manage(SUBMIT_MODEL_TRAINING_JOB, TrainingJobRequest(organization_id=org_id, request_id="a"))
    )
    assert (unknown_org.type, unknown_org.non_retryable) == (NOT_FOUND, True)
    assert "no documents" in unknown_org.message

    await add_document(fleet.res, org_id, "Too short to train on.")
    not_ready = await failure_of(
        fleet.manage(SUBMIT_MODEL_TRAINING_JOB, TrainingJobRequest(organization_id=org_id, request_id="b"))
    )
    assert (not_ready.type, not_ready.non_retryable) == (NOT_READY, True)
    assert "tokens of text" in not_ready.message

    bad_preset = await failure_of(
        fleet.manage(
            SUBMIT_MODEL_TRAINING_JOB,
            TrainingJobRequest(organization_id=org_id, request_id="c", base_model="qwen-3b"),
        )
    )
    assert (bad_preset.type, bad_preset.non_retryable) == (INVALID_INPUT, True)
    assert "smoke" in bad_preset.message
    assert (
        await fleet.res.pool.fetchval("SELECT count(*) FROM training_jobs WHERE organization_id = $1", org_id)
        == 0
    )


async def test_status_and_history_are_scoped_to_the_organisation(fleet: Fleet, org_id: str) -> None:
    other = f"{org_id}-other"
    for org in (org_id, other):
        await add_document(fleet.res, org)
    handles = [
        await fleet.manage(SUBMIT_MODEL_TRAINING_JOB, TrainingJobRequest(organization_id=org, request_id=rid))
        for org, rid in ((org_id, "one"), (other, "theirs"), (org_id, "two"))
    ]
    for handle, org in zip(handles, (org_id, other, org_id), strict=True):
        await finished(fleet, org, handle.job_id)

    query = TrainingHistoryQuery(organization_id=org_id)
    history = await fleet.manage(GET_ORGANIZATION_TRAINING_HISTORY, query)
    assert [j.request_id for j in history.jobs] == ["two", "one"]

    theirs = TrainingJobRef(organization_id=org_id, job_id=handles[1].job_id)
    assert (await failure_of(fleet.manage(CHECK_TRAINING_JOB_STATUS, theirs))).type == NOT_FOUND
    assert (await failure_of(fleet.manage(CANCEL_TRAINING_JOB, theirs))).type == NOT_FOUND


async def test_no_id_or_key_reaches_another_organisations_jobs_or_models(fleet: Fleet, org_id: str) -> None:
    """Everything organisation B can name in a request that points at A's job, adapter or files fails."""
    a, b = f"{org_id}-a", org_id
    for org in (a, b):
        await add_document(fleet.res, org)
    handle = await fleet.manage(
        SUBMIT_MODEL_TRAINING_JOB, TrainingJobRequest(organization_id=a, request_id="a")
    )
    their_job = await finished(fleet, a, handle.job_id)
    assert their_job.adapter_key is not None
    their_adapter_dir = fleet.res.settings.storage_dir.resolve() / their_job.adapter_key

    refused = {
        "feedback": fleet.manage(
            COLLECT_MODEL_FEEDBACK,
            ModelFeedback(
                organization_id=b, job_id=handle.job_id, feedback_id="f", prompt="p", response="r", rating=5
            ),
        ),
        "improve": fleet.manage(
            START_MODEL_IMPROVEMENT,
            ImprovementRequest(organization_id=b, job_id=handle.job_id, request_id="i"),
        ),
        "parent": fleet.manage(
            SUBMIT_MODEL_TRAINING_JOB,
            TrainingJobRequest(organization_id=b, request_id="p", parent_job_id=handle.job_id),
        ),
        "dataset": fleet.manage(
            SUBMIT_MODEL_TRAINING_JOB,
            TrainingJobRequest(organization_id=b, request_id="d", dataset_key=f"orgs/{a}/datasets/x.jsonl"),
        ),
        "base model path": fleet.manage(
            SUBMIT_MODEL_TRAINING_JOB,
            TrainingJobRequest(organization_id=b, request_id="m", base_model=str(their_adapter_dir)),
        ),
    }
    errors = {what: await failure_of(call) for what, call in refused.items()}
    assert {what: e.type for what, e in errors.items()} == {
        "feedback": NOT_FOUND,
        "improve": NOT_FOUND,
        "parent": NOT_FOUND,
        "dataset": INVALID_INPUT,
        "base model path": INVALID_INPUT,
    }
    assert all(e.non_retryable for e in errors.values())
    assert (
        await fleet.res.pool.fetchval("SELECT count(*) FROM training_jobs WHERE organization_id = $1", b) == 0
    )


async def test_cancel_stops_the_training_and_the_job_ends_cancelled(fleet: Fleet, org_id: str) -> None:
    fleet.ml.block = True
    await add_document(fleet.res, org_id)
    handle = await fleet.manage(
        SUBMIT_MODEL_TRAINING_JOB, TrainingJobRequest(organization_id=org_id, request_id="long")
    )
    ref = TrainingJobRef(organization_id=org_id, job_id=handle.job_id)
    status = await fleet.manage(CHECK_TRAINING_JOB_STATUS, ref)
    async with asyncio.timeout(30):  # a job that never reports progress fails the test, not hangs it
        while status.progress is None:  # live progress: the training activity's heartbeat, via describe()
            await asyncio.sleep(0.2)
            status = await fleet.manage(CHECK_TRAINING_JOB_STATUS, ref)
    assert status.status == JobStatus.RUNNING
    assert status.progress.total_steps == 1000 and status.progress.eta_seconds == 60

    cancelled: TrainingJob = await fleet.manage(CANCEL_TRAINING_JOB, ref)
    assert cancelled.status == JobStatus.CANCELLED
    assert fleet.ml.cancelled.is_set()
    assert (await fleet.manage(CANCEL_TRAINING_JOB, ref)).status == JobStatus.CANCELLED  # idempotent


async def test_a_terminated_workflow_leaves_its_job_failed_not_running(fleet: Fleet, org_id: str) -> None:
    fleet.ml.block = True
    await add_document(fleet.res, org_id)
    handle = await fleet.manage(
        SUBMIT_MODEL_TRAINING_JOB, TrainingJobRequest(organization_id=org_id, request_id="stuck")
    )
    ref = TrainingJobRef(organization_id=org_id, job_id=handle.job_id)
    await asyncio.wait_for(fleet.ml.heartbeated.wait(), timeout=30)
    await fleet.res.client.get_workflow_handle(handle.workflow_id).terminate("operator")

    job = await fleet.manage(CHECK_TRAINING_JOB_STATUS, ref)
    assert (job.status, job.error) == (JobStatus.FAILED, "its workflow was terminated")


async def test_feedback_is_stored_once_and_improvement_starts_from_the_adapter(
    fleet: Fleet, org_id: str
) -> None:
    await add_document(fleet.res, org_id)
    parent = await fleet.manage(
        SUBMIT_MODEL_TRAINING_JOB,
        TrainingJobRequest(organization_id=org_id, request_id="base", prompts=["Where do we grow?"]),
    )
    parent_job = await finished(fleet, org_id, parent.job_id)

    def feedback(feedback_id: str, **answer: Any) -> ModelFeedback:
        return ModelFeedback(
            organization_id=org_id, job_id=parent.job_id, feedback_id=feedback_id, prompt="Where?", **answer
        )

    ab = feedback("ab-1", preferred="In the north.", rejected="Everywhere.")
    assert (await fleet.manage(COLLECT_MODEL_FEEDBACK, ab)).stored
    assert not (await fleet.manage(COLLECT_MODEL_FEEDBACK, ab)).stored
    await fleet.manage(COLLECT_MODEL_FEEDBACK, feedback("good", response="Two depots.", rating=5))
    await fleet.manage(COLLECT_MODEL_FEEDBACK, feedback("poor", response="No idea.", rating=1))
    half = await failure_of(fleet.manage(COLLECT_MODEL_FEEDBACK, feedback("half", preferred="x")))
    assert (half.type, half.non_retryable) == (INVALID_INPUT, True)
    assert (
        await fleet.res.pool.fetchval(
            "SELECT count(*) FROM model_feedback WHERE organization_id = $1", org_id
        )
        == 3
    )

    dpo = ImprovementRequest(organization_id=org_id, job_id=parent.job_id, request_id="dpo", method="dpo")
    assert (await failure_of(fleet.manage(START_MODEL_IMPROVEMENT, dpo))).type == INVALID_INPUT

    improve = ImprovementRequest(organization_id=org_id, job_id=parent.job_id, request_id="better")
    improved: TrainingJobHandle = await fleet.manage(START_MODEL_IMPROVEMENT, improve)
    assert improved.created
    assert not (await fleet.manage(START_MODEL_IMPROVEMENT, improve)).created
    job = await finished(fleet, org_id, improved.job_id)
    assert job.status == JobStatus.SUCCEEDED and job.parent_job_id == parent.job_id

    training = fleet.ml.requests[-1]
    assert training.job_id == improved.job_id
    assert training.init_adapter_key == parent_job.adapter_key
    assert training.dataset_key is not None
    lines = (await fleet.res.store.get(training.dataset_key)).decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"prompt": "Where?", "completion": "In the north."},
        {"prompt": "Where?", "completion": "Two depots."},
    ]


async def test_cli_submits_watches_lists_and_takes_feedback(
    fleet: Fleet, org_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await add_document(fleet.res, org_id)

    async def cli(*argv: str) -> int:
        args = parser().parse_args(["train", *argv])
        return await run_command(args, fleet.res.settings)

    assert await cli("submit", "--org", org_id, "--request-id", "cli", "--prompt", "Where?", "--watch") == 0
    out = capsys.readouterr().out
    job_id = out.split()[1]
    assert f"job {job_id} submitted: queued" in out
    assert f"job {job_id}  succeeded" in out
    assert "held-out perplexity: base 40.00, tuned 20.00" in out

    assert await cli("history", "--org", org_id) == 0
    assert f"{job_id}  succeeded" in capsys.readouterr().out
    feedback = ("feedback", job_id, "--org", org_id, "--prompt", "Where?", "--feedback-id", "f")
    assert await cli(*feedback, "--response", "North.", "--rating", "5") == 0
    assert await cli(*feedback, "--response", "North.", "--rating", "5") == 0
    assert capsys.readouterr().out.splitlines() == ["feedback f stored", "feedback f was stored before"]

    assert await cli("submit", "--org", org_id, "--preset", "gpt-9") == 1
    assert capsys.readouterr().err.startswith("error: InvalidInput: base model 'gpt-9' is not allowed")


def test_progress_line_draws_a_bar_with_the_figures() -> None:
    job = TrainingJob(
        job_id="job-1",
        organization_id="org",
        request_id="r",
        base_model="smoke",
        status=JobStatus.RUNNING,
        progress=TrainingProgress(
            step=42, total_steps=100, loss=2.3141, tokens_per_second=1234, eta_seconds=192
        ),
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )
    bar = "#" * 13 + "." * 17
    assert progress_line(job) == f"[{bar}] 42/100  loss 2.314  1,234 tok/s  ETA 3m12s  running"
