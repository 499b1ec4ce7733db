"""/livez, /readyz and Prometheus /metrics, as the workers serve them."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from temporalio.service import RPCError

from ..context import Ctx

router = APIRouter(include_in_schema=False)
CHECK_SECONDS = 2.0


class RequestMetrics:
    """Requests by route template (never the raw path: ids would explode the label set) and status."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "antifragile_api_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.seconds = Histogram(
            "antifragile_api_request_seconds", "HTTP request latency", ["route"], registry=self.registry
        )

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        self.seconds.labels(route).observe(time.perf_counter() - started)
        return response


@router.get("/livez", response_class=PlainTextResponse)
async def livez() -> str:
    return "live\n"


@router.get("/readyz", response_class=PlainTextResponse)
async def readyz(ctx: Ctx, response: Response) -> str:
    """Ready when PostgreSQL and Temporal both answer, so a cut-off pod leaves the load balancer."""
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await ctx.pool.fetchval("SELECT 1")
            ok = await ctx.client.service_client.check_health(timeout=timedelta(seconds=CHECK_SECONDS))
    except (TimeoutError, OSError, RPCError, asyncpg.PostgresError, asyncpg.InterfaceError):
        ok = False
    if not ok:
        response.status_code = 503
        return "not ready\n"
    return "ready\n"


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
