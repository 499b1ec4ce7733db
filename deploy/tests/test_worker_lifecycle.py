"""A real worker process: health endpoints, Prometheus metrics, and SIGTERM mid-activity loses nothing."""

import asyncio
import os
import re
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from antifragile_core.queues import DEFAULT_QUEUE, ML_QUEUE, OPENAI_QUEUE
from antifragile_core.settings import Settings
from antifragile_testing.local_servers import free_port
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

NAP_WORKER = Path(__file__).with_name("nap_worker.py")
QUEUES = {"worker-default": DEFAULT_QUEUE, "worker-openai": OPENAI_QUEUE}
SINGLE_USE = {"EXIT_AFTER_ACTIVITIES": "1", "MAX_CONCURRENT_ACTIVITIES": "1"}
"""A training Job's worker, as deploy/k8s/base/worker-ml.yaml configures it (worker-ml runs one at a time)."""


@workflow.defn
class NapWorkflow:
    """Runs the nap activity on the fleet's ml-queue, retrying it if a worker hands it back."""

    @workflow.run
    async def run(self, seconds: float, fail: bool = False) -> dict:
        prefix = workflow.info().task_queue.removesuffix(DEFAULT_QUEUE)
        return await workflow.execute_activity(
            "nap",
            {"seconds": seconds, "fail": fail},
            task_queue=prefix + ML_QUEUE,
            result_type=dict,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=3),
        )


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def sample(exposition: str, metric: str, **labels: str) -> str:
    """The one line of a Prometheus exposition for `metric` carrying all of `labels`."""
    wanted = [re.compile(f'[{{,]{name}="{re.escape(value)}"') for name, value in labels.items()]
    lines = [
        line
        for line in exposition.splitlines()
        if line.startswith(metric + "{") and all(label.search(line) for label in wanted)
    ]
    assert len(lines) == 1, f"{metric} {labels}: {lines}"
    return lines[0]


class WorkerProcess:
    """A worker in its own process, configured through the environment like a container."""

    def __init__(
        self,
        temporal_address: str,
        prefix: str,
        graceful_seconds: float,
        command: Sequence[str] = (sys.executable, str(NAP_WORKER)),
        **env: str,
    ) -> None:
        self.command = command
        self.health_port, self.metrics_port = free_port(), free_port()
        self.env = os.environ | {
            "TEMPORAL_ADDRESS": temporal_address,
            "TASK_QUEUE_PREFIX": prefix,
            "HEALTH_PORT": str(self.health_port),
            "METRICS_PORT": str(self.metrics_port),
            "METRICS_INTERVAL_SECONDS": "0.2",
            "GRACEFUL_SHUTDOWN_SECONDS": str(graceful_seconds),
            **env,
        }
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, within: float = 30) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.command, env=self.env, stdout=asyncio.subprocess.PIPE
        )
        await self.wait_for(f"http://127.0.0.1:{self.health_port}/readyz", 200, within)

    async def get(self, url: str) -> tuple[int, str]:
        return await asyncio.to_thread(http_get, url)

    async def wait_for(self, url: str, status: int, within: float = 30) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                got, body = await self.get(url)
            except (urllib.error.URLError, ConnectionError):
                got, body = 0, ""
            if got == status:
                return body
            assert self.proc is not None and self.proc.returncode is None, "worker process died"
            await asyncio.sleep(0.1)
        raise AssertionError(f"{url} never answered {status}")

    async def metrics_once_reported_ready(self, task_queue: str, within: float = 15) -> str:
        """The exposition once a gauge reading taken while the worker polls is in (readings are periodic)."""
        deadline = time.monotonic() + within
        while True:
            body = await self.wait_for(f"http://127.0.0.1:{self.metrics_port}/metrics", 200)
            if sample(body, "antifragile_worker_ready", worker_task_queue=task_queue).endswith(" 1"):
                return body
            assert time.monotonic() < deadline, "antifragile_worker_ready never became 1"
            await asyncio.sleep(0.1)

    async def nap_started(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=30)
        return line.decode().strip()

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    async def exit_code(self, within: float = 30) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout=within)

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


