"""The metrics every alert and dashboard panel reads are the ones the workers really export."""

import asyncio
import json
import re
import urllib.request
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import yaml
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.metrics import FleetGauges, record_llm_rate_limited, record_llm_usage
from antifragile_core.queues import OPENAI_QUEUE
from antifragile_core.runtime import build_worker, connect
from antifragile_core.settings import Settings
from antifragile_testing.local_servers import free_port
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner

DEPLOY = Path(__file__).resolve().parents[1]
PROMQL_METRIC = re.compile(r"\b((?:antifragile|temporal)_[a-z_]+|up)\b")
GPU_ONLY = {"antifragile_gpu_memory_allocated_bytes"}
"""Exported only by a process that has loaded torch and sees a CUDA device."""


class Call(BaseModel):
    model: str


class Done(BaseModel):
    pass


@activity.defn(name="summarise_stand_in")
async def llm_call(call: Call) -> Done:
    """Stands in for an openai-queue activity: one call, then one 429 answer."""
    usage = TokenUsage(requests=1, input_tokens=1200, output_tokens=300)
    record_llm_usage(call.model, usage, cost_usd=0.0036)
    record_llm_rate_limited(call.model)
    return Done()


@activity.defn(name="train_organizational_model")
async def failing_training(call: Call) -> Done:
    """Stands in for the ML activity under its real name, failing the way bad input does."""
    raise ApplicationError("no documents to train on", type="BadInput", non_retryable=True)


@workflow.defn
class MetricsWorkflow:
    @workflow.run
    async def run(self, model: str) -> bool:
        options = {"start_to_close_timeout": timedelta(seconds=10), "result_type": Done}
        await workflow.execute_activity("summarise_stand_in", Call(model=model), **options)
        try:
            await workflow.execute_activity(
                "train_organizational_model",
                Call(model=model),
                retry_policy=RetryPolicy(maximum_attempts=1),
                **options,
            )
        except ActivityError:
            return False
        return True


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def referenced_metrics() -> set[str]:
    """Metric names used by the alert rules and the dashboard's queries."""
    rules = yaml.safe_load((DEPLOY / "monitoring/prometheus/alerts.yml").read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((DEPLOY / "monitoring/grafana/dashboards/antifragile-fleet.json").read_text())
    exprs += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    return {name for expr in exprs for name in PROMQL_METRIC.findall(expr)} - {"up"}


async def test_alerts_and_dashboard_read_metrics_a_worker_exports(
    worker_settings: Callable[..., Settings],
) -> None:
    port = free_port()
    settings = worker_settings(metrics_port=port)
    client = await connect(settings)
    worker = build_worker(
        client,
        settings,
        OPENAI_QUEUE,
        activities=[llm_call, failing_training],
        workflows=[MetricsWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    async with worker:
        trained = await client.execute_workflow(
            MetricsWorkflow.run, "gpt-4o-mini", id=f"metrics-{uuid.uuid4()}", task_queue=worker.task_queue
        )

        async def ready() -> bool:
            return True

        await FleetGauges(client, worker.task_queue, ready).record()
    assert trained is False
    exposition = await asyncio.to_thread(scrape, f"http://127.0.0.1:{port}/metrics")

    exported = {line.split("{")[0].split(" ")[0] for line in exposition.splitlines() if line[:1].isalpha()}
    missing = referenced_metrics() - exported - GPU_ONLY
    assert not missing, f"alerts or dashboard read metrics no worker exports: {sorted(missing)}"

    def value(metric: str, **labels: str) -> float:
        lines = [
            line
            for line in exposition.splitlines()
            if line.startswith(metric + "{")
            and f'task_queue="{worker.task_queue}"' in line
            and all(f'{k}="{v}"' in line for k, v in labels.items())
        ]
        assert len(lines) == 1, (metric, labels, lines)
        return float(lines[0].rsplit(" ", 1)[1])

    assert value("antifragile_llm_tokens_total", direction="input", model="gpt-4o-mini") == 1200
    assert value("antifragile_llm_tokens_total", direction="output", model="gpt-4o-mini") == 300
    assert value("antifragile_llm_requests_total", model="gpt-4o-mini") == 1
    assert value("antifragile_llm_cost_usd_sum", model="gpt-4o-mini") == 0.0036
    assert value("antifragile_llm_rate_limited_total", model="gpt-4o-mini") == 1
    assert value("temporal_activity_execution_failed_total", activity_type="train_organizational_model") == 1
