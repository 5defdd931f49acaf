"""A municipality's overview: 2,000 teams in 200 units, ``unit show`` and the overview page.

    .venv/bin/python benchmarks/bench_units.py [--teams 2000] [--units 200] [--runs 5] [--backends sqlite,postgres]

The tree is one top unit (forvaltning), 19 departments below it and the rest as groups below the
departments; the teams are spread over all of them, each with one reported round of 2-14 answers (about
a fifth of them below k = 5, so pools form), written in bulk by ``tests.unit_fixtures``. For each
backend (SQLite in a temporary file; PostgreSQL in a throwaway database ``tryghed_bench_<hex>`` on
127.0.0.1:5432, dropped afterwards) it measures, alternately and warm (pools already frozen), the median
over ``--runs`` of:

- ``unit show`` for the top unit: ``survey.domain.units.show_unit`` (the CLI's work minus process start);
- the overview page for the top unit: ``build_overview`` + ``pipeline.unit_render.overview_page``;
- the floor: plain SQL on the raw DBAPI connection that reads the same rows as the overview (every team
  of the tree with its latest reported round and its stored aggregate; the answer sets of the rounds
  below k), fetched and JSON decoded, with no ORM, no disclosure rule, no arithmetic and no template.

It also counts the SQL statements of one overview. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without install

from sqlalchemy import event  # noqa: E402

from pipeline.unit_render import overview_page  # noqa: E402
from survey import create_app  # noqa: E402
from survey.data.db import upgrade  # noqa: E402
from survey.domain.units import build_overview, show_unit  # noqa: E402
from tests.helpers import throwaway_database  # noqa: E402
from tests.unit_fixtures import Seeded, add_reported_rounds, add_units  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
K = 5

# The floor reads the rows the overview reads, with plain SQL on the raw DBAPI connection and nothing else:
# every team with its latest reported round and stored aggregate, and the answer sets of the rounds below k.
FLOOR_SQL = [
    """
SELECT t.id, t.name, t.unit_id, r.id, r.invited_count, r.min_responses, x.responses, x.result
FROM teams t
JOIN (SELECT team_id, max(number) AS number FROM rounds WHERE status = 'reported' GROUP BY team_id) l
  ON l.team_id = t.id
JOIN rounds r ON r.team_id = t.id AND r.number = l.number
JOIN round_results x ON x.round_id = r.id
""",
    """
SELECT a.round_id, a.answers
FROM responses a JOIN round_results x ON x.round_id = a.round_id
WHERE x.suppressed
""",
]


def seed(url: str, teams: int, units: int) -> tuple[Any, int]:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    rt = app.extensions["tryghed"]
    upgrade(rt.db)
    rng = random.Random(5)
    departments = max(1, min(19, units - 1))
    spec: list[tuple[str, str | None]] = [("Forvaltning", None)]
    spec += [(f"Afdeling {d}", "Forvaltning") for d in range(departments)]
    spec += [(f"Gruppe {g}", f"Afdeling {g % departments}") for g in range(units - 1 - departments)]
    names = [name for name, _ in spec]
    rows = [(f"Team {i}", rng.choice(names), [rng.choice([2, 3, 4, 6, 7, 8, 9, 10, 12, 14])]) for i in range(teams)]
    seeded = Seeded()
    with rt.db.session() as s:
        add_units(s, spec, seeded)
        add_reported_rounds(s, rt.content.instrument(), rows, seeded, k=K)
    return app, seeded.units["Forvaltning"]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(url: str, label: str, teams: int, units: int, runs: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    app, top = seed(url, teams, units)
    seeded_s = time.perf_counter() - t0
    rt = app.extensions["tryghed"]
    content = rt.content

    def show() -> object:
        with rt.db.session() as s:
            return show_unit(content, s, top, K)

    def page() -> object:
        with rt.db.session() as s:
            return overview_page(build_overview(content, s, top, K), content, "da", rt.tz)

    def floor() -> object:
        raw = rt.db.engine.raw_connection()
        try:
            out = []
            cur = raw.cursor()
            for sql in FLOOR_SQL:
                cur.execute(sql)
                out += [(row[:-1], row[-1] if isinstance(row[-1], dict) else json.loads(row[-1])) for row in cur]
            cur.close()
            return out
        finally:
            raw.close()

    cold = timed(show)  # forms and freezes the pools
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(rt.db.engine, "before_cursor_execute", count)
    shown = show()
    event.remove(rt.db.engine, "before_cursor_execute", count)
    timings: dict[str, list[float]] = {"show": [], "page": [], "floor": []}
    for _ in range(runs):  # alternately, so all three see the same background load
        timings["floor"].append(timed(floor))
        timings["show"].append(timed(show))
        timings["page"].append(timed(page))
    result = {k: statistics.median(v) for k, v in timings.items()}
    assert isinstance(shown, dict)
    rt.db.dispose()
    return {
        "backend": label,
        "teams": len(shown["teams"]),
        "suppressed": shown["teams_suppressed"],
        "pools": len(shown["pools"]),
        "statements": len(statements),
        "seed_s": seeded_s,
        "cold_show_s": cold,
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=2000)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results.append(bench(f"sqlite:///{tmp}/bench.sqlite", "SQLite", args.teams, args.units, args.runs))
        elif backend == "postgres":
            with throwaway_database(PG_ADMIN, "tryghed_bench") as url:
                results.append(bench(url, "PostgreSQL", args.teams, args.units, args.runs))
    runtime = f"Python {platform.python_version()}, {platform.machine()}"
    print(f"{runtime}, {args.teams} teams in {args.units} units, median of {args.runs}\n")
    columns = [
        "backend",
        "teams",
        "below k",
        "pools",
        "SQL statements",
        "floor: plain SQL, same rows (s)",
        "unit show (s)",
        "ratio",
        "overview page (s)",
        "ratio",
        "first show, freezing pools (s)",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|---" + "|---:" * (len(columns) - 1) + "|")
    for r in results:
        cells = [
            r["backend"],
            str(r["teams"]),
            str(r["suppressed"]),
            str(r["pools"]),
            str(r["statements"]),
            f"{r['floor']:.3f}",
            f"{r['show']:.3f}",
            f"{r['show'] / r['floor']:.1f}",
            f"{r['page']:.3f}",
            f"{r['page'] / r['floor']:.1f}",
            f"{r['cold_show_s']:.3f}",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
