"""The competitor-scan and maintenance Temporal Schedules, driven through the CLI on the dev server and
triggered into real runs of the default worker against a local news site and webhook receiver."""

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from antifragile_cli.main import parser, run_command
from antifragile_core.contracts.documents import GENERATE_DOCUMENT_SUMMARY, DocumentSummary, DocumentText
from antifragile_core.contracts.operations import DataKind, NotificationTarget
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_testing.default_worker import default_worker
from antifragile_testing.local_servers import LocalSite, Route, free_port
from antifragile_worker_default.resources import Resources
from antifragile_workflows.competitors import CompetitorMonitoringResult, competitor_schedule_id
from antifragile_workflows.maintenance import (
    MaintenanceRequest,
    MaintenanceResult,
    MaintenanceWorkflow,
    maintenance_schedule_id,
)
from temporalio.client import Client, ScheduleHandle
from temporalio.service import RPCError, RPCStatusCode

T = TypeVar("T")

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>
<item><guid>a</guid><title>Acme Corp raises prices</title><link>http://news.example/a</link></item>
<item><guid>b</guid><title>Globex hires a CEO</title><link>http://news.example/b</link></item>
<item><guid>c</guid><title>Local bakery opens</title><link>http://news.example/c</link></item>
</channel></rss>"""


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as site:
        site.routes["/rss.xml"] = Route(RSS, "application/rss+xml")
        site.routes["/hook"] = Route(b"ok", "text/plain")
        yield site


def summary_stand_in(res: Resources) -> list[Callable[..., Any]]:
    """generate_document_summary on openai-queue, answering from the stored report it is given."""

    @GENERATE_DOCUMENT_SUMMARY.implement
    async def summarise(doc: DocumentText) -> DocumentSummary:
        lines = (await res.store.get(doc.text_key)).decode().splitlines()
        titles = [line.split(": ", 1)[1] for line in lines if line.startswith("- **")]
        return DocumentSummary(
            document_id=doc.document_id,
            summary=f"Stand-in summary of {len(titles)} findings.",
            key_points=titles,
            model="stand-in",
            chunks=1,
            usage=TokenUsage(),
        )

    return [summarise]


async def cli(settings: Settings, *argv: str) -> int:
    args = parser().parse_args(["schedules", *argv])
    return await run_command(args, settings)


async def next_run(client: Client, handle: ScheduleHandle, seen: int, result_type: type[T]) -> T:
    """The result of the schedule's run number `seen + 1`, once the trigger has started it."""
    for _ in range(100):
        actions = (await handle.describe()).info.recent_actions
        if len(actions) > seen:
            workflow_id = actions[seen].action.workflow_id
            return await client.get_workflow_handle(workflow_id, result_type=result_type).result()
        await asyncio.sleep(0.1)
    raise AssertionError("the triggered run never started")


