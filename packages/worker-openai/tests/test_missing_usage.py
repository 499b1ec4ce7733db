"""A response without `usage` is still paid for: it is priced from a local token count, marked as an
estimate in the ledger and the cost report, never booked at $0."""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from antifragile_core.contracts.costs import CostReport
from antifragile_core.settings import Settings
from antifragile_testing.openai_server import ServerScope
from antifragile_worker_openai.budget import price

STRATEGY = "Northwind will open three refrigerated depots in the Baltic states by 2027."


async def test_an_answer_without_usage_is_priced_from_a_marked_estimate(
    openai_worker: Callable[..., AbstractAsyncContextManager[Any]],
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    ledger_rows: Callable[[str], Awaitable[list[asyncpg.Record]]],
    cost_report: Callable[[str], Awaitable[CostReport]],
    org_id: str,
) -> None:
    settings = endpoint_settings()
    openai_server.script("no_usage")
    async with openai_worker(settings, metered=True) as worker:
        summary = await worker.run("generate_document_summary", await worker.stage(org_id, STRATEGY))

    [request] = openai_server.requests
    assert request.response is not None and "usage" not in request.response
    [row] = await ledger_rows(org_id)
    assert (row["status"], row["usage_source"]) == ("settled", "estimated")
    assert (row["input_tokens"], row["output_tokens"]) == (
        summary.usage.input_tokens,
        summary.usage.output_tokens,
    )
    assert summary.usage.input_tokens > len(STRATEGY) // 4 and summary.usage.output_tokens > 0
    assert row["cost_usd"] == price(settings, row["model"], row["input_tokens"], row["output_tokens"]) > 0
    [line] = (await cost_report(org_id)).lines
    assert (line.calls, line.estimated_calls, line.cost_usd) == (1, 1, float(row["cost_usd"]))
