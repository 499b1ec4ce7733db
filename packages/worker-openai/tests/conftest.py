"""worker-openai fixtures: the worker as `worker-openai` builds it (metered against the session's
PostgreSQL or not), a workflow that calls one of its activities by contract, and staged texts."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from antifragile_core.contracts import collective, documents
from antifragile_core.contracts.costs import CostQuery, CostReport
from antifragile_core.contracts.documents import DocumentText
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.queues import OPENAI_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store
from antifragile_core.storage.keys import org_key
from antifragile_testing.openai_server import RecordedRequest, ServerScope
from antifragile_worker_default import costs, db
from antifragile_worker_default.resources import Resources as DefaultResources
from antifragile_worker_openai.budget import open_meter
from antifragile_worker_openai.llm import LLM
from antifragile_worker_openai.main import create_worker
from antifragile_worker_openai.resources import Resources
from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

MODEL = "local-schema-model"
PRICES = {MODEL: {"input_per_million": 2.0, "output_per_million": 8.0}}
CONTRACTS = {
    c.name: c
    for c in (
        documents.GENERATE_DOCUMENT_SUMMARY,
        documents.ANALYZE_DOCUMENT_CONTENT,
        collective.PERFORM_SIMPLE_RESEARCH,
        collective.RUN_CATCHBALL,
        collective.SYNTHESIZE_WISDOM,
    )
}


class ActivityCall(BaseModel):
    activity: str
    task_queue: str
    arg: dict[str, Any]
    attempts: int | None = None
    """Retry quickly, at most this often, instead of the contract's policy (its waits are for outages)."""


@workflow.defn(sandboxed=False)
class CallActivity:
    """Runs one openai-queue activity with its contract's timeouts and retry policy."""

    @workflow.run
    async def run(self, call: ActivityCall) -> dict[str, Any]:
        contract = CONTRACTS[call.activity]
        fast = RetryPolicy(
            initial_interval=timedelta(milliseconds=100),
            maximum_interval=timedelta(milliseconds=200),
            maximum_attempts=call.attempts or 1,
        )
        result = await workflow.execute_activity(
            contract.name,
            call.arg,
            task_queue=call.task_queue,
            result_type=contract.output,
            start_to_close_timeout=contract.start_to_close,
            heartbeat_timeout=contract.heartbeat,
            retry_policy=fast if call.attempts else contract.retry,
        )
        return result.model_dump(mode="json")


@dataclass(frozen=True)
class OpenAIWorker:
    """A running worker-openai and the way to call its activities."""

    client: Client
    res: Resources

    async def stage(self, org_id: str, text: str, filename: str = "plan.md") -> DocumentText:
        """`text` stored as a processed document's extracted text."""
        document_id = uuid.uuid4().hex
        key = org_key(org_id, "documents", document_id, "text.txt")
        await self.res.store.put(key, text.encode())
        return DocumentText(organization_id=org_id, document_id=document_id, filename=filename, text_key=key)

    async def run(self, activity: str, arg: BaseModel, *, attempts: int | None = None) -> Any:
        """The activity's result, called the way a workflow calls it."""
        prefix = self.res.settings.task_queue_prefix
        call = ActivityCall(
            activity=activity,
            task_queue=prefix + OPENAI_QUEUE,
            arg=arg.model_dump(mode="json"),
            attempts=attempts,
        )
        result = await self.client.execute_workflow(
            CallActivity.run,
            call,
            id=f"call-{uuid.uuid4().hex}",
            task_queue=prefix + "tests",
            execution_timeout=timedelta(minutes=2),
        )
        return CONTRACTS[activity].output.model_validate(result)

    async def failure(
        self, activity: str, arg: BaseModel, *, attempts: int | None = None
    ) -> ApplicationError:
        """The error the activity's last attempt failed with."""
        with pytest.raises(WorkflowFailureError) as failed:
            await self.run(activity, arg, attempts=attempts)
        activity_error = failed.value.cause
        assert isinstance(activity_error, ActivityError)
        assert isinstance(activity_error.cause, ApplicationError)
        return activity_error.cause


