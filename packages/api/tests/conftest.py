"""The API on the real local stack: Temporal dev server, embedded PostgreSQL, a real worker-default (all
workflows) and worker-openai answering from the local OpenAI-compatible server, and the app served by
uvicorn on a loopback port, reached over HTTP."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest_asyncio
from antifragile_api import db
from antifragile_api.keys import Role, create_key
from antifragile_api.main import server as api_server
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store
from antifragile_testing.default_worker import default_worker
from antifragile_testing.local_servers import free_port
from antifragile_testing.openai_server import ServerScope
from antifragile_worker_openai.budget import open_meter
from antifragile_worker_openai.llm import LLM
from antifragile_worker_openai.main import create_worker as openai_worker
from antifragile_worker_openai.resources import Resources as OpenAIResources
from temporalio.client import Client

T = TypeVar("T")
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"


@dataclass
class Api:
    """A running API: its base URL and settings, and a way to mint keys for an organisation."""

    url: str
    settings: Settings
    client: Client

    async def key(self, organization_id: str, role: Role = "admin") -> str:
        pool = await db.connect(self.settings.postgres_dsn)
        try:
            return (await create_key(pool, organization_id, role, "test"))[1]
        finally:
            await pool.close()

    def http(self, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=60)


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[str]:
    """The app under uvicorn on API_HOST:API_PORT, in this event loop, until the block ends."""
    server = api_server(settings)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start
        await asyncio.sleep(0.05)
    try:
        yield f"http://{settings.api_host}:{settings.api_port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def llm_worker(client: Client, settings: Settings) -> AsyncIterator[None]:
    """worker-openai as its `serve` builds it, metered against PostgreSQL."""
    meter = await open_meter(settings)
    try:
        async with open_store(settings) as store:
            llm = dataclasses.replace(LLM.from_settings(settings), meter=meter)
            async with openai_worker(client, OpenAIResources(settings=settings, store=store, llm=llm)):
                yield
    finally:
        await meter.ledger.pool.close()


@pytest_asyncio.fixture
async def api(
    temporal_client: Client, make_settings: Callable[..., Settings], openai_server: ServerScope
) -> AsyncIterator[Api]:
    """This test's fleet (own queues, own store) with the API in front of it."""
    values: dict[str, Any] = {
        "openai_base_url": openai_server.base_url,
        "openai_model": "local-schema-model",
        "llm_prices": {"local-schema-model": {"input_per_million": 1.0, "output_per_million": 2.0}},
        "api_signing_secret": SIGNING_SECRET,
        "api_port": free_port(),
        "max_document_bytes": 64 * 1024,  # small, so the limit is cheap to cross
        "readiness_min_documents": 1,  # a test corpus of a few lines may be submitted for training
        "readiness_min_tokens": 10,
    }
    settings = make_settings(**values)
    async with (
        default_worker(settings, temporal_client),
        llm_worker(temporal_client, settings),
        serve(settings) as url,
    ):
        yield Api(url=url, settings=settings, client=temporal_client)


async def wait_for(probe: Callable[[], Awaitable[T | None]], what: str, seconds: float = 60) -> T:
    """Poll `probe` until it returns something, for at most `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (found := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)
    return found


async def process(client: httpx.AsyncClient, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Upload `files` and run them as one batch; the finished batch's view."""
    staged = (await client.post("/v1/uploads", files=[("files", f) for f in files])).json()
    batch = (await client.post("/v1/batches", json={"upload_ids": [s["upload_id"] for s in staged]})).json()

    async def finished() -> dict[str, Any] | None:
        view = (await client.get(f"/v1/batches/{batch['batch_id']}")).json()
        return view if view["status"] != "running" else None

    return await wait_for(finished, "the batch")
