"""Outages on real processes: a local stack (Temporal, PostgreSQL, the workers as processes) on moto's S3
and the OpenAI-compatible server, faults to inject into it, and a run of document workflows that must
come through each fault with every document done once. Used by the chaos tests and the benchmark."""

import asyncio
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
from antifragile_api.batches import record_manifest
from antifragile_cli.embedded import restart_postgres, stop_postgres
from antifragile_cli.stack import LocalStack
from antifragile_core.contracts.documents import DocumentUpload
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import ObjectStore, open_store, org_key
from antifragile_workflows.documents import DocumentBatch, DocumentProcessingWorkflow
from moto.server import ThreadedMotoServer
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from .local_servers import free_port
from .openai_server import ServerScope

MODEL = "local-schema-model"
BUCKET = "chaos-documents"
LLM_CALLS_PER_DOCUMENT = 2
"""A short document: one summary and one analysis request."""


class RestartableS3:
    """moto's S3 server on a fixed loopback port that can be stopped and started again; its objects live
    in this process, so they outlast a stop as a real store's do."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: ThreadedMotoServer | None = None

    def start(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


@dataclass
class Fleet:
    """The running stack and what a client needs to reach it."""

    stack: LocalStack
    s3: RestartableS3
    llm: ServerScope
    settings: Settings
    client: Client
    store: ObjectStore
    db: asyncpg.Pool
    console: list[str]
    """What the stack said (restarts), in order."""

    async def stop_postgres(self) -> None:
        await asyncio.to_thread(stop_postgres, self.stack.postgres.pgdata)

    async def start_postgres(self) -> None:
        await asyncio.to_thread(restart_postgres, self.stack.postgres.pgdata, self.settings.postgres_dsn)

    def kill(self, name: str) -> None:
        """SIGKILL one process of the stack (its supervisor starts it again)."""
        pid = self.stack.pid(name)
        assert pid is not None, f"{name} is not running"
        os.kill(pid, signal.SIGKILL)

    async def wait_restarted(self, name: str, old_pid: int, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while self.stack.pid(name) in (None, old_pid):
            assert time.monotonic() < deadline, f"{name} was not restarted"
            await asyncio.sleep(0.2)


@asynccontextmanager
async def chaos_fleet(state_dir: Path, llm: ServerScope, workers: tuple[str, ...]) -> AsyncIterator[Fleet]:
    """The local stack with `workers` on S3 (moto) and the LLM at `llm`, on free ports."""
    s3 = RestartableS3()
    s3.start()
    s3_env = {
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3.endpoint,
        "S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "chaos",
        "AWS_SECRET_ACCESS_KEY": "chaos",
    }
    worker_env = s3_env | {
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_API_KEY": "local",
        "OPENAI_MODEL": MODEL,
        "LLM_PRICES": json.dumps({MODEL: {"input_per_million": 0.15, "output_per_million": 0.6}}),
        "GRACEFUL_SHUTDOWN_SECONDS": "2",
    }
    console: list[str] = []

    def say(line: str) -> None:
        console.append(line)
        print(line, flush=True)

    stack = LocalStack(
        state_dir,
        workers=workers,
        port=free_port(),
        ui_port=free_port(),
        api_port=None,
        worker_env=worker_env,
        say=say,
    )
    try:
        async with AsyncExitStack() as exits:
            await exits.enter_async_context(stack)
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                temporal_address=stack.settings.temporal_address,
                database_url=stack.settings.postgres_dsn,
                **{name.lower(): value for name, value in s3_env.items()},
            )
            store = await exits.enter_async_context(open_store(settings))
            db = await asyncpg.create_pool(settings.postgres_dsn, min_size=0, max_size=2)
            exits.push_async_callback(db.close)
            assert stack.client is not None
            yield Fleet(stack, s3, llm, settings, stack.client, store, db, console)
    finally:
        s3.stop()


@dataclass(frozen=True)
class CaseReport:
    name: str
    documents: int
    fault_seconds: float
    recovery_seconds: float
    """From the fault's end (the service back, or the process killed) to the last document done."""

    def line(self) -> str:
        return (
            f"chaos {self.name}: {self.documents} documents done once each; "
            f"fault {self.fault_seconds:.1f} s, recovery {self.recovery_seconds:.1f} s"
        )


