"""What the security headers cost per response (survey/web/security.py hashes every <style> block for the CSP).

    .venv/bin/python benchmarks/bench_headers.py [--runs 300]

Measures ``secure_headers`` alone on three real bodies (the respondent form, the web report, /healthz's
JSON), inside a request context, against a floor measured in the same run: building the response
object itself (``make_response`` of the same body). Prints a markdown table of medians and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without install

from flask import Flask, make_response  # noqa: E402

from pipeline.render import report_html  # noqa: E402
from pipeline.sample_report import sample_report  # noqa: E402
from survey.web.security import secure_headers  # noqa: E402


def _median_us(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    app = Flask(__name__, instance_path=tempfile.mkdtemp())
    form = (Path(__file__).resolve().parent.parent / "templates" / "survey" / "base.html").read_text() * 3
    bodies = {
        "/s/-like page (survey base.html x3, 3 style blocks)": ("/s/x", form, "text/html"),
        "/r/ report (inlined stylesheet)": ("/r/x", report_html(sample_report("followup"), for_web=True), "text/html"),
        "/healthz (JSON)": ("/healthz", '{"status": "ok"}', "application/json"),
    }
    print("| response | body (KiB) | make_response (µs, floor) | + secure_headers (µs) | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (path, body, mimetype) in bodies.items():
        with app.test_request_context(path):

            def floor(body: str = body, mimetype: str = mimetype) -> object:
                return make_response(body, 200, {"Content-Type": mimetype})

            def full(body: str = body, mimetype: str = mimetype) -> object:
                return secure_headers(make_response(body, 200, {"Content-Type": mimetype}), https=True)

            floor_us = _median_us(floor, args.runs)
            full_us = _median_us(full, args.runs)
        size = len(body.encode()) / 1024
        print(f"| {name} | {size:.0f} | {floor_us:.0f} | {full_us:.0f} | {full_us / floor_us:.1f} |")


if __name__ == "__main__":
    main()
