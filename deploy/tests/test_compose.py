"""The compose stack: valid against the Compose specification, and wired the way the workers expect."""

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from antifragile_core.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1]
REPLICAS = {"worker-default": 2, "worker-openai": 2, "worker-ml": 1}
SETTINGS_ENV = {name.upper() for name in Settings.model_fields}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]


def seconds(duration: str) -> float:
    units = {"s": 1, "m": 60}
    return float(duration[:-1]) * units[duration[-1]]


def test_compose_file_matches_the_compose_spec(tool: Callable[[str], str]) -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workers_run_the_seeds_replica_counts_and_only_ml_reserves_a_gpu(services: dict[str, Any]) -> None:
    for name, replicas in REPLICAS.items():
        deploy = services[name]["deploy"]
        assert deploy["replicas"] == replicas
        devices = deploy.get("resources", {}).get("reservations", {}).get("devices", [])
        expected = [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}] if name == "worker-ml" else []
        assert devices == expected
        # A host without a GPU never builds or starts the 6 GB ML image: it needs --profile gpu.
        assert services[name].get("profiles", []) == (["gpu"] if name == "worker-ml" else [])


@pytest.mark.parametrize("name", REPLICAS)
def test_worker_image_environment_and_drain(services: dict[str, Any], name: str) -> None:
    worker = services[name]
    assert worker["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert worker["build"]["args"]["WORKER"] == name.removeprefix("worker-")
    assert (DEPLOY / worker["build"]["context"] / "packages" / name / "pyproject.toml").exists()
    env = worker["environment"]
    assert set(env) <= SETTINGS_ENV, set(env) - SETTINGS_ENV
    assert seconds(worker["stop_grace_period"]) > float(env["GRACEFUL_SHUTDOWN_SECONDS"])
    if name == "worker-openai":
        timeout = float(env.get("OPENAI_TIMEOUT_SECONDS", Settings().openai_timeout_seconds))
        assert float(env["GRACEFUL_SHUTDOWN_SECONDS"]) > timeout, "the drain must outlast a request"
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["POSTGRES_HOST"] in services and env["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert ("OPENAI_API_KEY" in env) == (name == "worker-openai")
    assert {"temporal", "postgresql", "minio"} <= set(worker["depends_on"])
    # Nothing in the stack makes a Worker Deployment version current: a versioned worker would get no task.
    assert "WORKER_VERSIONING" not in env


def test_temporal_persists_to_the_stacks_postgresql(services: dict[str, Any]) -> None:
    temporal = services["temporal"]["environment"]
    assert temporal["DB"] == "postgres12"
    assert temporal["POSTGRES_SEEDS"] == "postgresql"
    assert temporal["POSTGRES_PWD"] == services["postgresql"]["environment"]["POSTGRES_PASSWORD"]


def test_alerts_reach_a_webhook_receiver_in_the_stack(services: dict[str, Any]) -> None:
    prometheus = yaml.safe_load((DEPLOY / "monitoring" / "prometheus" / "prometheus.yml").read_text())
    [target] = prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host in services and f"{port}:{port}" in services[host]["ports"]
    manager = yaml.safe_load((DEPLOY / "monitoring" / "alertmanager" / "alertmanager.yml").read_text())
    [receiver] = [r for r in manager["receivers"] if r["name"] == manager["route"]["receiver"]]
    [webhook] = receiver["webhook_configs"]
    url = urlsplit(webhook["url"])
    assert url.hostname in services, "the receiver must be a service of the stack, whose logs show deliveries"
    assert str(url.port) == services[url.hostname]["environment"]["HTTP_PORT"]


def test_mounted_monitoring_files_exist(services: dict[str, Any]) -> None:
    for service in ("prometheus", "grafana", "alertmanager"):
        sources = [volume.split(":")[0] for volume in services[service]["volumes"]]
        mounted = [source for source in sources if source.startswith("./")]
        assert mounted, f"{service} mounts none of the repository's monitoring files"
        for source in mounted:
            assert (DEPLOY / source).exists(), source
