"""A fault corpus of our own: `write_corpus` writes one small file per fault kind with an expect.json in
the format of ../shared/ingestion-cases (see its README), `check` holds one outcome to one expectation,
and `fidelity_score` runs `extract()` over a folder of such cases (for tests and benchmarks alike).

Two optional keys beyond the shared format: `must_contain_once` (text that must appear exactly once,
e.g. a text box Word also saves as a VML fallback) and `title` (the exact expected title).
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from antifragile_core.settings import Settings
from antifragile_worker_default.extract import Extracted, extract
from temporalio.exceptions import ApplicationError

from .cases import CASES

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_SECONDS = 30

__all__ = ["CASES", "Outcome", "check", "fidelity_score", "run_extract", "write_corpus"]


@dataclass(frozen=True)
class Outcome:
    """What one upload came to: a document (media type, text, title) or a refusal, and how long it took."""

    seconds: float
    media_type: str | None = None
    text: str = ""
    title: str | None = None
    error: ApplicationError | None = None

    @classmethod
    def of(cls, result: Extracted, seconds: float) -> "Outcome":
        return cls(seconds, result.media_type, result.text, result.title)


def write_corpus(directory: Path) -> dict[str, dict[str, Any]]:
    """Write every case's file under directory/<case>/ and directory/expect.json; return the expectations."""
    expectations = {}
    for name, (filename, make, expectation) in CASES.items():
        data = make()
        (directory / name).mkdir(parents=True, exist_ok=True)
        (directory / name / filename).write_bytes(data)
        expectations[name] = {
            "file": filename,
            "max_bytes": DEFAULT_MAX_BYTES,
            "max_seconds": DEFAULT_MAX_SECONDS,
            **expectation,
            "bytes": len(data),
        }
    (directory / "expect.json").write_text(json.dumps(expectations, indent=1))
    return expectations


def check(expectation: dict[str, Any], outcome: Outcome) -> list[str]:
    """The ways `outcome` falls short of `expectation` (an expect.json entry); empty when it passes."""
    expect = expectation["expect"]
    error_type = expectation.get("error_type")
    failures = []
    if outcome.seconds > expectation.get("max_seconds", DEFAULT_MAX_SECONDS):
        failures.append(f"took {outcome.seconds:.1f} s, over max_seconds={expectation['max_seconds']}")
    if outcome.error is not None:
        error = outcome.error
        said = f"{error.type}: {error.message}"
        if not error.non_retryable:
            failures.append(f"refused with a retryable error ({said})")
        if expect == "accept":
            failures.append(f"refused ({said}), must be accepted")
        elif expect == "accept-or-specific-reject":
            words = expectation.get("reject_message_any", [])
            if not any(word.casefold() in error.message.casefold() for word in words):
                failures.append(f"refused ({said}) without naming any of {words}")
        elif error_type and error.type != error_type:
            failures.append(f"refused as {said}, expected {error_type}")
        return failures
    if expect == "reject":
        return [*failures, f"accepted, must be refused with {error_type}"]
    text, title = outcome.text, outcome.title or ""
    failures += [f"text lacks {s!r}" for s in expectation.get("must_contain", []) if s not in text]
    failures += [
        f"text holds {s!r} {text.count(s)} times, not once"
        for s in expectation.get("must_contain_once", [])
        if text.count(s) != 1
    ]
    failures += [f"text holds {s!r}" for s in expectation.get("must_not_contain", []) if s in text]
    any_of = expectation.get("any_of", [])
    if any_of and not any(s in text for s in any_of):
        failures.append(f"text holds none of {any_of}")
    failures += [
        f"title {title!r} holds {s!r}" for s in expectation.get("title_must_not_contain", []) if s in title
    ]
    if "title" in expectation and outcome.title != expectation["title"]:
        failures.append(f"title is {outcome.title!r}, expected {expectation['title']!r}")
    if "media_type" in expectation and outcome.media_type != expectation["media_type"]:
        failures.append(f"media type is {outcome.media_type}, expected {expectation['media_type']}")
    if len(text) > expectation.get("max_text_chars", len(text)):
        failures.append(
            f"text of {len(text):,} characters, over max_text_chars={expectation['max_text_chars']:,}"
        )
    return failures


def run_extract(data: bytes, max_bytes: int) -> Outcome:
    """`extract()` on one file under the settings' default limits, as an Outcome."""
    defaults = Settings.model_construct()  # the defaults, whatever the environment says
    start = time.perf_counter()
    try:
        result = extract(
            data,
            max_bytes,
            max_pages=defaults.max_document_pages,
            max_chars=defaults.max_document_chars,
            max_cells=defaults.max_xlsx_cells,
            max_xml_depth=defaults.max_xml_depth,
            ocr=defaults.ocr_enabled,
        )
    except ApplicationError as e:
        return Outcome(time.perf_counter() - start, error=e)
    return Outcome.of(result, time.perf_counter() - start)


def fidelity_score(directory: Path) -> tuple[int, int]:
    """(cases passed, cases) of `extract()` over a folder of cases with an expect.json; a folder without
    one gets this corpus written into it first."""
    if not (directory / "expect.json").exists():
        write_corpus(directory)
    expectations = json.loads((directory / "expect.json").read_text())
    passed = 0
    for name, expectation in expectations.items():
        data = (directory / name / expectation["file"]).read_bytes()
        passed += not check(expectation, run_extract(data, expectation["max_bytes"]))
    return passed, len(expectations)
