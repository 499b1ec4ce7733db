"""Research, catchball and wisdom end to end: workflows on a real default-queue worker, activities on a
real worker-openai metered against PostgreSQL, answers from the local OpenAI-compatible server."""

import asyncio
import io
import re
import uuid
from argparse import Namespace
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from antifragile_cli import collective
from antifragile_cli.batches import follow, register_batch, start_batch
from antifragile_core.contracts.collective import Passage, ResearchRequest
from antifragile_core.contracts.costs import GET_ORGANIZATION_COSTS, CostQuery, budget_month_start
from antifragile_core.contracts.documents import DocumentAnalysis, DocumentSummary, DocumentUpload
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.errors import BUDGET_EXCEEDED
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store, org_key
from antifragile_testing.openai_server import RecordedRequest, ServerScope
from antifragile_worker_default.documents import process_upload
from antifragile_worker_default.main import create_worker as default_worker
from antifragile_worker_default.resources import Resources as DefaultResources
from antifragile_worker_openai.answers import InvalidAnswer
from antifragile_worker_openai.budget import (
    BillingInterceptor,
    BillingScope,
    Ledger,
    Reservation,
    open_meter,
    price,
)
from antifragile_worker_openai.llm import LLM
from antifragile_worker_openai.main import create_worker as openai_worker
from antifragile_worker_openai.ratelimit import TokenBucket
from antifragile_worker_openai.research import citations_from, quoted_in, web_search_allowed
from antifragile_worker_openai.resources import Resources as OpenAIResources
from antifragile_worker_openai.wisdom import attributed, backed, synthesis_type
from antifragile_workflows.catchball import CatchballAnswer, CatchballSession, CatchballWorkflow, Participant
from antifragile_workflows.management import manage
from antifragile_workflows.research import ResearchQuestion, ResearchWorkflow
from antifragile_workflows.wisdom import ContributionIn, WisdomRound, WisdomWorkflow
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment

UsageOf = Callable[[list[RecordedRequest]], TokenUsage]
MODEL, ECONOMY = "local-schema-model", "local-economy"
PRICES = {
    MODEL: {"input_per_million": 2.0, "output_per_million": 8.0},
    ECONOMY: {"input_per_million": 0.1, "output_per_million": 0.4},
}
PLAN = (
    "Cold-chain expansion\n\nNorthwind will open three refrigerated depots in the Baltic states by 2027.\n\n"
    "Risks\n\nA shortage of certified drivers is the main risk to the cold-chain expansion."
)
RIVAL = "Zephyrine secret plan\n\nThe main risk to our cold-chain expansion is Zephyrine's pricing."