def document(org: str, n: int) -> bytes:
    """A short Markdown report, different for every organisation and number."""
    lines = [f"# Quarterly report {n} of {org}", ""]
    lines += [
        f"Section {i}: revenue in region {n}-{i} grew while the cost of service fell; the board asked "
        f"for a plan to keep margins through the winter of {2026 + i}."
        for i in range(12)
    ]
    return "\n".join(lines).encode()


async def stage_documents(fleet: Fleet, org: str, count: int) -> list[DocumentBatch]:
    """One staged, registered document per batch, put in place before any fault (a client needs the
    store and PostgreSQL to hand work over)."""
    batches = []
    for n in range(count):
        key = org_key(org, "uploads", uuid.uuid4().hex)
        await fleet.store.put(key, document(org, n))
        upload = DocumentUpload(organization_id=org, filename=f"report-{n}.md", upload_key=key)
        batch = DocumentBatch(organization_id=org, batch_id=f"b{uuid.uuid4().hex[:16]}")
        async with fleet.db.acquire() as conn, conn.transaction():
            await record_manifest(conn, batch, [upload])
        batches.append(batch)
    return batches


async def start_documents(fleet: Fleet, batches: list[DocumentBatch]) -> list[WorkflowHandle]:
    """A one-document workflow for each batch."""
    return [
        await fleet.client.start_workflow(
            DocumentProcessingWorkflow.run,
            batch,
            id=f"chaos-{batch.organization_id}-{batch.batch_id}",
            task_queue=fleet.settings.task_queue_prefix + DEFAULT_QUEUE,
        )
        for batch in batches
    ]


async def finished(handles: list[WorkflowHandle], within: float) -> None:
    """Wait for every workflow; Temporal being away for a while is part of the test, not a failure."""
    deadline = time.monotonic() + within
    for handle in handles:
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{handle.id} did not finish within {within:g} s"
            try:
                result = await asyncio.wait_for(handle.result(), timeout=remaining)
                break
            except (RPCError, TimeoutError):
                await asyncio.sleep(1)
        summary = result.summary
        assert summary.done == summary.total == 1, f"{handle.id}: {summary}"


async def pending_activities(client: Client, handle: WorkflowHandle) -> list[PendingActivityInfo]:
    """The activities a workflow and its running child workflows wait on."""
    description = (await handle.describe()).raw_description
    pending = list(description.pending_activities)
    for child in description.pending_children:
        child_handle = client.get_workflow_handle(child.workflow_id)
        pending += (await child_handle.describe()).raw_description.pending_activities
    return pending


async def started_activity(
    client: Client, handles: list[WorkflowHandle], names: set[str], within: float = 60
) -> None:
    """Return once one of the workflows (or their children) has an activity in `names` on a worker."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for handle in handles:
            if any(
                p.activity_type.name in names
                and p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                for p in await pending_activities(client, handle)
            ):
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {names} activity started within {within:g} s")


async def check_once_each(fleet: Fleet, org: str, count: int) -> None:
    """One row and one stored original per document; each LLM call charged once."""
    rows = await fleet.db.fetch("SELECT content_hash FROM documents WHERE organization_id = $1", org)
    assert len(rows) == count == len({r["content_hash"] for r in rows}), f"{len(rows)} rows for {count}"
    originals = [
        o.key
        for o in await fleet.store.list_objects(org_key(org, "documents"))
        if o.key.endswith("/original")
    ]
    assert sorted(originals) == sorted(org_key(org, "documents", r["content_hash"], "original") for r in rows)
    ledger = await fleet.db.fetch(
        "SELECT activity, status, count(*) AS n FROM llm_costs WHERE organization_id = $1"
        " GROUP BY activity, status ORDER BY activity, status",
        org,
    )
    charged = {r["activity"]: r["n"] for r in ledger if r["status"] == "settled"}
    expected = {"generate_document_summary": count, "analyze_document_content": count}
    assert charged == expected, f"LLM calls charged twice or not at all: {[tuple(r) for r in ledger]}"


Starter = Callable[[], Awaitable[list[WorkflowHandle]]]
"""Starts the next half of a case's documents; returns every handle started so far."""
Fault = Callable[[Fleet, Starter], Awaitable[tuple[float, float]]]
"""Injects a fault around starting the documents; returns (fault seconds, monotonic time it ended)."""


