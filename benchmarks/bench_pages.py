"""Pages flat in the size of the organisation: the start page at 2,000 teams against its floor, and a team
page at 30 rounds against the same page at one round.

    .venv/bin/python benchmarks/bench_pages.py [--teams 2000] [--rounds 30] [--runs 15] [--backends sqlite,postgres]

For each backend (SQLite in a temporary file; PostgreSQL in a throwaway database ``tryghed_bench_<hex>`` on
127.0.0.1:5432, dropped afterwards) the organisation is written in bulk by ``tests.unit_fixtures``:
``--teams`` teams with one reported round each (a tenth of them with an agreed action), plus one team with
``--rounds`` reported rounds and one with a single round. A facilitator logs in through the form, and the
pages are requested through the Flask test client (the whole request: session, login, guard, queries,
template, security headers), warm.

- **Start page** (``GET /``) against its floor: one SQL query on the raw DBAPI connection that reads the
  rows the page shows (each team with its latest round and that round's answer count) and a plain Jinja
  table of those rows (name, step, round, status, answers, rate, track), autoescaped, no Flask.
- **A small page** (``GET /knowledge``: content only, no query of its own) beside them: what every
  logged-in page costs before it reads anything (session, login, guard, the layout).
- **Team page** (``GET /teams/<id>``) of the team with ``--rounds`` rounds against the page of the team with
  one round.

As in production, the process then runs gunicorn's ``post_worker_init`` hook (``gunicorn.conf.py``: collect,
then freeze the app's long-lived objects out of the garbage collector's reach); without it a full
collection walks the whole app during a large page, which is about half of the start page's time here.
The pairs are measured alternately (interleaved) ``--runs`` times, so both sides of a ratio see the same
background load; the table gives medians, the statements of each page, and the load average before and
after.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import runpy
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without install

import jinja2  # noqa: E402
from flask import Flask, render_template  # noqa: E402
from sample_org import each_backend, new_org  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402

from survey.domain import actions as plan  # noqa: E402
from tests.unit_fixtures import add_reported_rounds  # noqa: E402
from tests.web_helpers import add_account, login  # noqa: E402

FLOOR_SQL = """
SELECT t.id, t.name, t.track, r.number, r.status, r.invited_count,
       (SELECT count(*) FROM responses a WHERE a.round_id = r.id AND a.filled) AS answered
FROM teams t
LEFT JOIN rounds r ON r.team_id = t.id
  AND r.number = (SELECT max(number) FROM rounds m WHERE m.team_id = t.id)
