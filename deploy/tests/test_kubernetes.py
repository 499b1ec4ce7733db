"""The kustomize overlay renders, validates against Kubernetes' schemas, and wires the fleet together."""

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from antifragile_core.queues import DEFAULT_QUEUE, ML_QUEUE, OPENAI_QUEUE
from antifragile_core.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1]
KUBERNETES_VERSION = "1.31.0"
WORKERS = {"worker-default": DEFAULT_QUEUE, "worker-openai": OPENAI_QUEUE, "worker-ml": ML_QUEUE}
SETTINGS_ENV = {name.upper() for name in Settings.model_fields}
CREDENTIAL_KEYS = {"POSTGRES_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
"""Keys of the antifragile-credentials Secret that the README tells operators to create."""


def render(tool: Callable[[str], str], kustomization: str) -> str:
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(DEPLOY / "k8s" / kustomization)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def manifests(tool: Callable[[str], str]) -> str:
    return render(tool, "overlays/production")


@pytest.fixture(scope="module")
def resources(manifests: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(manifests)}


@pytest.mark.parametrize("kustomization", ["base", "overlays/production"])
def test_manifests_pass_kubernetes_validate_strictly(tool: Callable[[str], str], kustomization: str) -> None:
    result = subprocess.run(
        [tool("kubernetes-validate"), "-k", KUBERNETES_VERSION, "--strict", "--quiet", "-"],
        input=render(tool, kustomization),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Only KEDA's custom resources are outside the Kubernetes schemas; they are checked field by field below.
    unknown = [line for line in result.stdout.splitlines() if "Couldn't find schema" in line]
    assert all("kind ScaledObject" in line or "kind ScaledJob" in line for line in unknown), unknown


def settings_configmap(resources: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    [configmap] = [doc for (kind, _), doc in resources.items() if kind == "ConfigMap"]
    return configmap["data"]


def pod_template(resources: dict[tuple[str, str], dict[str, Any]], worker: str) -> dict[str, Any]:
    """The worker's pod template: its Deployment's, or for worker-ml its ScaledJob's Job template."""
    if worker == "worker-ml":
        return resources["ScaledJob", worker]["spec"]["jobTargetRef"]["template"]
    return resources["Deployment", worker]["spec"]["template"]


def container(resources: dict[tuple[str, str], dict[str, Any]], worker: str) -> dict[str, Any]:
    [worker_container] = pod_template(resources, worker)["spec"]["containers"]
    return worker_container


@pytest.mark.parametrize("worker", WORKERS)
def test_deployment_drains_within_its_grace_and_probes_the_health_endpoints(
    resources: dict[tuple[str, str], dict[str, Any]], worker: str
) -> None:
    pod = pod_template(resources, worker)
    spec = container(resources, worker)
    env = {item["name"]: item for item in spec["env"]}
    graceful = float(env["GRACEFUL_SHUTDOWN_SECONDS"]["value"])
    assert pod["spec"]["terminationGracePeriodSeconds"] > graceful + 10
    if worker == "worker-openai":
        timeout = float(
            settings_configmap(resources).get("OPENAI_TIMEOUT_SECONDS", Settings().openai_timeout_seconds)
        )
        assert graceful > timeout, "a drain shorter than a request cancels calls that are billed anyway"
    health_port = int(settings_configmap(resources)["HEALTH_PORT"])
    ports = {port["name"]: port["containerPort"] for port in spec["ports"]}
    assert ports["health"] == health_port
    assert ports["metrics"] == int(settings_configmap(resources)["METRICS_PORT"])
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(ports["metrics"])
    assert spec["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "health"}
    assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert spec["image"] == f"antifragile/{worker}:0.1.0"


@pytest.mark.parametrize("worker", WORKERS)
def test_environment_names_are_settings_and_only_openai_sees_the_key(
    resources: dict[tuple[str, str], dict[str, Any]], worker: str
) -> None:
    spec = container(resources, worker)
    names = set(settings_configmap(resources)) | {item["name"] for item in spec["env"]} | CREDENTIAL_KEYS
    assert names <= SETTINGS_ENV, names - SETTINGS_ENV
    keys = [item for item in spec["env"] if item["name"] == "OPENAI_API_KEY"]
    if worker == "worker-openai":
        assert keys == [
            {
                "name": "OPENAI_API_KEY",
                "valueFrom": {"secretKeyRef": {"name": "antifragile-openai", "key": "api-key"}},
            }
        ]
    else:
        assert keys == []


def test_only_the_ml_worker_claims_a_gpu(resources: dict[tuple[str, str], dict[str, Any]]) -> None:
    for worker in WORKERS:
        limits = container(resources, worker)["resources"]["limits"]
        assert limits.get("nvidia.com/gpu") == ("1" if worker == "worker-ml" else None)


@pytest.mark.parametrize("worker", ["worker-default", "worker-openai"])
def test_scaled_object_scales_the_deployment_on_its_queues_activity_backlog(
    resources: dict[tuple[str, str], dict[str, Any]], worker: str
) -> None:
    scaled = resources["ScaledObject", worker]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["metadata"]["namespace"] == "antifragile"
    assert scaled["spec"]["scaleTargetRef"] == {"name": worker}
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    [trigger] = scaled["spec"]["triggers"]
    metadata = trigger["metadata"]
    assert trigger["type"] == "temporal"
    assert metadata["taskQueue"] == WORKERS[worker]
    assert metadata["queueTypes"] == "activity"
    assert metadata["endpointFromEnv"] == "TEMPORAL_ADDRESS"
    assert metadata["namespace"] == settings_configmap(resources)["TEMPORAL_NAMESPACE"]
    assert int(metadata["targetQueueSize"]) >= 1
    assert all(isinstance(value, str) for value in metadata.values()), "KEDA metadata values are strings"


def test_training_runs_as_one_job_per_activity_that_no_scale_down_stops(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert ("Deployment", "worker-ml") not in resources, (
        "a scaled Deployment's scale-down kills busy GPU pods"
    )
    scaled = resources["ScaledJob", "worker-ml"]["spec"]
    assert scaled["scalingStrategy"]["strategy"] == "accurate", "Temporal's backlog leaves out running tasks"
    job = scaled["jobTargetRef"]
    assert job["template"]["spec"]["restartPolicy"] == "Never" and job["backoffLimit"] == 0
    env = {item["name"]: item.get("value") for item in container(resources, "worker-ml")["env"]}
    assert env["EXIT_AFTER_ACTIVITIES"] == "1"
    [trigger] = scaled["triggers"]
    assert trigger["type"] == "temporal" and trigger["metadata"]["taskQueue"] == ML_QUEUE
    assert trigger["metadata"]["queueTypes"] == "activity"
    assert trigger["metadata"]["namespace"] == settings_configmap(resources)["TEMPORAL_NAMESPACE"]


def test_a_training_jobs_worker_stays_for_a_final_scrape_within_its_grace(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """The Job's worker exits right after its activity: it must wait for Prometheus to pull the outcome."""
    prometheus = yaml.safe_load((DEPLOY / "monitoring" / "prometheus" / "prometheus.yml").read_text())
    scrape_interval = float(prometheus["global"]["scrape_interval"].removesuffix("s"))
    env = {item["name"]: item.get("value") for item in container(resources, "worker-ml")["env"]}
    linger = float(env["METRICS_FINAL_SCRAPE_SECONDS"])
    assert linger > 2 * scrape_interval, "one failed scrape would lose the training's failure"
    # An eviction during the wait still leaves the pod time to finish it (an eviction before it skips it).
    assert pod_template(resources, "worker-ml")["spec"]["terminationGracePeriodSeconds"] > linger + 10


@pytest.mark.parametrize("worker", ["worker-default", "worker-openai"])
def test_disruption_budget_selects_the_workers_pods(
    resources: dict[tuple[str, str], dict[str, Any]], worker: str
) -> None:
    budget = resources["PodDisruptionBudget", worker]["spec"]
    pod_labels = resources["Deployment", worker]["spec"]["template"]["metadata"]["labels"]
    assert budget["selector"]["matchLabels"].items() <= pod_labels.items()
    minimum = resources["ScaledObject", worker]["spec"]["minReplicaCount"]
    assert budget.get("minAvailable", 0) < minimum, "a budget the minimum replicas cannot meet blocks drains"
