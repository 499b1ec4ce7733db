"""Issue 13's operator run, scripted: `antifragile dev` as a user starts it, a run of one-document
workflows, PostgreSQL stopped with `pg_ctl stop -m fast` 14 s in and started again 30 s later. Prints how
many documents ended done (all of them, or this script exits 1), their rows, and the time from
PostgreSQL's return to the last document.

    uv run python packages/cli/benchmarks/dev_postgres_stop.py [--documents 300] [--stop-after 14]
"""

import argparse
import asyncio
import os
import re
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from antifragile_api.batches import record_manifest
from antifragile_cli.embedded import restart_postgres, stop_postgres
from antifragile_core.contracts.documents import DocumentUpload
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.runtime import connect
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store, org_key
from antifragile_testing.local_servers import free_port
from antifragile_workflows.documents import DocumentBatch, DocumentProcessingWorkflow

ORG = "dev-outage"


async def dev_stack(state: Path) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """`antifragile dev` in its own process; returns it and the settings it printed."""
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("antifragile")),
        *("dev", "--state-dir", str(state), "--port", str(free_port()), "--ui-port", str(free_port())),
        *("--api-port", str(free_port())),
        *("--workers", "worker-default", "worker-openai"),
        stdout=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "S3_", "DATABASE_"))},
    )
    printed: dict[str, str] = {}
    assert proc.stdout is not None
    while "STORAGE_DIR" not in printed:
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=300)).decode()
        assert line, "antifragile dev exited before it was up"
        if match := re.match(r"^([A-Z_]+)=(.*)$", line.strip()):
            printed[match[1]] = match[2]
    return proc, printed


async def echo(stream: asyncio.StreamReader) -> None:
    """The stack's console (a worker restarted, say), passed on."""
    while line := await stream.readline():
        print(f"  [dev] {line.decode().rstrip()}", flush=True)


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="dev-outage-") as tmp:
        state = Path(tmp)
        proc, printed = await dev_stack(state)
        assert proc.stdout is not None
        console = asyncio.create_task(echo(proc.stdout))
        try:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                temporal_address=printed["TEMPORAL_ADDRESS"],
                database_url=printed["DATABASE_URL"],
                storage_dir=Path(printed["STORAGE_DIR"]),
            )
            client = await connect(settings)
            batches = []
            conn = await asyncpg.connect(settings.postgres_dsn)
            async with open_store(settings) as store:
                for n in range(args.documents):
                    key = org_key(ORG, "uploads", uuid.uuid4().hex)
                    await store.put(
                        key, f"# Note {n}\n\nRegion {n} grew; costs of service {n} fell.\n".encode()
                    )
                    upload = DocumentUpload(organization_id=ORG, filename=f"note-{n}.md", upload_key=key)
                    batch = DocumentBatch(organization_id=ORG, batch_id=f"b{n}", llm_skipped_reason="off")
                    await record_manifest(conn, batch, [upload])
                    batches.append(batch)
            await conn.close()
            began = time.monotonic()
            handles = await asyncio.gather(
                *(
                    client.start_workflow(
                        DocumentProcessingWorkflow.run, b, id=f"dev-outage-{i}", task_queue=DEFAULT_QUEUE
                    )
                    for i, b in enumerate(batches)
                )
            )
            print(f"{len(handles)} workflows started in {time.monotonic() - began:.1f} s", flush=True)
            await asyncio.sleep(max(0.0, args.stop_after - (time.monotonic() - began)))
            pgdata = state / "postgres"
            await asyncio.to_thread(stop_postgres, pgdata)
            print(f"PostgreSQL stopped {time.monotonic() - began:.1f} s into the run", flush=True)
            await asyncio.sleep(args.outage_seconds)
            await asyncio.to_thread(restart_postgres, pgdata, settings.postgres_dsn)
            back = time.monotonic()
            print(f"PostgreSQL started again after {args.outage_seconds:g} s", flush=True)
            results = await asyncio.gather(*(h.result() for h in handles), return_exceptions=True)
            last = time.monotonic()
            done = sum(not isinstance(r, BaseException) and r.summary.done == 1 for r in results)
            conn = await asyncpg.connect(settings.postgres_dsn)
            rows = await conn.fetchval("SELECT count(*) FROM documents WHERE organization_id = $1", ORG)
            await conn.close()
            print(
                f"{done}/{args.documents} documents done, {rows} rows; {last - began:.1f} s in all, "
                f"last document {last - back:.1f} s after PostgreSQL was back"
            )
            return 0 if done == rows == args.documents else 1
        finally:
            proc.send_signal(signal.SIGINT)
            await proc.wait()
            await console


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--stop-after", type=float, default=14.0, help="seconds into the run")
    parser.add_argument("--outage-seconds", type=float, default=30.0)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
