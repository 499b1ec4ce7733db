"""schedule_competitor_scan against a real local HTTP site: feeds, pages, robots.txt and bad sources."""

import dataclasses
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from antifragile_core.contracts.operations import (
    SCHEDULE_COMPETITOR_SCAN,
    CompetitorScanRequest,
    CompetitorScanResult,
    Source,
)
from antifragile_testing.local_servers import LocalSite, Route
from antifragile_worker_default.competitors import activities, mention_patterns
from antifragile_worker_default.resources import Resources
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Industry news</title>
<item><guid>n1</guid><title>Acme Corp opens a plant in Lyon</title><link>http://news.example/1</link>
  <pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate>
  <description>Big &lt;b&gt;expansion&lt;/b&gt;.</description></item>
<item><guid>n2</guid><title>Weather in Acmeville</title><link>http://news.example/2</link>
  <description>Nothing about rivals here.</description></item>
<item><guid>n3</guid><title>Quarterly roundup</title><link>http://news.example/3</link>
  <description>GLOBEX and acme corp both cut prices.</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Tech blog</title><id>urn:blog</id>
<updated>2026-11-01T00:00:00Z</updated>
<entry><id>urn:blog:1</id><title>Globex launches a model</title><link href="http://blog.example/globex"/>
  <updated>2026-11-01T10:00:00Z</updated><summary>A new product line.</summary></entry>
</feed>"""

PAGE = b"""<html><head><title>Press</title><script>var acme = "Acme Corp";</script></head><body>
<article><h2>Initech hires</h2><a href="/press/initech">more</a><p>Initech grows again.</p></article>
<article><h2>Partnership</h2><a href="/press/partner">more</a><p>We partner with Acme Corp.</p></article>
</body></html>"""

ROBOTS = b"User-agent: *\nDisallow: /private/\n"
COMPETITORS = ["Acme Corp", "Globex", "Initech"]


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as site:
        site.routes.update(
            {
                "/robots.txt": Route(ROBOTS, "text/plain"),
                "/rss.xml": Route(RSS, "application/rss+xml"),
                "/atom.xml": Route(ATOM, "application/atom+xml"),
                "/press": Route(PAGE),
                "/private/press": Route(PAGE),
                "/malformed.xml": Route(b"{ this is not a feed <<<", "application/rss+xml"),
                "/slow.xml": Route(RSS, "application/rss+xml", delay=3.0),
                "/huge.xml": Route(b"<item>" + b"x" * 65_536 + b"</item>", "application/rss+xml", repeat=40),
            }
        )
        yield site


@pytest_asyncio.fixture
async def res(make_resources: Any) -> AsyncIterator[Resources]:
    overrides = {
        "scan_timeout_seconds": 1.0,
        "scan_max_bytes": 256 * 1024,
        "scan_per_host_delay_seconds": 0.0,
    }
    async with make_resources(**overrides) as res:
        yield res


async def scan(
    res: Resources, req: CompetitorScanRequest, run_id: str = "run-1", heartbeats: list[Any] | None = None
) -> CompetitorScanResult:
    """Run the activity as one attempt of the workflow run `run_id` (retries share the run id)."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_run_id=run_id)
    if heartbeats is not None:
        env.on_heartbeat = lambda *details: heartbeats.append(details)
    (fn,) = [
        f for f in activities(res) if f.__temporal_activity_definition.name == SCHEDULE_COMPETITOR_SCAN.name
    ]  # type: ignore[attr-defined]
    return await env.run(fn, req)


def request(org_id: str, site: LocalSite, *sources: tuple[str, str]) -> CompetitorScanRequest:
    return CompetitorScanRequest(
        organization_id=org_id,
        competitors=COMPETITORS,
        sources=[Source(url=site.url(path), kind=kind) for path, kind in sources],  # type: ignore[arg-type]
    )


GOOD = (("/rss.xml", "feed"), ("/atom.xml", "feed"), ("/press", "page"))


