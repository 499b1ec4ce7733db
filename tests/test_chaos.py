"""Outages lose nothing: document workflows on the local stack's real processes come through PostgreSQL,
S3 and the LLM endpoint going away, Temporal and each worker killed with SIGKILL; every document ends done
with one row, one stored original and one LLM charge per call, and each case prints its recovery time.
The outages here last 20 s to keep the suite short; `packages/testing/benchmarks/chaos.py` runs them
at full length."""

import asyncio
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from antifragile_core.faults import postgres_service
from antifragile_testing.chaos import (
    Fleet,
    chaos_fleet,
    hold_document_inserts,
    hold_llm_answers,
    llm_outage,
    postgres_outage,
    run_case,
    s3_outage,
    temporal_killed,
    worker_killed,
)
from antifragile_testing.local_servers import free_port
from antifragile_testing.openai_server import OpenAICompatibleServer

OUTAGE_SECONDS = 20.0
RECOVERY_BOUND = 60.0
"""Generous for a loaded box; the broken behaviours take minutes (a lost document never recovers)."""


@pytest.fixture(scope="module")
async def fleet(
    tmp_path_factory: pytest.TempPathFactory, _openai_http_server: OpenAICompatibleServer
) -> AsyncIterator[Fleet]:
    state = tmp_path_factory.mktemp("chaos")
    async with chaos_fleet(state, _openai_http_server.scope(), ("worker-default", "worker-openai")) as fleet:
        yield fleet


async def test_postgres_stopped(fleet: Fleet) -> None:
    report = await run_case(fleet, "postgres", postgres_outage(OUTAGE_SECONDS))
    print(report.line())
    assert report.recovery_seconds < RECOVERY_BOUND


async def test_s3_stopped(fleet: Fleet) -> None:
    report = await run_case(fleet, "s3", s3_outage(OUTAGE_SECONDS))
    print(report.line())
    assert report.recovery_seconds < RECOVERY_BOUND


async def test_llm_endpoint_answering_503(fleet: Fleet) -> None:
    report = await run_case(fleet, "llm_503", llm_outage(OUTAGE_SECONDS))
    print(report.line())
    assert report.recovery_seconds < RECOVERY_BOUND


async def test_temporal_killed_and_restarted(fleet: Fleet) -> None:
    report = await run_case(fleet, "temporal_kill", temporal_killed)
    print(report.line())
    assert report.recovery_seconds < RECOVERY_BOUND


async def test_worker_default_killed_mid_upload(fleet: Fleet) -> None:
    restarts = len(fleet.console)
    fault = worker_killed("worker-default", {"process_document_upload"}, hold_document_inserts)
    report = await run_case(fleet, "worker_default_kill", fault)
    print(report.line())
    assert report.recovery_seconds < RECOVERY_BOUND
    assert any("worker-default exited with code -9; restarting" in line for line in fleet.console[restarts:])


async def test_worker_openai_killed_mid_llm_call(fleet: Fleet) -> None:
    llm_activities = {"generate_document_summary", "analyze_document_content"}
    report = await run_case(
        fleet, "worker_openai_kill", worker_killed("worker-openai", llm_activities, hold_llm_answers)
    )
    print(report.line())
    assert report.recovery_seconds < RECOVERY_BOUND


async def test_a_process_failing_fast_is_left_down_with_a_message(fleet: Fleet) -> None:
    fleet.stack.restart_backoff_seconds = 0.05
    await fleet.stack.add("crasher", sys.executable, "-c", "raise SystemExit(3)")
    deadline = time.monotonic() + 30
    while not any("crasher exited with code 3 after 5 restarts" in line for line in fleet.console):
        assert time.monotonic() < deadline, fleet.console
        await asyncio.sleep(0.1)
    restarts = [line for line in fleet.console if line.startswith("crasher exited with code 3; restarting")]
    assert len(restarts) == 5 and "crasher.log" in restarts[0]


def readyz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return 0, ""


async def readiness_becomes(port: int, status: int, proc: asyncio.subprocess.Process, within: float) -> str:
    deadline = time.monotonic() + within
    while True:
        got, body = await asyncio.to_thread(readyz, port)
        if got == status:
            return body
        assert proc.returncode is None, "the worker exited"
        assert time.monotonic() < deadline, f"/readyz answered {got} {body!r}, not {status}"
        await asyncio.sleep(0.3)


async def test_worker_started_while_postgres_is_down_waits_and_readiness_follows_it(
    fleet: Fleet, tmp_path: Path
) -> None:
    cmd, env = fleet.stack.command("worker-default")
    port = free_port()
    log = tmp_path / "worker.log"
    await fleet.stop_postgres()
    try:
        with log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                env=(env or {}) | {"HEALTH_PORT": str(port), "TASK_QUEUE_PREFIX": "ready-"},
                stdout=out,
                stderr=out,
            )
        await asyncio.sleep(5)
        assert proc.returncode is None, log.read_text()
        assert (
            f"PostgreSQL unreachable at {postgres_service(fleet.settings).target}; retrying in"
            in log.read_text()
        )
    finally:
        await fleet.start_postgres()
    try:
        await readiness_becomes(port, 200, proc, within=60)
        await fleet.stop_postgres()
        try:
            assert "postgres" in await readiness_becomes(port, 503, proc, within=30)
        finally:
            await fleet.start_postgres()
        await readiness_becomes(port, 200, proc, within=30)
    finally:
        proc.terminate()
        await proc.wait()
