"""Training and evaluation on the CPU with the smoke model, through real workers on the dev server."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from antifragile_core.contracts.training import (
    TEST_QWEN_MODEL,
    TRAIN_ORGANIZATIONAL_MODEL,
    CorpusDocument,
    CorpusManifest,
    EvaluationRequest,
    EvaluationResult,
    Hyperparameters,
    TrainingProgress,
    TrainingRequest,
    TrainingResult,
)
from antifragile_core.errors import INVALID_INPUT
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import ObjectStore, open_store, org_key
from antifragile_worker_ml.main import create_worker
from antifragile_workflows.calls import call
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.workflow import ActivityCancellationType

DOCUMENTS = {
    "strategy": (
        "Northwind Cooperative Strategy 2027. Our mission is to move fresh produce from small farms to "
        "city kitchens within a day of harvest. We will open two cold-chain hubs in the river valley, "
        "cut spoilage below four percent, and sign forty new member farms. The board agreed that every "
        "hub must run on solar power by the end of the second year. Growth comes from restaurants first "
        "and grocers second. "
    ),
    "swot": (
        "SWOT review for Northwind Cooperative. Strengths: loyal member farms, same-day delivery, a "
        "trusted brand in the valley. Weaknesses: one ageing refrigerated truck fleet, manual order "
        "taking, thin cash reserves in winter. Opportunities: hospital catering contracts, school lunch "
        "programmes, a regional grant for electric vans. Threats: national wholesalers cutting prices, "
        "drought years, rising diesel. "
    ),
    "report": (
        "Quarterly operations report. Deliveries rose eleven percent while spoilage fell to five "
        "percent. The valley hub handled most orders before noon. Drivers asked for better route "
        "planning, and the finance team proposed a winter credit line. Member farms requested earlier "
        "payment and clearer forecasts of restaurant demand for the coming season. "
    ),
}
MANIFEST = "manifest.json"
"""Where `workers` stores the organisation's corpus manifest, under orgs/<org>/training/."""
HEARTBEAT = timedelta(seconds=4)
"""Short in tests, so a killed worker's attempt times out within seconds."""


def smoke_job(org: str, job_id: str, **overrides: object) -> TrainingRequest:
    """A job on the smoke model with fast hyperparameters, `overrides` applied to them."""
    values = {"batch_size": 4, "seq_len": 64, "learning_rate": 1e-2, "checkpoint_every": 4} | overrides
    hyperparameters = Hyperparameters.model_validate(values)
    return TrainingRequest(
        organization_id=org,
        job_id=job_id,
        base_model="smoke",
        hyperparameters=hyperparameters,
        manifest_key=org_key(org, "training", MANIFEST),
    )


@workflow.defn(sandboxed=False)
class TrainOnce:
    """Calls the training contract as TrainingWorkflow does, with test-sized heartbeat and retry timing."""

    @workflow.run
    async def run(self, req: TrainingRequest) -> TrainingResult:
        return await call(
            TRAIN_ORGANIZATIONAL_MODEL,
            req,
            heartbeat_timeout=HEARTBEAT,
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3),
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )


@workflow.defn(sandboxed=False)
class EvaluateOnce:
    @workflow.run
    async def run(self, req: EvaluationRequest) -> EvaluationResult:
        return await call(TEST_QWEN_MODEL, req)


@asynccontextmanager
async def workers(
    client: Client, settings: Settings, org: str, *, ml: bool = True
) -> AsyncIterator[ObjectStore]:
    """The test workflows on the fleet's default queue and, unless `ml` is False, the real ml worker;
    `org`'s documents and their corpus manifest are in the store."""
    async with open_store(settings) as store:
        documents = []
        for name, text in DOCUMENTS.items():
            key = org_key(org, "documents", f"sha-{name}", "text")
            await store.put(key, (text * 6).encode())
            documents.append(
                CorpusDocument(document_id=name, content_hash=name, text_hash=name, text_key=key)
            )
        manifest = CorpusManifest(organization_id=org, documents=documents)
        await store.put(org_key(org, "training", MANIFEST), manifest.model_dump_json().encode())
        flows = Worker(
            client,
            task_queue=settings.task_queue_prefix + DEFAULT_QUEUE,
            workflows=[TrainOnce, EvaluateOnce],
            workflow_runner=UnsandboxedWorkflowRunner(),
        )
        with ThreadPoolExecutor(max_workers=1) as executor:
            async with flows:
                if not ml:
                    yield store
                    return
                async with create_worker(client, settings, store, executor):
                    yield store


async def start_training(
    client: Client, settings: Settings, req: TrainingRequest
) -> WorkflowHandle[TrainOnce, TrainingResult]:
    return await client.start_workflow(
        TrainOnce.run,
        req,
        id=f"train-{req.organization_id}-{req.job_id}",
        task_queue=settings.task_queue_prefix + DEFAULT_QUEUE,
        result_type=TrainingResult,
    )


