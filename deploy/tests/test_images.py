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
