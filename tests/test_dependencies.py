"""Slim means slim: the resolved environments of the slim workers hold no ML stack."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ML_STACK = {"torch", "transformers", "peft", "trl", "accelerate", "datasets", "nvidia-cublas-cu12"}


def resolved(package: str) -> set[str]:
    """Distribution names `uv` would install for `package` alone, from the committed lock."""
    uv = shutil.which("uv")
    assert uv is not None, "uv must be on PATH (pip install uv)"
    out = subprocess.run(
        [uv, "export", "--package", package, "--no-dev", "--frozen", "--no-hashes", "--no-emit-workspace"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {
        re.split(r"[=<>;\[ ]", line, maxsplit=1)[0].lower()
        for line in out.splitlines()
        if line and not line.startswith(("#", " "))
    }


@pytest.mark.parametrize(
    "package",
    [
        "antifragile-worker-default",
        "antifragile-worker-openai",
        "antifragile-core",
        "antifragile-workflows",
        "antifragile-api",
    ],
)
def test_slim_packages_hold_no_ml_stack(package: str) -> None:
    assert resolved(package) & ML_STACK == set()


@pytest.mark.parametrize("package", ["antifragile-worker-default", "antifragile-api"])
def test_slim_services_hold_no_agents_sdk(package: str) -> None:
    assert {"openai-agents", "openai"} & resolved(package) == set()


def test_ml_worker_holds_the_ml_stack() -> None:
    assert {"torch", "transformers", "peft", "trl"} <= resolved("antifragile-worker-ml")
