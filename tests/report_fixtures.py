"""Report data for the render tests, plus helpers to read a PDF back as text.

The builder itself lives in ``pipeline.sample_report`` (so the docs sample and the benchmark use the
same data); this module adds what only tests need.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipeline.report_data import ReportData
from pipeline.sample_report import sample_content, sample_report
from pipeline.scoring import RoundResult, aggregate

__all__ = ["pdf_pages", "sample_content", "sample_report", "unsuppressed_twin"]


def pdf_pages(pdf: bytes, tmp_path: Path, name: str = "report") -> list[str]:
    """The text of each page as ``pdftotext`` reads it, whitespace collapsed (lines wrap anywhere)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode("utf-8")
    pages = [" ".join(page.split()) for page in out.split("\f")]
    return pages[:-1] if pages and not pages[-1] else pages


def unsuppressed_twin(data: ReportData) -> RoundResult:
    """The figures a suppressed round *would* have had (k lowered to the floor): what must not leak."""
    from pipeline import sample_report as sample

    instrument = data.instrument
    level = sample.BASELINE_LEVEL if data.kind == "baseline" else sample.FOLLOWUP_LEVEL
    rows = sample.answers(instrument, data.responses, level, seed=1)
    return aggregate(rows, instrument.items, [p.key for p in instrument.pillars], instrument.bands, 3)