async def run_case(
    fleet: Fleet, name: str, fault: Fault, documents: int = 4, within: float = 300
) -> CaseReport:
    """Documents through `fault`: every one done, once; the recovery time measured."""
    org = f"chaos-{name.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    pending = await stage_documents(fleet, org, documents)
    handles: list[WorkflowHandle] = []

    async def start() -> list[WorkflowHandle]:
        half, pending[:] = pending[: documents // 2], pending[documents // 2 :]
        handles.extend(await start_documents(fleet, half))
        return handles

    fault_seconds, ended = await fault(fleet, start)
    handles.extend(await start_documents(fleet, pending))
    await finished(handles, within)
    recovery = time.monotonic() - ended
    await check_once_each(fleet, org, documents)
    return CaseReport(name, documents, fault_seconds, recovery)


def outage(
    stop: Callable[[Fleet], Awaitable[None]], start: Callable[[Fleet], Awaitable[None]], seconds: float
) -> Fault:
    """A service down for `seconds` while documents start before and during it."""

    async def fault(fleet: Fleet, start_documents: Starter) -> tuple[float, float]:
        await start_documents()
        began = time.monotonic()
        await stop(fleet)
        try:
            await start_documents()
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))
        finally:
            await start(fleet)
        ended = time.monotonic()
        return ended - began, ended

    return fault


def postgres_outage(seconds: float) -> Fault:
    return outage(Fleet.stop_postgres, Fleet.start_postgres, seconds)


def s3_outage(seconds: float) -> Fault:
    async def stop(fleet: Fleet) -> None:
        await asyncio.to_thread(fleet.s3.stop)

    async def start(fleet: Fleet) -> None:
        await asyncio.to_thread(fleet.s3.start)

    return outage(stop, start, seconds)


def llm_outage(seconds: float) -> Fault:
    """The LLM endpoint answers 503 for `seconds`."""

    async def fault(fleet: Fleet, start_documents: Starter) -> tuple[float, float]:
        began = time.monotonic()
        fleet.llm.outage(seconds)
        await start_documents()
        await start_documents()
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))
        return time.monotonic() - began, began + seconds

    return fault


async def temporal_killed(fleet: Fleet, start_documents: Starter) -> tuple[float, float]:
    """kill -9 of the Temporal dev server with workflows in flight; the stack restarts it."""
    await start_documents()
    await start_documents()
    old = fleet.stack.pid("temporal")
    assert old is not None
    began = time.monotonic()
    fleet.kill("temporal")
    await fleet.wait_restarted("temporal", old)
    while True:
        try:
            if await fleet.client.service_client.check_health(timeout=timedelta(seconds=2)):
                break
        except RPCError:
            pass
        await asyncio.sleep(0.2)
    ended = time.monotonic()
    return ended - began, ended


def worker_killed(
    worker: str, activities: set[str], hold: Callable[[Fleet], Awaitable[Callable[[], Awaitable[None]]]]
) -> Fault:
    """kill -9 of `worker` while one of `activities` runs on it, held there by `hold` (which returns
    the release); the stack starts a new worker, Temporal retries the attempt on it."""

    async def fault(fleet: Fleet, start_documents: Starter) -> tuple[float, float]:
        release = await hold(fleet)
        try:
            await start_documents()
            await started_activity(fleet.client, await start_documents(), activities)
            fleet.kill(worker)
            killed = time.monotonic()
        finally:
            await release()
        return 0.0, killed

    return fault


async def hold_document_inserts(fleet: Fleet) -> Callable[[], Awaitable[None]]:
    """Block inserts into `documents` (a slow database): uploads wait mid-activity, originals stored."""
    conn = await asyncpg.connect(fleet.settings.postgres_dsn)
    tx = conn.transaction()
    await tx.start()
    await conn.execute("LOCK TABLE documents IN EXCLUSIVE MODE")

    async def release() -> None:
        await tx.rollback()
        await conn.close()

    return release


async def hold_llm_answers(fleet: Fleet) -> Callable[[], Awaitable[None]]:
    """The LLM takes a minute per answer: calls wait mid-activity."""
    fleet.llm.stall_seconds = 60.0

    async def release() -> None:
        fleet.llm.stall_seconds = 0.0

    return release
