"""health_check_external_services against the real services, with one stopped, hung or unconfigured."""

from collections.abc import Iterator
from typing import Any

import pytest
from antifragile_core.contracts.operations import (
    HEALTH_CHECK_EXTERNAL_SERVICES,
    HealthCheckRequest,
    HealthReport,
)
from antifragile_testing.local_servers import LocalSite, Route, free_port
from antifragile_testing.openai_server import ServerScope
from moto.server import ThreadedMotoServer


def by_name(report: HealthReport) -> dict[str, Any]:
    return {s.name: s for s in report.services}


async def test_every_service_up(
    make_resources: Any, store_overrides: dict[str, Any], openai_server: ServerScope, run_activity: Any
) -> None:
    async with make_resources(**store_overrides, openai_base_url=openai_server.base_url) as res:
        report = await run_activity(res, HEALTH_CHECK_EXTERNAL_SERVICES, HealthCheckRequest())
        assert await res.store.list_objects("health/") == [], "the probe object is removed"

    assert report.healthy
    services = by_name(report)
    assert list(services) == ["temporal", "postgres", "object_store", "llm"]
    for s in services.values():
        assert (s.status, s.healthy, s.error) == ("up", True, None)
        assert s.latency_ms is not None and s.latency_ms > 0


async def test_an_unconfigured_llm_is_reported_not_probed(make_resources: Any, run_activity: Any) -> None:
    async with make_resources() as res:
        everything = await run_activity(res, HEALTH_CHECK_EXTERNAL_SERVICES, HealthCheckRequest())
        llm_only = await run_activity(
            res, HEALTH_CHECK_EXTERNAL_SERVICES, HealthCheckRequest(services=["llm"])
        )

    llm = by_name(everything)["llm"]
    assert (llm.status, llm.healthy, llm.latency_ms) == ("not_configured", False, None)
    assert "OPENAI_API_KEY" in llm.error
    assert everything.healthy, "the probed services are up; an absent LLM is not an outage"
    assert not llm_only.healthy, "nothing was probed, so nothing is known to be healthy"


async def test_a_stopped_llm_endpoint_is_down(make_resources: Any, run_activity: Any) -> None:
    async with make_resources(openai_base_url=f"http://127.0.0.1:{free_port()}/v1") as res:
        report = await run_activity(res, HEALTH_CHECK_EXTERNAL_SERVICES, HealthCheckRequest())
    services = by_name(report)
    assert not report.healthy
    assert services["llm"].status == "down" and "ConnectError" in services["llm"].error
    assert all(services[n].status == "up" for n in ("temporal", "postgres", "object_store"))


async def test_a_rejected_key_is_down(make_resources: Any, run_activity: Any) -> None:
    with LocalSite() as site:
        site.routes["/v1/models"] = Route(b'{"error": "bad key"}', "application/json", status=401)
        async with make_resources(openai_base_url=site.url("/v1"), openai_api_key="sk-wrong") as res:
            report = await run_activity(
                res, HEALTH_CHECK_EXTERNAL_SERVICES, HealthCheckRequest(services=["llm"])
            )
        (request,) = site.hits("/v1/models")
    assert request.headers["Authorization"] == "Bearer sk-wrong"
    assert by_name(report)["llm"].error == "RuntimeError: GET /models answered HTTP 401"


async def test_a_hung_service_times_out(make_resources: Any, run_activity: Any) -> None:
    with LocalSite() as site:
        site.routes["/v1/models"] = Route(b"{}", "application/json", delay=3.0)
        async with make_resources(openai_base_url=site.url("/v1"), health_check_timeout_seconds=0.5) as res:
            report = await run_activity(
                res, HEALTH_CHECK_EXTERNAL_SERVICES, HealthCheckRequest(services=["llm"])
            )
    llm = by_name(report)["llm"]
    assert llm.status == "down" and llm.error == "no answer within 0.5s"
    assert 450 <= llm.latency_ms < 2000


@pytest.fixture
def own_s3() -> Iterator[tuple[ThreadedMotoServer, str]]:
    """An S3 server of this test's own, which the test stops (and teardown, if the test failed first)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield server, f"http://{host}:{port}"
    server.stop()


async def test_a_stopped_object_store_is_down(
    make_resources: Any, own_s3: tuple[ThreadedMotoServer, str], run_activity: Any
) -> None:
    server, endpoint = own_s3
    s3 = {
        "s3_bucket": "health",
        "s3_endpoint_url": endpoint,
        "aws_access_key_id": "t",
        "aws_secret_access_key": "t",
    }
    async with make_resources(**s3, health_check_timeout_seconds=3.0) as res:
        up = await run_activity(
            res, HEALTH_CHECK_EXTERNAL_SERVICES, HealthCheckRequest(services=["object_store"])
        )
        server.stop()
        down = await run_activity(res, HEALTH_CHECK_EXTERNAL_SERVICES, HealthCheckRequest())
    assert up.healthy
    services = by_name(down)
    assert not down.healthy
    assert services["object_store"].status == "down" and services["object_store"].error
    assert services["postgres"].status == "up" and services["temporal"].status == "up"
