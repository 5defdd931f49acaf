"""How long a report takes to render, and how much of that is WeasyPrint itself.

    .venv/bin/python benchmarks/bench_render.py [--runs 20] [--lang da]

For each sample report (baseline, follow-up, suppressed) it renders ``--runs`` times after one warm-up,
alternating the two workloads, and prints a markdown table of medians (wall and CPU time):
``render_pdf`` end to end (context, charts, Jinja, WeasyPrint with PDF/UA-1 tagging, the time-limit
wrapper) next to WeasyPrint alone on the same HTML (same fetcher, same options), and their ratio.
A ratio near 1.0 means our own code costs next to nothing.
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without install

import weasyprint  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from pipeline.render import _weasyprint, render_pdf, report_html  # noqa: E402
from pipeline.sample_report import sample_report  # noqa: E402

VARIANTS = {
    "baseline": {"kind": "baseline"},
    "follow-up": {"kind": "followup"},
    "suppressed": {"kind": "baseline", "suppressed": True},
}


def paired_medians(
    first: Callable[[], object], second: Callable[[], object], runs: int
) -> tuple[float, float, float, float]:
    """Median wall and CPU seconds of two workloads, measured alternately after one warm-up each.

    Alternating means both see the same background load (the benchmark machine is shared); CPU time
    (``process_time``) is reported too because it barely moves with load from other processes.
    """
    first()
    second()
    samples: dict[str, list[float]] = {"fw": [], "fc": [], "sw": [], "sc": []}
    for _ in range(runs):
        for work, wall, cpu in ((first, "fw", "fc"), (second, "sw", "sc")):
            w0, c0 = time.perf_counter(), time.process_time()
            work()
            samples[wall].append(time.perf_counter() - w0)
            samples[cpu].append(time.process_time() - c0)
    med = {k: statistics.median(v) for k, v in samples.items()}
    return med["fw"], med["fc"], med["sw"], med["sc"]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lang", default="da", choices=("da", "en"))
    args = parser.parse_args(argv)

    print(f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, {platform.machine()}, ")
    print(f"{args.runs} warm runs per cell, median, language {args.lang}\n")
    print(
        "| report | pages | render_pdf wall (s) | WeasyPrint alone wall (s) | ratio wall "
        "| render_pdf CPU (s) | WeasyPrint alone CPU (s) | ratio CPU |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, options in VARIANTS.items():
        data = sample_report(lang=args.lang, **options)
        html = report_html(data)
        pdf = render_pdf(data)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        fw, fc, aw, ac = paired_medians(
            lambda data=data: render_pdf(data), lambda html=html: _weasyprint(html), args.runs
        )
        print(f"| {name} | {pages} | {fw:.3f} | {aw:.3f} | {fw / aw:.2f} | {fc:.3f} | {ac:.3f} | {fc / ac:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
