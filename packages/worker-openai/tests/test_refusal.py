"""A refusal (`message.refusal`, no content) fails the step for good as LLMRefused: asking again gets the
same answer. The message summarises the refusal without quoting it, since it may repeat the document,
and the call is booked at what the endpoint reported."""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any

import asyncpg
from antifragile_core.errors import LLM_REFUSED
from antifragile_core.settings import Settings
from antifragile_testing.openai_server import ServerScope

SECRET = "Zephyrine acquisition codename Bluefinch closes in March."


async def test_a_refusal_fails_for_good_without_quoting_the_document(
    openai_worker: Callable[..., AbstractAsyncContextManager[Any]],
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    ledger_rows: Callable[[str], Awaitable[list[asyncpg.Record]]],
    price_of: Callable[[dict[str, int]], Decimal],
    org_id: str,
) -> None:
    openai_server.script("refusal", count=5)
    async with openai_worker(endpoint_settings(), metered=True) as worker:
        error = await worker.failure("analyze_document_content", await worker.stage(org_id, SECRET))

    [request] = openai_server.requests
    assert request.response is not None
    refusal = request.response["choices"][0]["message"]["refusal"]
    assert "Bluefinch" in refusal  # the endpoint echoed the document ...
    assert error.type == LLM_REFUSED and error.non_retryable
    assert not {"Zephyrine", "Bluefinch", "acquisition"} & set(
        error.message.split()
    )  # ... the error does not
    assert f"{len(refusal)} characters" in error.message and "OPENAI_MODEL" in error.message
    [row] = await ledger_rows(org_id)
    assert row["status"] == "settled" and row["cost_usd"] == price_of(request.response["usage"]) > 0
