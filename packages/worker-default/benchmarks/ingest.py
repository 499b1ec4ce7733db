"""Ingestion figures in one run: PDF pages/s through the upload's extraction path against raw pypdfium2,
OCR pages/s (with tesseract beside it when the Debian package is installed), and the fault corpus's
fidelity score.

    uv run python packages/worker-default/benchmarks/ingest.py [--pages 400] [--scans 4] [--repeat 3]

The extraction path is `ExtractionPool` (a child process per document, what process_document_upload
runs); raw pypdfium2 runs in this process. Both read the same ordinary report-like PDF; the best of
`--repeat` turns counts. Sample documents come from the tests' own generators (tests/conftest.py).
"""

import argparse
import asyncio
import importlib.util
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from antifragile_worker_default.extract import ocr
from antifragile_worker_default.extraction_pool import ExtractionPool, Limits

TESTS = Path(__file__).parents[1] / "tests"
WORDS = ["strategy", "market", "customer", "growth", "risk", "capability", "supplier", "margin", "team"]
SCAN_LINES = [
    "Quarterly board report on supplier risk",
    "Revenue grew eleven percent in the north region",
    "The committee approved the resilience budget",
    "Hiring continues in engineering and operations",
]


def _samples() -> Any:
    spec = importlib.util.spec_from_file_location("worker_default_conftest", TESTS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SampleDocuments()


def raw_pypdfium2(data: bytes) -> int:
    doc = pdfium.PdfDocument(data)
    chars = 0
    for index in range(len(doc)):
        page = doc[index]
        textpage = page.get_textpage()
        chars += len(textpage.get_text_range())
        textpage.close()
        page.close()
    doc.close()
    return chars


async def best_seconds(runs: dict[str, Callable[[], Awaitable[object]]], repeat: int) -> dict[str, float]:
    """The best time of each run; the runs take turns, so a busy moment on the machine hits all alike."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            await run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def recall(text: str) -> float:
    """Share of the scanned words found in `text` (case-insensitive)."""
    expected = " ".join(SCAN_LINES).lower().split()
    found = set(text.lower().split())
    return sum(word in found for word in expected) / len(expected)


def tesseract_pages_per_second(scan: bytes, pages: int) -> tuple[float, float]:
    """The same pages rendered at the same DPI and read by the tesseract CLI; pages/s and word recall."""
    doc = pdfium.PdfDocument(scan)
    with tempfile.TemporaryDirectory() as tmp:
        images = []
        for index in range(pages):
            path = Path(tmp) / f"{index}.png"
            doc[index].render(scale=ocr.DPI / 72).to_pil().save(path)
            images.append(path)
        start = time.perf_counter()
        texts = [
            subprocess.run(
                ["tesseract", str(p), "-", "-l", "eng"], capture_output=True, text=True, check=True
            ).stdout
            for p in images
        ]
        seconds = time.perf_counter() - start
    return pages / seconds, recall(texts[0])


def fidelity() -> str:
    """The fault corpus's score, once tests/fault_corpus provides fidelity_score(directory)."""
    if not (TESTS / "fault_corpus" / "__init__.py").exists():
        return "not measured: tests/fault_corpus (fidelity_score) is not in this tree yet"
    sys.path.insert(0, str(TESTS))
    from fault_corpus import fidelity_score  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as tmp:
        passed, total = fidelity_score(Path(tmp))
    return f"{passed}/{total} ({passed / total:.0%})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--scans", type=int, default=4, help="pages of the scanned PDF read by OCR")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    samples = _samples()
    rng = random.Random(0)
    report = samples.pdf([" ".join(rng.choice(WORDS) for _ in range(280)) for _ in range(args.pages)])
    limits = Limits(
        max_bytes=len(report), max_pages=10**6, max_chars=10**9, seconds=600, memory_mb=4096, ocr=True
    )
    pool = ExtractionPool(limits, processes=2)
    result = await pool.extract(report)  # also starts the child, which then stays warm
    assert result.page_count == args.pages and len(result.text) > 1_500 * args.pages

    seconds = await best_seconds(
        {
            "raw": lambda: asyncio.to_thread(raw_pypdfium2, report),
            "one": lambda: pool.extract(report),
            "two": lambda: asyncio.gather(pool.extract(report), pool.extract(report)),
        },
        args.repeat,
    )
    raw, ours, both = (
        args.pages / seconds["raw"],
        args.pages / seconds["one"],
        2 * args.pages / seconds["two"],
    )
    print(f"text pdf: {args.pages} pages, {len(report):,} bytes, {len(result.text):,} chars")
    print(f"raw pypdfium2, this process:      {raw:8.1f} pages/s")
    print(f"extraction pool, 1 document:      {ours:8.1f} pages/s   ratio {ours / raw:.2f}")
    print(f"extraction pool, 2 documents:     {both:8.1f} pages/s   ratio {both / raw:.2f}")

    scan = samples.scan([SCAN_LINES] * args.scans)
    await pool.extract(samples.scan([SCAN_LINES]))  # loads the OCR engine in a child
    start = time.perf_counter()
    read = await pool.extract(scan)
    ocr_rate = args.scans / (time.perf_counter() - start)
    assert read.ocr_pages == tuple(range(1, args.scans + 1))
    first_page = read.text.split("\n\n")[0]
    print(
        f"ocr (rapidocr), {args.scans} scanned pages at {ocr.DPI} dpi: {ocr_rate:6.2f} pages/s, "
        f"word recall {recall(first_page):.0%}, mean confidence {read.ocr_confidence:.3f}"
    )
    if shutil.which("tesseract"):
        rate, tesseract_recall = tesseract_pages_per_second(scan, args.scans)
        print(f"ocr (tesseract CLI, same pages):  {rate:6.2f} pages/s, word recall {tesseract_recall:.0%}")
    print(f"fidelity on the fault corpus: {fidelity()}")


if __name__ == "__main__":
    asyncio.run(main())
