"""How long the main job takes: ``tryghed demo`` on the embedded default, end to end.

    .venv/bin/python benchmarks/bench_demo.py [--runs 5]

Each run is a fresh process in a fresh instance folder (new SQLite database, new outbox), as on a fresh
machine after installation. Alternating with it, as the baseline in the same run, is the cheapest real
command, ``tryghed instrument show --json``: the cost of starting Python, importing the app and loading
the content. The difference is the round itself (8 invitations, 7 answers through the form, aggregation,
the PDF, the report email). Prints a markdown table of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRYGHED = [sys.executable, "-m", "survey.cli"]


def timed(args: list[str]) -> tuple[float, dict[str, object]]:
    """Wall seconds of one fresh ``tryghed`` process, and its JSON output."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
        env["TRYGHED_INSTANCE_PATH"] = str(Path(tmp) / "instance")
        started = time.perf_counter()
        proc = subprocess.run(
            [*TRYGHED, *args, "--json"], cwd=tmp, env=env, capture_output=True, text=True, timeout=300, check=True
        )
        return time.perf_counter() - started, json.loads(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    demo_wall: list[float] = []
    demo_inside: list[float] = []
    start_wall: list[float] = []
    timed(["instrument", "show"])  # warm the file cache once
    for _ in range(args.runs):
        wall, out = timed(["demo", "--out", "out"])
        assert out["status"] == "reported", out
        demo_wall.append(wall)
        demo_inside.append(float(out["seconds"]))  # type: ignore[arg-type]
        start_wall.append(timed(["instrument", "show"])[0])
    d, s, i = statistics.median(demo_wall), statistics.median(start_wall), statistics.median(demo_inside)
    print(
        f"| runs | tryghed demo wall (s) | of which the round itself (s) | baseline: tryghed instrument show (s) "
        f"| ratio demo / baseline |\n|---:|---:|---:|---:|---:|\n| {args.runs} | {d:.2f} | {i:.2f} | {s:.2f} "
        f"| {d / s:.1f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
