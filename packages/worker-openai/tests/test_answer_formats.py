"""JSON that a model wraps in ```json fences or puts after a sentence is read as it is: the content is
right, so asking again would pay twice for the same answer."""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from antifragile_core.settings import Settings
from antifragile_testing.openai_server import ServerScope

STRATEGY = "Northwind will open three refrigerated depots in the Baltic states by 2027."


@pytest.mark.parametrize("behaviour", ["fenced", "prefixed"])
async def test_fenced_or_prefixed_json_is_read_without_asking_again(
    behaviour: str,
    openai_worker: Callable[..., AbstractAsyncContextManager[Any]],
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    ledger_rows: Callable[[str], Awaitable[list[asyncpg.Record]]],
    price_of: Callable[[dict[str, int]], Decimal],
    org_id: str,
) -> None:
    openai_server.script(behaviour)
    async with openai_worker(endpoint_settings(), metered=True) as worker:
        analysis = await worker.run("analyze_document_content", await worker.stage(org_id, STRATEGY))

    [request] = openai_server.requests
    assert request.response is not None
    content = request.response["choices"][0]["message"]["content"]
    assert not content.startswith("{") and analysis.topics[0] in content
    [row] = await ledger_rows(org_id)
    assert (row["status"], row["usage_source"]) == ("settled", "reported")
    assert row["cost_usd"] == price_of(request.response["usage"]) > 0