async def test_scan_reports_each_mention_once_across_runs(
    res: Resources, site: LocalSite, org_id: str
) -> None:
    req = request(org_id, site, *GOOD)
    first = await scan(res, req, run_id="week-1")

    found = sorted((f.competitor, f.title) for f in first.new_findings)
    assert found == [
        ("Acme Corp", "Acme Corp opens a plant in Lyon"),
        ("Acme Corp", "Partnership"),
        ("Acme Corp", "Quarterly roundup"),
        ("Globex", "Globex launches a model"),
        ("Globex", "Quarterly roundup"),
        ("Initech", "Initech hires"),
    ], "whole words only ('Acmeville' is no match), any case, never from <script>"
    assert first.errors == []
    assert first.sources_scanned == 3
    press = next(f for f in first.new_findings if f.title == "Partnership")
    assert press.url == site.url("/press/partner")
    lyon = next(f for f in first.new_findings if "Lyon" in f.title)
    assert lyon.published is not None and lyon.published.isoformat() == "2026-11-02T08:00:00+00:00"
    assert first.report_key is not None
    report = (await res.store.get(first.report_key)).decode()
    assert "Acme Corp opens a plant in Lyon" in report and "Initech hires" in report

    second = await scan(res, req, run_id="week-2")
    assert second.new_findings == [] and second.report_key is None
    stored = await res.pool.fetchval(
        "SELECT count(*) FROM competitor_findings WHERE organization_id = $1", org_id
    )
    assert stored == 6


async def test_a_retried_attempt_returns_what_the_first_attempt_stored(
    res: Resources, site: LocalSite, org_id: str
) -> None:
    req = request(org_id, site, ("/rss.xml", "feed"))
    first = await scan(res, req, run_id="run-x")
    retry = await scan(res, req, run_id="run-x")
    assert len(first.new_findings) == 3
    assert retry.new_findings == first.new_findings
    assert retry.report_key == first.report_key


async def test_bad_sources_are_reported_and_the_rest_still_scanned(
    res: Resources, site: LocalSite, org_id: str
) -> None:
    req = request(
        org_id,
        site,
        ("/atom.xml", "feed"),
        ("/malformed.xml", "feed"),
        ("/slow.xml", "feed"),
        ("/huge.xml", "feed"),
        ("/missing.xml", "feed"),
        ("/private/press", "page"),
    )
    heartbeats: list[Any] = []
    result = await scan(res, req, heartbeats=heartbeats)

    assert [f.title for f in result.new_findings] == ["Globex launches a model"]
    errors = {e.source.removeprefix(site.url("")): e.error for e in result.errors}
    assert errors["/malformed.xml"].startswith("malformed feed")
    assert errors["/slow.xml"] == "timed out after 1s"
    assert errors["/huge.xml"] == "larger than the 262144-byte limit"
    assert errors["/missing.xml"] == "HTTP 404"
    assert errors["/private/press"] == "disallowed by robots.txt"
    assert len(errors) == 5
    assert len(heartbeats) == 6, "one heartbeat per source"
    assert site.hits("/private/press") == [], "robots.txt is read before the page, which is never fetched"


async def test_requests_are_polite(make_resources: Any, site: LocalSite, org_id: str) -> None:
    async with make_resources(scan_per_host_delay_seconds=0.2, scan_per_host_concurrency=1) as res:
        paths = ["/rss.xml", "/atom.xml", "/press", "/rss.xml?b", "/atom.xml?b"]
        for path in paths[3:]:
            site.routes[path] = site.routes[path.split("?")[0]]
        await scan(res, request(org_id, site, *((p, "page" if p == "/press" else "feed") for p in paths)))

    gets = sorted(site.requests, key=lambda r: r.at)
    assert {r.headers["User-Agent"] for r in gets} == {res.settings.scan_user_agent}
    gaps = [b.at - a.at for a, b in itertools.pairwise(gets)]
    assert min(gaps) >= 0.18, f"requests to one host are spaced out: {gaps}"
    assert len(site.hits("/robots.txt")) == 1


def test_mentions_match_whole_names_in_any_case() -> None:
    patterns = mention_patterns(["C++ Labs", "X.ai", " Acme "])
    assert set(patterns) == {"C++ Labs", "X.ai", "Acme"}
    assert patterns["C++ Labs"].search("news from c++ labs today")
    assert patterns["X.ai"].search("(X.AI) raised")
    assert not patterns["X.ai"].search("XxAI raised")
    assert not patterns["Acme"].search("Acmeville and acmes")


async def test_blank_competitor_names_are_bad_input(res: Resources, site: LocalSite, org_id: str) -> None:
    req = CompetitorScanRequest(
        organization_id=org_id, competitors=["  "], sources=[Source(url=site.url("/rss.xml"))]
    )
    with pytest.raises(ApplicationError) as failed:
        await scan(res, req)
    assert (failed.value.type, failed.value.non_retryable) == ("InvalidInput", True)
    assert site.requests == [], "nothing is fetched for a scan that cannot match"
