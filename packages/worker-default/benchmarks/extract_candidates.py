"""Which library reads which fault: each candidate extractor on the shared ingestion cases and our own
fault corpus, per format, scored with the tests' own `check`; prints a table of cases passed.

    PYTHONPATH=packages/worker-default/tests uv run --with docx2python --with mammoth \
        --with python-calamine python packages/worker-default/benchmarks/extract_candidates.py

The extra libraries are measured here only; `extract()` depends on none of them.
"""

import io
import json
import multiprocessing
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, TimeoutError
from pathlib import Path
from typing import Any

import charset_normalizer
import docx
import openpyxl
from fault_corpus import Outcome, check, run_extract, write_corpus
from temporalio.exceptions import ApplicationError

SHARED = Path(__file__).parents[3] / ".." / "shared" / "ingestion-cases"
TIMEOUT = 20.0
Reader = Callable[[bytes], tuple[str, str | None]]


def python_docx(data: bytes) -> tuple[str, str | None]:
    document = docx.Document(io.BytesIO(data))
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            lines.extend("\t".join(cell.text for cell in row.cells) for row in block.rows)
        else:
            lines.append(block.text)
    return "\n".join(lines), document.core_properties.title


def docx2python_(data: bytes) -> tuple[str, str | None]:
    from docx2python import docx2python  # imported here: only this script needs it

    with docx2python(io.BytesIO(data)) as result:
        return result.text, result.core_properties.get("title")


def mammoth_(data: bytes) -> tuple[str, str | None]:
    import mammoth

    return mammoth.extract_raw_text(io.BytesIO(data)).value, None


def openpyxl_read_only(data: bytes, reset: bool = False) -> tuple[str, str | None]:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines = []
    for sheet in workbook.worksheets:
        if reset:
            sheet.reset_dimensions()
        lines.append(f"# {sheet.title}")
        lines.extend(
            "\t".join("" if v is None else str(v) for v in row)
            for row in sheet.iter_rows(values_only=True)
            if any(v is not None for v in row)
        )
    return "\n".join(lines), workbook.properties.title


def openpyxl_reset_dimensions(data: bytes) -> tuple[str, str | None]:
    return openpyxl_read_only(data, reset=True)


def calamine(data: bytes) -> tuple[str, str | None]:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    lines = []
    for name in workbook.sheet_names:
        lines.append(f"# {name}")
        rows = workbook.get_sheet_by_name(name).to_python()
        lines.extend("\t".join(str(v) for v in row) for row in rows if any(v != "" for v in row))
    return "\n".join(lines), None


def charset_normalizer_(data: bytes) -> tuple[str, str | None]:
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise ValueError("no encoding")
    return str(best).replace("\r\n", "\n"), None


def utf8_then_cp1252(data: bytes) -> tuple[str, str | None]:
    """The path before this change: UTF-8 (or UTF-16 with a BOM), else Windows-1252."""
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n"), None
    except UnicodeDecodeError:
        return data.decode("cp1252").replace("\r\n", "\n"), None


FORMATS = {"docx": "docx", "xlsx": "xlsx", "txt": "text", "md": "text", "csv": "text"}
"""Case name prefix -> format; HTML has one candidate (selectolax) and is not compared here."""
CANDIDATES: dict[str, dict[str, Reader | None]] = {
    "docx": {"extract()": None, "python-docx": python_docx, "docx2python": docx2python_, "mammoth": mammoth_},
    "xlsx": {
        "extract()": None,
        "openpyxl read-only": openpyxl_read_only,
        "openpyxl + reset_dimensions": openpyxl_reset_dimensions,
        "python-calamine": calamine,
    },
    "text": {
        "extract()": None,
        "utf-8 else cp1252": utf8_then_cp1252,
        "charset-normalizer": charset_normalizer_,
    },
}


def outcome(reader: Reader | None, data: bytes, expectation: dict[str, Any]) -> Outcome:
    """The candidate's outcome in a child process, stopped after TIMEOUT seconds (a library that trusts
    a sheet's claimed million rows would otherwise run for many minutes)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        future = pool.submit(_outcome, reader, data, expectation)
        try:
            return future.result(timeout=TIMEOUT)
        except TimeoutError:
            for process in pool._processes.values():  # the pool cannot cancel a running call
                process.kill()
            return Outcome(TIMEOUT, expectation.get("media_type"), "", None)


def _outcome(reader: Reader | None, data: bytes, expectation: dict[str, Any]) -> Outcome:
    """The candidate's outcome; media type is extract()'s job alone, so it is not held against others."""
    if reader is None:
        return run_extract(data, expectation["max_bytes"])
    start = time.perf_counter()
    try:
        text, title = reader(data)
    except ApplicationError as e:
        return Outcome(time.perf_counter() - start, error=e)
    except Exception as e:  # a library's own failure stands for a refusal without a useful type
        return Outcome(
            time.perf_counter() - start,
            error=ApplicationError(repr(e), type=type(e).__name__, non_retryable=True),
        )
    return Outcome(time.perf_counter() - start, expectation.get("media_type"), text, title)


def main() -> None:
    cases: list[tuple[Path, str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        own = Path(tmp)
        write_corpus(own)
        for directory in (SHARED, own):
            if (directory / "expect.json").is_file():
                for name, expectation in json.loads((directory / "expect.json").read_text()).items():
                    cases.append((directory / name / expectation["file"], name, expectation))
        for kind, candidates in CANDIDATES.items():
            mine = [case for case in cases if FORMATS.get(case[1].split("_")[0]) == kind]
            print(f"\n{kind} ({len(mine)} cases)")
            for label, reader in candidates.items():
                failed = [name for path, name, e in mine if check(e, outcome(reader, path.read_bytes(), e))]
                passed = len(mine) - len(failed)
                print(f"  {label:28} {passed:3}/{len(mine)}  failed:", ", ".join(failed) or "-")


if __name__ == "__main__":
    main()
