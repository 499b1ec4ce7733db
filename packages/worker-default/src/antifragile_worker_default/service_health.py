"""health_check_external_services: probe each service for real, each within its own timeout.

A service is 'up' only after a probe answered correctly; an LLM without a key or base URL is reported as
'not_configured' (not healthy, not down), so a deployment without an LLM is not flagged as broken.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from antifragile_core.contracts.operations import (
    HEALTH_CHECK_EXTERNAL_SERVICES,
    HealthCheckRequest,
    HealthReport,
    ServiceHealth,
    ServiceName,
)
from temporalio import activity

from .resources import Resources

ALL_SERVICES: tuple[ServiceName, ...] = ("temporal", "postgres", "object_store", "llm")


class NotConfigured(Exception):
    """The service is not configured, so there is nothing to probe."""


async def probe_temporal(res: Resources) -> None:
    if not await res.client.service_client.check_health():
        raise RuntimeError("Temporal frontend reports not serving")


async def probe_postgres(res: Resources) -> None:
    if await res.pool.fetchval("SELECT 1") != 1:
        raise RuntimeError("SELECT 1 did not return 1")


async def probe_object_store(res: Resources) -> None:
    """A write, a read-back and a delete of a probe object outside every organisation's prefix."""
    key = f"health/probe-{uuid.uuid4().hex}"
    data = key.encode()
    await res.store.put(key, data)
    try:
        if await res.store.get(key) != data:
            raise RuntimeError("probe object read back different bytes")
    finally:
        await res.store.delete(key)


async def probe_llm(res: Resources) -> None:
    """GET /models on the configured endpoint with the configured key: proves reachability and auth."""
    settings = res.settings
    if not settings.llm_configured:
        raise NotConfigured("no OPENAI_API_KEY or OPENAI_BASE_URL set")
    base = (settings.openai_base_url or "https://api.openai.com/v1").rstrip("/")
    headers = {}
    if settings.openai_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.openai_api_key.get_secret_value()}"
    async with httpx.AsyncClient(timeout=settings.health_check_timeout_seconds) as client:
        response = await client.get(f"{base}/models", headers=headers)
    if not response.is_success:
        raise RuntimeError(f"GET /models answered HTTP {response.status_code}")


PROBES: dict[ServiceName, Callable[[Resources], Awaitable[None]]] = {
    "temporal": probe_temporal,
    "postgres": probe_postgres,
    "object_store": probe_object_store,
    "llm": probe_llm,
}


async def check(name: ServiceName, res: Resources) -> ServiceHealth:
    timeout = res.settings.health_check_timeout_seconds
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await PROBES[name](res)
    except NotConfigured as e:
        return ServiceHealth(name=name, healthy=False, status="not_configured", latency_ms=None, error=str(e))
    except TimeoutError:
        error = f"no answer within {timeout:g}s"
    except Exception as e:
        error = f"{type(e).__name__}: {e}"[:500]
    else:
        error = None
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    healthy = error is None
    return ServiceHealth(
        name=name, healthy=healthy, status="up" if healthy else "down", latency_ms=latency_ms, error=error
    )


def activities(res: Resources) -> list[Callable[..., Any]]:
    @HEALTH_CHECK_EXTERNAL_SERVICES.implement
    async def health_check_external_services(req: HealthCheckRequest) -> HealthReport:
        names = list(dict.fromkeys(req.services or ALL_SERVICES))
        services = await asyncio.gather(*(check(name, res) for name in names))
        activity.logger.info(
            "health checked", extra={"down": [s.name for s in services if s.status == "down"]}
        )
        probed = [s for s in services if s.status != "not_configured"]
        healthy = bool(probed) and all(s.healthy for s in probed)
        return HealthReport(healthy=healthy, services=list(services))

    return [health_check_external_services]
