"""Liveness and readiness over HTTP (/livez, /readyz) for orchestrators and image health checks.

Live means the event loop answers. Ready means the worker is polling, not draining, its Temporal
connection passes the server's health check and every dependency it needs (PostgreSQL, the object
store) answers its probe, so a pod cut off from any of them leaves the load balancer until it is back.
Not ready is never fatal: the worker keeps running and its activities retry (see `faults.py`).
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.service import RPCError
from temporalio.worker import Worker

log = logging.getLogger(__name__)

READ_TIMEOUT_SECONDS = 5.0
Probe = Callable[[], Awaitable[object]]
"""A dependency check: returns when the dependency answers, raises (or hangs) while it does not."""
STATUS_TEXT = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class WorkerHealth:
    """What /livez and /readyz say about one worker."""

    def __init__(
        self,
        worker: Worker,
        probes: dict[str, Probe] | None = None,
        check_timeout: timedelta = timedelta(seconds=2),
    ) -> None:
        self.worker = worker
        self.probes = probes or {}
        self.check_timeout = check_timeout
        self.draining = False

    async def ready(self) -> bool:
        return await self.problem() is None

    async def problem(self) -> str | None:
        """Why the worker is not ready, or None when it is."""
        if self.draining:
            return "draining"
        if not self.worker.is_running or self.worker.is_shutdown:
            return "not polling"
        try:
            if not await self.worker.client.service_client.check_health(timeout=self.check_timeout):
                return "temporal not serving"
        except RPCError:
            return "temporal unreachable"
        down = [name for name, ok in zip(self.probes, await self._probe_all(), strict=True) if not ok]
        return f"{', '.join(down)} unreachable" if down else None

    async def _probe_all(self) -> list[bool]:
        async def one(probe: Probe) -> bool:
            try:
                async with asyncio.timeout(self.check_timeout.total_seconds()):
                    await probe()
            except Exception as err:
                log.debug("readiness probe failed", extra={"error": repr(err)})
                return False
            return True

        return list(await asyncio.gather(*(one(p) for p in self.probes.values())))

    async def answer(self, method: str, path: str) -> tuple[int, str]:
        """Status and body for one request."""
        if method not in ("GET", "HEAD"):
            return 405, "GET only\n"
        if path == "/livez":
            return 200, "live\n"
        if path == "/readyz":
            problem = await self.problem()
            if problem is None:
                return 200, "ready\n"
            return 503, "draining\n" if problem == "draining" else f"not ready: {problem}\n"
        return 404, "try /livez or /readyz\n"


@asynccontextmanager
async def serve_health(health: WorkerHealth, port: int, host: str = "0.0.0.0") -> AsyncIterator[int]:
    """Serve `health` on `port` while the block runs; yields the bound port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                request_line = (await reader.readline()).decode("latin-1").split()
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # headers carry nothing these endpoints use
            method, path = [*request_line, "", ""][:2]
            status, body = await health.answer(method, path.split("?")[0])
            payload = body.encode() if method != "HEAD" else b""
            writer.write(
                f"HTTP/1.1 {status} {STATUS_TEXT[status]}\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass  # a probe that hung up or stalled gets no answer; the next probe will
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port)
    bound = server.sockets[0].getsockname()[1]
    log.info("health endpoints serving", extra={"port": bound})
    async with server:
        yield bound
