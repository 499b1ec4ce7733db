"""An endpoint that answers 503 is retried on the activity's policy (fast here; the contract's is the
outages policy) and turns nobody away unbilled: a 503 is not charged. When the retries run out, the last
error states the fault and what to check — never that it is "retrying"."""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from antifragile_core.errors import LLM_UNAVAILABLE
from antifragile_core.settings import Settings
from antifragile_testing.local_servers import free_port
from antifragile_testing.openai_server import ServerScope

STRATEGY = "Northwind will open three refrigerated depots in the Baltic states by 2027."
StartWorker = Callable[..., AbstractAsyncContextManager[Any]]
Rows = Callable[[str], Awaitable[list[asyncpg.Record]]]


async def test_an_endpoint_back_from_an_outage_finishes_the_step(
    openai_worker: StartWorker,
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    ledger_rows: Rows,
    org_id: str,
) -> None:
    openai_server.script_faults(503, count=2)
    async with openai_worker(endpoint_settings(), metered=True) as worker:
        summary = await worker.run(
            "generate_document_summary", await worker.stage(org_id, STRATEGY), attempts=3
        )

    assert [r.status for r in openai_server.requests] == [503, 503, 200] and summary.summary
    assert [r["status"] for r in await ledger_rows(org_id)] == ["released", "released", "settled"]


async def test_the_last_error_of_a_step_the_outage_outlasted_never_says_retrying(
    openai_worker: StartWorker,
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    ledger_rows: Rows,
    org_id: str,
) -> None:
    openai_server.script_faults(503, count=3, retry_after=0.1)
    async with openai_worker(endpoint_settings(), metered=True) as worker:
        error = await worker.failure(
            "generate_document_summary", await worker.stage(org_id, STRATEGY), attempts=3
        )

    assert error.type == LLM_UNAVAILABLE and "503" in error.message
    assert "retrying" not in error.message.lower() and "OPENAI_BASE_URL" in error.message
    assert len(openai_server.requests) == 3
    assert {r["status"] for r in await ledger_rows(org_id)} == {"released"}


async def test_an_endpoint_that_refuses_connections_is_never_charged(
    openai_worker: StartWorker,
    endpoint_settings: Callable[..., Settings],
    ledger_rows: Rows,
    org_id: str,
) -> None:
    settings = endpoint_settings(openai_base_url=f"http://127.0.0.1:{free_port()}/v1")  # nothing listens
    async with openai_worker(settings, metered=True) as worker:
        error = await worker.failure(
            "generate_document_summary", await worker.stage(org_id, STRATEGY), attempts=2
        )

    assert error.type == LLM_UNAVAILABLE and "unreachable" in error.message
    assert [r["status"] for r in await ledger_rows(org_id)] == ["released", "released"]
