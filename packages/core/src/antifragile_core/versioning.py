"""Worker Deployments: one deployment per worker kind and fleet, one version per build.

A versioned worker polls as version `<deployment>:<build id>`; new workflows go to the deployment's
current version, and a PINNED workflow stays on the version it started on until it ends
(antifragile_workflows.versioning says which types pin). Something must make a version current, or no
task reaches its workers: on Kubernetes that is Temporal's Worker Controller, which runs a Deployment per
build and injects TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_WORKER_BUILD_ID; elsewhere an operator with
WORKER_VERSIONING set and `antifragile fleet promote`. Without either a worker runs unversioned.
"""

import os
import subprocess
from importlib.metadata import PackageNotFoundError, version

from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import WorkerDeploymentConfig

from .queues import DEFAULT_QUEUE, ML_QUEUE, OPENAI_QUEUE
from .settings import Settings


def versioned(
    worker_versioning: bool, controller_deployment: str | None, controller_build: str | None
) -> bool:
    """Whether workers are versioned: asked for (WORKER_VERSIONING), or given a version by the Worker
    Controller (both TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_WORKER_BUILD_ID)."""
    return worker_versioning or bool(controller_deployment and controller_build)


VERSIONED_PROCESS = versioned(
    os.environ.get("WORKER_VERSIONING", "").strip().lower() in {"1", "true", "yes", "on"},
    os.environ.get("TEMPORAL_DEPLOYMENT_NAME"),
    os.environ.get("TEMPORAL_WORKER_BUILD_ID"),
)
"""Whether this process's workers are versioned, read once at import: Temporal refuses a workflow task
that declares a versioning behaviour from an unversioned worker, so workflow types declare theirs only
in a versioned process (antifragile_workflows.versioning)."""

WORKER_KINDS = {DEFAULT_QUEUE: "worker-default", ML_QUEUE: "worker-ml", OPENAI_QUEUE: "worker-openai"}
"""The worker kind serving each queue; its distribution is `antifragile-<kind>`."""


def deployment_name(settings: Settings, queue: str) -> str:
    """The Worker Deployment of `queue`'s worker kind in this fleet (the task-queue prefix applied), unless
    the Worker Controller named it (`<k8s namespace>/<WorkerDeployment name>`)."""
    return (
        settings.temporal_deployment_name or f"{settings.task_queue_prefix}antifragile-{WORKER_KINDS[queue]}"
    )


def build_id(settings: Settings, queue: str) -> str:
    """The Worker Controller's TEMPORAL_WORKER_BUILD_ID (image tag + pod template hash), else BUILD_ID when
    the image sets it, else `<package version>+<commit>`: the commit from GIT_COMMIT, else from git in a
    checkout, else "dev" (two builds of one version differ by their commit)."""
    if given := settings.temporal_worker_build_id or settings.build_id:
        return given
    try:
        package = version(f"antifragile-{WORKER_KINDS[queue]}")
    except PackageNotFoundError:
        package = "0"
    return f"{package}+{settings.git_commit or _git_commit() or 'dev'}"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def deployment_config(settings: Settings, queue: str) -> WorkerDeploymentConfig | None:
    """The worker's deployment version, or None (unversioned) when nothing asks for versioning.

    Workflow types that declare no behaviour AUTO_UPGRADE: they move to the current version at their
    next workflow task, which the replay test keeps safe.
    """
    if not versioned(
        settings.worker_versioning, settings.temporal_deployment_name, settings.temporal_worker_build_id
    ):
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(
            deployment_name=deployment_name(settings, queue), build_id=build_id(settings, queue)
        ),
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
    )
