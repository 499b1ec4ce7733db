"""`antifragile documents add|list|show` against a running fleet: a folder added recursively, the outcomes
printed, then read back from PostgreSQL a page at a time, and only within the organisation."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from antifragile_cli.batches import register_batch
from antifragile_cli.main import parser, run_command
from antifragile_core.errors import EMPTY_DOCUMENT
from antifragile_core.settings import Settings
from antifragile_testing.default_worker import default_worker
from pydantic import ValidationError
from temporalio.client import Client


async def cli(settings: Settings, *argv: str) -> int:
    return await run_command(parser().parse_args(list(argv)), settings)


async def test_add_a_folder_then_list_and_show(
    make_settings: Callable[..., Settings],
    temporal_client: Client,
    tmp_path: Path,
    org_id: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "plan.md").write_text("# Plan 2027\n\nGrow through many small, cheap experiments. " * 20)
    (folder / "sub" / "notes.txt").write_text("Notes on suppliers and margins. " * 30)
    (folder / "sub" / "empty.txt").write_bytes(b"")
    (folder / ".hidden").write_text("never uploaded")
    settings = make_settings()

    async with default_worker(settings, temporal_client):
        status = await cli(settings, "documents", "add", org_id, str(folder))
    added = capsys.readouterr().out

    assert status == 0, added
    assert "Uploading 3 file(s)" in added
    assert "3 documents, 2 done, 1 failed" in added
    assert f"failures by type: {EMPTY_DOCUMENT} 1" in added
    assert re.search(r"\d  done    [0-9a-f-]{36}  plan\.md\n", added)
    assert re.search(r"\d  failed  -  +empty\.txt\n +process: EmptyDocument: ", added)
    batch_id = re.search(r"Batch (\S+) of", added).group(1)  # type: ignore[union-attr]

    assert await cli(settings, "documents", "list", org_id, "--batch", batch_id, "--limit", "2") == 0
    page = capsys.readouterr().out
    assert re.findall(r"^ +(\d+)  (?:done|failed) ", page, re.MULTILINE) == ["0", "1"]
    assert "(more: --offset 2)" in page

    assert await cli(settings, "documents", "list", org_id) == 0
    listing = capsys.readouterr().out
    assert "plan.md" in listing and "notes.txt" in listing and "empty.txt" not in listing
    document_id = next(line.split()[0] for line in listing.splitlines() if "plan.md" in line)

    assert await cli(settings, "documents", "show", org_id, document_id) == 0
    shown = capsys.readouterr().out
    assert f"document {document_id}  plan.md" in shown and "title 'Plan 2027'" in shown
    assert "text: # Plan 2027" in shown

    assert await cli(settings, "documents", "show", f"{org_id}-other", document_id) == 1
    assert "NotFound" in capsys.readouterr().err


async def test_a_path_that_is_not_there_is_refused_before_anything_is_uploaded(
    make_settings: Callable[..., Settings], tmp_path: Path, org_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-folder"
    assert await cli(make_settings(), "documents", "add", org_id, str(missing)) == 1
    assert capsys.readouterr().err == (
        f"error: InvalidInput: {missing} is neither a file nor a folder; check the path\n"
    )
    assert not (tmp_path / "objects").exists()


async def test_an_invalid_organisation_or_file_name_is_refused_before_anything_is_uploaded(
    make_settings: Callable[..., Settings], tmp_path: Path, org_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plan.md").write_text("plan")
    settings = make_settings()
    assert await cli(settings, "documents", "add", "Not An Org", str(tmp_path / "plan.md")) == 1
    assert "organization_id" in capsys.readouterr().err
    with pytest.raises(ValidationError, match="filename"):  # longer than any file system allows
        await register_batch(settings, org_id, [("n" * 300, b"x")], llm_skipped_reason=None)
    assert not (tmp_path / "objects").exists()
