"""`antifragile schedules`: the weekly competitor scan of each organisation and the daily maintenance,
as Temporal Schedules: create (or update), list, pause, unpause, trigger now, delete."""

import argparse
from typing import Any

from antifragile_core.contracts.operations import (
    CompetitorMonitoring,
    CompetitorScanRequest,
    CompetitorScheduleRequest,
    DataKind,
    NotificationTarget,
    Source,
)
from antifragile_core.runtime import connect
from antifragile_core.settings import Settings
from antifragile_workflows.competitors import ensure_schedule
from antifragile_workflows.maintenance import (
    DEFAULT_RETENTION_DAYS,
    MaintenanceRequest,
    maintenance_schedule,
    maintenance_schedule_id,
)
from antifragile_workflows.schedules import upsert_schedule
from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode


def register(subparsers: Any) -> None:
    root = subparsers.add_parser("schedules", help="competitor-scan and maintenance Temporal Schedules")
    sub = root.add_subparsers(dest="schedules_command", required=True)

    competitor = sub.add_parser("competitor", help="create or update an organisation's weekly scan")
    competitor.add_argument("organization_id")
    competitor.add_argument("--competitor", action="append", required=True, help="a name to watch (repeat)")
    competitor.add_argument("--feed", action="append", default=[], help="an RSS/Atom feed URL (repeat)")
    competitor.add_argument("--page", action="append", default=[], help="a web page URL (repeat)")
    _add_target(competitor, "report")
    competitor.add_argument("--summarise", action="store_true", help="summarise new findings with the LLM")
    competitor.add_argument("--paused", action="store_true", help="create it paused")
    competitor.set_defaults(handler=create_competitor)

    maintenance = sub.add_parser("maintenance", help="create or update the daily maintenance schedule")
    maintenance.add_argument(
        "--retention",
        action="append",
        default=[],
        metavar="KIND=DAYS",
        help=f"days to keep one kind ({', '.join(DataKind)}); defaults: "
        + ", ".join(f"{k}={v}" for k, v in DEFAULT_RETENTION_DAYS.items()),
    )
    maintenance.add_argument("--organization-id", help="clean only this organisation (default: all)")
    maintenance.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")
    _add_target(maintenance, "alert", required=False)
    maintenance.add_argument("--paused", action="store_true", help="create it paused")
    maintenance.set_defaults(handler=create_maintenance)

    sub.add_parser("list", help="every schedule, with its state and next run").set_defaults(
        handler=list_schedules
    )
    for name, text in (
        ("pause", "stop a schedule from starting runs"),
        ("unpause", "let a paused schedule start runs again"),
        ("trigger", "start one run now"),
        ("delete", "delete a schedule (runs already started continue)"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("schedule_id")
        command.set_defaults(handler=act_on_schedule)


def _add_target(parser: argparse.ArgumentParser, what: str, required: bool = True) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--email", action="append", help=f"send the {what} to this address (repeat)")
    group.add_argument("--webhook", help=f"POST the {what} to this Slack-compatible webhook URL")


def _target(args: argparse.Namespace) -> NotificationTarget | None:
    if args.email:
        return NotificationTarget(channel="email", recipients=args.email)
    if args.webhook:
        return NotificationTarget(channel="webhook", webhook_url=args.webhook)
    return None


def competitor_request(args: argparse.Namespace) -> CompetitorScheduleRequest:
    sources = [Source(url=u, kind="feed") for u in args.feed] + [
        Source(url=u, kind="page") for u in args.page
    ]
    target = _target(args)
    assert target is not None  # the target group is required for this command
    scan = CompetitorScanRequest(
        organization_id=args.organization_id, competitors=args.competitor, sources=sources
    )
    return CompetitorScheduleRequest(
        monitoring=CompetitorMonitoring(scan=scan, notify=target, summarise=args.summarise),
        paused=args.paused,
    )


def maintenance_request(args: argparse.Namespace) -> MaintenanceRequest:
    retention: dict[DataKind, int] = dict(DEFAULT_RETENTION_DAYS)
    for item in args.retention:
        kind, sep, days = item.partition("=")
        if not sep or not days.isdigit():
            raise ValueError(f"--retention {item!r}: expected KIND=DAYS, e.g. reports=90")
        retention[DataKind(kind)] = int(days)
    return MaintenanceRequest(
        retention_days=retention,
        organization_id=args.organization_id,
        dry_run=args.dry_run,
        alert=_target(args),
    )


async def create_competitor(args: argparse.Namespace, settings: Settings) -> int:
    try:
        req = competitor_request(args)
    except ValidationError as e:
        print(f"invalid schedule: {e}")
        return 2
    handle = await ensure_schedule(await connect(settings), settings.task_queue_prefix, req)
    print(f"{'created' if handle.created else 'updated'} {handle.schedule_id}")
    return 0


async def create_maintenance(args: argparse.Namespace, settings: Settings) -> int:
    try:
        req = maintenance_request(args)
    except (ValueError, ValidationError) as e:
        print(f"invalid schedule: {e}")
        return 2
    schedule_id = maintenance_schedule_id(settings.task_queue_prefix)
    schedule = maintenance_schedule(settings.task_queue_prefix, req, paused=args.paused)
    created = await upsert_schedule(await connect(settings), schedule_id, schedule)
    print(f"{'created' if created else 'updated'} {schedule_id}")
    return 0


async def list_schedules(args: argparse.Namespace, settings: Settings) -> int:
    client = await connect(settings)
    async for entry in await client.list_schedules():
        info = entry.info
        state = "paused" if entry.schedule and entry.schedule.state.paused else "active"
        upcoming = info.next_action_times[0].isoformat() if info and info.next_action_times else "-"
        last = info.recent_actions[-1].started_at.isoformat() if info and info.recent_actions else "-"
        print(f"{entry.id}\t{state}\tnext {upcoming}\tlast {last}")
    return 0


async def act_on_schedule(args: argparse.Namespace, settings: Settings) -> int:
    """pause, unpause, trigger or delete one schedule by id."""
    handle = (await connect(settings)).get_schedule_handle(args.schedule_id)
    actions = {
        "pause": lambda: handle.pause(note="paused from the CLI"),
        "unpause": lambda: handle.unpause(note="unpaused from the CLI"),
        "trigger": handle.trigger,
        "delete": handle.delete,
    }
    try:
        await actions[args.schedules_command]()
    except RPCError as e:
        if e.status != RPCStatusCode.NOT_FOUND:
            raise
        print(f"no schedule {args.schedule_id!r}; `antifragile schedules list` shows them")
        return 1
    print(f"{args.schedules_command}: done for {args.schedule_id}")
    return 0
