"""OrganizationOnboardingWorkflow end to end on the real default worker: documents processed by the child
workflow, readiness, a training job (stand-in submit), the weekly scan schedule, and the admins told."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from antifragile_cli.batches import register_batch
from antifragile_core.contracts.operations import (
    CompetitorMonitoring,
    CompetitorScanRequest,
    NotificationTarget,
    Source,
)
from antifragile_core.contracts.training import (
    SUBMIT_MODEL_TRAINING_JOB,
    JobStatus,
    TrainingJobHandle,
    TrainingJobRequest,
)
from antifragile_core.errors import INVALID_INPUT, bad_input
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_testing.default_worker import default_worker
from antifragile_testing.local_servers import LocalSite, Route
from antifragile_worker_default.resources import Resources
from antifragile_workflows.competitors import competitor_schedule_id
from antifragile_workflows.documents import DocumentBatch
from antifragile_workflows.onboarding import (
    OnboardingProgress,
    OnboardingRequest,
    OrganizationOnboardingWorkflow,
)
from temporalio.client import Client

pytestmark = pytest.mark.usefixtures("db_pool")  # batches are registered in the migrated schema

STRATEGY = "Our strategy for 2027 focuses on resilient supply chains and customer trust. " * 20


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as site:
        site.routes["/hook"] = Route(b"ok", "text/plain")
        yield site


class TrainingStandIn:
    """submit_model_training_job stand-in (its owner's tests cover the real one): records each request."""

    def __init__(self, fail: bool = False) -> None:
        self.requests: list[TrainingJobRequest] = []
        self.fail = fail

    def __call__(self, res: Resources) -> list[Callable[..., Any]]:
        @SUBMIT_MODEL_TRAINING_JOB.implement
        async def submit(req: TrainingJobRequest) -> TrainingJobHandle:
            self.requests.append(req)
            if self.fail:
                raise bad_input(INVALID_INPUT, "base model 'smoke' is not available on this fleet")
            return TrainingJobHandle(
                job_id="job-1", workflow_id="training-job-1", status=JobStatus.QUEUED, created=True
            )

        return [submit]


async def stage(settings: Settings, org: str, files: dict[str, bytes]) -> DocumentBatch:
    return await register_batch(settings, org, list(files.items()), llm_skipped_reason="no LLM configured")


def onboarding(org: str, documents: DocumentBatch, site: LocalSite) -> OnboardingRequest:
    scan = CompetitorScanRequest(
        organization_id=org, competitors=["Acme Corp"], sources=[Source(url=site.url("/news.xml"))]
    )
    target = NotificationTarget(channel="webhook", webhook_url=site.url("/hook"))
    return OnboardingRequest(
        organization_id=org,
        documents=documents,
        admins=target,
        monitoring=CompetitorMonitoring(scan=scan, notify=target),
    )


async def run(client: Client, settings: Settings, req: OnboardingRequest, stand_in: TrainingStandIn) -> Any:
    async with default_worker(settings, client, stand_in):
        handle = await client.start_workflow(
            OrganizationOnboardingWorkflow.run,
            req,
            id=f"onboarding-{req.organization_id}",
            task_queue=settings.task_queue_prefix + DEFAULT_QUEUE,
        )
        result = await handle.result()
        progress = await handle.query(OrganizationOnboardingWorkflow.progress)
    return result, progress


def statuses(progress: OnboardingProgress) -> dict[str, str]:
    return {s.name: s.status for s in progress.steps}


async def test_onboarding_end_to_end(
    make_settings: Callable[..., Settings], temporal_client: Client, site: LocalSite, org_id: str
) -> None:
    settings = make_settings(readiness_min_documents=2, readiness_min_tokens=100)
    documents = await stage(
        settings, org_id, {"strategy.md": STRATEGY.encode(), "swot.txt": STRATEGY[::-1].encode()}
    )
    training = TrainingStandIn()
    req = onboarding(org_id, documents, site)
    schedule = temporal_client.get_schedule_handle(competitor_schedule_id(settings.task_queue_prefix, org_id))
    try:
        result, progress = await run(temporal_client, settings, req, training)
        described = await schedule.describe()
    finally:
        await schedule.delete()

    assert statuses(progress) == dict.fromkeys(
        ("documents", "readiness", "training", "monitoring", "notify"), "done"
    )
    assert progress == result.progress
    assert (result.documents.summary.done, result.documents.summary.failed) == (2, 0)
    assert result.readiness.ready and result.readiness.document_count == 2
    (submitted,) = training.requests
    assert submitted.organization_id == org_id and submitted.request_id == f"onboarding-onboarding-{org_id}"
    assert result.training_job.job_id == "job-1"
    assert result.schedule.schedule_id == competitor_schedule_id(settings.task_queue_prefix, org_id)
    assert result.schedule.created and not described.schedule.state.paused
    (post,) = site.hits("/hook", "POST")
    text = json.loads(post.body)["text"]
    assert text.startswith(f"*Onboarding of {org_id} is complete*")
    assert "- training: done (job job-1 queued)" in text
    assert post.headers["Idempotency-Key"] == f"onboarding/onboarding-{org_id}"


async def test_a_failing_step_is_reported_and_the_others_still_run(
    make_settings: Callable[..., Settings], temporal_client: Client, site: LocalSite, org_id: str
) -> None:
    settings = make_settings(readiness_min_documents=1, readiness_min_tokens=100)
    documents = await stage(
        settings,
        org_id,
        {"strategy.md": STRATEGY.encode(), "broken.pdf": b"%PDF-1.7 this is not really a pdf"},
    )
    training = TrainingStandIn(fail=True)
    schedule = temporal_client.get_schedule_handle(competitor_schedule_id(settings.task_queue_prefix, org_id))
    try:
        result, progress = await run(temporal_client, settings, onboarding(org_id, documents, site), training)
    finally:
        await schedule.delete()

    assert statuses(progress) == {
        "documents": "done",
        "readiness": "done",
        "training": "failed",
        "monitoring": "done",
        "notify": "done",
    }
    steps = {s.name: s.detail for s in progress.steps}
    assert steps["documents"] == "1 of 2 documents processed; failed: broken.pdf"
    assert steps["training"] == "InvalidInput: base model 'smoke' is not available on this fleet"
    assert len(training.requests) == 1, "a non-retryable failure is not retried"
    assert result.training_job is None and result.schedule is not None
    (post,) = site.hits("/hook", "POST")
    assert f"Onboarding of {org_id} needs attention" in json.loads(post.body)["text"]


async def test_a_corpus_that_is_not_ready_skips_training(
    make_settings: Callable[..., Settings], temporal_client: Client, site: LocalSite, org_id: str
) -> None:
    settings = make_settings(readiness_min_documents=5)
    documents = await stage(settings, org_id, {"strategy.md": STRATEGY.encode()})
    req = onboarding(org_id, documents, site).model_copy(update={"monitoring": None})
    training = TrainingStandIn()
    result, progress = await run(temporal_client, settings, req, training)

    assert statuses(progress) == {
        "documents": "done",
        "readiness": "done",
        "training": "skipped",
        "monitoring": "skipped",
        "notify": "done",
    }
    assert not result.readiness.ready and training.requests == []
    assert result.schedule is None


def test_every_part_must_belong_to_the_organisation(site: LocalSite) -> None:
    documents = DocumentBatch(organization_id="org-a", batch_id="b1")
    with pytest.raises(ValueError, match="must belong to 'org-b'"):
        onboarding("org-b", documents, site)