async def evaluate(client: Client, settings: Settings, req: EvaluationRequest) -> EvaluationResult:
    return await client.execute_workflow(
        EvaluateOnce.run,
        req,
        id=f"eval-{req.organization_id}",
        task_queue=settings.task_queue_prefix + DEFAULT_QUEUE,
        result_type=EvaluationResult,
    )


async def checkpoint_heartbeat(handle: WorkflowHandle) -> TrainingProgress:
    """The first heartbeat the server holds that names a checkpoint."""
    async with asyncio.timeout(120):
        while True:
            description = await handle.describe()
            for pending in description.raw_description.pending_activities:
                if pending.heartbeat_details.payloads:
                    (progress,) = pydantic_data_converter.payload_converter.from_payloads(
                        pending.heartbeat_details.payloads, [TrainingProgress]
                    )
                    if progress.checkpoint_key:
                        return progress
            await asyncio.sleep(0.05)


async def retry_started(handle: WorkflowHandle) -> datetime:
    """When the training activity's second attempt started, as the server recorded it."""
    async with asyncio.timeout(120):
        while True:
            description = await handle.describe()
            for pending in description.raw_description.pending_activities:
                if pending.attempt >= 2 and pending.HasField("last_started_time"):
                    return pending.last_started_time.ToDatetime(tzinfo=UTC)
            await asyncio.sleep(0.2)


async def test_training_lowers_loss_and_beats_base_on_heldout_text(
    temporal_client: Client, make_settings: Callable[..., Settings], org_id: str
) -> None:
    settings = make_settings()
    async with workers(temporal_client, settings, org_id) as store:
        req = smoke_job(org_id, "job-1", max_steps=30)
        result = await (await start_training(temporal_client, settings, req)).result()

        metrics = result.metrics
        assert metrics.steps == 30 and metrics.resumed_from_step is None
        assert metrics.first_loss is not None and metrics.final_loss is not None
        assert metrics.final_loss < metrics.first_loss - 0.3
        assert result.adapter_key == org_key(org_id, "models", "job-1")
        assert await store.exists(f"{result.adapter_key}/adapter/adapter_model.safetensors")
        assert await store.exists(f"{result.adapter_key}/adapter/tokenizer.json")
        metadata = json.loads(await store.get(f"{result.adapter_key}/metadata.json"))
        assert "smoke preset" in metadata["label"]
        assert not await store.list_objects(org_key(org_id, "checkpoints", "job-1") + "/")

        prompts = ["What is Northwind's mission?", "Which threats does the cooperative face?"]
        evaluation = await evaluate(
            temporal_client,
            settings,
            EvaluationRequest(
                organization_id=org_id,
                job_id="job-1",
                base_model="smoke",
                adapter_key=result.adapter_key,
                heldout_key=result.heldout_key,
                prompts=prompts,
                max_new_tokens=24,
            ),
        )
        assert evaluation.heldout_tokens > 50
        assert (evaluation.heldout_documents, evaluation.heldout_in_training) == (1, 0)
        # Held out by whole document, so this measures an unseen document of the organisation: 30 smoke
        # steps help only a little there (before the split was by document, held-out blocks repeated
        # trained text and the gain looked like 20%+).
        assert evaluation.tuned_perplexity < evaluation.base_perplexity
        assert [s.prompt for s in evaluation.samples] == prompts
        assert all(s.tuned.strip() for s in evaluation.samples)

        # An improvement job starts from this adapter, on the same smoke base, with feedback pairs.
        dataset_key = org_key(org_id, "feedback", "improve-1.jsonl")
        pair = {"prompt": "What is Northwind's mission?", "completion": "Fresh produce to kitchens in a day."}
        await store.put(dataset_key, (json.dumps(pair) + "\n").encode())
        child = await (
            await start_training(
                temporal_client,
                settings,
                smoke_job(org_id, "job-2", max_steps=4).model_copy(
                    update={"init_adapter_key": result.adapter_key, "dataset_key": dataset_key}
                ),
            )
        ).result()
        assert child.metrics.steps == 4
        parent_base = await store.get(f"{result.adapter_key}/base/model.safetensors")
        assert await store.get(f"{child.adapter_key}/base/model.safetensors") == parent_base


