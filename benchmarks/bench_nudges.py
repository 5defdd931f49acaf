"""The tick's nudge step at a municipality's size: 10,000 teams, each with a reported round in the nudge
window and five actions with due dates, every nudge already sent (the common pass: nothing new to do).

    .venv/bin/python benchmarks/bench_nudges.py [--teams 10000] [--runs 7] [--backends sqlite,postgres]

Measures, alternately, the median over ``--runs`` of ``survey.domain.nudges.queue_due`` (six bounded
queries, one per kind, each ``NOT EXISTS`` an outbox row) and a floor: plain SQL on the raw DBAPI connection
that only counts the candidate rows of the same windows (reported rounds of the last 28 days, live actions
due within 3 days or overdue within 14, open and planned requests), with no outbox check at all.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from survey.data.db import Database, upgrade  # noqa: E402
from survey.data.models import Action, Message, Round, Team  # noqa: E402
from survey.domain.nudges import queue_due  # noqa: E402
from tests.helpers import throwaway_database  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FLOOR = [
    "SELECT count(*) FROM rounds WHERE status = 'reported' AND reported_at >= :since",
    "SELECT count(*) FROM actions WHERE status IN ('planned', 'ongoing') AND due >= :low AND due <= :high",
    "SELECT count(*) FROM facilitation_requests WHERE status IN ('open', 'planned')",
]


def seed(db: Database, teams: int, now: datetime) -> None:
    today = now.date()
    with db.engine.begin() as c:
        c.execute(insert(Team), [
            {"id": i, "name": f"T{i}", "leader_email": f"l{i}@example.org", "lang": "da", "trio_emails": [],
             "track": "selfguided", "created_at": now} for i in range(1, teams + 1)
        ])  # fmt: skip
        c.execute(insert(Round), [
            {"id": i, "team_id": i, "number": 1, "kind": "baseline", "status": "reported", "instrument": "x",
             "min_responses": 5, "invited_count": 8, "reminders_sent": 0, "pipeline_attempts": 0,
             "reported_at": now - timedelta(days=1 + i % 27), "closed_at": now - timedelta(days=2 + i % 27),
             "created_at": now, "chosen_focus": None} for i in range(1, teams + 1)
        ])  # fmt: skip
        c.execute(insert(Action), [
            {"id": i * 5 + j, "round_id": i, "level": "gruppe", "what": "x", "who": "y", "by_when": "",
             "status": "planned", "due": today + timedelta(days=(i + j) % 20 - 10)}
            for i in range(1, teams + 1) for j in range(5)
        ])  # fmt: skip
    # every pass before this one has sent what was due: run the step until nothing is left
    with db.session() as s:
        while sum(queue_due(s, now, today, batch=5000).values()):
            pass
        assert s.query(Message).count() > teams


def measure(url: str, teams: int, runs: int) -> dict[str, float]:
    db = Database(url)
    upgrade(db)
    now = datetime.now(UTC)
    seed(db, teams, now)
    today = now.date()
    params = {"since": now - timedelta(days=28), "low": today - timedelta(days=14), "high": today + timedelta(days=3)}
    step, floor = [], []
    for _ in range(runs):
        t = time.perf_counter()
        with db.session() as s:
            assert sum(queue_due(s, now, today).values()) == 0
        step.append(time.perf_counter() - t)
        t = time.perf_counter()
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            for sql in FLOOR:
                if db.engine.dialect.name == "sqlite":  # sqlite3 takes :name; dates as SQLAlchemy stores them
                    q = sql
                    values = {k: v.replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v.isoformat()
                              for k, v in params.items()}  # fmt: skip
                else:  # psycopg takes %(name)s
                    q = sql.replace(":since", "%(since)s").replace(":low", "%(low)s").replace(":high", "%(high)s")
                    values = params
                cur.execute(q, values)
                cur.fetchall()
            raw.commit()
        finally:
            raw.close()
        floor.append(time.perf_counter() - t)
    db.dispose()
    s, f = statistics.median(step), statistics.median(floor)
    return {"step": s, "floor": f, "ratio": s / f}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print("| backend | teams | actions | floor: count candidates (s) | nudge step, nothing new (s) | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                r = measure(f"sqlite:///{tmp}/bench.sqlite", args.teams, args.runs)
        else:
            with throwaway_database(PG_ADMIN, "tryghed_bench") as url:
                r = measure(url, args.teams, args.runs)
        print(
            f"| {backend} | {args.teams} | {args.teams * 5} | {r['floor']:.4f} | {r['step']:.4f} | {r['ratio']:.1f} |"
        )


if __name__ == "__main__":
    main()
