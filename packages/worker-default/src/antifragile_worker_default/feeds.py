"""Fetching and parsing competitor sources politely: RSS/Atom feeds and web pages.

A scan may hit the same host many times, so requests to one host are limited in number and spaced out,
pages honour robots.txt, every body is capped while it streams (a huge or trickling source costs at
most `scan_max_bytes` and `scan_timeout_seconds`), and only public addresses are reached (outbound.py).
"""

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Self
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import feedparser
import httpx
from antifragile_core.settings import Settings
from selectolax.lexbor import LexborHTMLParser, LexborNode

from .outbound import PublicOnlyTransport


class FetchError(Exception):
    """A source that could not be fetched or understood; the scan reports it and goes on."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Item:
    """One feed entry or page article: what a competitor mention is searched in."""

    key: str
    title: str
    url: str
    published: datetime | None
    text: str


class Fetcher:
    """One scan's HTTP client: polite User-Agent, per-host limits, robots.txt, streamed size caps."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client = httpx.AsyncClient(
            transport=PublicOnlyTransport(settings.outbound_allowed_networks),
            timeout=httpx.Timeout(settings.scan_timeout_seconds),
            headers={"User-Agent": settings.scan_user_agent},
            follow_redirects=True,
            max_redirects=5,
        )
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._robots: dict[str, RobotFileParser | FetchError] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.aclose()

    async def get(self, url: str) -> bytes:
        """The body of `url`, or FetchError; waits its turn on the host first."""
        host = urlsplit(url).netloc
        slot = self._slots.setdefault(host, asyncio.Semaphore(self._settings.scan_per_host_concurrency))
        async with slot:
            await self._wait_turn(host)
            try:
                async with asyncio.timeout(self._settings.scan_timeout_seconds):
                    return await self._read_capped(url)
            except TimeoutError:
                raise FetchError(f"timed out after {self._settings.scan_timeout_seconds:g}s") from None
            except httpx.HTTPError as e:
                raise FetchError(f"request failed: {type(e).__name__}: {e}") from None

    async def _wait_turn(self, host: str) -> None:
        """Space request starts on one host by `scan_per_host_delay_seconds`."""
        now = time.monotonic()
        start = max(now, self._next_start.get(host, now))
        self._next_start[host] = start + self._settings.scan_per_host_delay_seconds
        await asyncio.sleep(start - now)

    async def _read_capped(self, url: str) -> bytes:
        cap = self._settings.scan_max_bytes
        async with self._client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code}", response.status_code)
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise FetchError(f"larger than the {cap}-byte limit ({declared} bytes declared)")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > cap:
                    raise FetchError(f"larger than the {cap}-byte limit")
            return bytes(body)

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt lets this crawler fetch `url` (no robots.txt, 4xx: allowed)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._robots_locks.setdefault(origin, asyncio.Lock()):
            if origin not in self._robots:
                self._robots[origin] = await self._load_robots(origin)
        rules = self._robots[origin]
        if isinstance(rules, FetchError):
            raise rules
        return rules.can_fetch(self._settings.scan_user_agent.split("/")[0], url)

    async def _load_robots(self, origin: str) -> RobotFileParser | FetchError:
        rules = RobotFileParser()
        try:
            text = (await self.get(f"{origin}/robots.txt")).decode("utf-8", errors="replace")
        except FetchError as e:
            if e.status is None or e.status >= 500 or e.status == 429:
                # Unreachable or failing robots.txt means "do not crawl", as the major crawlers treat it.
                return FetchError(f"robots.txt unavailable: {e}")
            text = ""
        rules.parse(text.splitlines())
        return rules


def parse_feed(data: bytes) -> list[Item]:
    """Entries of an RSS or Atom document; FetchError when it is not one."""
    parsed = feedparser.parse(data)
    if not parsed.entries:
        if parsed.bozo:
            raise FetchError(f"malformed feed: {parsed.bozo_exception}")
        if not parsed.version:
            raise FetchError("not an RSS or Atom feed")
    items = []
    for entry in parsed.entries:
        link = entry.get("link", "")
        title = _plain(entry.get("title", ""))
        summary = " ".join(_plain(c.get("value", "")) for c in entry.get("content", []))
        summary = summary or _plain(entry.get("summary", ""))
        items.append(
            Item(
                key=entry.get("id") or link or title,
                title=title,
                url=link,
                published=_entry_time(entry),
                text=f"{title}\n{summary}",
            )
        )
    return items


def parse_page(data: bytes, url: str) -> list[Item]:
    """Each <article> of a page (title from its heading, link from its first anchor), else the page."""
    tree = LexborHTMLParser(data.decode("utf-8", errors="replace"))
    for node in tree.css("script, style, noscript"):
        node.decompose()
    articles = tree.css("article")
    if not articles:
        title_node = tree.css_first("title")
        body = tree.body
        text = body.text(separator=" ", strip=True) if body else ""
        title = title_node.text(strip=True) if title_node else url
        return [Item(key=url, title=title, url=url, published=None, text=f"{title}\n{text}")]
    return [_article(node, url) for node in articles]


def _article(node: LexborNode, page_url: str) -> Item:
    heading = node.css_first("h1, h2, h3, h4")
    anchor = node.css_first("a[href]")
    link = urljoin(page_url, anchor.attributes.get("href") or "") if anchor else page_url
    title = heading.text(strip=True) if heading else ""
    text = node.text(separator=" ", strip=True)
    return Item(key=f"{link}#{title}", title=title or link, url=link, published=None, text=text)


def _plain(html: str) -> str:
    return LexborHTMLParser(html).text(separator=" ", strip=True) if "<" in html else html.strip()


def _entry_time(entry: feedparser.FeedParserDict) -> datetime | None:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime(*stamp[:6], tzinfo=UTC) if stamp else None
