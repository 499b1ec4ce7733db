"""`antifragile fleet`: the workers on each queue and their Worker Deployment versions; promote a build to
current, and retire a build once no pinned workflow runs on it.

A release of a worker starts the new build's workers beside the old ones, `fleet promote` makes it
current (new workflows start there; AUTO_UPGRADE ones move at their next task), and `fleet retire` removes
the old version once its PINNED workflows (catchball, wisdom, training) have ended; then its workers stop.
"""

import argparse
from dataclasses import dataclass
from typing import Any

from antifragile_core.queues import ALL_QUEUES
from antifragile_core.runtime import connect
from antifragile_core.settings import Settings
from antifragile_core.versioning import deployment_name
from temporalio.api.deployment.v1 import WorkerDeploymentVersion
from temporalio.api.enums.v1 import TaskQueueType, WorkerDeploymentVersionStatus
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import (
    DeleteWorkerDeploymentVersionRequest,
    DescribeTaskQueueRequest,
    DescribeWorkerDeploymentRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode


def register(subparsers: Any) -> None:
    root = subparsers.add_parser("fleet", help="workers, build ids and Worker Deployment versions per queue")
    sub = root.add_subparsers(dest="fleet_command", required=True)
    sub.add_parser(
        "status", help="pollers, build ids, current/ramping versions and backlog per queue"
    ).set_defaults(handler=status)
    for name, handler, help_ in (
        ("promote", promote, "make BUILD_ID the current version of its worker kind's deployment"),
        ("retire", retire, "delete a version no pinned workflow runs on any more (its workers stopped)"),
    ):
        command = sub.add_parser(name, help=help_)
        command.add_argument("build_id")
        command.add_argument("--queue", choices=ALL_QUEUES, default=ALL_QUEUES[0], help="the worker kind")
        command.set_defaults(handler=handler)


@dataclass
class QueueView:
    """What `fleet status` shows of one queue: its workers by build, backlog and deployment routing."""

    queue: str
    pollers: dict[str, int]
    workflow_backlog: int
    activity_backlog: int
    deployment: str
    current: str | None
    ramping: str | None
    ramp_percent: float
    versions: dict[str, str]
    pinned_running: dict[str, int]

    def lines(self) -> list[str]:
        builds = ", ".join(f"{b} ({n} workers)" for b, n in sorted(self.pollers.items())) or "none"
        ramp = f"{self.ramping} at {self.ramp_percent:g}%" if self.ramping else "none"
        if not self.versions:
            routing = f"  no Worker Deployment {self.deployment}: workers run unversioned"
        else:
            routing = (
                f"  deployment {self.deployment}: current {self.current or 'unversioned'}, ramping {ramp}"
            )
        out = [
            f"{self.queue}: backlog {self.workflow_backlog} workflow, {self.activity_backlog} activity tasks",
            f"  pollers by build: {builds}",
            routing,
        ]
        out += [
            f"    {build}: {state}, {self.pinned_running.get(build, 0)} pinned workflows running"
            for build, state in sorted(self.versions.items())
        ]
        return out


async def _describe_pollers(client: Client, name: str) -> tuple[dict[int, int], list[PollerInfo]]:
    """DescribeTaskQueue of both task types: backlog per type and every poller."""
    backlog: dict[int, int] = {}
    pollers: list[PollerInfo] = []
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=name),
                task_queue_type=kind,
                report_stats=True,
            )
        )
        backlog[kind] = described.stats.approximate_backlog_count
        pollers += described.pollers
    return backlog, pollers


def _deployment_of(settings: Settings, queue: str, pollers: list[PollerInfo]) -> str:
    """The Worker Deployment the queue's versioned workers poll as (the Worker Controller names it after the
    Kubernetes namespace and resource), else the one this fleet's settings name."""
    named = {p.deployment_options.deployment_name for p in pollers if p.deployment_options.deployment_name}
    return named.pop() if len(named) == 1 else deployment_name(settings, queue)


async def queue_deployment(client: Client, settings: Settings, queue: str) -> str:
    """The Worker Deployment serving `queue` now (see _deployment_of)."""
    _, pollers = await _describe_pollers(client, settings.task_queue_prefix + queue)
    return _deployment_of(settings, queue, pollers)


