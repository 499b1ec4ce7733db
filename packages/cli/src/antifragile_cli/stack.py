"""The local stack on embedded defaults: Temporal dev server, PostgreSQL, a directory object store, the
three workers and the HTTP API, each a separate process. `antifragile dev` runs it until Ctrl-C.

Once up, the stack supervises its processes: one that exits unexpectedly (a crash, kill -9) is started
again after a backoff, with a console line naming it, its exit code and its log; after MAX_RESTARTS
quick failures in a row it is left down, with a message that says so.
"""

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from antifragile_core.queues import DEFAULT_QUEUE, ML_QUEUE, OPENAI_QUEUE
from antifragile_core.runtime import connect
from antifragile_core.settings import Settings
from pydantic import SecretStr
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from .embedded import embedded_postgres, start_postgres, stop_postgres, temporal_binary

STARTUP_SECONDS = 120
MAX_RESTARTS = 5
"""Restarts in a row, each after a run shorter than STABLE_SECONDS, before a process is left down."""
STABLE_SECONDS = 60.0
RESTART_BACKOFF_CAP_SECONDS = 30.0
WORKERS = {"worker-default": DEFAULT_QUEUE, "worker-openai": OPENAI_QUEUE, "worker-ml": ML_QUEUE}


class StackError(RuntimeError):
    """A part of the local stack did not come up; the message says which and where its log is."""


