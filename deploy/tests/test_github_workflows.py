"""CI and release workflows: valid against GitHub's workflow schema, and covering every package."""

import importlib.util
import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
MEMBERS = sorted(path.parent.name for path in (ROOT / "packages").glob("*/pyproject.toml"))


def release_wheels() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release_wheels", ROOT / "tests" / "release_wheels.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") + step.get("uses", "") for step in job["steps"])


def test_workflows_match_the_github_workflow_schema(tool: Callable[[str], str]) -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", "ci.yml", "release.yml"],
        cwd=WORKFLOWS,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_tests_every_package_alone_and_the_whole_workspace() -> None:
    jobs = load("ci.yml")["jobs"]
    assert sorted(jobs["package"]["strategy"]["matrix"]["package"]) == MEMBERS
    package_steps = steps(jobs["package"])
    assert '--package "antifragile-${{ matrix.package }}" --no-default-groups --group test' in package_steps
    assert "uv run --no-sync pytest" in package_steps, "a plain uv run would sync the dev group back in"
    workspace_steps = steps(jobs["workspace"])
    assert "uv lock --check" in workspace_steps
    assert "apt-get install -y --no-install-recommends prometheus" in workspace_steps


def test_release_tests_the_wheel_alone_and_publishes_only_after_ci_and_its_tests() -> None:
    jobs = load("release.yml")["jobs"]
    test = steps(jobs["test"])
    # tests/release_wheels.py builds the clean environment and runs the member's tests in it.
    assert 'tests/release_wheels.py "$MEMBER"' in test
    assert '--wheels dist --wheels release-set --version "$VERSION"' in test
    script = test.split("tests/release_wheels.py", 1)[1].replace("\\\n", " ")
    argv = shlex.split(script.replace("$MEMBER", "core").replace("$VERSION", "1.2.3"))
    assert release_wheels().parse(argv).wheels == [Path("dist"), Path("release-set")]
    assert "ci.yml/runs?head_sha=$GITHUB_SHA" in steps(jobs["ci-passed"])
    assert set(jobs["publish"]["needs"]) == {"ci-passed", "build", "test"}
    assert jobs["publish"]["permissions"] == {"id-token": "write"}


def test_release_pushes_worker_images_with_the_tags_the_overlay_pins() -> None:
    jobs = load("release.yml")["jobs"]
    assert set(jobs["image"]["needs"]) == {"ci-passed", "build", "test"}
    push = steps(jobs["image"])
    assert "antifragile/worker-$kind:$VERSION" in push and "antifragile/api:$VERSION" in push
    assert "--push" in push
    overlay = yaml.safe_load(
        (ROOT / "deploy" / "k8s" / "overlays" / "production" / "kustomization.yaml").read_text()
    )
    for image in overlay["images"]:
        member = image["name"].removeprefix("antifragile/")
        project = (ROOT / "packages" / member / "pyproject.toml").read_text()
        assert f'version = "{image["newTag"]}"' in project, f"{member}: the overlay pins an unreleased tag"


def tag_step() -> str:
    [step] = [step for step in load("release.yml")["jobs"]["build"]["steps"] if step.get("id") == "tag"]
    return step["run"]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("core-v1.2.3", {"dist": "antifragile-core", "module": "antifragile_core", "version": "1.2.3"}),
        (
            "worker-default-v0.4.0rc1",
            {
                "dist": "antifragile-worker-default",
                "module": "antifragile_worker_default",
                "version": "0.4.0rc1",
            },
        ),
    ],
)
def test_release_tag_names_one_package_and_its_version(
    tmp_path: Path, tag: str, expected: dict[str, str]
) -> None:
    output = tmp_path / "github_output"
    env = os.environ | {"RELEASE_TAG": tag, "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-e", "-c", tag_step()], cwd=ROOT, env=env, check=True, timeout=30)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert expected.items() <= outputs.items()


def test_release_tag_for_an_unknown_package_fails(tmp_path: Path) -> None:
    env = os.environ | {"RELEASE_TAG": "nothing-v1.0.0", "GITHUB_OUTPUT": str(tmp_path / "out")}
    result = subprocess.run(
        ["bash", "-e", "-c", tag_step()], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "names no package" in result.stdout