@asynccontextmanager
async def workflow_host(client: Client, prefix: str) -> AsyncIterator[None]:
    async with Worker(
        client,
        task_queue=prefix + DEFAULT_QUEUE,
        workflows=[NapWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield


async def test_sigterm_drains_the_running_activity_and_readiness_flips(
    temporal_env: WorkflowEnvironment, fleet_prefix: str
) -> None:
    client = temporal_env.client
    worker = WorkerProcess(client.service_client.config.target_host, fleet_prefix, graceful_seconds=20)
    try:
        await worker.start()
        assert await worker.get(f"http://127.0.0.1:{worker.health_port}/livez") == (200, "live\n")
        async with workflow_host(client, fleet_prefix):
            handle = await client.start_workflow(
                NapWorkflow.run, 2.0, id=f"nap-{uuid.uuid4()}", task_queue=fleet_prefix + DEFAULT_QUEUE
            )
            assert await worker.nap_started() == "nap started attempt=1"
            worker.terminate()
            signalled = time.monotonic()
            await worker.wait_for(f"http://127.0.0.1:{worker.health_port}/readyz", 503, within=5)
            assert (await worker.get(f"http://127.0.0.1:{worker.health_port}/livez"))[0] == 200
            assert await worker.exit_code() == 0
            drained_for = time.monotonic() - signalled
            assert await handle.result() == {"attempt": 1}
        assert 1.0 < drained_for < 20, "the worker left before its activity finished, or hung"
    finally:
        worker.kill()


async def test_activity_outliving_the_grace_period_is_handed_back_and_retried(
    temporal_env: WorkflowEnvironment, fleet_prefix: str
) -> None:
    client = temporal_env.client
    address = client.service_client.config.target_host
    first = WorkerProcess(address, fleet_prefix, graceful_seconds=0.5)
    second = WorkerProcess(address, fleet_prefix, graceful_seconds=0.5)
    try:
        await first.start()
        async with workflow_host(client, fleet_prefix):
            handle = await client.start_workflow(
                NapWorkflow.run, 3.0, id=f"nap-{uuid.uuid4()}", task_queue=fleet_prefix + DEFAULT_QUEUE
            )
            assert await first.nap_started() == "nap started attempt=1"
            first.terminate()
            assert await first.exit_code(within=10) == 0
            await second.start()
            assert await second.nap_started() == "nap started attempt=2"
            assert await handle.result() == {"attempt": 2}
    finally:
        first.kill()
        second.kill()


async def test_a_single_use_worker_exits_after_its_activity_and_takes_no_other(
    temporal_env: WorkflowEnvironment, fleet_prefix: str
) -> None:
    """A training Job's worker (EXIT_AFTER_ACTIVITIES=1): done with its training, it leaves on its own."""
    client = temporal_env.client
    address = client.service_client.config.target_host
    job = WorkerProcess(address, fleet_prefix, graceful_seconds=5, **SINGLE_USE)
    next_job = WorkerProcess(address, fleet_prefix, graceful_seconds=5, **SINGLE_USE)
    try:
        await job.start()
        async with workflow_host(client, fleet_prefix):
            handles = [
                await client.start_workflow(
                    NapWorkflow.run, 1.0, id=f"nap-{uuid.uuid4()}", task_queue=fleet_prefix + DEFAULT_QUEUE
                )
                for _ in range(2)
            ]
            assert await job.nap_started() == "nap started attempt=1"
            assert await job.exit_code() == 0
            assert job.proc is not None and job.proc.stdout is not None
            assert await job.proc.stdout.read() == b"", "the finished Job's worker started a second activity"
            await next_job.start()
            assert [await h.result() for h in handles] == [{"attempt": 1}, {"attempt": 1}]
            assert await next_job.exit_code() == 0
    finally:
        job.kill()
        next_job.kill()


async def test_a_single_use_worker_keeps_its_failure_on_metrics_for_a_final_scrape_then_exits(
    temporal_env: WorkflowEnvironment, fleet_prefix: str
) -> None:
    """A training Job's worker whose one activity failed: Prometheus pulls, so /metrics must still show
    the failure after the activity ended (METRICS_FINAL_SCRAPE_SECONDS); then the process exits on its own."""
    client = temporal_env.client
    linger = 3.0
    job = WorkerProcess(
        client.service_client.config.target_host,
        fleet_prefix,
        graceful_seconds=5,
        METRICS_FINAL_SCRAPE_SECONDS=str(linger),
        **SINGLE_USE,
    )
    try:
        await job.start()
        async with workflow_host(client, fleet_prefix):
            handle = await client.start_workflow(
                NapWorkflow.run,
                args=[0.5, True],
                id=f"nap-{uuid.uuid4()}",
                task_queue=fleet_prefix + DEFAULT_QUEUE,
            )
            assert await job.nap_started() == "nap started attempt=1"
            with pytest.raises(WorkflowFailureError):
                await handle.result()
            ended = time.monotonic()
        body = await job.wait_for(f"http://127.0.0.1:{job.metrics_port}/metrics", 200, within=linger)
        scraped = time.monotonic() - ended
        failed = sample(body, "temporal_activity_execution_failed_total", activity_type="nap")
        assert failed.endswith(" 1"), failed
        assert await job.get(f"http://127.0.0.1:{job.health_port}/readyz") == (503, "draining\n")
        assert await job.exit_code(within=linger + 10) == 0
        exited = time.monotonic() - ended
        print(f"activity ended; scraped {failed!r} {scraped:.2f} s later; exited 0 {exited:.2f} s later")
        assert linger - 1 < exited < linger + 10, "the worker did not wait for the scrape, or hung"
    finally:
        job.kill()


async def test_a_single_use_worker_stopped_from_outside_drains_without_waiting_for_a_scrape(
    temporal_env: WorkflowEnvironment, fleet_prefix: str
) -> None:
    """An evicted Job's pod has terminationGracePeriodSeconds for its drain; a wait after it would not fit."""
    client = temporal_env.client
    job = WorkerProcess(
        client.service_client.config.target_host,
        fleet_prefix,
        graceful_seconds=5,
        METRICS_FINAL_SCRAPE_SECONDS="60",
        **SINGLE_USE,
    )
    try:
        await job.start()
        async with workflow_host(client, fleet_prefix):
            handle = await client.start_workflow(
                NapWorkflow.run, 1.0, id=f"nap-{uuid.uuid4()}", task_queue=fleet_prefix + DEFAULT_QUEUE
            )
            assert await job.nap_started() == "nap started attempt=1"
            job.terminate()
            signalled = time.monotonic()
            assert await job.exit_code(within=20) == 0
            print(f"SIGTERM mid-activity: exited 0 {time.monotonic() - signalled:.2f} s later")
            assert await handle.result() == {"attempt": 1}
    finally:
        job.kill()


async def test_metrics_endpoint_serves_sdk_and_fleet_metrics(
    temporal_env: WorkflowEnvironment, fleet_prefix: str
) -> None:
    client = temporal_env.client
    worker = WorkerProcess(client.service_client.config.target_host, fleet_prefix, graceful_seconds=5)
    try:
        await worker.start()
        async with workflow_host(client, fleet_prefix):
            await client.execute_workflow(
                NapWorkflow.run, 0.0, id=f"nap-{uuid.uuid4()}", task_queue=fleet_prefix + DEFAULT_QUEUE
            )
        ml_queue = fleet_prefix + ML_QUEUE
        body = await worker.metrics_once_reported_ready(ml_queue)
        assert sample(body, "antifragile_task_queue_backlog", task_queue=ml_queue, task_type="activity")
        assert float(sample(body, "antifragile_process_resident_memory_bytes").split()[-1]) > 10_000_000
        assert sample(body, "temporal_activity_execution_latency_count", activity_type="nap").endswith(" 1")
        worker.terminate()
        assert await worker.exit_code() == 0
    finally:
        worker.kill()


@pytest.mark.parametrize("script", ["worker-default", "worker-openai"])
async def test_real_slim_workers_become_ready_and_stop_cleanly_on_sigterm(
    temporal_env: WorkflowEnvironment, make_settings: Callable[..., Settings], script: str, tmp_path: Path
) -> None:
    settings = make_settings()
    command = shutil.which(script)
    assert command is not None, f"{script} is not installed in this environment"
    worker = WorkerProcess(
        settings.temporal_address,
        settings.task_queue_prefix,
        graceful_seconds=5,
        command=[command],
        DATABASE_URL=settings.postgres_dsn,
        STORAGE_DIR=str(tmp_path / "objects"),
        OPENAI_API_KEY="",
        OPENAI_BASE_URL="",
    )
    try:
        await worker.start(within=60)
        body = await worker.metrics_once_reported_ready(settings.task_queue_prefix + QUEUES[script])
        assert "temporal_" in body
        worker.terminate()
        assert await worker.exit_code() == 0
    finally:
        worker.kill()
