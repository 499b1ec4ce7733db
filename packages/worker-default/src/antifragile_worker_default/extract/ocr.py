"""OCR of PDF pages without a text layer, with RapidOCR (PP-OCRv4 on onnxruntime).

rapidocr-onnxruntime 1.4 ships its three ONNX models inside the wheel, so `uv sync` is the whole
installation and nothing is downloaded at run time; it needs no torch. Against tesseract 5.3 (Debian) on
the same 200-dpi pages (`benchmarks/ingest.py`) both read every word; tesseract is about twice as fast but
needs a system package in every image and CI. The engine loads on first use (~0.4 s), once per extraction
process.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import pypdfium2 as pdfium
from rapidocr_onnxruntime import RapidOCR

DPI = 200
"""Scanners' usual resolution: body text is ~30 px high, which the recogniser reads reliably."""


@dataclass(frozen=True)
class PageText:
    text: str
    scores: tuple[float, ...]
    """The recogniser's score of each line read."""


@cache
def _engine() -> RapidOCR:
    return RapidOCR()


def read_page(page: pdfium.PdfPage) -> PageText:
    """The page rendered at DPI and read by OCR: lines top to bottom, boxes on one line left to right."""
    image = page.render(scale=DPI / 72).to_pil().convert("RGB")
    found, _ = _engine()(np.asarray(image))
    boxes = [(box, str(text), float(score)) for box, text, score in found or []]
    return PageText(_reading_order(boxes), tuple(score for _, _, score in boxes))


def _reading_order(boxes: list[tuple[list[list[float]], str, float]]) -> str:
    """Join boxes into lines: a box whose vertical centre lies within half a line height of the
    previous box's continues that line."""
    placed = []
    for box, text, _ in boxes:
        ys = [y for _, y in box]
        placed.append((sum(ys) / len(ys), max(ys) - min(ys), min(x for x, _ in box), text))
    placed.sort(key=lambda item: (item[0], item[2]))
    lines: list[list[tuple[float, str]]] = []
    line_centre = line_height = 0.0
    for centre, height, left, text in placed:
        if not lines or centre - line_centre > line_height / 2:
            lines.append([])
            line_centre, line_height = centre, height
        lines[-1].append((left, text))
    return "\n".join(" ".join(text for _, text in sorted(line)) for line in lines)
