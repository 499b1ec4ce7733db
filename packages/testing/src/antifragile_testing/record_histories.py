"""Record every workflow type's history as a JSON fixture for the replay test.

`uv run python -m antifragile_testing.record_histories [OUT_DIR]` starts its own dev server and embedded
PostgreSQL, runs each workflow on the real default worker (ml- and openai-queue activities are stand-ins
under the contracts' names), and writes complete runs and runs stopped mid-flight — where a deployed
workflow spends its days — to OUT_DIR (default: packages/workflows/tests/histories). Re-record only when a
workflow's behaviour changes on purpose; a replay failure otherwise means running workflows would break.
"""

import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from antifragile_cli.batches import register_batch
from antifragile_cli.embedded import start_postgres, temporal_binary
from antifragile_core.contracts.collective import (
    PERFORM_SIMPLE_RESEARCH,
    RUN_CATCHBALL,
    SYNTHESIZE_WISDOM,
    Alignment,
    AttributedPoint,
    CatchballRefinement,
    CatchballRequest,
    ResearchAnswer,
    ResearchRequest,
    WisdomRequest,
    WisdomSynthesis,
)
from antifragile_core.contracts.documents import (
    ANALYZE_DOCUMENT_CONTENT,
    GENERATE_DOCUMENT_SUMMARY,
    DocumentAnalysis,
    DocumentSummary,
    DocumentText,
)
from antifragile_core.contracts.operations import (
    CompetitorMonitoring,
    CompetitorScanRequest,
    NotificationTarget,
    Source,
)
from antifragile_core.contracts.training import (
    SUBMIT_MODEL_TRAINING_JOB,
    TEST_QWEN_MODEL,
    TRAIN_ORGANIZATIONAL_MODEL,
    EvaluationRequest,
    EvaluationResult,
    TrainingJobHandle,
    TrainingJobRequest,
    TrainingMetrics,
    TrainingRequest,
    TrainingResult,
)
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import org_key
from antifragile_worker_default.resources import Resources
from antifragile_workflows.catchball import CatchballAnswer, CatchballSession, CatchballWorkflow, Participant
from antifragile_workflows.competitors import CompetitorMonitoringWorkflow, competitor_schedule_id
from antifragile_workflows.documents import DocumentBatch, DocumentProcessingWorkflow
from antifragile_workflows.maintenance import MaintenanceRequest, MaintenanceWorkflow
from antifragile_workflows.management import ManagementCall, ManagementWorkflow
from antifragile_workflows.notices import NoticeWorkflow
from antifragile_workflows.onboarding import OnboardingRequest, OrganizationOnboardingWorkflow
from antifragile_workflows.research import ResearchQuestion, ResearchWorkflow
from antifragile_workflows.training import TrainingWorkflow
from antifragile_workflows.wisdom import ContributionIn, WisdomRound, WisdomWorkflow
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from .default_worker import default_worker
from .local_servers import LocalSite, Route

DEFAULT_OUT = Path("packages/workflows/tests/histories")
HOLD = "hold"
"""Organisations and prompts containing this word make the stand-ins wait, so a run stops mid-flight."""
TEXT = "Our strategy for 2027 focuses on resilient supply chains and customer trust. " * 20


