"""An answer far beyond its schema's bounds never reaches the result or the workflow history: it is
refused as invalid (the field named) and, longer than any valid answer, it shows the endpoint ignored
max_tokens, so it is not asked again, nor retried as if a payload-size failure were transient. It is
booked at what the endpoint reported."""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from antifragile_core.errors import LLM_INVALID_OUTPUT
from antifragile_core.settings import Settings
from antifragile_testing.openai_server import ServerScope

STRATEGY = "Northwind will open three refrigerated depots in the Baltic states by 2027."


@pytest.mark.parametrize("size", [500_000, 2_100_000])
async def test_an_oversized_answer_is_refused_by_its_bounds(
    size: int,
    openai_worker: Callable[..., AbstractAsyncContextManager[Any]],
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    ledger_rows: Callable[[str], Awaitable[list[asyncpg.Record]]],
    price_of: Callable[[dict[str, int]], Decimal],
    org_id: str,
) -> None:
    openai_server.script("huge", count=2, size=size)  # a second would be answered as huge
    async with openai_worker(endpoint_settings(), metered=True) as worker:
        error = await worker.failure("generate_document_summary", await worker.stage(org_id, STRATEGY))

    assert error.type == LLM_INVALID_OUTPUT and error.non_retryable
    assert "field 'summary': String should have at most 2000 characters" in error.message
    assert "ignored max_tokens" in error.message and len(error.message) < 1_000
    assert len(openai_server.requests) == 1
    rows = await ledger_rows(org_id)
    assert [r["cost_usd"] for r in rows] == [
        price_of(r.response["usage"]) for r in openai_server.requests if r.response
    ]
