"""Pages per second of `extract` against raw pypdfium2 on an ordinary many-page text PDF.

    uv run python packages/worker-default/benchmarks/extract_pdf.py [--pages 400] [--repeat 3]

Both run in this process on one core (PDFium is single-threaded); the best of `--repeat` runs counts.
"""

import argparse
import random
import time
from collections.abc import Callable

import pypdfium2 as pdfium
from antifragile_worker_default.extract import extract
from fpdf import FPDF

WORDS = ["strategy", "market", "customer", "growth", "risk", "capability", "supplier", "margin", "team"]


def text_pdf(pages: int) -> bytes:
    """`pages` A4 pages of wrapped words, about 3,000 characters each, like an ordinary report."""
    rng = random.Random(0)
    pdf = FPDF()
    pdf.set_title("Benchmark report")
    pdf.set_font("helvetica", size=10)
    for _ in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 5, " ".join(rng.choice(WORDS) for _ in range(450)))
    return bytes(pdf.output())


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


def best_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data = text_pdf(args.pages)
    result = extract(data, max_bytes=len(data))
    assert result.page_count == args.pages and len(result.text) > 2_000 * args.pages
    raw = args.pages / best_seconds(lambda: raw_pypdfium2(data), args.repeat)
    ours = args.pages / best_seconds(lambda: extract(data, max_bytes=len(data)), args.repeat)
    print(f"pdf: {args.pages} pages, {len(data):,} bytes, {len(result.text):,} chars")
    print(f"raw pypdfium2: {raw:8.1f} pages/s")
    print(f"extract():     {ours:8.1f} pages/s")
    print(f"ratio:         {ours / raw:8.2f}")


if __name__ == "__main__":
    main()
