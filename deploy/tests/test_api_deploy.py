"""The API's image, compose service and Kubernetes manifests: slim, non-root, probed on its own port, its
signing secret from a Secret, reachable through a Service and an Ingress."""

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from antifragile_core.settings import Settings

from .test_kubernetes import render

DEPLOY = Path(__file__).resolve().parents[1]
DOCKERFILE = DEPLOY / "docker" / "Dockerfile.api"
SETTINGS_ENV = {name.upper() for name in Settings.model_fields}


@pytest.fixture(scope="module")
def resources(tool: Callable[[str], str]) -> dict[tuple[str, str], dict[str, Any]]:
    docs = yaml.safe_load_all(render(tool, "overlays/production"))
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs}


def test_api_image_passes_hadolint_and_runs_as_a_user(tool: Callable[[str], str]) -> None:
    result = subprocess.run(
        [tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = DOCKERFILE.read_text()
    assert "USER 10001:10001" in text and "/readyz" in text.split("HEALTHCHECK", 1)[1]
    assert "uv sync --frozen --no-dev --no-editable --package antifragile-api" in text


def test_compose_serves_the_api_with_a_signing_secret() -> None:
    api = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["api"]
    assert api["build"]["dockerfile"] == "deploy/docker/Dockerfile.api"
    assert "API_SIGNING_SECRET" in api["environment"] and api["ports"] == ["8000:8000"]


def test_api_deployment_service_and_ingress(resources: dict[tuple[str, str], dict[str, Any]]) -> None:
    pod = resources["Deployment", "api"]["spec"]["template"]
    [container] = pod["spec"]["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert set(env) <= SETTINGS_ENV
    assert env["API_SIGNING_SECRET"]["valueFrom"] == {
        "secretKeyRef": {"name": "antifragile-api", "key": "signing-secret"}
    }
    assert "OPENAI_API_KEY" not in env
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["image"] == "antifragile/api:0.1.0"
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    service = resources["Service", "api"]["spec"]
    assert service["selector"].items() <= pod["metadata"]["labels"].items()
    [rule] = resources["Ingress", "api"]["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "api", "port": {"name": "http"}}
    assert env["API_PUBLIC_URL"]["value"] == f"https://{rule['host']}"
