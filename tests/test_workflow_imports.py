"""Workflows reach workers by contract only: the package imports nothing but core, temporalio,
pydantic and the standard library, and every workflow passes the sandbox's validation."""

import ast
import sys
from pathlib import Path

import antifragile_workflows
from antifragile_workflows.registry import ALL_WORKFLOWS
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

ALLOWED = {"antifragile_core", "antifragile_workflows", "temporalio", "pydantic"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_workflows_import_only_core_and_temporalio() -> None:
    package_dir = Path(antifragile_workflows.__file__).parent
    for path in package_dir.rglob("*.py"):
        foreign = imported_roots(path) - ALLOWED - set(sys.stdlib_module_names)
        assert not foreign, f"{path.name} imports {sorted(foreign)}"


async def test_every_workflow_passes_the_strict_sandbox(temporal_client: Client) -> None:
    """Worker construction validates each workflow inside the sandbox with the default restrictions."""
    Worker(
        temporal_client,
        task_queue="sandbox-validation",
        workflows=ALL_WORKFLOWS,
        workflow_runner=SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default),
    )
    assert ALL_WORKFLOWS
