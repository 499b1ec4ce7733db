"""A package's released wheel, installed alone in a clean environment, passes the package's own tests.

    python3 tests/release_wheels.py [MEMBER ...] [--work DIR]
        builds this commit's wheel of every member (the release set), then tests each MEMBER (default: all)
    python3 tests/release_wheels.py MEMBER --wheels dist --wheels release-set --version 1.2.3
        what the release workflow runs: the wheels it built, nothing built here

Per member: a fresh venv (uv) holding the member's wheel, its `test` dependency group and its siblings
(the set's wheels, each pinned to its version in the set; other siblings would come from the index, never
from this checkout); a check that the member imports from the venv with the wheel's version; then the
member's tests, run from the repository root as CI runs them, after which every antifragile module they
loaded must have come from the venv too. Needs only the standard library and uv (UV_PYTHON picks the
Python of the venvs).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = sorted(path.parent.name for path in (ROOT / "packages").glob("*/pyproject.toml"))

IN_VENV = """
import importlib, importlib.metadata, json, sys, sysconfig
from pathlib import Path

module, dist, version, report, *pytest_args = sys.argv[1:]
site = Path(sysconfig.get_paths()["purelib"]).resolve()


def from_elsewhere():
    loaded = [m for n, m in list(sys.modules.items()) if n.split(".")[0].startswith("antifragile_")]
    files = [Path(m.__file__).resolve() for m in loaded if getattr(m, "__file__", None)]
    return sorted(str(f) for f in files if not f.is_relative_to(site))


if pytest_args:  # the tests; then, whatever antifragile module they loaded must be the venv's
    import pytest

    status = pytest.main(pytest_args)
    assert not from_elsewhere(), f"the tests loaded antifragile modules from elsewhere: {from_elsewhere()}"
    sys.exit(status)
imported = importlib.import_module(module)
installed = sorted((d.metadata["Name"], d.version) for d in importlib.metadata.distributions())
Path(report).write_text(json.dumps({
    "python": sys.version.split()[0],
    "module_file": imported.__file__,
    "distributions": len(installed),
    "antifragile": [f"{name} {v}" for name, v in installed if name.startswith("antifragile")],
}))
assert importlib.metadata.version(dist) == version, (importlib.metadata.version(dist), version)
assert not from_elsewhere(), f"{module} is not the wheel's: {from_elsewhere()}"
"""


@dataclass(frozen=True)
class Wheel:
    member: str
    version: str
    path: Path

    @property
    def dist(self) -> str:
        return f"antifragile-{self.member}"

    @property
    def module(self) -> str:
        return f"antifragile_{self.member.replace('-', '_')}"

    @classmethod
    def parse(cls, path: Path) -> "Wheel":
        name, version = path.name.split("-")[:2]
        return cls(name.removeprefix("antifragile_").replace("_", "-"), version, path)


@dataclass
class Outcome:
    member: str
    environment: dict
    status: int
    install_s: float
    tests_s: float
    counts: dict[str, int]
    """pytest's junit counts: tests, failures, errors, skipped."""

    @property
    def passed(self) -> int:
        c = self.counts
        return c.get("tests", 0) - c.get("failures", 0) - c.get("errors", 0) - c.get("skipped", 0)


def uv(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["uv", *map(str, args)], cwd=cwd, check=True)


def build_release_set(out: Path) -> None:
    """This commit's wheel of every member: the siblings released together with any one of them."""
    uv("build", "--all-packages", "--wheel", "--out-dir", out, cwd=ROOT)


def find_wheels(folders: list[Path]) -> dict[str, Wheel]:
    wheels = [Wheel.parse(p) for folder in folders for p in sorted(folder.glob("antifragile_*.whl"))]
    found = {w.member: w for w in wheels}
    assert len(found) == len(wheels), f"two wheels of one member in {folders}: {wheels}"
    return found


def test_requirements(member: str) -> list[str]:
    """The member's `test` dependency group, include-group entries resolved."""
    groups = tomllib.loads((ROOT / "packages" / member / "pyproject.toml").read_text()).get(
        "dependency-groups", {}
    )

    def expand(name: str) -> list[str]:
        found: list[str] = []
        for entry in groups.get(name, []):
            found += expand(entry["include-group"]) if isinstance(entry, dict) else [entry]
        return found

    return expand("test")


