"""Prometheus metrics: the SDK's own, plus queue backlog, resource use and LLM spend, on one endpoint.

Everything goes through the Temporal runtime's metric meter, so the SDK's Prometheus exporter (METRICS_PORT)
serves SDK metrics and ours alike, and metrics recorded inside an activity carry its task queue and
activity type as labels.
"""

import asyncio
import functools
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import psutil
from temporalio import activity
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError

from .contracts.usage import TokenUsage
from .queues import ALL_QUEUES, fleet_prefix
from .settings import Settings

log = logging.getLogger(__name__)

LLM_COST_BUCKETS_USD = (0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)
TASK_TYPES = {
    "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    "workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
}


def telemetry_runtime(settings: Settings) -> Runtime | None:
    """The runtime that exports metrics on METRICS_PORT, or None (the SDK default) when it is unset."""
    return None if settings.metrics_port is None else _prometheus_runtime(settings.metrics_port)


@functools.cache
def _prometheus_runtime(port: int) -> Runtime:
    # One runtime per process and port: every client of the process shares the endpoint (a second bind fails).
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=f"0.0.0.0:{port}",
                counters_total_suffix=True,
                durations_as_seconds=True,
                histogram_bucket_overrides={"antifragile_llm_cost_usd": LLM_COST_BUCKETS_USD},
            )
        )
    )


def client_meter(client: Client) -> MetricMeter:
    """The metric meter of the runtime `client` was connected with."""
    return (client.service_client.config.runtime or Runtime.default()).metric_meter


async def queue_backlog(client: Client, task_queue: str, task_type: str) -> int:
    """Approximate number of tasks waiting on `task_queue` (DescribeTaskQueue with stats)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=TASK_TYPES[task_type],
            report_stats=True,
        )
    )
    return response.stats.approximate_backlog_count


class FleetGauges:
    """Backlog of every queue of the fleet, and this process's CPU, memory and GPU memory."""

    def __init__(self, client: Client, task_queue: str, ready: Callable[[], Awaitable[bool]]) -> None:
        self.client = client
        self.queues = [fleet_prefix(task_queue) + queue for queue in ALL_QUEUES]
        self.ready = ready
        self.process = psutil.Process()
        self.process.cpu_percent()  # the first reading only starts the interval
        meter = client_meter(client).with_additional_attributes({"worker_task_queue": task_queue})
        self.backlog = meter.create_gauge("antifragile_task_queue_backlog", "Tasks waiting on a queue.")
        self.worker_ready = meter.create_gauge("antifragile_worker_ready", "1 while connected and polling.")
        self.cpu = meter.create_gauge_float("antifragile_process_cpu_percent", "CPU use of the worker.")
        self.rss = meter.create_gauge("antifragile_process_resident_memory_bytes", "Resident memory.", "By")
        self.gpu = meter.create_gauge("antifragile_gpu_memory_allocated_bytes", "GPU tensor memory.", "By")

    async def record(self) -> None:
        self.worker_ready.set(int(await self.ready()))
        self.cpu.set(self.process.cpu_percent())
        self.rss.set(self.process.memory_info().rss)
        for device, allocated in gpu_memory_allocated().items():
            self.gpu.set(allocated, {"device": str(device)})
        for queue in self.queues:
            for task_type in TASK_TYPES:
                try:
                    count = await queue_backlog(self.client, queue, task_type)
                except RPCError as err:
                    log.warning("backlog unavailable", extra={"task_queue": queue, "error": str(err)})
                    continue
                self.backlog.set(count, {"task_queue": queue, "task_type": task_type})


def gpu_memory_allocated() -> dict[int, int]:
    """Bytes allocated per CUDA device, only where torch is already loaded (slim workers never import it)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return {}
    return {device: torch.cuda.memory_allocated(device) for device in range(torch.cuda.device_count())}


@asynccontextmanager
async def fleet_gauges(
    client: Client, task_queue: str, ready: Callable[[], Awaitable[bool]], interval: float
) -> AsyncIterator[FleetGauges]:
    """Record the fleet gauges every `interval` seconds while the block runs."""
    gauges = FleetGauges(client, task_queue, ready)

    async def loop() -> None:
        while True:
            try:
                await gauges.record()
            except Exception:
                # A failed reading leaves stale gauges; it must never stop the readings or the worker.
                log.exception("fleet gauges not recorded")
            await asyncio.sleep(interval)

    task = asyncio.create_task(loop(), name="fleet-gauges")
    try:
        yield gauges
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def record_llm_usage(model: str, usage: TokenUsage, cost_usd: float) -> None:
    """Count one LLM call's requests, tokens and cost; call it inside the activity that made the call."""
    meter = activity.metric_meter().with_additional_attributes({"model": model})
    meter.create_counter("antifragile_llm_requests", "LLM API requests.").add(usage.requests)
    tokens = meter.create_counter("antifragile_llm_tokens", "LLM tokens, by direction.")
    tokens.add(usage.input_tokens, {"direction": "input"})
    tokens.add(usage.output_tokens, {"direction": "output"})
    meter.create_histogram_float("antifragile_llm_cost_usd", "Cost of one LLM call.", "USD").record(cost_usd)


def record_llm_rate_limited(model: str) -> None:
    """Count one rate-limit answer (HTTP 429) from the LLM endpoint; call it inside the activity."""
    meter = activity.metric_meter().with_additional_attributes({"model": model})
    meter.create_counter("antifragile_llm_rate_limited", "LLM rate-limit answers (429).").add(1)
