"""Scans and webhooks reach public addresses only: checked after DNS resolution and on every redirect hop."""

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from antifragile_core.contracts.operations import (
    SCHEDULE_COMPETITOR_SCAN,
    SEND_SCHEDULED_NOTIFICATION,
    CompetitorScanRequest,
    Notification,
    Source,
)
from antifragile_testing.local_servers import LocalSite, Route
from antifragile_worker_default.outbound import refusal
from temporalio.exceptions import ApplicationError

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>n</title>
<item><guid>1</guid><title>Acme Corp internal memo</title><link>http://x.example/1</link></item>
</channel></rss>"""


@pytest.fixture
def internal() -> Iterator[LocalSite]:
    """A service on 127.0.0.1 that the worker must never be steered to."""
    with LocalSite() as site:
        site.routes["/secret"] = Route(RSS, "application/rss+xml")
        yield site


@pytest.fixture
def public() -> Iterator[LocalSite]:
    """Stands for a public site: on 127.0.0.2, the one address the tests allow."""
    with LocalSite(host="127.0.0.2") as site:
        yield site


def scan_of(org_id: str, url: str) -> CompetitorScanRequest:
    return CompetitorScanRequest(
        organization_id=org_id, competitors=["Acme Corp"], sources=[Source(url=url, kind="feed")]
    )


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00:ec2::254", "private"),
        ("100.64.0.1", "non-public"),
        ("224.0.0.1", "multicast"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_only_public_addresses_pass(address: str, kind: str | None) -> None:
    reason = refusal(address, [])
    assert (reason is None) if kind is None else (reason is not None and kind in reason)


def test_the_allow_list_admits_on_premises_networks() -> None:
    assert refusal("10.1.2.3", [ipaddress.ip_network("10.0.0.0/8")]) is None
    assert refusal("10.1.2.3", [ipaddress.ip_network("192.168.0.0/16")]) is not None


async def test_a_redirect_to_loopback_is_refused_at_that_hop(
    make_resources: Any, run_activity: Any, public: LocalSite, internal: LocalSite, org_id: str
) -> None:
    public.routes["/feed"] = Route(b"", status=302, location=internal.url("/secret"))
    req = scan_of(org_id, public.url("/feed"))

    async with make_resources(outbound_allowed_networks=["127.0.0.2/32"]) as res:
        refused = await run_activity(res, SCHEDULE_COMPETITOR_SCAN, req)
    [error] = refused.errors
    assert "127.0.0.1 is a loopback address" in error.error and refused.new_findings == []
    assert internal.hits("/secret") == [] and len(public.hits("/feed")) == 1

    # The same redirect is followed once the operator allows the internal network.
    async with make_resources(outbound_allowed_networks=["127.0.0.0/8"]) as res:
        allowed = await run_activity(
            res, SCHEDULE_COMPETITOR_SCAN, scan_of(f"{org_id}-b", str(req.sources[0].url))
        )
    assert allowed.errors == [] and len(internal.hits("/secret")) == 1


async def test_a_name_resolving_to_the_metadata_endpoint_is_refused(
    make_resources: Any, run_activity: Any, monkeypatch: pytest.MonkeyPatch, org_id: str
) -> None:
    real = socket.getaddrinfo

    def resolver(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "metadata.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    hook = Notification(
        organization_id=org_id,
        idempotency_key="k1",
        channel="webhook",
        webhook_url="http://metadata.example/latest/meta-data/",
        subject="s",
        body="b",
    )
    async with make_resources() as res:
        with pytest.raises(ApplicationError) as failed:
            await run_activity(res, SEND_SCHEDULED_NOTIFICATION, hook)
        scanned = await run_activity(res, SCHEDULE_COMPETITOR_SCAN, scan_of(org_id, str(hook.webhook_url)))
    assert failed.value.non_retryable and "169.254.169.254 is a link-local" in failed.value.message
    assert "OUTBOUND_ALLOWED_NETWORKS" in failed.value.message
    [error] = scanned.errors
    assert "169.254.169.254 is a link-local" in error.error
