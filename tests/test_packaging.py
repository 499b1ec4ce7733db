"""Releases stand alone: each package imports every one of its modules in an environment holding only
its declared dependencies, and pins its siblings to a compatible range (so a worker released before
core never installs with an incompatible core from the index)."""

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = sorted(path.parent.name for path in (ROOT / "packages").glob("*/pyproject.toml"))
SIBLING = re.compile(r"^(antifragile-[a-z-]+)(\[[^\]]+\])?(.*)$")

IMPORT_ALL = """
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(module.name)
"""


def requirements(member: str) -> list[str]:
    """Every requirement the member declares: dependencies, extras and dependency groups."""
    project = tomllib.loads((ROOT / "packages" / member / "pyproject.toml").read_text())
    found = list(project["project"].get("dependencies", []))
    for extra in project["project"].get("optional-dependencies", {}).values():
        found += extra
    for group in project.get("dependency-groups", {}).values():
        found += [r for r in group if isinstance(r, str)]
    return found


@pytest.mark.parametrize("member", MEMBERS)
def test_every_sibling_requirement_pins_a_compatible_range(member: str) -> None:
    own = f"antifragile-{member}"
    for requirement in requirements(member):
        match = SIBLING.match(requirement)
        if match and match.group(1) != own:
            assert ">=" in match.group(3) and "<" in match.group(3).replace("<=", ""), (
                f"{own} requires {requirement!r}: pin a compatible range, e.g. '{match.group(1)}>=0.1,<0.2'"
            )


@pytest.mark.packaging
@pytest.mark.parametrize("member", MEMBERS)
def test_each_package_imports_with_exactly_its_declared_dependencies(member: str, tmp_path: Path) -> None:
    """Its dependencies and extras only (no test tools): a module importing an undeclared one fails."""
    uv = shutil.which("uv")
    assert uv is not None, "uv must be on PATH (pip install uv)"
    venv = tmp_path / "venv"
    env = os.environ | {"UV_PROJECT_ENVIRONMENT": str(venv)}
    subprocess.run(
        [
            uv,
            "sync",
            "--frozen",
            "--quiet",
            "--package",
            f"antifragile-{member}",
            "--no-default-groups",
            "--all-extras",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    module = f"antifragile_{member.replace('-', '_')}"
    result = subprocess.run(
        [venv / "bin" / "python", "-c", IMPORT_ALL, module],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{module} imports something it does not declare:\n{result.stderr[-3000:]}"
