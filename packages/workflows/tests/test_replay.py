"""Recorded histories (complete runs and runs stopped mid-flight) replay on today's workflow code, so a
release of worker-default cannot break the workflows already running. Re-record with
`uv run python -m antifragile_testing.record_histories` only when a change is meant to alter new runs."""

import asyncio
import json
from pathlib import Path
from typing import Any

from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_worker_default import main as worker_default
from antifragile_workflows.catchball import CatchballSession
from antifragile_workflows.registry import ALL_WORKFLOWS
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

HISTORIES = Path(__file__).parent / "histories"

HOW_TO_FIX = """\
Workflow code no longer replays histories recorded from running workflows: a deployed worker would fail
these workflows mid-flight with a non-determinism error. Keep running workflows on the old path:
  - guard the new behaviour with `if workflow.patched("<change-id>"):` (and keep the old branch until no
    workflow started before the change is running; then `workflow.deprecate_patch`), or
  - give the new behaviour a new workflow type (or ship it as a new Worker Deployment version: the
    PINNED workflows stay on the build they started on).
Re-record the fixtures (uv run python -m antifragile_testing.record_histories) only for intended changes
of new runs, after making old runs replay.
"""


def recorded() -> dict[str, WorkflowHistory]:
    """Each fixture by file name (`<WorkflowType>--<scenario>`), replayed under its run's workflow id."""
    histories = {}
    for path in sorted(HISTORIES.glob("*.json")):
        data = json.loads(path.read_text())
        histories[path.stem] = WorkflowHistory.from_json(data.pop("workflowId"), data)
    return histories


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


async def replay_failures(
    workflows: tuple[type, ...], histories: dict[str, WorkflowHistory], **options: Any
) -> list[str]:
    # The replayer's task queue is "replay-<build_id>"; workflows derive their fleet from the queue they
    # run on, so this build id makes it a fleet's default-queue.
    replayer = Replayer(
        workflows=workflows, data_converter=pydantic_data_converter, build_id=DEFAULT_QUEUE, **options
    )
    failures = []
    for name, history in histories.items():
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures.append(f"{name}.json: {result.replay_failure}")
    return failures


async def test_every_recorded_history_replays_on_the_current_workflow_code() -> None:
    failures = await replay_failures(ALL_WORKFLOWS, recorded())
    assert not failures, HOW_TO_FIX + "\n".join(failures)


def test_every_workflow_type_worker_default_hosts_has_a_complete_and_recorded_history() -> None:
    hosted = {cls.__name__ for cls in worker_default.ALL_WORKFLOWS}  # no workflow type is renamed
    histories = recorded()
    recorded_types = {workflow_type(h) for h in histories.values()}
    complete = {workflow_type(h) for name, h in histories.items() if name.endswith("--complete")}
    assert hosted <= recorded_types, f"record a history for {sorted(hosted - recorded_types)}"
    assert hosted <= complete, f"record a complete run of {sorted(hosted - complete)}"


@workflow.defn(name="CatchballWorkflow")
class ReorderedCatchball:
    """CatchballWorkflow with one timer added before its first turn: a changed command order."""

    @workflow.run
    async def run(self, session: CatchballSession) -> None:
        await asyncio.sleep(1)
        await workflow.wait_condition(lambda: False)


async def test_a_changed_command_order_fails_replay() -> None:
    waiting = {"CatchballWorkflow--waiting-for-answer": recorded()["CatchballWorkflow--waiting-for-answer"]}
    # Unsandboxed: the sandbox cannot re-import a class defined in a test module.
    (failure,) = await replay_failures(
        (ReorderedCatchball,), waiting, workflow_runner=UnsandboxedWorkflowRunner()
    )
    assert "nondeterminism" in failure.lower()
