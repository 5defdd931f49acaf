"""Write sample reports for the docs: ``python -m pipeline.render_sample OUT_DIR``.

Renders a baseline, a follow-up and a suppressed report (made-up answers from ``pipeline.sample_report``,
the shipped toolkit content) per language to PDF, and each page to PNG with ``pdftoppm`` (poppler-utils).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

from pipeline.render import render_pdf
from pipeline.sample_report import sample_report


class Variant(TypedDict, total=False):
    """Keyword arguments of ``sample_report`` for one sample."""

    kind: str
    suppressed: bool


VARIANTS: dict[str, Variant] = {
    "baseline": {"kind": "baseline"},
    "followup": {"kind": "followup"},
    "suppressed": {"kind": "baseline", "suppressed": True},
}


def write_samples(out_dir: Path, langs: list[str], dpi: int = 80) -> list[Path]:
    """Render every variant in every language into ``out_dir``; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    from survey.content import get_content

    content = get_content()
    pdftoppm = shutil.which("pdftoppm")
    written: list[Path] = []
    for lang in langs:
        for name, options in VARIANTS.items():
            pdf = out_dir / f"{name}-{lang}.pdf"
            pdf.write_bytes(render_pdf(sample_report(lang=lang, content=content, **options)))
            written.append(pdf)
            if pdftoppm:
                prefix = out_dir / f"{name}-{lang}"
                for old in out_dir.glob(f"{name}-{lang}-*.png"):
                    old.unlink()  # a shorter report must not leave stale pages behind
                subprocess.run([pdftoppm, "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True, timeout=300)
                written.extend(sorted(out_dir.glob(f"{name}-{lang}-*.png")))
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.render_sample", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--lang", action="append", choices=("da", "en"), help="repeatable; default both")
    parser.add_argument("--dpi", type=int, default=80, help="resolution of the PNG pages")
    args = parser.parse_args(argv)
    if shutil.which("pdftoppm") is None:
        print("pdftoppm not found: writing PDFs only (install poppler-utils for PNG pages)", file=sys.stderr)
    for path in write_samples(args.out_dir, args.lang or ["da", "en"], args.dpi):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
