"""The worker images: hadolint-clean, non-root, health-checked, and holding only their worker's lock."""

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
HEAVY = ("torch", "transformers", "peft", "trl")


def test_dockerfile_passes_hadolint(tool: Callable[[str], str]) -> None:
    result = subprocess.run(
        [tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_as_a_user_and_checks_readiness() -> None:
    text = DOCKERFILE.read_text()
    assert "USER 10001:10001" in text
    assert "/readyz" in text.split("HEALTHCHECK", 1)[1]
    assert 'uv sync --frozen --no-dev --no-editable --package "antifragile-worker-${WORKER}"' in text


def image_requirements(worker: str) -> list[str]:
    """What the image's `uv sync` installs: the locked requirements of one worker, tracing included."""
    result = subprocess.run(
        [
            "uv",
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-workspace",
            "--package",
            f"antifragile-worker-{worker}",
            "--extra",
            "tracing",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line.split("==")[0] for line in result.stdout.splitlines() if "==" in line]


@pytest.mark.parametrize("worker", ["default", "openai"])
def test_slim_images_hold_no_torch(worker: str) -> None:
    requirements = image_requirements(worker)
    assert "opentelemetry-sdk" in requirements
    assert not [name for name in requirements if name in HEAVY]


def test_ml_image_carries_cuda_torch() -> None:
    requirements = image_requirements("ml")
    assert "torch" in requirements
    assert any(name.startswith("nvidia-") for name in requirements), "the lock's torch is the CUDA build"


def stage(name: str) -> str:
    """The Dockerfile text of stage `name`, up to the next FROM."""
    text = DOCKERFILE.read_text()
    return text.split(f" AS {name}\n", 1)[1].split("\nFROM ", 1)[0]


def test_ml_stage_can_build_triton_kernels_in_a_writable_cache() -> None:
    ml = stage("worker-ml")
    assert "--no-install-recommends gcc libc6-dev" in ml, "Triton compiles a C helper at first use"
    assert "TRITON_CACHE_DIR=/app/.cache/triton" in ml
    runtime = stage("runtime")
    assert "HOME=/app" in runtime and "XDG_CACHE_HOME=/app/.cache" in runtime
    manifest = (ROOT / "deploy" / "k8s" / "base" / "worker-ml.yaml").read_text()
    assert "mountPath: /app/.cache" in manifest, "the cache must be a writable volume on a read-only root"
    assert "FROM worker-${WORKER}" in DOCKERFILE.read_text()


def test_images_carry_their_build_but_leave_versioning_to_whoever_promotes() -> None:
    """A versioned worker whose version nobody made current gets no task at all: the image must not
    switch versioning on for compose or `docker run`; the Worker Controller's injected version does."""
    runtime = stage("runtime")
    assert "WORKER_VERSIONING=" not in runtime
    assert "BUILD_ID=${BUILD_ID}" in runtime and "GIT_COMMIT=${GIT_COMMIT}" in runtime
