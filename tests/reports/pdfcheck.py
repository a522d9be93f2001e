"""Read rendered PDFs back with poppler (pdftotext, pdfinfo, pdffonts), as a reader's viewer would."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

if shutil.which("pdftotext") is None:  # pragma: no cover - the CI script installs poppler-utils
    pytest.skip("poppler-utils (pdftotext) is not installed", allow_module_level=True)


def text(pdf: Path, *, layout: bool = False) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(pdf), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def squashed(pdf: Path) -> str:
    """The text with all white space removed, so words the layout broke across lines can be found whole."""
    return re.sub(r"\s+", "", text(pdf))


def info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def pages(pdf: Path) -> int:
    return int(info(pdf)["Pages"])


def fonts(pdf: Path) -> list[tuple[str, bool]]:
    """(font name, embedded?) for every font the PDF uses."""
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = out.splitlines()[2:]
    return [(r.split()[0], r.split()[-5] == "yes") for r in rows if r.strip()]


def word_boxes(pdf: Path) -> list[tuple[int, float, float, float]]:
    """(page, xMin, xMax, page width) of every word, from ``pdftotext -bbox``."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    boxes, page, width = [], 0, 0.0
    for line in html.splitlines():
        m = re.search(r'<page width="([\d.]+)"', line)
        if m:
            page, width = page + 1, float(m.group(1))
        m = re.search(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"', line)
        if m:
            boxes.append((page, float(m.group(1)), float(m.group(2)), width))
    return boxes


def footer_totals(pdf: Path) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in re.findall(r"Page (\d+) of (\d+)", text(pdf))}
