"""How long "Close now" on a card round takes until the web report is ready (issue 21, point 2).

    .venv/bin/python benchmarks/bench_cards.py [--runs 3] [--cards 12] [--used 10] [--modes embedded,workers]

Each run: a card round of ``--cards`` cards is opened and ``--used`` of them answer through the real form
(``/k/<code>``); a facilitator then opens the confirmation page and posts "Close now", and the clock runs
from that POST until the round page offers the report, and the web report (``/rounds/<id>/report``) and
the debrief on the room's screen (``/rounds/<id>/present``, point 3) answer 200, refreshing the round page
every 0.2 s as a facilitator would (a plain refresh).

- ``embedded``: the default installation (SQLite, no broker: the POST runs the pipeline in-process).
- ``workers``: PostgreSQL (a throwaway database on 127.0.0.1:5432), Redis (a free database number on
  127.0.0.1:6379) and one ``celery -A celery_app worker`` process; the POST only enqueues.

Floor, measured right after each close in the same run: ``render_pdf`` of the same round's report data in
this process (WeasyPrint, the largest single step of the pipeline). The ratio says what the rest of the
pipeline (seal, aggregate, store, the report email, the queue) and the page round trips add to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

from tests.helpers import SMTPSink, hidden_fields, throwaway_database  # noqa: E402
from tests.web_helpers import add_account, login  # noqa: E402
from tests.web_helpers import csrf_of as page_csrf  # noqa: E402

PG_ADMIN_URL = os.environ.get("TRYGHED_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def card_round(app: Flask, name: str, cards: int, used: int) -> int:
    """An open card round with ``used`` of its ``cards`` answered through the form; its id."""
    from survey.domain.cards import round_cards
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, name, "leder@example.org", "Lis")
        rid = create_round(rt, s, team.id, channel="cards", cards=cards, min_responses=5).id
        open_round(rt, s, rid)
        codes = [c.url.rsplit("/", 1)[1] for c in round_cards(rt, s, rid)[1]]
    keys = [i.key for i in rt.content.instrument().items]
    phone = app.test_client()
    for n, code in enumerate(codes[:used]):
        page = phone.get(f"/k/{code}")
        data = {**hidden_fields(page.get_data(as_text=True)), **{k: 1 + (n + j) % 5 for j, k in enumerate(keys)}}
        assert phone.post(f"/k/{code}", data=data).status_code == 200
    return rid


def close_until_ready(app: Flask, web: Any, rid: int, timeout: float = 120.0) -> float:
    """Seconds from the POST of "Close now" until the web report and the deck answer 200."""
    confirm = web.get(f"/rounds/{rid}/close")
    token = page_csrf(confirm.get_data(as_text=True))
    start = time.perf_counter()
    assert web.post(f"/rounds/{rid}/close", data={"csrf_token": token}).status_code == 303
    while time.perf_counter() - start < timeout:
        if f"/rounds/{rid}/report" in web.get(f"/rounds/{rid}").get_data(as_text=True):
            assert web.get(f"/rounds/{rid}/report").status_code == 200
            assert web.get(f"/rounds/{rid}/present").status_code == 200
            return time.perf_counter() - start
        time.sleep(0.2)
    raise RuntimeError(f"round {rid} was not reported within {timeout} s")


def floor(app: Flask, rid: int) -> float:
    from pipeline.render import render_pdf
    from pipeline.report_builder import build_report_data

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        data = build_report_data(s, rid, rt.content, rt.tz)
    start = time.perf_counter()
    render_pdf(data)
    return time.perf_counter() - start


def measure(app: Flask, runs: int, cards: int, used: int) -> tuple[list[float], list[float]]:
    add_account(app, "fie@example.org", "facilitator")
    web = app.test_client()
    assert login(web, "fie@example.org") == 303
    closes, floors = [], []
    for n in range(runs):
        rid = card_round(app, f"Team {n}", cards, used)
        closes.append(close_until_ready(app, web, rid))
        floors.append(floor(app, rid))
    return closes, floors


def free_redis_db() -> str:
    import redis

    for db in range(1, 16):
        client = redis.Redis(host="127.0.0.1", port=6379, db=db)
        if client.dbsize() == 0 and client.set("tryghed-bench-lock", os.getpid(), nx=True, ex=3600):
            return f"redis://127.0.0.1:6379/{db}"
    raise RuntimeError("no free Redis database number")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cards", type=int, default=12)
    parser.add_argument("--used", type=int, default=10)
    parser.add_argument("--modes", default="embedded,workers")
    args = parser.parse_args()
    rows = []
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            if mode == "embedded":
                from tests.conftest import make_app

                app = make_app(tmp)
                closes, floors = measure(app, args.runs, args.cards, args.used)
                app.extensions["tryghed"].db.dispose()
            else:
                import redis

                from tests.integration.conftest import Stack

                smtp = SMTPSink()
                smtp.start()
                broker = free_redis_db()
                with throwaway_database(PG_ADMIN_URL, "tryghed_bench") as url:
                    stack = Stack(tmp, url, broker, smtp)
                    try:
                        stack.start_worker()
                        closes, floors = measure(stack.app, args.runs, args.cards, args.used)
                    finally:
                        stack.stop_all()
                        stack.rt.db.dispose()
                        redis.Redis.from_url(broker).flushdb()
                smtp.stop()
        ratio = statistics.median(c / f for c, f in zip(closes, floors, strict=True))
        rows.append((mode, closes, floors, ratio))
    load1, load5, _ = os.getloadavg()
    print("| mode | runs | close -> web report and deck (s), median [min-max] | floor render_pdf (s), median | ratio |")
    print("|---|---:|---:|---:|---:|")
    for mode, closes, floors, ratio in rows:
        print(
            f"| {mode} | {len(closes)} | {statistics.median(closes):.2f} [{min(closes):.2f}-{max(closes):.2f}]"
            f" | {statistics.median(floors):.2f} | {ratio:.2f} |"
        )
    print(f"\nload average {load1:.2f} / {load5:.2f} (1 / 5 min) at the end, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