async def describe_queue(client: Client, settings: Settings, queue: str) -> QueueView:
    """One queue of this fleet: DescribeTaskQueue for pollers and backlog, DescribeWorkerDeployment for
    routing, and a visibility count of the workflows pinned to each version."""
    name = settings.task_queue_prefix + queue
    backlog, pollers = await _describe_pollers(client, name)
    workers: dict[str, set[str]] = {}
    for poller in pollers:
        workers.setdefault(poller.deployment_options.build_id or "unversioned", set()).add(poller.identity)
    deployment = _deployment_of(settings, queue, pollers)
    view = QueueView(
        queue=name,
        pollers={build: len(identities) for build, identities in workers.items()},
        workflow_backlog=backlog[TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
        activity_backlog=backlog[TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
        deployment=deployment,
        current=None,
        ramping=None,
        ramp_percent=0.0,
        versions={},
        pinned_running={},
    )
    try:
        info = (
            await client.workflow_service.describe_worker_deployment(
                DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=deployment)
            )
        ).worker_deployment_info
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return view
    routing = info.routing_config
    view.current = routing.current_deployment_version.build_id or None
    view.ramping = routing.ramping_deployment_version.build_id or None
    view.ramp_percent = routing.ramping_version_percentage
    for summary in info.version_summaries:
        build = summary.deployment_version.build_id
        view.versions[build] = _status_name(summary.status)
        view.pinned_running[build] = await pinned_running(client, deployment, build)
    return view


def _status_name(status: int) -> str:
    return (
        WorkerDeploymentVersionStatus.Name(status).removeprefix("WORKER_DEPLOYMENT_VERSION_STATUS_").lower()
    )


async def pinned_running(client: Client, deployment: str, build: str) -> int:
    """Running workflows pinned to `deployment`'s version `build`: they need its workers until they end."""
    query = (
        f"TemporalWorkerDeploymentVersion = '{deployment}:{build}' "
        "AND TemporalWorkflowVersioningBehavior = 'Pinned' AND ExecutionStatus = 'Running'"
    )
    return (await client.count_workflows(query)).count


async def status(args: argparse.Namespace, settings: Settings) -> int:
    client = await connect(settings)
    for queue in ALL_QUEUES:
        print("\n".join((await describe_queue(client, settings, queue)).lines()))
    return 0


async def promote_build(client: Client, settings: Settings, queue: str, build: str) -> str:
    """Make `build` the current version of the queue's deployment; returns the deployment's name."""
    deployment = await queue_deployment(client, settings, queue)
    await client.workflow_service.set_worker_deployment_current_version(
        SetWorkerDeploymentCurrentVersionRequest(
            namespace=client.namespace,
            deployment_name=deployment,
            build_id=build,
            identity="antifragile fleet promote",
        )
    )
    return deployment


async def promote(args: argparse.Namespace, settings: Settings) -> int:
    deployment = await promote_build(await connect(settings), settings, args.queue, args.build_id)
    print(f"{args.build_id} is now the current version of {deployment}")
    return 0


class StillRunning(Exception):
    """A version cannot be retired while pinned workflows still run on it."""


async def retire_build(client: Client, settings: Settings, queue: str, build: str) -> str:
    """Delete `build`'s version; refused while pinned workflows run on it (they would be stranded).
    Returns the deployment's name."""
    deployment = await queue_deployment(client, settings, queue)
    running = await pinned_running(client, deployment, build)
    if running:
        raise StillRunning(
            f"{running} pinned workflows still run on {deployment}:{build}; retire it once they end "
            "(antifragile fleet status shows the count)"
        )
    await client.workflow_service.delete_worker_deployment_version(
        DeleteWorkerDeploymentVersionRequest(
            namespace=client.namespace,
            deployment_version=WorkerDeploymentVersion(deployment_name=deployment, build_id=build),
            skip_drainage=True,  # drainage is the count above, read now rather than minutes late
            identity="antifragile fleet retire",
        )
    )
    return deployment


async def retire(args: argparse.Namespace, settings: Settings) -> int:
    try:
        deployment = await retire_build(await connect(settings), settings, args.queue, args.build_id)
    except StillRunning as err:
        print(f"not retired: {err}")
        return 1
    except RPCError as err:
        if err.status != RPCStatusCode.FAILED_PRECONDITION:
            raise
        # e.g. its workers still poll: Temporal forgets a stopped worker a few minutes after it stops.
        print(f"not retired: {err.message}")
        return 1
    print(f"retired {deployment}:{args.build_id}")
    return 0