async def test_model_versions_round_trip_through_s3(
    temporal_client: Client, make_settings: Callable[..., Settings], org_id: str, s3_endpoint: str
) -> None:
    settings = make_settings(
        s3_bucket=f"ml-{org_id}",
        s3_endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    async with workers(temporal_client, settings, org_id):
        req = smoke_job(org_id, "job-s3", max_steps=4)
        result = await (await start_training(temporal_client, settings, req)).result()
        evaluation = await evaluate(
            temporal_client,
            settings,
            EvaluationRequest(
                organization_id=org_id,
                job_id="job-s3",
                base_model="smoke",
                adapter_key=result.adapter_key,
                heldout_key=result.heldout_key,
            ),
        )
    assert result.metrics.steps == 4
    assert evaluation.heldout_tokens > 0 and evaluation.samples == []


def spawn_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """The real `worker-ml` entry point in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "AWS_", "TEMPORAL_"))} | {
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TASK_QUEUE_PREFIX": settings.task_queue_prefix,
        "STORAGE_DIR": str(settings.storage_dir),
        "HEARTBEAT_THROTTLE_SECONDS": "0.1",  # the checkpoint's heartbeat reaches the server at once
    }
    command = [str(Path(sys.executable).with_name("worker-ml"))]
    return subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


async def test_killed_worker_process_resumes_from_its_checkpoint(
    temporal_client: Client, make_settings: Callable[..., Settings], org_id: str, tmp_path: Path
) -> None:
    settings = make_settings()
    async with workers(temporal_client, settings, org_id, ml=False):
        # Longer than the other runs, so the worker is still training when it is killed.
        req = smoke_job(org_id, "job-k", max_steps=30, seq_len=128, batch_size=8, checkpoint_every=3)
        handle = await start_training(temporal_client, settings, req)
        first = spawn_worker(settings, tmp_path / "worker.log")
        try:
            seen = await checkpoint_heartbeat(handle)
            first.send_signal(signal.SIGKILL)
            killed_at = datetime.now(UTC)
            first.wait()
        finally:
            first.kill()
        assert seen.step < 30, "the first worker finished before it could be killed"
        # A document uploaded while the job runs is not part of its corpus: the retry reads the manifest.
        async with open_store(settings) as store:
            late = org_key(org_id, "documents", "sha-late", "text")
            await store.put(late, ("A late upload about harbour cranes and tugboats. " * 60).encode())

        second = spawn_worker(settings, tmp_path / "worker.log")
        try:
            recovery = await retry_started(handle) - killed_at
            print(
                f"worker-ml killed mid-training: retried on a new process {recovery.total_seconds():.1f} s on"
            )
            assert recovery < timedelta(seconds=60)
            result = await asyncio.wait_for(handle.result(), timeout=180)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)

    resumed = result.metrics.resumed_from_step
    assert resumed is not None and resumed >= int(seen.checkpoint_key.rsplit("-", 1)[1])
    assert resumed % 3 == 0 and 0 < resumed < 30
    assert result.metrics.steps == 30
    async with open_store(settings) as store:
        metadata = json.loads(await store.get(f"{result.adapter_key}/metadata.json"))
    assert metadata["documents"] == len(DOCUMENTS)
    history = await temporal_client.get_workflow_handle(handle.id).fetch_history()
    starts = [e for e in history.events if e.HasField("activity_task_started_event_attributes")]
    assert starts[-1].activity_task_started_event_attributes.attempt == 2


async def test_cancel_stops_training_and_keeps_the_checkpoint(
    temporal_client: Client, make_settings: Callable[..., Settings], org_id: str
) -> None:
    settings = make_settings()
    async with workers(temporal_client, settings, org_id) as store:
        req = smoke_job(org_id, "job-c", max_steps=400)
        handle = await start_training(temporal_client, settings, req)
        seen = await checkpoint_heartbeat(handle)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as failure:
            await asyncio.wait_for(handle.result(), timeout=60)
        assert isinstance(failure.value.cause, CancelledError)
        assert not await store.exists(org_key(org_id, "models", "job-c", "metadata.json"))
        prefix = org_key(org_id, "checkpoints", "job-c") + "/"
        checkpoints = await store.list_objects(prefix)
        assert checkpoints, "the last checkpoint must survive cancellation"
        kept = {int(c.key.removeprefix(prefix).split("/")[0].rsplit("-", 1)[1]) for c in checkpoints}
        assert seen.checkpoint_key is not None
        assert max(kept) >= int(seen.checkpoint_key.rsplit("-", 1)[1]), (
            "an older checkpoint than one reported"
        )


async def test_unknown_base_model_is_a_non_retryable_error(
    temporal_client: Client, make_settings: Callable[..., Settings], org_id: str
) -> None:
    settings = make_settings()
    async with workers(temporal_client, settings, org_id):
        req = TrainingRequest(organization_id=org_id, job_id="job-u", base_model="gpt-17")
        with pytest.raises(WorkflowFailureError) as failure:
            await (await start_training(temporal_client, settings, req)).result()
    activity_error = failure.value.cause
    assert isinstance(activity_error, ActivityError)
    error = activity_error.cause
    assert isinstance(error, ApplicationError) and error.non_retryable and error.type == INVALID_INPUT
    assert "base model 'gpt-17' is not allowed" in error.message
