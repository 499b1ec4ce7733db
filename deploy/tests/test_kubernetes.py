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
CUSTOM_KINDS = {"ScaledJob", "WorkerDeployment", "WorkerResourceTemplate", "Connection"}
CONTROLLED = ["worker-default", "worker-openai"]
"""The workers Temporal's Worker Controller runs, a Kubernetes Deployment per build."""


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
    # Only KEDA's and the Worker Controller's custom resources are outside the Kubernetes schemas; they are
    # checked field by field below.
    unknown = [line for line in result.stdout.splitlines() if "Couldn't find schema" in line]
    assert all(any(f"kind {kind}" in line for kind in CUSTOM_KINDS) for line in unknown), unknown


def settings_configmap(resources: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    [configmap] = [doc for (kind, _), doc in resources.items() if kind == "ConfigMap"]
    return configmap["data"]


def pod_template(resources: dict[tuple[str, str], dict[str, Any]], worker: str) -> dict[str, Any]:
    """The worker's pod template: its WorkerDeployment's, or for worker-ml its ScaledJob's Job template."""
    if worker == "worker-ml":
        return resources["ScaledJob", worker]["spec"]["jobTargetRef"]["template"]
    return resources["WorkerDeployment", worker]["spec"]["template"]


def per_build(resources: dict[tuple[str, str], dict[str, Any]], worker: str, kind: str) -> dict[str, Any]:
    """The `kind` resource the Worker Controller stamps out for each running build of `worker`."""
    [template] = [
        doc
        for (k, _), doc in resources.items()
        if k == "WorkerResourceTemplate"
        and doc["spec"]["workerDeploymentRef"] == {"name": worker}
        and doc["spec"]["template"]["kind"] == kind
    ]
    return template["spec"]["template"]


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


@pytest.mark.parametrize("worker", CONTROLLED)
def test_each_build_scales_on_its_own_backlog(
    resources: dict[tuple[str, str], dict[str, Any]], worker: str
) -> None:
    scaled = per_build(resources, worker, "ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"] == {}, "the controller fills in each build's Deployment"
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    [trigger] = scaled["spec"]["triggers"]
    metadata = trigger["metadata"]
    assert trigger["type"] == "temporal"
    assert metadata["taskQueue"] == WORKERS[worker]
    # Empty: the controller fills in each build's Worker Deployment version (and rejects values set here),
    # so a build scales on its own backlog, not on the whole queue's.
    assert {
        key: metadata[key] for key in ("namespace", "workerDeploymentName", "workerDeploymentBuildId")
    } == {
        "namespace": "",
        "workerDeploymentName": "",
        "workerDeploymentBuildId": "",
    }
    # worker-default runs every workflow: its builds' workflow tasks wait for workers as well
    assert metadata["queueTypes"] == ("workflow,activity" if worker == "worker-default" else "activity")
    assert metadata["endpointFromEnv"] == "TEMPORAL_ADDRESS"
    assert int(metadata["targetQueueSize"]) >= 1
    assert all(isinstance(value, str) for value in metadata.values()), "KEDA metadata values are strings"


def test_a_release_runs_beside_the_build_its_pinned_workflows_started_on(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """worker-default hosts catchball, wisdom and training runs, PINNED to their build for days: a release
    must start a new Deployment beside the old one and keep the old until no pinned run is left, which is
    what the Worker Controller does; a Deployment rolled in place would strand them."""
    settings = settings_configmap(resources)
    for worker in CONTROLLED:
        assert ("Deployment", worker) not in resources, f"{worker} rolled in place strands pinned workflows"
        spec = resources["WorkerDeployment", worker]["spec"]
        assert spec["rollout"]["strategy"] in {"AllAtOnce", "Progressive"}, "Manual waits for a person"
        assert {"scaledownDelay", "deleteDelay"} <= spec["sunset"].keys()
        assert spec["workerOptions"]["temporalNamespace"] == settings["TEMPORAL_NAMESPACE"]
        connection = resources["Connection", spec["workerOptions"]["connectionRef"]["name"]]
        assert connection["spec"]["hostPort"] == settings["TEMPORAL_ADDRESS"]
        assert "replicas" not in spec, "each build's ScaledObject owns its replica count"
    assert resources["WorkerDeployment", "worker-default"]["spec"]["rollout"]["strategy"] == "Progressive"
    # The controller's version is the only switch: set by hand, a version nobody promotes gets no task.
    for worker in WORKERS:
        assert "WORKER_VERSIONING" not in {item["name"] for item in container(resources, worker)["env"]}
    assert "WORKER_VERSIONING" not in settings


def test_the_controller_may_create_every_per_build_resource(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    values = yaml.safe_load((DEPLOY / "k8s" / "worker-controller-values.yaml").read_text())
    allowed = {
        kind for entry in values["workerResourceTemplate"]["allowedResources"] for kind in entry["kinds"]
    }
    used = {
        doc["spec"]["template"]["kind"]
        for (kind, _), doc in resources.items()
        if kind == "WorkerResourceTemplate"
    }
    assert used == allowed == {"ScaledObject", "PodDisruptionBudget"}


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


@pytest.mark.parametrize("worker", CONTROLLED)
def test_each_builds_disruption_budget_lets_one_pod_go(
    resources: dict[tuple[str, str], dict[str, Any]], worker: str
) -> None:
    budget = per_build(resources, worker, "PodDisruptionBudget")["spec"]
    assert budget["selector"] == {"matchLabels": {}}, "the controller selects each build's pods"
    minimum = per_build(resources, worker, "ScaledObject")["spec"]["minReplicaCount"]
    assert budget.get("minAvailable", 0) < minimum, "a budget the minimum replicas cannot meet blocks drains"
