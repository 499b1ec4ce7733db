"""OrganizationOnboardingWorkflow: documents (as a child workflow) -> readiness -> a training job when
ready -> weekly competitor monitoring -> admins told how it went. A failed step is recorded and the
steps that do not depend on it still run."""

from typing import Literal, Self

from pydantic import model_validator
from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import Model, OrgId
    from antifragile_core.contracts.documents import TrainingReadiness
    from antifragile_core.contracts.operations import (
        ENSURE_COMPETITOR_SCHEDULE,
        SEND_SCHEDULED_NOTIFICATION,
        CompetitorMonitoring,
        CompetitorScheduleRequest,
        NotificationReceipt,
        NotificationTarget,
        ScheduleHandle,
    )
    from antifragile_core.contracts.training import (
        SUBMIT_MODEL_TRAINING_JOB,
        TrainingJobHandle,
        TrainingJobRequest,
    )

from .calls import call, step_error
from .documents import DocumentBatch, DocumentBatchResult, DocumentProcessingWorkflow

StepName = Literal["documents", "readiness", "training", "monitoring", "notify"]
STEPS: tuple[StepName, ...] = ("documents", "readiness", "training", "monitoring", "notify")


class OnboardingRequest(Model):
    """`documents` is a batch the client registered (`antifragile_cli.batches.register_batch`)."""

    organization_id: OrgId
    documents: DocumentBatch
    admins: NotificationTarget
    monitoring: CompetitorMonitoring | None = None
    base_model: str = "smoke"

    @model_validator(mode="after")
    def _one_organisation(self) -> Self:
        orgs = {self.documents.organization_id}
        if self.monitoring is not None:
            orgs.add(self.monitoring.scan.organization_id)
        if orgs != {self.organization_id}:
            raise ValueError(f"the documents and the monitoring must belong to {self.organization_id!r}")
        return self


class OnboardingStep(Model):
    name: StepName
    status: Literal["pending", "running", "done", "skipped", "failed"] = "pending"
    detail: str | None = None


class OnboardingProgress(Model):
    organization_id: OrgId
    steps: list[OnboardingStep]


class OnboardingResult(Model):
    progress: OnboardingProgress
    documents: DocumentBatchResult | None = None
    readiness: TrainingReadiness | None = None
    training_job: TrainingJobHandle | None = None
    schedule: ScheduleHandle | None = None
    notification: NotificationReceipt | None = None


@workflow.defn
class OrganizationOnboardingWorkflow:
    def __init__(self) -> None:
        self._progress: OnboardingProgress | None = None

    @workflow.query
    def progress(self) -> OnboardingProgress | None:
        return self._progress

    def _step(self, name: StepName) -> OnboardingStep:
        assert self._progress is not None
        return next(s for s in self._progress.steps if s.name == name)

    def _set(self, name: StepName, status: str, detail: str | None = None) -> None:
        step = self._step(name)
        step.status = status  # type: ignore[assignment]
        step.detail = detail

    @workflow.run
    async def run(self, req: OnboardingRequest) -> OnboardingResult:
        self._progress = OnboardingProgress(
            organization_id=req.organization_id, steps=[OnboardingStep(name=n) for n in STEPS]
        )
        result = OnboardingResult(progress=self._progress)
        result.documents = await self._documents(req)
        result.readiness = self._readiness(result.documents)
        result.training_job = await self._training(req, result.readiness)
        result.schedule = await self._monitoring(req)
        result.notification = await self._notify(req)
        return result

    async def _documents(self, req: OnboardingRequest) -> DocumentBatchResult | None:
        self._set("documents", "running")
        try:
            docs = await workflow.execute_child_workflow(
                DocumentProcessingWorkflow.run,
                req.documents,
                id=f"{workflow.info().workflow_id}-documents",
                task_queue=workflow.info().task_queue,
            )
        except ChildWorkflowError as err:
            self._set("documents", "failed", step_error("documents", err).reason)
            return None
        s = docs.summary
        detail = f"{s.done} of {s.total} documents processed"
        if s.failed:
            shown = ", ".join(f.filename for f in s.first_failures)
            more = (
                f" and {s.failed - len(s.first_failures)} more ({docs.details})"
                if s.failed > len(s.first_failures)
                else ""
            )
            detail += f"; failed: {shown}{more}"
        self._set("documents", "done" if s.done else "failed", detail)
        return docs

    def _readiness(self, docs: DocumentBatchResult | None) -> TrainingReadiness | None:
        if docs is None:
            self._set("readiness", "skipped", "no document results")
            return None
        if docs.readiness is None:
            error = docs.readiness_error
            self._set("readiness", "failed", error.message if error else "readiness was not checked")
            return None
        readiness = docs.readiness
        detail = "ready for training" if readiness.ready else "; ".join(readiness.reasons)
        self._set("readiness", "done", detail)
        return readiness

    async def _training(
        self, req: OnboardingRequest, readiness: TrainingReadiness | None
    ) -> TrainingJobHandle | None:
        if readiness is None or not readiness.ready:
            self._set("training", "skipped", "the corpus is not ready for training")
            return None
        self._set("training", "running")
        request = TrainingJobRequest(
            organization_id=req.organization_id,
            request_id=f"onboarding-{workflow.info().workflow_id}"[:128],
            base_model=req.base_model,
        )
        try:
            job = await call(SUBMIT_MODEL_TRAINING_JOB, request)
        except ActivityError as err:
            self._set("training", "failed", step_error("training", err).reason)
            return None
        self._set("training", "done", f"job {job.job_id} {job.status}")
        return job

    async def _monitoring(self, req: OnboardingRequest) -> ScheduleHandle | None:
        if req.monitoring is None:
            self._set("monitoring", "skipped", "no competitors or sources given")
            return None
        self._set("monitoring", "running")
        try:
            handle = await call(
                ENSURE_COMPETITOR_SCHEDULE, CompetitorScheduleRequest(monitoring=req.monitoring)
            )
        except ActivityError as err:
            self._set("monitoring", "failed", step_error("monitoring", err).reason)
            return None
        self._set("monitoring", "done", f"weekly scan scheduled as {handle.schedule_id}")
        return handle

    async def _notify(self, req: OnboardingRequest) -> NotificationReceipt | None:
        self._set("notify", "running")
        assert self._progress is not None
        lines = [
            f"- {s.name}: {s.status}" + (f" ({s.detail})" if s.detail else "") for s in self._progress.steps
        ]
        failed = any(s.status == "failed" for s in self._progress.steps)
        message = req.admins.message(
            req.organization_id,
            idempotency_key=f"onboarding/{workflow.info().workflow_id}",
            subject=f"Onboarding of {req.organization_id} "
            + ("needs attention" if failed else "is complete"),
            body="\n".join(lines[:-1]),
        )
        try:
            receipt = await call(SEND_SCHEDULED_NOTIFICATION, message)
        except ActivityError as err:
            self._set("notify", "failed", step_error("notify", err).reason)
            return None
        self._set("notify", "done", f"sent by {receipt.channel}")
        return receipt