def check_member(wheel: Wheel, wheels: dict[str, Wheel], folders: list[Path], work: Path) -> Outcome:
    here = work / wheel.member
    shutil.rmtree(here, ignore_errors=True)
    here.mkdir(parents=True)
    venv, python = here / "venv", here / "venv" / "bin" / "python"
    (here / "test-requirements.txt").write_text("\n".join(test_requirements(wheel.member)) + "\n")
    siblings = [f"{w.dist}=={w.version}" for w in wheels.values() if w.member != wheel.member]
    (here / "siblings.txt").write_text("\n".join(siblings) + "\n")

    started = time.monotonic()
    # Run outside the checkout so no project configuration of this repository reaches the install.
    uv("venv", "--quiet", venv, cwd=here)
    find_links = [arg for folder in folders for arg in ("--find-links", folder.resolve())]
    # uv caches a wheel by name and version: a rebuilt wheel of an unchanged version must be read again.
    refresh = [arg for w in wheels.values() for arg in ("--refresh-package", w.dist)]
    uv("pip", "install", "--quiet", "--python", python, *find_links, *refresh, wheel.path.resolve(),
       "-r", "test-requirements.txt", "-c", "siblings.txt", cwd=here)  # fmt: skip
    installed = time.monotonic()

    tests = ROOT / "packages" / wheel.member / "tests"
    junit, report = here / "junit.xml", here / "environment.json"
    # From the repository root, as CI runs the tests (its pytest configuration applies).
    in_venv = [python, "-c", IN_VENV, wheel.module, wheel.dist, wheel.version, report]
    status = subprocess.run(in_venv, cwd=ROOT).returncode
    if status == 0 and tests.is_dir():
        pytest_args = ["-p", "no:cacheprovider", f"--basetemp={here / 'tmp'}", f"--junitxml={junit}", tests]
        status = subprocess.run([*in_venv, *pytest_args], cwd=ROOT).returncode
    environment = json.loads(report.read_text()) if report.exists() else {}
    counts = {}
    if junit.exists():
        suite = ET.parse(junit).getroot().find("testsuite")
        counts = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    tested = time.monotonic()
    return Outcome(wheel.member, environment, status, installed - started, tested - installed, counts)


def describe(o: Outcome) -> str:
    env = o.environment
    c = o.counts
    tests = f"{o.passed} passed, {c.get('failures', 0)} failed, {c.get('errors', 0)} errors, "
    tests += f"{c.get('skipped', 0)} skipped"
    return (
        f"{'ok  ' if o.status == 0 else 'FAIL'} {o.member}: python {env.get('python', '?')}, "
        f"{env.get('distributions', '?')} distributions, {', '.join(env.get('antifragile', []))}\n"
        f"     {tests}; install {o.install_s:.0f}s, tests {o.tests_s:.0f}s (exit {o.status})"
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "members", nargs="*", metavar="MEMBER", help=f"one of {', '.join(MEMBERS)}; default all"
    )
    parser.add_argument("--wheels", type=Path, action="append", help="folder of built wheels (repeatable)")
    parser.add_argument("--version", help="the version each tested member's wheel must carry")
    parser.add_argument("--work", type=Path, help="where the venvs go (default: a new temporary folder)")
    args = parser.parse_args(argv)
    if unknown := set(args.members) - set(MEMBERS):
        parser.error(f"no such member: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    work = (args.work or Path(tempfile.mkdtemp(prefix="release-wheels-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    folders = args.wheels
    if not folders:
        shutil.rmtree(work / "wheels", ignore_errors=True)
        build_release_set(work / "wheels")
        folders = [work / "wheels"]
    wheels = find_wheels(folders)

    outcomes = []
    for member in args.members or MEMBERS:
        wheel = wheels.get(member)
        assert wheel is not None, f"no wheel of antifragile-{member} in {folders}"
        assert args.version in (None, wheel.version), f"{wheel.path.name} is not version {args.version}"
        print(f"\n=== antifragile-{member} {wheel.version}, alone in {work / member}", flush=True)
        outcomes.append(check_member(wheel, wheels, folders, work))
        print(describe(outcomes[-1]), flush=True)

    print("\nReleased wheels, each alone in a clean environment:")
    for outcome in outcomes:
        print(describe(outcome))
    return 0 if all(o.status == 0 for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
