"""The cost report, the budget and the cost metric agree to the cent on calls that succeeded, were rate
limited (not billed), failed with a 500 after the request was taken and timed out (both billed at their
reservation as unknown), and one whose booking failed once (retried until it landed, booked once)."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from antifragile_core.contracts.costs import CostReport
from antifragile_core.settings import Settings
from antifragile_testing.openai_server import ServerScope
from antifragile_worker_openai.budget import Ledger
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig

STRATEGY = "Northwind will open three refrigerated depots in the Baltic states by 2027."


@pytest.fixture
def metrics() -> MetricBuffer:
    return MetricBuffer(10_000)


@pytest_asyncio.fixture
async def metered_client(temporal_client: Client, metrics: MetricBuffer) -> Client:
    """A client whose workers' metrics land in `metrics`."""
    return await Client.connect(
        temporal_client.service_client.config.target_host,
        namespace=temporal_client.namespace,
        data_converter=pydantic_data_converter,
        runtime=Runtime(telemetry=TelemetryConfig(metrics=metrics)),
    )


@pytest_asyncio.fixture
async def failing_first_settle(
    db_pool: asyncpg.Pool, org_id: str
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """`await arm()`: the organisation's next booking fails once in PostgreSQL itself (a trigger; a
    sequence counts the tries, since it is not rolled back with the failed update)."""
    name = f"fail_settle_{uuid.uuid4().hex[:8]}"

    async def arm() -> None:
        await db_pool.execute(
            f"CREATE SEQUENCE {name};"
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF NEW.organization_id = '{org_id}' AND OLD.status = 'reserved' AND NEW.status = 'settled'"
            f" AND nextval('{name}') = 1 THEN RAISE EXCEPTION 'scripted failure of a booking'; END IF;"
            f" RETURN NEW; END $$;"
            f"CREATE TRIGGER {name} BEFORE UPDATE ON llm_costs FOR EACH ROW EXECUTE FUNCTION {name}();"
        )

    yield arm
    await db_pool.execute(
        f"DROP TRIGGER IF EXISTS {name} ON llm_costs; DROP FUNCTION IF EXISTS {name};"
        f"DROP SEQUENCE IF EXISTS {name}"
    )


async def test_report_budget_and_metric_agree_on_every_kind_of_call(
    openai_worker: Callable[..., AbstractAsyncContextManager[Any]],
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    metered_client: Client,
    metrics: MetricBuffer,
    failing_first_settle: Callable[[], Awaitable[None]],
    db_pool: asyncpg.Pool,
    ledger_rows: Callable[[str], Awaitable[list[asyncpg.Record]]],
    cost_report: Callable[[str], Awaitable[CostReport]],
    org_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = endpoint_settings(openai_timeout_seconds=1.0, llm_budget_usd=50.0)
    async with openai_worker(settings, metered=True, client=metered_client) as worker:
        doc = await worker.stage(org_id, STRATEGY)

        async def summarise() -> None:
            await worker.run("generate_document_summary", doc, attempts=2)

        openai_server.script_faults(429, retry_after=0.1)
        await summarise()
        openai_server.script_slow_fault(500, delay=0.2)
        await summarise()
        openai_server.script("slow", delay=2.0)  # past the client's 1 s timeout
        await summarise()
        await failing_first_settle()
        await summarise()

    retried = [r for r in caplog.records if r.getMessage() == "recording an LLM call failed; trying again"]
    assert len(retried) == 1
    rows = await ledger_rows(org_id)
    assert [r["status"] for r in rows] == [
        *("released", "settled"),
        *("unknown", "settled"),
        *("unknown", "settled"),
        "settled",
    ]
    assert all(r["cost_usd"] == r["reserved_usd"] for r in rows if r["status"] == "unknown")
    assert all(0 < r["cost_usd"] < r["reserved_usd"] for r in rows if r["status"] == "settled")
    report = await cost_report(org_id)
    budget_counts = await Ledger(db_pool, settings).committed(org_id)
    booked = sum(u.value for u in metrics.retrieve_updates() if u.metric.name == "antifragile_llm_cost_usd")
    [line] = report.lines
    assert (line.calls, line.unknown_calls, report.reserved_usd) == (6, 2, 0)
    total = sum(r["cost_usd"] for r in rows)
    assert round(Decimal(report.spent_usd), 8) == round(Decimal(booked), 8) == budget_counts == total > 0