class StandIns:
    """ml- and openai-queue activities answering at once, or waiting for `release` when told to hold."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.holding: set[str] = set()

    async def _hold_if(self, marker: str) -> None:
        if HOLD in marker:
            self.holding.add(marker)
            await self.release.wait()

    def __call__(self, res: Resources) -> list[Callable[..., Any]]:
        @GENERATE_DOCUMENT_SUMMARY.implement
        async def summary(doc: DocumentText) -> DocumentSummary:
            await self._hold_if(doc.organization_id)
            return DocumentSummary(
                document_id=doc.document_id,
                summary="s",
                key_points=[],
                model="m",
                chunks=1,
                usage=TokenUsage(),
            )

        @ANALYZE_DOCUMENT_CONTENT.implement
        async def analysis(doc: DocumentText) -> DocumentAnalysis:
            return DocumentAnalysis(
                document_id=doc.document_id,
                topics=["supply"],
                risks=[],
                opportunities=[],
                sentiment="neutral",
                confidence=0.5,
                model="m",
                chunks=1,
                usage=TokenUsage(),
            )

        @PERFORM_SIMPLE_RESEARCH.implement
        async def research(req: ResearchRequest) -> ResearchAnswer:
            return ResearchAnswer(
                answer="a", citations=[], dropped_citations=0, confidence=0.5, model="m", usage=TokenUsage()
            )

        @RUN_CATCHBALL.implement
        async def catchball(req: CatchballRequest) -> CatchballRefinement:
            return CatchballRefinement(
                refined_statement=f"{req.statement} +{req.feedback}",
                changes=[],
                open_questions=[],
                alignment=Alignment(score=0.9, agreed=False, assessment="ok"),
                drafted_feedback=None,
                model="m",
                usage=TokenUsage(),
            )

        @SYNTHESIZE_WISDOM.implement
        async def wisdom(req: WisdomRequest) -> WisdomSynthesis:
            point = AttributedPoint(
                point="p", contribution_ids=[c.contribution_id for c in req.contributions]
            )
            return WisdomSynthesis(
                themes=[],
                consensus=[point],
                dissent=[],
                recommendation=point,
                confidence=0.5,
                model="m",
                usage=TokenUsage(),
            )

        @TRAIN_ORGANIZATIONAL_MODEL.implement
        async def train(req: TrainingRequest) -> TrainingResult:
            metrics = TrainingMetrics(
                steps=2,
                train_tokens=100,
                first_loss=2.0,
                final_loss=1.0,
                tokens_per_second=10,
                duration_seconds=1,
            )
            keys = {k: org_key(req.organization_id, "models", req.job_id, k) for k in ("adapter", "heldout")}
            return TrainingResult(
                job_id=req.job_id,
                base_model=req.base_model,
                adapter_key=keys["adapter"],
                heldout_key=keys["heldout"],
                device="cpu",
                metrics=metrics,
            )

        @TEST_QWEN_MODEL.implement
        async def evaluate(req: EvaluationRequest) -> EvaluationResult:
            await self._hold_if(" ".join(req.prompts))
            return EvaluationResult(
                job_id=req.job_id, base_perplexity=9.0, tuned_perplexity=5.0, heldout_tokens=10, samples=[]
            )

        return [summary, analysis, research, catchball, wisdom, train, evaluate]


class Recorder:
    """Runs scenarios on one fleet and writes `<WorkflowType>--<scenario>.json` for each history."""

    def __init__(
        self, client: Client, settings: Settings, site: LocalSite, stand_ins: StandIns, out: Path
    ) -> None:
        self.client, self.settings, self.site, self.stand_ins, self.out = (
            client,
            settings,
            site,
            stand_ins,
            out,
        )
        self.queue = settings.task_queue_prefix + DEFAULT_QUEUE

    async def start(self, workflow: Any, arg: Any, scenario: str, **options: Any) -> WorkflowHandle[Any, Any]:
        name = workflow.__qualname__.split(".")[0]
        return await self.client.start_workflow(
            workflow, arg, id=f"{name}--{scenario}", task_queue=self.queue, **options
        )

    async def save(self, handle: WorkflowHandle[Any, Any], name: str | None = None) -> None:
        """Write the history so far, with its workflow id, as `<name or workflow id>.json`."""
        history = await handle.fetch_history()
        name = name or handle.id
        # The run's own id goes with it: workflows derive their children's ids from it.
        recorded = {"workflowId": handle.id, **json.loads(history.to_json())}
        (self.out / f"{name}.json").write_text(json.dumps(recorded, indent=2) + "\n")
        print(f"recorded {name} ({len(history.events)} events)")

    async def save_children(self, handle: WorkflowHandle[Any, Any], scenario: str) -> None:
        """Save the first child of each type this run started (and theirs) as `<Type>--<scenario>`."""
        seen: set[str] = set()
        for event in (await handle.fetch_history()).events:
            if event.HasField("child_workflow_execution_started_event_attributes"):
                started = event.child_workflow_execution_started_event_attributes
                if started.workflow_type.name not in seen:
                    seen.add(started.workflow_type.name)
                    child = self.client.get_workflow_handle(started.workflow_execution.workflow_id)
                    await self.save(child, f"{started.workflow_type.name}--{scenario}")
                    await self.save_children(child, scenario)

    async def complete(self, workflow: Any, arg: Any, scenario: str = "complete", **options: Any) -> Any:
        handle = await self.start(workflow, arg, scenario, **options)
        result = await handle.result()
        await self.save(handle)
        return result

    async def mid_flight(
        self,
        workflow: Any,
        arg: Any,
        scenario: str,
        reached: Callable[[WorkflowHandle[Any, Any]], Awaitable[bool]],
    ) -> WorkflowHandle[Any, Any]:
        handle = await self.start(workflow, arg, scenario)
        await until(lambda: reached(handle))
        await self.save(handle)
        await self.save_children(handle, scenario)
        return handle

    async def batch(self, org: str, llm_skipped_reason: str | None = None) -> DocumentBatch:
        """One document registered as a batch, the way clients start document work."""
        files = [("strategy.md", TEXT.encode())]
        return await register_batch(self.settings, org, files, llm_skipped_reason=llm_skipped_reason)

    def target(self) -> NotificationTarget:
        return NotificationTarget(channel="webhook", webhook_url=self.site.url("/hook"))

    async def run_all(self) -> list[WorkflowHandle[Any, Any]]:
        """Every scenario; returns the handles still running, for the caller to terminate."""
        org = "org-replay"
        documents = await self.start(DocumentProcessingWorkflow.run, await self.batch(org), "complete")
        await documents.result()
        await self.save(documents)
        await self.save_children(documents, "complete")
        await self.complete(
            ResearchWorkflow.run, ResearchQuestion(organization_id=org, question="supply chains")
        )
        await self.complete(MaintenanceWorkflow.run, MaintenanceRequest(organization_id=org, dry_run=True))
        scan = CompetitorScanRequest(
            organization_id=org, competitors=["Acme"], sources=[Source(url=self.site.url("/gone.xml"))]
        )
        monitoring = CompetitorMonitoring(scan=scan, notify=self.target())
        await self.complete(CompetitorMonitoringWorkflow.run, monitoring)
        notice = self.target().message(org, idempotency_key="replay-notice", subject="Your turn", body="b")
        await self.complete(NoticeWorkflow.run, notice)
        onboarding = OnboardingRequest(
            organization_id=org,
            documents=await self.batch(org, "no LLM configured"),
            admins=self.target(),
            monitoring=monitoring,
        )
        await self.complete(OrganizationOnboardingWorkflow.run, onboarding)
        await self.client.get_schedule_handle(
            competitor_schedule_id(self.settings.task_queue_prefix, org)
        ).delete()

        # The training job's workflow is started by the real submit activity, through ManagementWorkflow.
        running: list[WorkflowHandle[Any, Any]] = []
        for request_id, submit, prompts in (("complete", "complete", []), ("between-steps", "held", [HOLD])):
            request = TrainingJobRequest(organization_id=org, request_id=request_id, prompts=prompts)
            call = ManagementCall(
                activity=SUBMIT_MODEL_TRAINING_JOB.name, arg=request.model_dump(mode="json")
            )
            job = await self.complete(ManagementWorkflow.run, call, submit, result_type=TrainingJobHandle)
            training = self.client.get_workflow_handle(job.workflow_id)
            if prompts:
                await until(lambda: stage_is(training, "evaluating"))  # noqa: B023
                running.append(training)
            else:
                await training.result()
            await self.save(training, f"TrainingWorkflow--{request_id}")

        hold_org = f"org-{HOLD}"
        waiting = onboarding.model_copy(
            update={"organization_id": hold_org, "documents": await self.batch(hold_org), "monitoring": None}
        )

        async def summarising(handle: WorkflowHandle[Any, Any]) -> bool:
            return hold_org in self.stand_ins.holding

        running.append(
            await self.mid_flight(
                OrganizationOnboardingWorkflow.run, waiting, "between-children", summarising
            )
        )
        running += await self.collective(org)
        return running

    async def collective(self, org: str) -> list[WorkflowHandle[Any, Any]]:
        people = [Participant(name="alice", level="board"), Participant(name="bob", level="operations")]
        session = CatchballSession(
            organization_id=org, statement="Grow trust", participants=people, max_rounds=1
        )
        handle = await self.start(CatchballWorkflow.run, session, "complete")
        for person in people:
            await answer(handle, person.name, "ok", agree=True)
        await handle.result()
        await self.save(handle)
        waiting = await self.start(CatchballWorkflow.run, session, "waiting-for-answer")
        await answer(waiting, "alice", "sharper")
        await until(lambda: turn_of(waiting, "bob"))
        await self.save(waiting)

        round_ = WisdomRound(organization_id=org, question="What next?", quorum=2, deadline_seconds=3600)
        handle = await self.start(WisdomWorkflow.run, round_, "complete")
        for author in ("alice", "bob"):
            await handle.execute_update(
                WisdomWorkflow.contribute, ContributionIn(author=author, text=f"{author} says")
            )
        await handle.result()
        await self.save(handle)
        short = await self.start(
            WisdomWorkflow.run, round_.model_copy(update={"quorum": 3}), "short-of-quorum"
        )
        await short.execute_update(WisdomWorkflow.contribute, ContributionIn(author="alice", text="alone"))
        await self.save(short)
        return [waiting, short]


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll `check` until true; a state never reached within 30 s is a broken scenario."""
    async with asyncio.timeout(30):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