StartWorker = Callable[..., AbstractAsyncContextManager[OpenAIWorker]]


@pytest_asyncio.fixture(scope="session")
async def db_pool(postgres_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """The session's PostgreSQL migrated by worker-default, the owner of the schema."""
    pool = await db.connect(postgres_dsn)
    yield pool
    await pool.close()


@pytest.fixture
def openai_worker(temporal_client: Client, request: pytest.FixtureRequest) -> StartWorker:
    """`async with openai_worker(settings, metered=False) as worker:` runs worker-openai on the dev
    server (through `client` when given); metered, every call is budgeted and booked in the ledger."""

    @asynccontextmanager
    async def start(
        settings: Settings, *, metered: bool = False, client: Client | None = None
    ) -> AsyncIterator[OpenAIWorker]:
        client = client or temporal_client
        llm = LLM.from_settings(settings)
        if metered:
            request.getfixturevalue("db_pool")  # migrated
        meter = await open_meter(settings, wait_seconds=5) if metered else None
        try:
            async with open_store(settings) as store:
                res = Resources(settings=settings, store=store, llm=replace(llm, meter=meter))
                caller = Worker(
                    client, task_queue=settings.task_queue_prefix + "tests", workflows=[CallActivity]
                )
                async with create_worker(client, res), caller:
                    yield OpenAIWorker(client, res)
        finally:
            if meter is not None:
                await meter.ledger.pool.close()

    return start


@pytest.fixture
def endpoint_settings(
    make_settings: Callable[..., Settings], openai_server: ServerScope
) -> Callable[..., Settings]:
    """Settings for this test's view of the local OpenAI-compatible server, its model priced."""

    def make(**overrides: Any) -> Settings:
        values = {"openai_base_url": openai_server.base_url, "openai_model": MODEL, "llm_prices": PRICES}
        return make_settings(**(values | overrides))

    return make


@pytest.fixture
def ledger_rows(db_pool: asyncpg.Pool) -> Callable[[str], Awaitable[list[asyncpg.Record]]]:
    """An organisation's rows of the cost ledger, in the order the calls were made."""

    async def rows(organization_id: str) -> list[asyncpg.Record]:
        return await db_pool.fetch(
            "SELECT * FROM llm_costs WHERE organization_id = $1 ORDER BY id", organization_id
        )

    return rows


@pytest.fixture
def cost_report(
    db_pool: asyncpg.Pool, temporal_client: Client, make_settings: Callable[..., Settings]
) -> Callable[[str], Awaitable[CostReport]]:
    """An organisation's cost report from worker-default's `get_organization_costs` activity."""

    async def report(organization_id: str) -> CostReport:
        settings = make_settings()
        async with open_store(settings) as store:
            res = DefaultResources(settings=settings, pool=db_pool, store=store, client=temporal_client)
            [activity_fn] = costs.activities(res)
            return await ActivityEnvironment().run(activity_fn, CostQuery(organization_id=organization_id))

    return report


def priced(usage: dict[str, int]) -> Decimal:
    """What PRICES charge for a response's reported usage."""
    return (Decimal(2) * usage["prompt_tokens"] + Decimal(8) * usage["completion_tokens"]) / 1_000_000


@pytest.fixture
def price_of() -> Callable[[dict[str, int]], Decimal]:
    return priced


def reported_usage(requests: list[RecordedRequest]) -> TokenUsage:
    """What the server reported spending on these requests."""
    answered = [r.response["usage"] for r in requests if r.response and "usage" in r.response]
    return TokenUsage(
        requests=len(answered),
        input_tokens=sum(u["prompt_tokens"] for u in answered),
        output_tokens=sum(u["completion_tokens"] for u in answered),
    )


@pytest.fixture
def usage_of() -> Callable[[list[RecordedRequest]], TokenUsage]:
    return reported_usage