class LocalStack:
    """Start everything under `state_dir` on enter, stop it all (workers first) on exit."""

    def __init__(
        self,
        state_dir: Path,
        *,
        workers: tuple[str, ...] = tuple(WORKERS),
        port: int = 7233,
        ui_port: int = 8233,
        api_port: int | None = 8000,
        worker_env: Mapping[str, str] | None = None,
        say: Callable[[str], None] = print,
        restart_backoff_seconds: float = 1.0,
        temporal_in_memory: bool = False,
    ) -> None:
        self.state_dir = state_dir.resolve()
        self.logs = self.state_dir / "logs"
        self.workers = workers
        self.port, self.ui_port, self.api_port = port, ui_port, api_port
        self.worker_env = dict(worker_env or {})
        self.say = say
        self.restart_backoff_seconds = restart_backoff_seconds
        self.temporal_in_memory = temporal_in_memory
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._commands: dict[str, tuple[tuple[str, ...], dict[str, str] | None]] = {}
        self._supervisors: list[asyncio.Task[None]] = []
        self._postgres: embedded_postgres.PostgresServer | None = None
        self.settings = Settings()
        self.client: Client | None = None

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    @property
    def postgres(self) -> embedded_postgres.PostgresServer:
        assert self._postgres is not None, "the stack is not running"
        return self._postgres

    def pid(self, name: str) -> int | None:
        """The running process of `name` (for operators and chaos tests), None while it is down."""
        proc = self._procs.get(name)
        return proc.pid if proc is not None and proc.returncode is None else None

    @property
    def ui_url(self) -> str:
        return f"http://localhost:{self.ui_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    async def __aenter__(self) -> Self:
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            await self._start()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _start(self) -> None:
        self._postgres, dsn = await asyncio.to_thread(start_postgres, self.state_dir / "postgres")
        db = [] if self.temporal_in_memory else ["--db-filename", str(self.state_dir / "temporal.db")]
        await self._spawn(
            "temporal",
            str(temporal_binary()),
            "server",
            "start-dev",
            *db,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--log-level",
            "warn",
        )
        self.settings = Settings(
            temporal_address=f"localhost:{self.port}",
            database_url=dsn,
            storage_dir=self.state_dir / "objects",
            s3_bucket=None,
        )
        self.client = await self._connect_when_up()
        env = (
            {k: v for k, v in os.environ.items() if k != "S3_BUCKET"}
            | {
                "TEMPORAL_ADDRESS": self.settings.temporal_address,
                "DATABASE_URL": dsn,
                "STORAGE_DIR": str(self.settings.storage_dir),
            }
            | self.worker_env
        )
        for name in self.workers:
            await self._spawn(name, str(Path(sys.executable).parent / name), env=env)
        await asyncio.gather(*(self._wait_polling(name, WORKERS[name]) for name in self.workers))
        if self.api_port is not None:
            await self._start_api(env)
        self._supervisors = [asyncio.create_task(self._supervise(name)) for name in self._procs]

    async def _start_api(self, env: dict[str, str]) -> None:
        """The API on 127.0.0.1:api_port, after worker-default has migrated the schema it reads."""
        env = env | {
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.api_port),
            "API_SIGNING_SECRET": os.environ.get("API_SIGNING_SECRET") or self._signing_secret(),
        }
        self.settings = self.settings.model_copy(
            update={"api_port": self.api_port, "api_signing_secret": SecretStr(env["API_SIGNING_SECRET"])}
        )
        await self._spawn("api", str(Path(sys.executable).parent / "antifragile-api"), env=env)
        try:
            async with asyncio.timeout(STARTUP_SECONDS):
                while True:
                    self._check_alive("api")
                    with contextlib.suppress(OSError):
                        _, writer = await asyncio.open_connection("127.0.0.1", self.api_port)
                        writer.close()
                        return
                    await asyncio.sleep(0.3)
        except TimeoutError:
            raise StackError(f"the API did not listen on port {self.api_port}; see {self.logs}") from None

    def _signing_secret(self) -> str:
        """The state dir's own secret for participant links, kept so links outlive a restart."""
        path = self.state_dir / "api-signing-secret"
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip()

    def command(self, name: str) -> tuple[tuple[str, ...], dict[str, str] | None]:
        """How `name` is started: its command line and environment (to start another like it)."""
        return self._commands[name]

    async def add(self, name: str, *cmd: str, env: dict[str, str] | None = None) -> None:
        """Start one more supervised process beside the stack (a helper, a second worker)."""
        await self._spawn(name, *cmd, env=env)
        self._supervisors.append(asyncio.create_task(self._supervise(name)))

    async def _spawn(self, name: str, *cmd: str, env: dict[str, str] | None = None) -> None:
        self._commands[name] = (cmd, env)
        with self.log_path(name).open("ab") as log:
            self._procs[name] = await asyncio.create_subprocess_exec(
                *cmd, stdout=log, stderr=log, env=env, start_new_session=True
            )

    async def _supervise(self, name: str) -> None:
        """Start `name` again whenever it exits, until it keeps failing fast (cancelled on stop)."""
        failures = 0
        while True:
            started = time.monotonic()
            code = await self._procs[name].wait()
            failures = 1 if time.monotonic() - started >= STABLE_SECONDS else failures + 1
            if failures > MAX_RESTARTS:
                self.say(
                    f"{name} exited with code {code} after {MAX_RESTARTS} restarts in a row; "
                    f"not restarting it again. See {self.log_path(name)}"
                )
                return
            delay = min(self.restart_backoff_seconds * 2 ** (failures - 1), RESTART_BACKOFF_CAP_SECONDS)
            log = self.log_path(name)
            self.say(f"{name} exited with code {code}; restarting in {delay:g} s (log: {log})")
            await asyncio.sleep(delay)
            cmd, env = self._commands[name]
            await self._spawn(name, *cmd, env=env)

    def _check_alive(self, name: str) -> None:
        proc = self._procs[name]
        if proc.returncode is not None:
            raise StackError(f"{name} exited with code {proc.returncode}; see {self.log_path(name)}")

    async def _connect_when_up(self) -> Client:
        try:
            async with asyncio.timeout(STARTUP_SECONDS):
                while True:
                    self._check_alive("temporal")
                    with contextlib.suppress(RuntimeError, OSError):
                        return await connect(self.settings)
                    await asyncio.sleep(0.3)
        except TimeoutError:
            raise StackError(f"Temporal did not answer on port {self.port}; see {self.logs}") from None

    async def _wait_polling(self, name: str, queue: str) -> None:
        """A worker is up once Temporal sees it polling its activity queue."""
        assert self.client is not None
        request = DescribeTaskQueueRequest(
            namespace=self.settings.temporal_namespace,
            task_queue=TaskQueue(name=self.settings.task_queue_prefix + queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
        try:
            async with asyncio.timeout(STARTUP_SECONDS):
                while not (await self.client.workflow_service.describe_task_queue(request)).pollers:
                    self._check_alive(name)
                    await asyncio.sleep(0.3)
        except TimeoutError:
            raise StackError(f"{name} did not start polling; see {self.log_path(name)}") from None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for supervisor in self._supervisors:
            supervisor.cancel()
        await asyncio.gather(*self._supervisors, return_exceptions=True)
        self._supervisors = []
        for name in reversed(list(self._procs)):
            await _stop(self._procs.pop(name), self.settings.graceful_shutdown_seconds + 5)
        if self._postgres is not None:
            await asyncio.to_thread(self._postgres.cleanup)
            if (self._postgres.pgdata / "postmaster.pid").exists():
                # restarted by hand (pg_ctl) while the stack ran: embedded-postgres lost track of it
                await asyncio.to_thread(stop_postgres, self._postgres.pgdata)
            self._postgres = None


async def _stop(proc: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM (workers drain in-flight activities), SIGKILL only after the grace period."""
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def wait_for_interrupt() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_dev(args: argparse.Namespace, settings: Settings) -> int:
    stack = LocalStack(
        Path(args.state_dir),
        workers=tuple(args.workers),
        port=args.port,
        ui_port=args.ui_port,
        api_port=args.api_port,
    )
    async with stack:
        print(f"Temporal UI: {stack.ui_url}")
        print(f"API and portal: {stack.api_url} (keys: antifragile orgs create-key ORG --role admin)")
        print(f"TEMPORAL_ADDRESS={stack.settings.temporal_address}")
        print(f"DATABASE_URL={stack.settings.postgres_dsn}")
        print(f"STORAGE_DIR={stack.settings.storage_dir}")
        print(f"workers: {', '.join(stack.workers)} (logs in {stack.logs}); Ctrl-C stops everything")
        await wait_for_interrupt()
        print("stopping ...")
    return 0


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", default=".state", help="where data and logs live (default .state)")
    parser.add_argument("--port", type=int, default=7233, help="Temporal frontend port (default 7233)")
    parser.add_argument("--ui-port", type=int, default=8233, help="Temporal UI port (default 8233)")
    parser.add_argument("--api-port", type=int, default=8000, help="HTTP API and portal port (default 8000)")


def register(sub: argparse._SubParsersAction) -> None:
    dev = sub.add_parser("dev", help="run the local stack (Temporal, PostgreSQL, workers) until Ctrl-C")
    add_stack_arguments(dev)
    dev.add_argument("--workers", nargs="*", default=list(WORKERS), choices=list(WORKERS))
    dev.set_defaults(handler=run_dev)
