"""Worker Versioning on the dev server, with real worker-default processes as the images run them
(WORKER_VERSIONING=true, BUILD_ID): a catchball started on build v1 keeps running on v1 after v2 becomes
current, new catchballs start on v2, and v1 can be retired only once its pinned run has ended."""

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from antifragile_cli.fleet import StillRunning, describe_queue, promote_build, retire_build
from antifragile_core.contracts.collective import (
    RUN_CATCHBALL,
    Alignment,
    CatchballRefinement,
    CatchballRequest,
)
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.queues import DEFAULT_QUEUE, OPENAI_QUEUE
from antifragile_core.settings import Settings
from antifragile_workflows.catchball import CatchballAnswer, CatchballSession, CatchballWorkflow, Participant
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

V1, V2 = "0.1.0+v1", "0.1.0+v2"


@RUN_CATCHBALL.implement
async def refine(request: CatchballRequest) -> CatchballRefinement:
    return CatchballRefinement(
        refined_statement=f"{request.statement} +{request.feedback}",
        changes=[],
        open_questions=[],
        alignment=Alignment(score=0.9, agreed=False, assessment="ok"),
        model="stand-in",
        usage=TokenUsage(),
    )


async def eventually(check: Callable[[], Awaitable[Any]]) -> Any:
    """`check()`'s first truthy result, within 20 s; an RPCError counts as not yet."""
    last: RPCError | None = None
    try:
        async with asyncio.timeout(20):
            while True:
                try:
                    if result := await check():
                        return result
                except RPCError as err:
                    last = err
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"never came true; last error: {last}") from last


async def succeeds(action: Awaitable[None]) -> bool:
    await action
    return True


@asynccontextmanager
async def build(
    client: Client, settings: Settings, tmp_path: Path, versioning: dict[str, str] | None = None
) -> AsyncIterator[None]:
    """A worker-default process of one build, promoted to current once it polls; SIGTERM on exit.
    `versioning`: the environment that versions it; by default WORKER_VERSIONING and BUILD_ID."""
    versioning = versioning or {"WORKER_VERSIONING": "true", "BUILD_ID": settings.build_id or ""}
    build_id = versioning.get("TEMPORAL_WORKER_BUILD_ID") or versioning["BUILD_ID"]
    command = shutil.which("worker-default")
    assert command is not None, "worker-default is not installed in this environment"
    env = (
        os.environ
        | {
            "TEMPORAL_ADDRESS": settings.temporal_address,
            "TASK_QUEUE_PREFIX": settings.task_queue_prefix,
            "DATABASE_URL": settings.postgres_dsn,
            "STORAGE_DIR": str(tmp_path / "objects"),
            "GRACEFUL_SHUTDOWN_SECONDS": "2",
            "OPENAI_API_KEY": "",
            "OPENAI_BASE_URL": "",
        }
        | versioning
    )
    proc = await asyncio.create_subprocess_exec(command, env=env, stderr=asyncio.subprocess.DEVNULL)
    try:
        await eventually(lambda: succeeds(promote_build(client, settings, DEFAULT_QUEUE, build_id)))
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout=30)


async def version_of(handle: WorkflowHandle[Any, Any]) -> tuple[str, str]:
    """The (deployment, build id) a workflow runs on."""
    described = await handle.describe()
    version = described.raw_description.workflow_execution_info.versioning_info.deployment_version
    return version.deployment_name, version.build_id


async def build_of(handle: WorkflowHandle[Any, Any]) -> str:
    return (await version_of(handle))[1]


async def test_a_pinned_catchball_stays_on_its_build_and_new_ones_start_on_the_current(
    make_settings: Callable[..., Settings], temporal_client: Client, org_id: str, tmp_path: Path
) -> None:
    v1 = make_settings(worker_versioning=True, build_id=V1)
    v2 = make_settings(worker_versioning=True, build_id=V2)
    queue = v1.task_queue_prefix + DEFAULT_QUEUE
    session = CatchballSession(
        organization_id=org_id,
        statement="Grow trust",
        participants=[Participant(name="alice", level="board"), Participant(name="bob", level="ops")],
        max_rounds=1,
    )

    async def start(name: str) -> WorkflowHandle[Any, Any]:
        return await temporal_client.start_workflow(
            CatchballWorkflow.run, session, id=f"{org_id}-{name}", task_queue=queue
        )

    async with Worker(temporal_client, task_queue=v1.task_queue_prefix + OPENAI_QUEUE, activities=[refine]):
        async with build(temporal_client, v1, tmp_path):
            first = await start("first")
            assert await eventually(lambda: first.query(CatchballWorkflow.whose_turn))
            async with build(temporal_client, v2, tmp_path):
                second = await start("second")
                turn = await first.execute_update(
                    CatchballWorkflow.answer, CatchballAnswer(participant="alice", feedback="sharper")
                )
                assert turn.statement_after == "Grow trust +sharper"
                assert await build_of(first) == V1, "the pinned run moved to the new build"
                assert await eventually(lambda: build_of(second)) == V2, "a new run started on the old build"

                view = await describe_queue(temporal_client, v1, DEFAULT_QUEUE)
                assert view.current == V2 and view.versions.keys() == {V1, V2}
                assert view.pinned_running == {V1: 1, V2: 1}
                print("\n".join(view.lines()))
                with pytest.raises(StillRunning, match="1 pinned workflows still run"):
                    await retire_build(temporal_client, v1, DEFAULT_QUEUE, V1)
                await first.terminate("its people left")
                await second.terminate("done with the test")
        await eventually(lambda: succeeds(retire_build(temporal_client, v1, DEFAULT_QUEUE, V1)))
    view = await describe_queue(temporal_client, v1, DEFAULT_QUEUE)
    assert V1 not in view.versions and view.current == V2


async def test_a_worker_takes_the_version_the_worker_controller_injects(
    make_settings: Callable[..., Settings], temporal_client: Client, org_id: str, tmp_path: Path
) -> None:
    """On Kubernetes, Temporal's Worker Controller runs each build as its own Deployment and names the
    version in TEMPORAL_DEPLOYMENT_NAME / TEMPORAL_WORKER_BUILD_ID (no WORKER_VERSIONING): the worker polls
    as that version, pinned types pin to it, and `fleet` finds the deployment from the queue's pollers."""
    settings = make_settings()
    injected = {
        "TEMPORAL_DEPLOYMENT_NAME": f"antifragile/{org_id}-worker",
        "TEMPORAL_WORKER_BUILD_ID": "0.2.0-7d9f",
    }
    session = CatchballSession(
        organization_id=org_id, statement="Grow trust", participants=[Participant(name="ana", level="board")]
    )
    async with build(temporal_client, settings, tmp_path, injected):
        handle = await temporal_client.start_workflow(
            CatchballWorkflow.run,
            session,
            id=f"{org_id}-catchball",
            task_queue=settings.task_queue_prefix + DEFAULT_QUEUE,
        )
        assert await eventually(lambda: handle.query(CatchballWorkflow.whose_turn))
        assert await version_of(handle) == (injected["TEMPORAL_DEPLOYMENT_NAME"], "0.2.0-7d9f")
        view = await describe_queue(temporal_client, settings, DEFAULT_QUEUE)
        print("\n".join(view.lines()))
        assert view.deployment == injected["TEMPORAL_DEPLOYMENT_NAME"]
        assert (view.current, view.pollers, view.pinned_running) == (
            "0.2.0-7d9f",
            {"0.2.0-7d9f": 1},
            {"0.2.0-7d9f": 1},
        )
        await handle.terminate("done with the test")
