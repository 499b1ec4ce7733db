"""A training job end to end on the real workers: documents processed by worker-default, the smoke model
trained and evaluated by worker-ml on the CPU, then feedback turned into an improvement job that starts
from the first job's adapter; and a running training cancelled. Nothing is stood in for."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import Any

import pytest
from antifragile_core.contracts.documents import DocumentUpload
from antifragile_core.contracts.training import (
    CANCEL_TRAINING_JOB,
    CHECK_TRAINING_JOB_STATUS,
    COLLECT_MODEL_FEEDBACK,
    START_MODEL_IMPROVEMENT,
    SUBMIT_MODEL_TRAINING_JOB,
    Hyperparameters,
    ImprovementRequest,
    JobStatus,
    ModelFeedback,
    TrainingJob,
    TrainingJobRef,
    TrainingJobRequest,
)
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store
from antifragile_worker_default import db
from antifragile_worker_default import main as worker_default
from antifragile_worker_default.documents import process_upload
from antifragile_worker_default.resources import Resources
from antifragile_worker_ml import main as worker_ml
from antifragile_workflows.management import manage
from antifragile_workflows.training import workflow_id_for
from pydantic import BaseModel
from temporalio.client import Client

DOCUMENTS = {
    "strategy.txt": "Northwind grows in the northern region with two new depots and faster deliveries. ",
    "safety.txt": "Every Northwind driver is trained in safe loading before the winter season starts. ",
    "customers.txt": "Northwind customers value next-day delivery, honest tracking and friendly drivers. ",
}
TINY = Hyperparameters(max_steps=4, batch_size=2, seq_len=64, checkpoint_every=2, heldout_fraction=0.2)


@pytest.fixture
async def res(
    make_settings: Callable[..., Settings], postgres_dsn: str, temporal_client: Client
) -> AsyncIterator[Resources]:
    """Both real workers on this test's queues, sharing one object store directory and the database."""
    settings = make_settings(readiness_min_documents=3, readiness_min_tokens=200)
    pool = await db.connect(postgres_dsn)
    client = temporal_client
    async with AsyncExitStack() as stack:
        stack.push_async_callback(pool.close)
        store = await stack.enter_async_context(open_store(settings))
        resources = Resources(settings=settings, pool=pool, store=store, client=client)
        executor = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        await stack.enter_async_context(worker_default.create_worker(resources))
        await stack.enter_async_context(worker_ml.create_worker(client, settings, store, executor))
        yield resources


async def run(res: Resources, contract: Any, arg: BaseModel) -> Any:
    return await manage(res.client, res.settings.task_queue_prefix + DEFAULT_QUEUE, contract, arg)


async def finished(res: Resources, org: str, job_id: str) -> TrainingJob:
    await res.client.get_workflow_handle(workflow_id_for(job_id)).result()
    return await run(res, CHECK_TRAINING_JOB_STATUS, TrainingJobRef(organization_id=org, job_id=job_id))


async def upload_documents(res: Resources, org_id: str) -> None:
    for filename, sentence in DOCUMENTS.items():
        key = f"orgs/{org_id}/uploads/{uuid.uuid4().hex}"
        await res.store.put(key, (sentence * 30).encode())
        await process_upload(res, DocumentUpload(organization_id=org_id, filename=filename, upload_key=key))


async def test_smoke_model_trains_evaluates_and_improves_from_feedback(res: Resources, org_id: str) -> None:
    await upload_documents(res, org_id)
    prompt = "Where does Northwind grow?"
    submitted = await run(
        res,
        SUBMIT_MODEL_TRAINING_JOB,
        TrainingJobRequest(organization_id=org_id, request_id="e2e", hyperparameters=TINY, prompts=[prompt]),
    )
    job = await finished(res, org_id, submitted.job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.metrics is not None and job.metrics.steps == 4
    assert job.evaluation is not None and job.evaluation.samples[0].prompt == prompt
    assert job.adapter_key is not None

    feedback = ModelFeedback(
        organization_id=org_id,
        job_id=job.job_id,
        feedback_id="f1",
        prompt=prompt,
        preferred="In the northern region, with two new depots.",
        rejected="Nowhere.",
    )
    assert (await run(res, COLLECT_MODEL_FEEDBACK, feedback)).stored
    improvement = await run(
        res,
        START_MODEL_IMPROVEMENT,
        ImprovementRequest(organization_id=org_id, job_id=job.job_id, request_id="e2e-better"),
    )
    improved = await finished(res, org_id, improvement.job_id)
    assert improved.status == JobStatus.SUCCEEDED, improved.error
    assert improved.parent_job_id == job.job_id
    assert improved.adapter_key not in (None, job.adapter_key)


async def test_cancel_stops_the_real_training(res: Resources, org_id: str) -> None:
    await upload_documents(res, org_id)
    long_run = TINY.model_copy(update={"max_steps": 100_000})
    submitted = await run(
        res,
        SUBMIT_MODEL_TRAINING_JOB,
        TrainingJobRequest(organization_id=org_id, request_id="long", hyperparameters=long_run),
    )
    ref = TrainingJobRef(organization_id=org_id, job_id=submitted.job_id)
    status = await run(res, CHECK_TRAINING_JOB_STATUS, ref)
    async with asyncio.timeout(120):  # a training that never starts (or fails) ends the test, not hangs it
        while status.progress is None or status.progress.step == 0:
            await asyncio.sleep(0.5)
            status = await run(res, CHECK_TRAINING_JOB_STATUS, ref)
    assert status.progress.total_steps == 100_000

    cancelled = await run(res, CANCEL_TRAINING_JOB, ref)
    assert cancelled.status == JobStatus.CANCELLED
    history = await res.client.get_workflow_handle(workflow_id_for(submitted.job_id)).fetch_history()
    assert any(e.HasField("activity_task_canceled_event_attributes") for e in history.events)
