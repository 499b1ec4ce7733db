"""Liveness and readiness over HTTP (/livez, /readyz) for orchestrators and image health checks.

Live means the event loop answers. Ready means the worker is polling, not draining, and its Temporal
connection passes the server's health check, so a pod cut off from Temporal leaves the load balancer.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.service import RPCError
from temporalio.worker import Worker

log = logging.getLogger(__name__)

READ_TIMEOUT_SECONDS = 5.0
STATUS_TEXT = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class WorkerHealth:
    """What /livez and /readyz say about one worker."""

    def __init__(self, worker: Worker, check_timeout: timedelta = timedelta(seconds=2)) -> None:
        self.worker = worker
        self.check_timeout = check_timeout
        self.draining = False

    async def ready(self) -> bool:
        if self.draining or not self.worker.is_running or self.worker.is_shutdown:
            return False
        try:
            return await self.worker.client.service_client.check_health(timeout=self.check_timeout)
        except RPCError:
            return False

    async def answer(self, method: str, path: str) -> tuple[int, str]:
        """Status and body for one request."""
        if method not in ("GET", "HEAD"):
            return 405, "GET only\n"
        if path == "/livez":
            return 200, "live\n"
        if path == "/readyz":
            if await self.ready():
                return 200, "ready\n"
            return 503, "draining\n" if self.draining else "not ready\n"
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
