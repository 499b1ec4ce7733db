"""An answer cut off at `max_tokens` (finish_reason "length") is asked again once with a higher limit,
still within what a valid answer can need; cut off again, the step fails for good and says which limit
to raise. Both calls are paid for and booked."""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any

import asyncpg
from antifragile_core.errors import LLM_TRUNCATED
from antifragile_core.settings import Settings
from antifragile_testing.openai_server import ServerScope

STRATEGY = "Northwind will open three refrigerated depots in the Baltic states by 2027."
StartWorker = Callable[..., AbstractAsyncContextManager[Any]]
Rows = Callable[[str], Awaitable[list[asyncpg.Record]]]


async def test_a_cut_off_answer_is_asked_again_with_a_higher_limit(
    openai_worker: StartWorker,
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    ledger_rows: Rows,
    price_of: Callable[[dict[str, int]], Decimal],
    org_id: str,
) -> None:
    openai_server.script("truncated")
    async with openai_worker(endpoint_settings(llm_max_output_tokens=300), metered=True) as worker:
        summary = await worker.run("generate_document_summary", await worker.stage(org_id, STRATEGY))

    cut_off, answered = openai_server.requests
    assert cut_off.response and cut_off.response["choices"][0]["finish_reason"] == "length"
    assert (cut_off.body["max_tokens"], answered.body["max_tokens"]) == (300, 600)
    assert summary.summary and summary.usage.requests == 2
    rows = await ledger_rows(org_id)
    assert [r["status"] for r in rows] == ["settled", "settled"]
    assert [r["cost_usd"] for r in rows] == [price_of(r.response["usage"]) for r in (cut_off, answered)]


async def test_an_answer_cut_off_twice_fails_for_good_naming_the_limit(
    openai_worker: StartWorker,
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    ledger_rows: Rows,
    org_id: str,
) -> None:
    openai_server.script("truncated", count=2)
    async with openai_worker(endpoint_settings(llm_max_output_tokens=300), metered=True) as worker:
        error = await worker.failure("generate_document_summary", await worker.stage(org_id, STRATEGY))

    assert error.type == LLM_TRUNCATED and error.non_retryable
    assert "max_tokens=600" in error.message and "LLM_MAX_OUTPUT_TOKENS (now 300)" in error.message
    assert len(openai_server.requests) == 2
    assert [r["status"] for r in await ledger_rows(org_id)] == ["settled", "settled"]
