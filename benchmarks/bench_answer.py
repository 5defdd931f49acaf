"""What storing an answer costs, against a floor measured in the same run (PostgreSQL, real gunicorn).

    .venv/bin/python benchmarks/bench_answer.py [--seconds 10] [--clients 8] [--workers 2] [--posts 40]
                                                [--big 5000]

1. Side by side, one process tree: ``gunicorn 'survey:create_app()'`` and the floor,
   ``gunicorn 'floor_app:create_app()'`` (benchmarks/floor_app.py: the same form page from a file, and
   one INSERT per POST), each with the same ``--workers`` sync workers on a throwaway PostgreSQL database.
   ``--clients`` threads submit back to back: GET the form, read the CSRF token, POST the answers, each
   on a distinct link with its own cookies (one connection per request, as a sync worker closes it).
   The two servers take turns in four slices of ``--seconds`` / 2, so both see the same background load.
   Reported: submissions/s, p50 and p99 of a whole submission (GET + POST), and the ratios.
2. POST latency against the size of the round (Flask test client, in-process, PostgreSQL): rounds that
   already hold 10 and ``--big`` answer sets, ``--posts`` submissions each, alternating; median POST.
(The seal's cost is measured by ``benchmarks/bench_seal.py``.)

All traffic goes to 127.0.0.1; the database ``tryghed_bench_<hex>`` is dropped afterwards.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_survey import answers, database, machine_note, make_app, prepare_round, run_threads, server, settings

from tests.helpers import Browser, csrf_of  # noqa: E402

HOST = "127.0.0.1"


@dataclass
class Load:
    latencies: list[float]
    errors: int
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def submissions(port: int, tokens: list[str], clients: int, seconds: float, into: Load) -> None:
    """``clients`` threads submit (GET, CSRF, POST) on distinct links for ``seconds``; added to ``into``."""
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(_: int) -> None:
        while time.perf_counter() < deadline:
            with lock:
                token = tokens.pop()
            browser = Browser()
            url = f"http://{HOST}:{port}/s/{token}"
            started = time.perf_counter()
            status, page = browser.request(url)
            fields = {"csrf_token": csrf_of(page)} if 'name="csrf_token"' in page else {}
            if status == 200:
                status, page = browser.request(url, {**fields, **answers()})
            elapsed = time.perf_counter() - started
            with lock:
                if status == 200:
                    into.latencies.append(elapsed)
                else:
                    into.errors += 1

    started = time.perf_counter()
    run_threads(clients, client)
    into.seconds += time.perf_counter() - started


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def post_latency(app: Any, posts: int, big: int) -> dict[int, float]:
    """Median POST time in rounds already holding 10 and ``big`` answer sets (alternating)."""
    sizes = [10, big]
    links = {size: prepare_round(app, f"Størrelse {size}", size + posts + 2, size)[1] for size in sizes}
    samples: dict[int, list[float]] = {size: [] for size in sizes}
    for i in range(posts + 2):
        for size in sizes:
            client = app.test_client()
            token = links[size][i]
            page = client.get(f"/s/{token}")
            started = time.perf_counter()
            done = client.post(f"/s/{token}", data={"csrf_token": csrf_of(page.get_data(as_text=True)), **answers()})
            elapsed = time.perf_counter() - started
            assert done.status_code == 200, done.status_code
            if i >= 2:  # the first two warm up
                samples[size].append(elapsed)
    return {size: statistics.median(v) for size, v in samples.items()}


def main(argv: list[str] | None = None) -> int:
    """Run the three parts and print markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="load per server (in two slices)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--big", type=int, default=5000)
    parser.add_argument("--links", type=int, default=15000, help="unanswered links for the load part")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tryghed-bench-") as tmp_name, database("postgres", Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        config = settings(url, tmp, "bench-" + secrets.token_hex(24))
        app = make_app(config)
        engine = app.extensions["tryghed"].db.engine
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE TABLE floor_answers (id varchar(32) PRIMARY KEY, answers text)")
                pg_version = "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar())
            print("[bench] preparing rounds ...", file=sys.stderr, flush=True)
            tokens = prepare_round(app, "Belastning", args.links, 0)[1]
            page = app.test_client().get(f"/s/{tokens[-1]}").get_data(as_text=True)
            (tmp / "page.html").write_text(page)
            project_env = {f"TRYGHED_{k}": str(v) for k, v in config.items()}
            floor_env = {"FLOOR_PAGE": str(tmp / "page.html"), "FLOOR_DATABASE_URL": url}
            loads = {"floor": Load([], 0, 0.0), "tryghed": Load([], 0, 0.0)}
            floor_links = [secrets.token_urlsafe(32) for _ in range(args.links)]
            print("[bench] side by side under gunicorn ...", file=sys.stderr, flush=True)
            with (
                server("floor_app:create_app()", floor_env, args.workers, tmp / "floor.log") as floor_port,
                server("survey:create_app()", project_env, args.workers, tmp / "tryghed.log") as project_port,
            ):
                warm = Load([], 0, 0.0)
                submissions(floor_port, floor_links, args.clients, 1.0, warm)
                submissions(project_port, tokens, args.clients, 1.0, warm)
                for _ in range(2):
                    submissions(floor_port, floor_links, args.clients, args.seconds / 2, loads["floor"])
                    submissions(project_port, tokens, args.clients, args.seconds / 2, loads["tryghed"])
            if not floor_links or not tokens:
                # a client without a link stops early, and its server's rate would be undercounted
                raise SystemExit(f"ran out of links during the load (--links {args.links}): raise --links")
            print("[bench] POST latency vs round size ...", file=sys.stderr, flush=True)
            latency = post_latency(app, args.posts, args.big)
        finally:
            app.extensions["tryghed"].db.dispose()

    floor, ours = loads["floor"], loads["tryghed"]
    print(f"Machine: {machine_note(pg_version)}")
    print(
        f"\n### Submissions side by side (gunicorn, {args.workers} sync workers each, {args.clients} client "
        f"threads, {args.seconds:g} s each in 2 alternating slices; GET + CSRF + POST on distinct links)\n"
    )
    print("| server | submissions | errors | submissions/s | p50 (ms) | p99 (ms) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, res in (("floor: fixed page + one INSERT", floor), ("Tryghed", ours)):
        print(
            f"| {name} | {len(res.latencies)} | {res.errors} | {res.rate:.0f} "
            f"| {statistics.median(res.latencies) * 1000:.1f} | {quantile(res.latencies, 99) * 1000:.1f} |"
        )
    print(
        f"\nRatio Tryghed / floor: throughput **{ours.rate / floor.rate:.2f}x**, "
        f"p99 **{quantile(ours.latencies, 99) / quantile(floor.latencies, 99):.2f}x**."
    )
    print(f"\n### POST latency against round size (test client, median of {args.posts})\n")
    print("| answer sets already in the round | POST (ms) |")
    print("|---:|---:|")
    for size, value in latency.items():
        print(f"| {size} | {value * 1000:.2f} |")
    print(f"\nRatio {args.big} / 10: **{latency[args.big] / latency[10]:.2f}x**.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
