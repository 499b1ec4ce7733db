"""The README's main job, as a user runs it: `antifragile demo` starts the whole local stack as separate
processes, runs the demo organisation's documents, prints the results and stops everything."""

import re
from pathlib import Path

import psutil
import pytest
from antifragile_cli.main import main
from antifragile_testing.local_servers import free_port


@pytest.mark.usefixtures("own_logging")
def test_demo_processes_the_demo_documents_and_stops_the_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL", "S3_BUCKET", "TASK_QUEUE_PREFIX"):
        monkeypatch.delenv(var, raising=False)
    ports = ["--port", str(free_port()), "--ui-port", str(free_port()), "--api-port", str(free_port())]
    args = ["demo", "--state-dir", str(tmp_path), *ports]

    with pytest.raises(SystemExit) as exited:
        main([*args, "--no-train"])

    out = capsys.readouterr().out
    assert exited.value.code == 0, out
    for name in ("strategy-2027-2030.pdf", "swot-autumn-2026.docx", "annual-report-2026.md"):
        assert f"- {name}: done" in out
    assert "LLM steps skipped: no OPENAI_API_KEY or OPENAI_BASE_URL is set" in out
    assert "Training readiness: ready (4 documents" in out
    assert "Portal: http://127.0.0.1:" in out
    assert re.search(r"  Ana: http://127\.0\.0\.1:\d+/p/\S+\.\S+", out), out
    assert (tmp_path / "objects" / "orgs" / "demo-org").is_dir()
    assert stack_processes(tmp_path) == [], "the stack left processes running"


def stack_processes(state_dir: Path) -> list[str]:
    """Processes of this state dir: Temporal and PostgreSQL name it, workers have it in STORAGE_DIR."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            if str(state_dir) in cmdline or str(state_dir) in proc.environ().get("STORAGE_DIR", ""):
                found.append(cmdline)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found
