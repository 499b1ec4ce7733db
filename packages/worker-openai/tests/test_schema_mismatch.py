"""An answer that does not fit its schema is asked again once inside the attempt, then fails for good
naming the field: retrying it on the policy meant for outages would pay for the same mistake for minutes."""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
import pytest
from antifragile_core.errors import LLM_INVALID_OUTPUT
from antifragile_core.settings import Settings
from antifragile_testing.openai_server import ServerScope

STRATEGY = "Northwind will open three refrigerated depots in the Baltic states by 2027."


@pytest.mark.parametrize(
    ("behaviour", "named"),
    [("bad_enum", "field 'sentiment': Input should be 'positive'"), ("missing_field", "field 'topics'")],
)
async def test_a_schema_mismatch_twice_fails_for_good_naming_the_field(
    behaviour: str,
    named: str,
    openai_worker: Callable[..., AbstractAsyncContextManager[Any]],
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    ledger_rows: Callable[[str], Awaitable[list[asyncpg.Record]]],
    org_id: str,
) -> None:
    openai_server.script(behaviour, count=2)
    async with openai_worker(endpoint_settings(), metered=True) as worker:
        error = await worker.failure("analyze_document_content", await worker.stage(org_id, STRATEGY))

    assert error.type == LLM_INVALID_OUTPUT and error.non_retryable
    assert named in error.message and "AnalysisAnswer" in error.message
    assert len(openai_server.requests) == 2
    rows = await ledger_rows(org_id)
    assert [r["status"] for r in rows] == ["settled", "settled"] and all(r["cost_usd"] > 0 for r in rows)
