"""`antifragile costs ORG`, run as the installed executable many times over, exits 0 every time after a
complete report: no abort while the interpreter finalizes under Temporal's native threads. Through
`main()` with finalization, 24 runs 12 at a time here aborted once ("PyGILState_Release ... finalizing")."""

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from antifragile_core.settings import Settings
from antifragile_testing.default_worker import default_worker
from temporalio.client import Client

RUNS = 16
AT_ONCE = 8


async def test_the_costs_command_exits_cleanly_every_time(
    temporal_client: Client, make_settings: Callable[..., Settings], org_id: str
) -> None:
    settings = make_settings()
    env = {
        "PATH": "/usr/bin:/bin",
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TASK_QUEUE_PREFIX": settings.task_queue_prefix,
        "DATABASE_URL": str(settings.database_url),
        "LOG_LEVEL": "WARNING",
    }
    executable = Path(sys.executable).parent / "antifragile"
    slots = asyncio.Semaphore(AT_ONCE)

    async def run() -> tuple[int, str, str]:
        async with slots:
            process = await asyncio.create_subprocess_exec(
                executable,
                "costs",
                org_id,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await process.communicate()
            assert process.returncode is not None
            return process.returncode, out.decode(), err.decode()

    async with default_worker(settings, temporal_client):
        runs = await asyncio.gather(*(run() for _ in range(RUNS)))

    assert [code for code, _, _ in runs] == [0] * RUNS, [err[-500:] for code, _, err in runs if code]
    assert all(f"LLM costs of {org_id}" in out and "no budget set" in out for _, out, _ in runs)
