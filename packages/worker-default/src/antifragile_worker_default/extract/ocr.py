"""OCR of PDF pages without a text layer, with RapidOCR 3 (PP-OCRv6 small models on onnxruntime).

rapidocr 3 ships its three ONNX models inside the wheel (it checks their hashes and downloads only what is
missing, which is nothing), so `uv sync` is the whole installation and nothing is downloaded at run time;
it needs no torch, and it depends on opencv-python-headless. (rapidocr-onnxruntime 1.4, used before, pulls
opencv-python, which needs libGL: a workspace override kept it out of our images, but not out of an
environment that installs the released wheel.) Against tesseract 5.3 (Debian) on the same 200-dpi pages
(`benchmarks/ingest.py`) both read every word; tesseract needs a system package in every image and CI. The
engine loads on first use, once per extraction process.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import pypdfium2 as pdfium
from rapidocr import RapidOCR

DPI = 200
"""Scanners' usual resolution: body text is ~30 px high, which the recogniser reads reliably."""


@dataclass(frozen=True)
class PageText:
    text: str
    scores: tuple[float, ...]
    """The recogniser's score of each line read."""


@cache
def _engine() -> RapidOCR:
    # Its own logger prints a coloured line per model loaded; only its warnings reach our logs.
    return RapidOCR(params={"Global.log_level": "warning"})


def read_page(page: pdfium.PdfPage) -> PageText:
    """The page rendered at DPI and read by OCR: lines top to bottom, boxes on one line left to right."""
    image = page.render(scale=DPI / 72).to_pil().convert("RGB")
    found = _engine()(np.asarray(image))
    if found.boxes is None:  # nothing legible on the page
        return PageText("", ())
    boxes = [
        (box.tolist(), str(text), float(score))
        for box, text, score in zip(found.boxes, found.txts, found.scores, strict=True)
    ]
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