ORDER BY t.name, t.id
LIMIT {cards}
"""

FLOOR_TEMPLATE = """<!doctype html><html lang="da"><title>Teams</title><h1>Teams</h1>
<table><thead><tr><th>Team</th><th>Trin</th><th>Runde</th><th>Status</th><th>Svar</th><th>Andel</th><th>Spor</th></tr></thead>
<tbody>{% for r in rows %}<tr><td><a href="/teams/{{ r[0] }}">{{ r[1] }}</a></td><td>2. Tag temperaturen</td>
<td>{{ r[3] }}</td><td>{{ r[4] }}</td><td>{{ r[6] }} af {{ r[5] }}</td>
<td>{{ (100 * r[6] / r[5]) | round | int if r[5] else '' }} %</td><td>{{ r[2] }}</td></tr>{% endfor %}</tbody></table>
"""


def seed(url: str, teams: int, rounds: int) -> tuple[Any, dict[str, int]]:
    app, rt, seeded = new_org({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True}, [("Forvaltning", None)])
    rng = random.Random(22)
    with rt.db.session() as s:
        rows = [(f"Team {i:04d}", "Forvaltning", [rng.randint(2, 14)]) for i in range(teams)]
        rows += [("Lang historie", "Forvaltning", [rng.randint(5, 12) for _ in range(rounds)])]
        rows += [("Kort historie", "Forvaltning", [rng.randint(5, 12)])]
        add_reported_rounds(s, rt.content.instrument(), rows, seeded)
        for i in range(0, teams, 10):
            plan.add_action(s, seeded.rounds[f"Team {i:04d}"], "gruppe", "Et tiltag", "Teamet", "snart")
    add_account(app, "facilitator@example.org", "facilitator")
    if rt.db.engine.dialect.name == "postgresql":
        # statistics, as autovacuum gathers them on a server in service within a minute of a bulk load: on
        # tables without them the planner guesses (the floor's query took 10 ms instead of 1, and the
        # attention list walked every team; docs/benchmarks.md)
        with rt.db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return app, {"long": seeded.teams["Lang historie"], "short": seeded.teams["Kort historie"]}


def flask_floor(url: str, sql: str) -> Flask:
    """The start page's floor in the same stack: a minimal Flask app whose one route runs the one query
    through SQLAlchemy Core on its own engine (same database) and renders the plain Jinja table."""
    app = Flask("floor")
    app.jinja_loader = jinja2.DictLoader({"start.html": FLOOR_TEMPLATE})  # compiled once, as files are
    engine = create_engine(url)
    query = text(sql)

    @app.get("/")
    def start() -> str:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        return render_template("start.html", rows=rows)

    app.extensions["floor.engine"] = engine
    return app


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU time of this process (the CPU time leaves out other work on the shared machine, and
    the PostgreSQL server's share)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def bench(url: str, label: str, teams: int, rounds: int, runs: int) -> dict[str, Any]:
    app, team_ids = seed(url, teams, rounds)
    rt = app.extensions["tryghed"]
    client = app.test_client()
    assert login(client, "facilitator@example.org") == 303
    template = jinja2.Environment(autoescape=True).from_string(FLOOR_TEMPLATE)
    # the floor reads and shows as many teams as the page does (all of them, or one page of them)
    cards = client.get("/").get_data(as_text=True).count('<li class="card">')
    floor_sql = FLOOR_SQL.format(cards=cards)

    def get(path: str) -> Callable[[], object]:
        def run() -> object:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response.get_data()

        return run

    floor_app = flask_floor(rt.db.engine.url.render_as_string(hide_password=False), floor_sql)
    floor_client = floor_app.test_client()

    def flask_floor_page() -> object:
        response = floor_client.get("/")
        assert response.status_code == 200 and response.get_data(as_text=True).count("<tr><td>") == cards
        return response.get_data()

    def floor() -> object:
        # the floor's own engine: a raw connection of the app's would end in a ROLLBACK in the app's pool,
        # which makes psycopg forget the statements it prepared for the app's pages (survey.data.plans)
        raw = floor_app.extensions["floor.engine"].raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(floor_sql)
            rows = cur.fetchall()
            cur.close()
        finally:
            raw.close()
        assert len(rows) == cards
        return template.render(rows=rows)

    pages = {
        "start": get("/"),
        "start floor": flask_floor_page,
        "start floor without Flask": floor,
        # the fixed cost of any logged-in page (session, login, guard, the layout), for reading the ratio
        "small page": get("/knowledge"),
        "team at 1 round": get(f"/teams/{team_ids['short']}"),
        f"team at {rounds} rounds": get(f"/teams/{team_ids['long']}"),
    }
    statements: dict[str, int] = {}
    for fn in pages.values():
        fn()  # warm: templates compiled, catalogs loaded
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_worker_init"](None)  # as the production worker does
    for name, fn in pages.items():
        if name.startswith("start floor") or name == "small page":
            continue
        seen: list[str] = []

        def keep(conn: Any, cursor: Any, statement: str, *rest: Any, seen: list[str] = seen) -> None:
            seen.append(statement)

        event.listen(rt.db.engine, "before_cursor_execute", keep)
        fn()
        event.remove(rt.db.engine, "before_cursor_execute", keep)
        statements[name] = len(seen)
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
    load_before = os.getloadavg()[0]
    for _ in range(runs):
        for name, fn in pages.items():
            timings[name].append(timed(fn))
    load_after = os.getloadavg()[0]
    rt.db.dispose()
    floor_app.extensions["floor.engine"].dispose()
    return {
        "backend": label,
        "median": {k: statistics.median(w for w, _ in v) for k, v in timings.items()},
        "cpu": {k: statistics.median(c for _, c in v) for k, v in timings.items()},
        "statements": statements,
        "load": (load_before, load_after),
        "cards": cards,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    results = each_backend(args.backends, lambda url, label: bench(url, label, args.teams, args.rounds, args.runs))
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, median of {args.runs}\n")
    long_key = f"team at {args.rounds} rounds"
    for title, key in (("Wall time", "median"), ("CPU time of the benchmark process", "cpu")):
        print(f"{title} (medians, ms):\n")
        print(
            "| backend | teams | cards shown | start page | floor: minimal Flask app, 1 query + plain Jinja table "
            "| ratio | floor without Flask | ratio "
            f"| team page, {args.rounds} rounds | team page, 1 round | ratio | small page /knowledge "
            "| statements: start / team | load average before / after |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
        for r in results:
            m = r[key]
            print(
                f"| {r['backend']} | {args.teams} | {r['cards']} | {m['start'] * 1000:.2f} "
                f"| {m['start floor'] * 1000:.2f} | {m['start'] / m['start floor']:.2f} "
                f"| {m['start floor without Flask'] * 1000:.2f} | {m['start'] / m['start floor without Flask']:.2f} "
                f"| {m[long_key] * 1000:.2f} | {m['team at 1 round'] * 1000:.2f} "
                f"| {m[long_key] / m['team at 1 round']:.2f} | {m['small page'] * 1000:.2f} "
                f"| {r['statements']['start']} / {r['statements'][long_key]} "
                f"(1 round: {r['statements']['team at 1 round']}) | {r['load'][0]:.2f} / {r['load'][1]:.2f} |"
            )
        print()


if __name__ == "__main__":
    main()
