"""A whole municipality on one PostgreSQL: the pages and commands people use, at 10 teams and at 10,000.

    .venv/bin/python benchmarks/bench_municipality.py [--teams 10000] [--runs 15] [--big-url URL] [--keep]

Builds two databases with ``benchmarks/municipality.py`` (the same shape, 10 teams and ``--teams``
teams; ``--big-url`` reuses an already generated big one), then measures, alternately small and big
so both see the same background load, the median wall time over ``--runs`` of:

- the start page ``/`` of a facilitator (50 teams a page) and of a leader (their own team);
- a team page ``/teams/<id>`` (a team in the middle of the list);
- ``round list`` of all teams (200 newest) and of one team: the command's work (``list_rounds`` and the
  JSON) without the process start, which is the same at any size;
- the unit overview page of the top unit (page 1 of 250 rows) and of a department, with its size;
- one scheduler pass ``tick`` with a Redis broker (a free database number, emptied after each pass): it
  enqueues at most 500 rounds with mail due, of the 10,000 whose invitations are pending.

Each figure is given as the ratio big / small (the floor: the same page at 10 teams in the same run). The
pages run in-process through Flask's test client, logged in. Prints markdown and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without install

from benchmarks.municipality import (  # noqa: E402
    BENCH_PASSWORD,
    FACILITATOR,
    LEADER,
    Shape,
    create_database,
    drop_database,
    generate,
)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def free_redis_db() -> tuple[Any, int]:
    """A Redis database number nobody uses, claimed with the tests' lock key."""
    import redis

    for n in range(1, 16):
        client = redis.Redis(db=n)
        if client.dbsize() == 0 and client.set("tryghed-test-lock", os.getpid(), nx=True, ex=3600):
            return client, n
        client.close()
    raise SystemExit("no free Redis database number")


class Site:
    """One database with its app, a logged-in facilitator and leader, and the things to measure."""

    def __init__(self, url: str, teams: int, broker: str) -> None:
        from survey import create_app
        from tests.web_helpers import login

        self.app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "BROKER_URL": broker})
        self.rt = self.app.extensions["tryghed"]
        self.teams = teams
        self.facilitator = self.app.test_client()
        self.leader = self.app.test_client()
        assert login(self.facilitator, FACILITATOR, BENCH_PASSWORD) == 303
        assert login(self.leader, LEADER, BENCH_PASSWORD) == 303
        self.sizes: dict[str, int] = {}

    def page(self, client: Any, path: str, name: str) -> Callable[[], None]:
        def run() -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            self.sizes[name] = len(response.data)

        return run

    def round_list(self, team_id: int | None) -> Callable[[], None]:
        from survey.domain.rounds import list_rounds

        def run() -> None:
            with self.rt.db.session() as s:
                json.dumps({"rounds": list_rounds(self.rt, s, team_id)})

        return run

    def tick(self, queue: Any) -> Callable[[], None]:
        from pipeline.tasks import tick

        def run() -> None:
            with self.app.app_context():
                result = tick.run()
            self.sizes["tick"] = len(result["mail_rounds"])
            queue.flushdb()
            queue.set("tryghed-test-lock", os.getpid(), ex=3600)

        return run

    def cases(self, queue: Any) -> dict[str, Callable[[], None]]:
        middle = max(1, self.teams // 2)
        return {
            "start page, facilitator": self.page(self.facilitator, "/", "start"),
            "start page, leader": self.page(self.leader, "/", "leader"),
            "team page": self.page(self.facilitator, f"/teams/{middle}", "team"),
            "round list (all teams)": self.round_list(None),
            "round list TEAM": self.round_list(middle),
            "unit page, top unit (page 1)": self.page(self.facilitator, "/units/1", "unit top"),
            "unit page, a department": self.page(self.facilitator, "/units/2", "unit department"),
            "tick (broker)": self.tick(queue),
        }


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--big-url", help="an already generated big database (not dropped)")
    parser.add_argument("--keep", action="store_true", help="keep the databases this run makes")
    args = parser.parse_args()
    print(f"load average at start: {load()}", flush=True)
    made: list[str] = []
    try:
        small_url = create_database("tryghed_bench")
        made.append(small_url)
        generate(small_url, Shape(teams=10))
        big_url = args.big_url
        if big_url is None:
            big_url = create_database("tryghed_bench")
            made.append(big_url)
            t0 = time.perf_counter()
            counts = generate(big_url, Shape(teams=args.teams))
            print(f"generated {counts} in {time.perf_counter() - t0:.1f} s (load {load()})", flush=True)
        queue, n = free_redis_db()
        broker = f"redis://127.0.0.1:6379/{n}"
        try:
            small = Site(small_url, 10, broker)
            big = Site(big_url, args.teams, broker)
            small_cases, big_cases = small.cases(queue), big.cases(queue)
            for fn in [*small_cases.values(), *big_cases.values()]:
                fn()  # warm: templates compiled, connections open, pools frozen
            times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in small_cases}
            for _ in range(args.runs):
                for name in small_cases:
                    times[name][0].append(timed(small_cases[name]))
                    times[name][1].append(timed(big_cases[name]))
        finally:
            queue.flushdb()
            queue.close()
        print(f"load average at end: {load()}\n")
        print(f"| what | 10 teams (ms) | {args.teams:,} teams (ms) | ratio | size at {args.teams:,} (bytes) |")
        print("|---|---:|---:|---:|---:|")
        size_key = {
            "start page, facilitator": "start",
            "start page, leader": "leader",
            "team page": "team",
            "unit page, top unit (page 1)": "unit top",
            "unit page, a department": "unit department",
        }
        for name, (a, b) in times.items():
            ms_a, ms_b = statistics.median(a) * 1000, statistics.median(b) * 1000
            size = big.sizes.get(size_key.get(name, ""), "")
            print(f"| {name} | {ms_a:.1f} | {ms_b:.1f} | {ms_b / ms_a:.2f} | {size} |")
        print(f"\ntick: {big.sizes.get('tick')} rounds with mail enqueued per pass at {args.teams:,} teams")
    finally:
        if not args.keep:
            for url in made:
                drop_database(url)
        else:
            print("kept:", made)


if __name__ == "__main__":
    main()