async def answer(handle: WorkflowHandle[Any, Any], name: str, feedback: str, agree: bool = False) -> None:
    await until(lambda: turn_of(handle, name))
    await handle.execute_update(
        CatchballWorkflow.answer, CatchballAnswer(participant=name, feedback=feedback, agree=agree)
    )


async def turn_of(handle: WorkflowHandle[Any, Any], name: str) -> bool:
    turn = await handle.query(CatchballWorkflow.whose_turn)
    return turn is not None and turn.name == name


async def stage_is(handle: WorkflowHandle[Any, Any], status: str) -> bool:
    job = await handle.query(TrainingWorkflow.progress)
    return job is not None and job.status == status


async def record(out: Path) -> None:
    """Write every scenario's history to `out` (emptied first, so a dropped scenario leaves no file)."""
    with tempfile.TemporaryDirectory(prefix="record-histories-") as tmp, LocalSite() as site:
        site.routes["/hook"] = Route(b"ok", "text/plain")
        postgres, dsn = start_postgres(Path(tmp) / "postgres")
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary()),
            data_converter=pydantic_data_converter,
            dev_server_log_level="error",
        )
        try:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=dsn,
                storage_dir=Path(tmp) / "objects",
                task_queue_prefix="replay-",
                temporal_address=env.client.service_client.config.target_host,
                openai_api_key=None,
                openai_base_url=None,
                readiness_min_documents=1,
                readiness_min_tokens=10,
                outbound_allowed_networks=["127.0.0.1/32"],  # the local site's feeds and webhook
                graceful_shutdown_seconds=1.0,
            )
            stand_ins = StandIns()
            async with default_worker(settings, env.client, stand_ins):
                running = await Recorder(env.client, settings, site, stand_ins, out).run_all()
                for handle in running:
                    await handle.terminate("recorded mid-flight")
                stand_ins.release.set()
        finally:
            await env.shutdown()
            postgres.cleanup()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    asyncio.run(record(out))
    print(f"{len(list(out.glob('*.json')))} histories in {out} at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
