"""schedule_competitor_scan: find competitor mentions in an organisation's sources, new ones only;
ensure_competitor_schedule: the weekly Temporal Schedule that runs the scan for one organisation."""

import asyncio
import hashlib
import re
from collections.abc import Callable
from typing import Any

import asyncpg
from antifragile_core.contracts.operations import (
    ENSURE_COMPETITOR_SCHEDULE,
    SCHEDULE_COMPETITOR_SCAN,
    CompetitorScanRequest,
    CompetitorScanResult,
    CompetitorScheduleRequest,
    Finding,
    ScheduleHandle,
    Source,
    SourceError,
)
from antifragile_core.errors import INVALID_INPUT, bad_input
from antifragile_core.storage import org_key
from antifragile_workflows.competitors import ensure_schedule
from temporalio import activity

from .feeds import Fetcher, FetchError, Item, parse_feed, parse_page
from .resources import Resources

SNIPPET_CHARS = 300


def mention_patterns(competitors: list[str]) -> dict[str, re.Pattern[str]]:
    """Whole-word, case-insensitive patterns; lookarounds rather than \\b so 'C++' or 'X.ai' match."""
    names = {name.strip() for name in competitors if name.strip()}
    return {name: re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE) for name in sorted(names)}


def findings_in(items: list[Item], source: str, patterns: dict[str, re.Pattern[str]]) -> list[Finding]:
    """One finding per (item, competitor it mentions)."""
    found = []
    for item in items:
        for name, pattern in patterns.items():
            match = pattern.search(item.text)
            if match is None:
                continue
            start = max(0, match.start() - SNIPPET_CHARS // 2)
            snippet = " ".join(item.text[start : start + SNIPPET_CHARS].split())
            found.append(
                Finding(
                    finding_id=hashlib.sha256(f"{name.lower()}\n{item.key}".encode()).hexdigest()[:32],
                    competitor=name,
                    title=item.title[:500],
                    url=item.url,
                    source=source,
                    published=item.published,
                    snippet=snippet,
                )
            )
    return found


async def fetch_items(fetcher: Fetcher, source: Source) -> list[Item]:
    """The source's items; parsing a body of up to `scan_max_bytes` runs in a thread, off the event loop."""
    url = str(source.url)
    if source.kind == "feed":
        return await asyncio.to_thread(parse_feed, await fetcher.get(url))
    if not await fetcher.allowed(url):
        raise FetchError("disallowed by robots.txt")
    return await asyncio.to_thread(parse_page, await fetcher.get(url), url)


async def _scan_source(fetcher: Fetcher, source: Source) -> tuple[str, list[Item] | FetchError]:
    try:
        return str(source.url), await fetch_items(fetcher, source)
    except FetchError as e:
        return str(source.url), e


async def store_findings(
    pool: asyncpg.Pool, organization_id: str, scan_id: str, findings: list[Finding]
) -> list[Finding]:
    """Insert findings no earlier scan stored; returns this scan's (stable across activity retries)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO competitor_findings (organization_id, finding_id, competitor, title, url, source,"
            " published, snippet, scan_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (organization_id, finding_id) DO NOTHING",
            [
                (
                    organization_id,
                    f.finding_id,
                    f.competitor,
                    f.title,
                    f.url,
                    f.source,
                    f.published,
                    f.snippet,
                    scan_id,
                )
                for f in findings
            ],
        )
        rows = await conn.fetch(
            "SELECT finding_id FROM competitor_findings WHERE organization_id = $1 AND scan_id = $2",
            organization_id,
            scan_id,
        )
    mine = {r["finding_id"] for r in rows}
    return [f for f in findings if f.finding_id in mine]


def _scan_id() -> str:
    """The same id on every attempt of this activity, so a retry returns what the first attempt stored."""
    info = activity.info()
    key = f"{info.workflow_id}\n{info.workflow_run_id}\n{info.activity_id}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def activities(res: Resources) -> list[Callable[..., Any]]:
    @SCHEDULE_COMPETITOR_SCAN.implement
    async def schedule_competitor_scan(req: CompetitorScanRequest) -> CompetitorScanResult:
        patterns = mention_patterns(req.competitors)
        if not patterns:
            raise bad_input(INVALID_INPUT, "competitor names are blank; give at least one name to look for")
        findings: dict[str, Finding] = {}
        errors: list[SourceError] = []
        async with Fetcher(res.settings) as fetcher:
            scans = [_scan_source(fetcher, s) for s in req.sources]
            for done, next_scan in enumerate(asyncio.as_completed(scans), start=1):
                source, outcome = await next_scan
                if isinstance(outcome, FetchError):
                    errors.append(SourceError(source=source, error=str(outcome)))
                else:
                    for f in findings_in(outcome, source, patterns):
                        findings.setdefault(f.finding_id, f)
                activity.heartbeat(f"{done}/{len(scans)} sources")
        scan_id = _scan_id()
        ordered = sorted(findings.values(), key=lambda f: (f.competitor, f.source, f.title))
        new = await store_findings(res.pool, req.organization_id, scan_id, ordered)
        result = CompetitorScanResult(
            organization_id=req.organization_id,
            sources_scanned=len(req.sources),
            new_findings=new,
            errors=sorted(errors, key=lambda e: e.source),
        )
        if new:
            result.report_key = org_key(req.organization_id, "reports", "competitors", f"{scan_id}.md")
            await res.store.put(result.report_key, result.report().encode())
        return result

    @ENSURE_COMPETITOR_SCHEDULE.implement
    async def ensure_competitor_schedule(req: CompetitorScheduleRequest) -> ScheduleHandle:
        return await ensure_schedule(res.client, res.settings.task_queue_prefix, req)

    return [schedule_competitor_scan, ensure_competitor_schedule]
