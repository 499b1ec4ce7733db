"""The shared ingestion cases and our own fault corpus, held to their expect.json: the shared ones (and a
few of ours) through the real upload path on PostgreSQL and the object store, the rest at extract()."""

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from antifragile_core.contracts.documents import PROCESS_DOCUMENT_UPLOAD, DocumentUpload
from antifragile_core.storage import ObjectStore
from antifragile_worker_default.resources import Resources
from fault_corpus import CASES, Outcome, check, run_extract, write_corpus
from temporalio.exceptions import ApplicationError

Run = Callable[[Resources, Any, Any], Awaitable[Any]]
Stage = Callable[[ObjectStore, str, str, bytes], Awaitable[DocumentUpload]]

SHARED = Path(__file__).parents[3] / ".." / "shared" / "ingestion-cases"
UPLOADED_OWN = [
    "docx_textbox_alternate_content",
    "xlsx_million_row_claim",
    "txt_c1_and_nul",
    "md_title_control",
]


def _shared_cases() -> list[Any]:
    if not (SHARED / "expect.json").is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no shared ingestion cases at {SHARED}"))]
    return [pytest.param(name, id=name) for name in json.loads((SHARED / "expect.json").read_text())]


async def _upload(
    res: Resources, run_activity: Run, stage: Stage, org: str, filename: str, data: bytes
) -> Outcome:
    """Stage `data`, run process_document_upload, and read back what it stored."""
    upload = await stage(res.store, org, filename, data)
    start = time.perf_counter()
    try:
        doc = await run_activity(res, PROCESS_DOCUMENT_UPLOAD, upload)
    except ApplicationError as e:
        return Outcome(time.perf_counter() - start, error=e)
    seconds = time.perf_counter() - start
    row = await res.pool.fetchrow(
        "SELECT title, media_type FROM documents WHERE id = $1", uuid.UUID(doc.document_id)
    )
    assert (row["title"], row["media_type"]) == (doc.title, doc.media_type)
    assert "\x00" not in (row["title"] or "")
    text = (await res.store.get(doc.text_key)).decode()
    return Outcome(seconds, doc.media_type, text, doc.title)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    directory = tmp_path_factory.mktemp("fault-corpus")
    return directory, write_corpus(directory)


@pytest.mark.parametrize("name", _shared_cases())
async def test_shared_case_through_the_upload_path(
    name: str, make_resources: Any, run_activity: Run, stage: Stage, org_id: str
) -> None:
    expectation = json.loads((SHARED / "expect.json").read_text())[name]
    data = (SHARED / name / expectation["file"]).read_bytes()
    async with make_resources(max_document_bytes=expectation["max_bytes"]) as res:
        outcome = await _upload(res, run_activity, stage, org_id, expectation["file"], data)
    assert check(expectation, outcome) == []


@pytest.mark.parametrize("name", list(CASES))
def test_own_case_at_extract(name: str, corpus: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    directory, expectations = corpus
    expectation = expectations[name]
    data = (directory / name / expectation["file"]).read_bytes()
    assert check(expectation, run_extract(data, expectation["max_bytes"])) == []


@pytest.mark.parametrize("name", UPLOADED_OWN)
async def test_own_case_through_the_upload_path(
    name: str,
    corpus: tuple[Path, dict[str, dict[str, Any]]],
    resources: Resources,
    run_activity: Run,
    stage: Stage,
    org_id: str,
) -> None:
    directory, expectations = corpus
    expectation = expectations[name]
    data = (directory / name / expectation["file"]).read_bytes()
    outcome = await _upload(resources, run_activity, stage, org_id, expectation["file"], data)
    assert check(expectation, outcome) == []


async def test_limits_come_from_the_settings(
    make_resources: Any, run_activity: Run, stage: Stage, org_id: str, corpus: tuple[Path, dict[str, Any]]
) -> None:
    directory, expectations = corpus
    name = "xlsx_types_and_sheets"
    data = (directory / name / expectations[name]["file"]).read_bytes()
    async with make_resources(max_xlsx_cells=3) as res:
        outcome = await _upload(res, run_activity, stage, org_id, "types.xlsx", data)
    assert outcome.error is not None and outcome.error.type == "DocumentTooLarge"
    assert "3 cells" in outcome.error.message and "MAX_XLSX_CELLS" in outcome.error.message


def test_check_reports_each_shortfall() -> None:
    expectation = {
        "expect": "accept",
        "must_contain": ["kept"],
        "must_contain_once": ["once"],
        "must_not_contain": ["leak"],
        "title": "T",
        "media_type": "text/plain",
        "max_seconds": 1,
    }
    outcome = Outcome(2.0, "text/html", "once once leak", "U")
    assert len(check(expectation, outcome)) == 6
    assert check(expectation, Outcome(0.1, "text/plain", "kept once", "T")) == []
    refused = Outcome(0.1, error=ApplicationError("damaged", type="CorruptDocument", non_retryable=True))
    assert check(expectation, refused) == ["refused (CorruptDocument: damaged), must be accepted"]