async def test_competitor_schedule_lifecycle_from_the_cli(
    make_settings: Callable[..., Settings],
    temporal_client: Client,
    site: LocalSite,
    org_id: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(scan_per_host_delay_seconds=0.0)
    schedule_id = competitor_schedule_id(settings.task_queue_prefix, org_id)
    create = (
        "competitor", org_id, "--competitor", "Acme Corp", "--competitor", "Globex",
        "--feed", site.url("/rss.xml"), "--webhook", site.url("/hook"), "--summarise", "--paused",
    )  # fmt: skip
    assert await cli(settings, *create) == 0
    assert await cli(settings, *create) == 0
    assert capsys.readouterr().out.splitlines() == [f"created {schedule_id}", f"updated {schedule_id}"]

    handle = temporal_client.get_schedule_handle(schedule_id)
    assert (await handle.describe()).schedule.state.paused, "an update keeps the paused state"
    assert await cli(settings, "list") == 0
    (listed,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith(schedule_id)]
    assert "\tpaused\t" in listed
    assert await cli(settings, "unpause", schedule_id) == 0
    assert not (await handle.describe()).schedule.state.paused

    async with default_worker(settings, temporal_client, summary_stand_in):
        assert await cli(settings, "trigger", schedule_id) == 0
        first = await next_run(temporal_client, handle, 0, CompetitorMonitoringResult)
        assert await cli(settings, "trigger", schedule_id) == 0
        second = await next_run(temporal_client, handle, 1, CompetitorMonitoringResult)

    assert sorted(f.title for f in first.scan.new_findings) == [
        "Acme Corp raises prices",
        "Globex hires a CEO",
    ]
    assert first.summary is not None and first.summary.summary == "Stand-in summary of 2 findings."
    assert first.notification is not None and first.notification.delivered
    assert second.scan.new_findings == [] and second.notification is None
    assert second.summary_skipped_reason == "no new findings"
    (post,) = site.hits("/hook", "POST")
    assert "Stand-in summary of 2 findings." in post.body.decode()
    assert "Acme Corp raises prices" in post.body.decode()

    assert await cli(settings, "pause", schedule_id) == 0
    assert (await handle.describe()).schedule.state.paused
    assert await cli(settings, "delete", schedule_id) == 0
    with pytest.raises(RPCError) as gone:
        await handle.describe()
    assert gone.value.status == RPCStatusCode.NOT_FOUND
    assert await cli(settings, "trigger", schedule_id) == 1
    assert "no schedule" in capsys.readouterr().out


async def test_monitoring_without_an_llm_reports_failing_sources_every_run(
    make_settings: Callable[..., Settings], temporal_client: Client, site: LocalSite, org_id: str
) -> None:
    settings = make_settings(scan_per_host_delay_seconds=0.0)
    schedule_id = competitor_schedule_id(settings.task_queue_prefix, org_id)
    argv = ("competitor", org_id, "--competitor", "Globex", "--feed", site.url("/rss.xml"),
            "--feed", site.url("/gone.xml"), "--webhook", site.url("/hook"))  # fmt: skip
    assert await cli(settings, *argv) == 0
    handle = temporal_client.get_schedule_handle(schedule_id)
    try:
        async with default_worker(settings, temporal_client):
            await handle.trigger()
            first = await next_run(temporal_client, handle, 0, CompetitorMonitoringResult)
            await handle.trigger()
            second = await next_run(temporal_client, handle, 1, CompetitorMonitoringResult)
    finally:
        await handle.delete()
    assert first.summary is None
    assert first.summary_skipped_reason == "no LLM configured for this organisation's monitoring"
    assert [f.title for f in first.scan.new_findings] == ["Globex hires a CEO"]
    assert second.scan.new_findings == [] and [e.error for e in second.scan.errors] == ["HTTP 404"]
    subjects = [json.loads(p.body)["text"].splitlines()[0] for p in site.hits("/hook", "POST")]
    assert subjects == [
        f"*1 new competitor findings for {org_id}; 1 of 2 sources could not be scanned*",
        f"*0 new competitor findings for {org_id}; 1 of 2 sources could not be scanned*",
    ]


async def test_maintenance_schedule_runs_health_and_cleanup(
    make_settings: Callable[..., Settings], temporal_client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    schedule_id = maintenance_schedule_id(settings.task_queue_prefix)
    assert await cli(settings, "maintenance", "--retention", "reports=7", "--dry-run") == 0
    assert await cli(settings, "maintenance", "--retention", "nonsense=7") == 2
    assert "nonsense" in capsys.readouterr().out
    handle = temporal_client.get_schedule_handle(schedule_id)
    try:
        async with default_worker(settings, temporal_client):
            await handle.trigger()
            result = await next_run(temporal_client, handle, 0, MaintenanceResult)
    finally:
        await handle.delete()
    assert result.errors == []
    assert result.health is not None and result.health.healthy
    assert {s.name: s.status for s in result.health.services} == {
        "temporal": "up", "postgres": "up", "object_store": "up", "llm": "not_configured",
    }  # fmt: skip
    assert result.cleanup is not None and result.cleanup.dry_run
    assert {c.kind for c in result.cleanup.counts} == {
        "originals", "extracted_text", "reports", "checkpoints", "findings", "training_data", "batches"
    }  # fmt: skip


async def test_maintenance_alerts_when_a_service_is_down(
    make_settings: Callable[..., Settings], temporal_client: Client, site: LocalSite
) -> None:
    settings = make_settings(openai_base_url=f"http://127.0.0.1:{free_port()}/v1")
    alert = NotificationTarget(channel="webhook", webhook_url=site.url("/hook"))
    request = MaintenanceRequest(retention_days={DataKind.REPORTS: 7}, dry_run=True, alert=alert)
    async with default_worker(settings, temporal_client):
        result = await temporal_client.execute_workflow(
            MaintenanceWorkflow.run,
            request,
            id=f"maintenance-{uuid.uuid4().hex[:8]}",
            task_queue=settings.task_queue_prefix + DEFAULT_QUEUE,
        )
    assert result.health is not None and not result.health.healthy
    assert result.alert is not None and result.alert.delivered
    (post,) = site.hits("/hook", "POST")
    text = json.loads(post.body)["text"]
    assert "- llm: down (ConnectError" in text and "- postgres: up" in text