@pytest.fixture
def llm_settings(
    make_settings: Callable[..., Settings], openai_server: ServerScope
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values = {
            "openai_base_url": openai_server.base_url,
            "openai_model": MODEL,
            "llm_prices": PRICES,
            "llm_max_output_tokens": 1_000,
        }
        return make_settings(**(values | overrides))

    return make


@asynccontextmanager
async def fleet(client: Client, settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[DefaultResources]:
    """worker-default (all workflows) and a metered worker-openai, as their `serve` builds them."""
    meter = await open_meter(settings)
    try:
        async with open_store(settings) as store:
            res = DefaultResources(settings=settings, pool=pool, store=store, client=client)
            llm_res = OpenAIResources(
                settings=settings, store=store, llm=replace(LLM.from_settings(settings), meter=meter)
            )
            async with default_worker(res), openai_worker(client, llm_res):
                yield res
    finally:
        await meter.ledger.pool.close()


@pytest_asyncio.fixture
async def llm_fleet(
    temporal_client: Client, llm_settings: Callable[..., Settings], db_pool: asyncpg.Pool
) -> AsyncIterator[DefaultResources]:
    """The fleet on the dev server with the default test LLM settings."""
    async with fleet(temporal_client, llm_settings(), db_pool) as res:
        yield res


async def start(client: Client, settings: Settings, run: Any, arg: Any) -> WorkflowHandle[Any, Any]:
    """Start a workflow on the fleet's default queue under a fresh id."""
    return await client.start_workflow(
        run, arg, id=f"wf-{uuid.uuid4().hex}", task_queue=settings.task_queue_prefix + DEFAULT_QUEUE
    )


async def add_document(res: DefaultResources, org: str, filename: str, text: str) -> str:
    key = org_key(org, "uploads", uuid.uuid4().hex)
    await res.store.put(key, text.encode())
    upload = DocumentUpload(organization_id=org, filename=filename, upload_key=key)
    return (await process_upload(res, upload)).document_id


def allowed(schema: dict[str, Any]) -> list[str]:
    """An enum's values; pydantic writes a one-value Literal as `const`."""
    return schema["enum"] if "enum" in schema else [schema["const"]] if "const" in schema else []


def enum_of(request: RecordedRequest, field: str) -> list[str]:
    """The allowed values the request's output schema gives `field`, wherever it sits."""
    found: list[list[str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            prop = node.get("properties", {}).get(field)
            if prop is not None:
                found.append(allowed(prop.get("items", prop)))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(request.body["response_format"]["json_schema"]["schema"])
    assert found and found[0], f"no enum for {field}"
    return found[0]


async def wait_for_turn(handle: WorkflowHandle[Any, Any], name: str) -> None:
    for _ in range(100):
        turn = await handle.query(CatchballWorkflow.whose_turn)
        if turn is not None and turn.name == name:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {name}'s turn")


async def test_research_cites_only_the_asking_organisations_passages_and_records_its_cost(
    llm_fleet: DefaultResources,
    openai_server: ServerScope,
    db_pool: asyncpg.Pool,
    org_id: str,
    usage_of: UsageOf,
) -> None:
    client, settings = llm_fleet.client, llm_fleet.settings
    mine = await add_document(llm_fleet, org_id, "plan.md", PLAN)
    await add_document(llm_fleet, f"{org_id}-rival", "rival.md", RIVAL)
    # What the model says: one quote the passage holds (case and line breaks aside), one it does not.
    cited = [
        {"passage_id": f"{mine}#0", "quote": "a SHORTAGE of certified\ndrivers"},
        {"passage_id": f"{mine}#0", "quote": "drivers are plentiful"},
    ]
    openai_server.script_answer({"answer": "Driver shortage.", "citations": cited, "confidence": 0.9})
    question = ResearchQuestion(organization_id=org_id, question="What is the main risk to the expansion?")
    answer = await (await start(client, settings, ResearchWorkflow.run, question)).result()
    report = await manage(
        client,
        settings.task_queue_prefix + DEFAULT_QUEUE,
        GET_ORGANIZATION_COSTS,
        CostQuery(organization_id=org_id),
    )

    [request] = openai_server.completions
    assert "Zephyrine" not in request.text_of("user") and "refrigerated depots" in request.text_of("user")
    supplied = enum_of(request, "passage_id")
    assert supplied and all(p.startswith(f"{mine}#") for p in supplied)
    assert [c.quote for c in answer.citations] == ["a SHORTAGE of certified\ndrivers"]
    assert (answer.dropped_citations, answer.unverified_citations) == (0, 1)
    assert answer.grounded and not answer.web_search_used
    assert {c.document_id for c in answer.citations} == {mine}
    assert {c.passage_id for c in answer.citations} <= set(supplied)
    assert answer.model == MODEL and answer.usage == usage_of([request])

    [row] = await db_pool.fetch("SELECT * FROM llm_costs WHERE organization_id = $1", org_id)
    assert (row["status"], row["activity"], row["model"]) == ("settled", "perform_simple_research", MODEL)
    assert (row["input_tokens"], row["output_tokens"]) == (
        answer.usage.input_tokens,
        answer.usage.output_tokens,
    )
    expected = (Decimal(2) * answer.usage.input_tokens + Decimal(8) * answer.usage.output_tokens) / 1_000_000
    assert row["cost_usd"] == expected and row["reserved_usd"] >= expected
    [line] = report.lines
    assert (line.activity, line.model, line.calls) == ("perform_simple_research", MODEL, 1)
    assert report.spent_usd == pytest.approx(float(expected)) and report.reserved_usd == 0


async def test_research_whose_quotes_are_not_in_the_passages_says_it_is_ungrounded(
    llm_fleet: DefaultResources, openai_server: ServerScope, org_id: str
) -> None:
    mine = await add_document(llm_fleet, org_id, "plan.md", PLAN)
    invented = [{"passage_id": f"{mine}#0", "quote": "Northwind will close every depot"}]
    openai_server.script_answer({"answer": "They close depots.", "citations": invented, "confidence": 0.95})
    question = ResearchQuestion(organization_id=org_id, question="What happens to the depots?")
    answer = await (
        await start(llm_fleet.client, llm_fleet.settings, ResearchWorkflow.run, question)
    ).result()
    assert answer.citations == [] and answer.unverified_citations == 1 and not answer.grounded


async def test_document_summary_and_analysis_are_metered_like_every_llm_call(
    llm_fleet: DefaultResources,
    openai_server: ServerScope,
    db_pool: asyncpg.Pool,
    org_id: str,
    usage_of: UsageOf,
) -> None:
    settings = llm_fleet.settings
    batch = await register_batch(settings, org_id, [("plan.md", PLAN.encode())], llm_skipped_reason=None)
    result = await follow(await start_batch(llm_fleet.client, settings, batch))

    assert result.summary.done == 1
    [outcome] = await db_pool.fetch(
        "SELECT summary::text, analysis::text FROM document_batch_items WHERE organization_id = $1", org_id
    )
    summary = DocumentSummary.model_validate_json(outcome["summary"])
    analysis = DocumentAnalysis.model_validate_json(outcome["analysis"])
    rows = await db_pool.fetch(
        "SELECT activity, status, input_tokens, output_tokens FROM llm_costs WHERE organization_id = $1",
        org_id,
    )
    by_activity = {r["activity"]: r for r in rows}
    assert sorted(by_activity) == ["analyze_document_content", "generate_document_summary"]
    assert all(r["status"] == "settled" for r in rows)
    for activity_name, done in (
        ("generate_document_summary", summary),
        ("analyze_document_content", analysis),
    ):
        row = by_activity[activity_name]
        assert (row["input_tokens"], row["output_tokens"]) == (
            done.usage.input_tokens,
            done.usage.output_tokens,
        )
    assert usage_of(openai_server.completions) == summary.usage + analysis.usage


async def test_wisdom_round_reaches_quorum_and_attributes_every_point(
    llm_fleet: DefaultResources,
    openai_server: ServerScope,
    org_id: str,
    usage_of: UsageOf,
) -> None:
    round_ = WisdomRound(
        organization_id=org_id, question="Where should we grow?", quorum=3, deadline_seconds=3600
    )
    handle = await start(llm_fleet.client, llm_fleet.settings, WisdomWorkflow.run, round_)
    voices = {
        "ana": "Grow in the Baltics first.",
        "ben": "Fix driver shortages first.",
        "cy": "Baltics, slowly.",
    }
    accepted = []
    for author, text in voices.items():
        accepted.append(
            await handle.execute_update(WisdomWorkflow.contribute, ContributionIn(author=author, text=text))
        )
        if author == "ana":
            with pytest.raises(WorkflowUpdateFailedError):
                await handle.execute_update(
                    WisdomWorkflow.contribute, ContributionIn(author="ana", text="Again")
                )
    outcome = await handle.result()

    ids = [c.contribution_id for c in accepted]
    assert ids == ["c1", "c2", "c3"] and outcome.quorum_reached and outcome.contributions == accepted
    [request] = openai_server.completions
    assert sorted(enum_of(request, "contribution_ids")) == ids
    synthesis = outcome.synthesis
    assert synthesis is not None and synthesis.themes and synthesis.model == MODEL
    points = [*synthesis.themes, *synthesis.consensus, *synthesis.dissent, synthesis.recommendation]
    assert all(p.contribution_ids and set(p.contribution_ids) <= set(ids) for p in points)
    assert synthesis.usage == usage_of([request])


async def test_budget_switches_to_the_economy_model_then_refuses(
    temporal_client: Client,
    llm_settings: Callable[..., Settings],
    openai_server: ServerScope,
    db_pool: asyncpg.Pool,
    org_id: str,
) -> None:
    settings = llm_settings(llm_budget_usd=1.0, llm_budget_switch_fraction=0.8, openai_model_economy=ECONOMY)

    async def spend(usd: str) -> None:
        await db_pool.execute(
            "INSERT INTO llm_costs (organization_id, activity, model, status, reserved_usd, cost_usd)"
            " VALUES ($1, 'earlier', $2, 'settled', $3, $3)",
            org_id,
            MODEL,
            Decimal(usd),
        )

    async def one_round() -> Any:
        round_ = WisdomRound(organization_id=org_id, question="Grow where?", quorum=1, deadline_seconds=600)
        handle = await start(temporal_client, settings, WisdomWorkflow.run, round_)
        await handle.execute_update(
            WisdomWorkflow.contribute, ContributionIn(author="ana", text="The Baltics.")
        )
        return await handle.result()

    async with fleet(temporal_client, settings, db_pool):
        first = await one_round()
        await spend("0.9")
        second = await one_round()
        await spend("0.0999")
        with pytest.raises(WorkflowFailureError) as refused:
            await one_round()

    assert first.synthesis.model == MODEL and second.synthesis.model == ECONOMY
    assert [r.body["model"] for r in openai_server.completions] == [MODEL, ECONOMY]
    activity_error = refused.value.cause
    assert isinstance(activity_error, ActivityError) and isinstance(activity_error.cause, ApplicationError)
    assert activity_error.cause.type == BUDGET_EXCEEDED and activity_error.cause.non_retryable
    statuses = await db_pool.fetch(
        "SELECT model, status FROM llm_costs WHERE organization_id = $1 AND activity = 'synthesize_wisdom'"
        " ORDER BY id",
        org_id,
    )
    assert [(r["model"], r["status"]) for r in statuses] == [(MODEL, "settled"), (ECONOMY, "settled")]


async def test_concurrent_reservations_never_overrun_the_budget(
    make_settings: Callable[..., Settings], db_pool: asyncpg.Pool, org_id: str
) -> None:
    prices = {"m": {"input_per_million": 1.0, "output_per_million": 1.0}}
    settings = make_settings(llm_prices=prices, llm_max_output_tokens=1_000, llm_budget_usd=0.01)
    ledger = Ledger(db_pool, settings)
    scope = BillingScope(org_id, "test")
    # Each reservation is (2000 + 1000) tokens at $1/M = $0.003: three fit in $0.01, a fourth does not.
    results = await asyncio.gather(
        *(ledger.reserve(scope, "m", 2_000) for _ in range(10)), return_exceptions=True
    )
    kept = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(kept) == 3 and len(refused) == 7
    assert all(r.type == BUDGET_EXCEEDED and r.non_retryable for r in refused)

    await ledger.settle(kept[0], TokenUsage(requests=1, input_tokens=100, output_tokens=100))
    await ledger.release(kept[1])
    assert isinstance(await ledger.reserve(scope, "m", 2_000), Reservation)  # freed room is reusable
    assert price(settings, "m", 100, 100) == Decimal("0.0002")


async def test_last_months_spend_stops_counting_but_a_lost_workers_reservation_does_not(
    make_settings: Callable[..., Settings], db_pool: asyncpg.Pool, org_id: str
) -> None:
    settings = make_settings(
        llm_prices={"m": {"input_per_million": 1.0, "output_per_million": 1.0}}, llm_budget_usd=1.0
    )
    ledger, scope = Ledger(db_pool, settings), BillingScope(org_id, "t")

    async def lost_reservation(usd: str) -> None:
        # A worker that died mid-call: its call may have been billed, so the reservation keeps counting.
        await db_pool.execute(
            "INSERT INTO llm_costs (organization_id, activity, model, status, reserved_usd, created_at)"
            " VALUES ($1, 'lost worker', 'm', 'reserved', $2, now() - interval '2 hours')",
            org_id,
            Decimal(usd),
        )

    await db_pool.execute(
        "INSERT INTO llm_costs (organization_id, activity, model, status, reserved_usd, cost_usd, created_at)"
        " VALUES ($1, 'last month', 'm', 'settled', 5, 5, $2)",
        org_id,
        budget_month_start(datetime.now(UTC)) - timedelta(seconds=1),
    )
    await lost_reservation("0.6")
    assert isinstance(await ledger.reserve(scope, "m", 1_000), Reservation)
    await lost_reservation("0.4")
    with pytest.raises(ApplicationError) as refused:
        await ledger.reserve(scope, "m", 1_000)
    assert refused.value.type == BUDGET_EXCEEDED


async def test_the_meter_holds_the_per_worker_token_budget_from_settings(
    make_settings: Callable[..., Settings], db_pool: asyncpg.Pool
) -> None:
    meter = await open_meter(make_settings(openai_tokens_per_minute=90_000))
    unlimited = await open_meter(make_settings())
    await meter.ledger.pool.close()
    await unlimited.ledger.pool.close()
    assert meter.bucket is not None and meter.bucket.capacity == 90_000
    assert unlimited.bucket is None


def test_an_unpriced_model_is_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ApplicationError) as refused:
        price(make_settings(llm_prices={}), "mystery", 1, 1)
    assert refused.value.non_retryable and "LLM_PRICES" in refused.value.message


async def test_worker_openai_asks_temporal_for_the_queue_wide_rate_limit(
    temporal_client: Client, llm_settings: Callable[..., Settings]
) -> None:
    """Temporal's matching service enforces the limit (measured on the dev server at 1/s: three queued
    activities started at 0, 0.03 and 3.9 s); the worker's part is to pass the setting on."""
    settings = llm_settings(openai_queue_activities_per_second=2.5)
    async with open_store(settings) as store:
        res = OpenAIResources(settings=settings, store=store, llm=LLM.from_settings(settings))
        config = openai_worker(temporal_client, res).config()
    assert config["max_task_queue_activities_per_second"] == 2.5
    assert any(isinstance(i, BillingInterceptor) for i in config["interceptors"])


def test_web_search_needs_the_request_the_setting_and_openai_itself(
    make_settings: Callable[..., Settings],
) -> None:
    asked = ResearchRequest(organization_id="org", question="q", web_search=True)
    assert web_search_allowed(make_settings(openai_web_search=True), asked)
    assert not web_search_allowed(make_settings(openai_web_search=True, openai_base_url="http://x/v1"), asked)
    assert not web_search_allowed(make_settings(), asked)
    assert not web_search_allowed(
        make_settings(openai_web_search=True), asked.model_copy(update={"web_search": False})
    )


async def test_token_bucket_waits_for_the_minutes_budget() -> None:
    bucket = TokenBucket(per_minute=6_000)  # 100 tokens a second
    assert await bucket.acquire(6_000) == 0.0
    waited = await bucket.acquire(50)
    assert 0.4 < waited < 1.0


def test_invented_citations_and_attributions_are_dropped() -> None:
    passage = Passage(passage_id="d1#0", document_id="d1", filename="plan.md", text="Depots in Riga.")

    class Cited:
        def __init__(self, passage_id: str) -> None:
            self.passage_id, self.quote = passage_id, "Depots"

    checked = citations_from([Cited("d1#0"), Cited("d9#9"), Cited("d1#0")], [passage])
    assert [c.passage_id for c in checked.citations] == ["d1#0"] and checked.dropped == 1
    assert quoted_in("depots  IN\nriga", passage.text) and not quoted_in("Depots in Oslo", passage.text)
    assert not quoted_in("   ", passage.text)

    point = {"point": "p", "contribution_ids": ["c1", "c7"]}
    theme = {"title": "t", "summary": "s", "contribution_ids": ["c7"]}
    synthesis = synthesis_type(["c1", "c7"]).model_validate(
        {"themes": [theme], "consensus": [point], "dissent": [], "recommendation": point, "confidence": 0.5}
    )
    kept = attributed(synthesis, {"c1"})
    assert kept["themes"] == [] and kept["consensus"][0].contribution_ids == ["c1"]
    backed({"c1"})(synthesis)
    with pytest.raises(InvalidAnswer, match=r"recommendation\.contribution_ids"):
        backed({"c2"})(synthesis)


async def test_catchball_drafts_the_answer_of_a_participant_who_times_out(
    time_skipping_env: WorkflowEnvironment,
    llm_settings: Callable[..., Settings],
    openai_server: ServerScope,
    db_pool: asyncpg.Pool,
    org_id: str,
) -> None:
    client = time_skipping_env.client
    settings = llm_settings()
    session = CatchballSession(
        organization_id=org_id,
        statement="Become the leading cold-chain operator in the Baltics by 2027.",
        participants=[Participant(name="alice", level="board"), Participant(name="bob", level="operations")],
        max_rounds=1,
        answer_timeout_seconds=24 * 3600,
    )
    async with fleet(client, settings, db_pool):
        handle = await start(client, settings, CatchballWorkflow.run, session)
        await wait_for_turn(handle, "alice")
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                CatchballWorkflow.answer, CatchballAnswer(participant="bob", agree=True)
            )
        alice = await handle.execute_update(
            CatchballWorkflow.answer, CatchballAnswer(participant="alice", feedback="Name the three markets.")
        )
        assert (await handle.query(CatchballWorkflow.whose_turn)) == Participant(
            name="bob", level="operations"
        )
        outcome = await handle.result()  # time skips past bob's day-long deadline

    assert alice.turn.feedback == "Name the three markets." and not alice.turn.ai_drafted
    assert [r.turn.participant for r in outcome.turns] == ["alice", "bob"]
    bob = outcome.turns[1]
    assert bob.turn.ai_drafted and bob.refinement is not None
    assert bob.turn.feedback == bob.refinement.drafted_feedback and bob.turn.feedback
    assert bob.statement_before == alice.statement_after == alice.refinement.refined_statement
    assert outcome.statement == bob.statement_after and outcome.rounds == 1 and not outcome.agreed
    first, second = openai_server.completions
    assert "drafted_feedback" not in str(first.body["response_format"])
    assert "drafted_feedback" in second.body["response_format"]["json_schema"]["schema"]["required"]
    assert "Name the three markets." in second.text_of("user")


async def test_cli_runs_a_catchball_and_a_wisdom_round_from_typed_answers_and_shows_costs(
    temporal_client: Client,
    llm_settings: Callable[..., Settings],
    db_pool: asyncpg.Pool,
    org_id: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = llm_settings()
    typed = [
        "Add a date.",  # catchball round 1: alice asks for a change, bob agrees (Enter)
        "",
        "",  # round 2: both agree
        "",
        "ana: Grow in the Baltics.",  # wisdom
        "no colon here",
        "ben: Fix the driver shortage first.",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(typed) + "\n"))  # the terminal
    catchball = Namespace(
        org=org_id,
        statement="Lead Baltic cold chain.",
        participant=["alice:board", "bob:ops"],
        rounds=3,
        answer_minutes=5,
    )
    wisdom = Namespace(org=org_id, question="Where should we grow?", quorum=2, deadline_minutes=5)
    async with fleet(temporal_client, settings, db_pool):
        assert await collective.run_catchball(catchball, settings) == 0
        assert await collective.run_wisdom(wisdom, settings) == 0
        assert await collective.show_costs(Namespace(org=org_id, since=None), settings) == 0

    out = capsys.readouterr().out
    assert "AGREED after 2 round(s)" in out and "feedback: Add a date." in out
    assert "recorded as c1" in out and "write it as 'name: answer'" in out and "recorded as c2" in out
    assert "recommendation:" in out and "quorum reached" in out
    assert re.search(r"run_catchball\s+local-schema-model\s+1 ", out)
    assert re.search(r"synthesize_wisdom\s+local-schema-model\s+1 ", out)
