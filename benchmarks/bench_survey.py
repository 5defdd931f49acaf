"""What answering costs: one submission against round size, and the survey page under load.

    .venv/bin/python benchmarks/bench_survey.py [--sizes 0,25,100,300] [--submits 15] [--seconds 8]
                                                [--clients 8] [--department 100] [--backends sqlite,postgres]

An accepted answer is stored in its open round's own tables (``survey.domain.answer_store``); before
answer slots it rewrote every answer set of the round, at O(n) per submission. This measures whether a
submission's cost grows with the answers already stored, on SQLite (a file) and on PostgreSQL
(127.0.0.1:5432, a throwaway database ``tryghed_bench_<hex>`` that is dropped afterwards), always as a
ratio to a baseline in the same run:

1. Submission cost vs round size (Flask test client, in-process): for rounds that already hold 0, 25,
   100 and 300 answer sets, the median time of one accepted submission (GET the form + POST the answers,
   a fresh cookie jar each) next to the median time of GET of the form for the same link (no write),
   measured alternately and round-robin over the sizes (same background load for every cell). The round
   grows by one per measured submission, so a round "of 100" holds 100 to 100 + submits - 1 answer sets
   while it is measured.
2. The survey page under load through a real server: gunicorn ``survey:create_app()`` with 2 sync
   workers on a free 127.0.0.1 port, ``TRYGHED_*`` pointing to the prepared database. 8 client threads
   (Python, ``http.client``, one connection per request, as a sync worker closes it) hit GET /healthz
   (baseline: the app plus one ``SELECT 1``) and then GET /s/<token> (the form) for ``--seconds`` each;
   requests/s and p50/p95 latency. Then ``--department`` distinct participants of one round submit
   concurrently from 8 threads (GET + POST each, own cookies): the time until all have answered.

Round setup uses the product code (team, CSV import, create + open round); the answer sets that a round
"already holds" are stored with the product's own store (``answer_store.store_answer``), one by one.
Invitations are not sent; links are derived from the invitation nonces with the same secret key the app
uses. All traffic goes to 127.0.0.1. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without install

from flask import Flask  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from survey import create_app  # noqa: E402
from survey.content import load_content  # noqa: E402
from survey.data.db import upgrade  # noqa: E402
from survey.data.models import Invitation  # noqa: E402
from survey.domain import answer_store  # noqa: E402
from survey.domain.tokens import make_token  # noqa: E402
from tests.helpers import Browser, free_port, hidden_fields, throwaway_database  # noqa: E402

PG_ADMIN_URL = os.environ.get("TRYGHED_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
HOST = "127.0.0.1"
ITEMS = [item.key for item in load_content().instrument().items]
_RANDOM = random.Random(20240601)  # answers only; the product shuffles with SystemRandom itself


def answers() -> dict[str, int]:
    """One plausible answer set (1-5 per statement)."""
    return {key: _RANDOM.randint(1, 5) for key in ITEMS}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def p95(values: list[float]) -> float:
    """The 95th percentile (inclusive method); the value itself for fewer than two samples."""
    return statistics.quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else values[0]


# --- databases and apps -----------------------------------------------------------------------------


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file in ``tmp`` or a throwaway PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'bench.sqlite'}"
        return
    with throwaway_database(PG_ADMIN_URL, "tryghed_bench") as url:
        yield url


def settings(url: str, tmp: Path, secret: str) -> dict[str, Any]:
    """The app settings shared by the in-process app and the gunicorn server (same key: same links)."""
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        "INSTANCE_PATH": str(tmp / "instance"),
        "OUTBOX_DIR": str(tmp / "outbox"),
        "BASE_URL": f"http://{HOST}",
    }


def make_app(config: dict[str, Any]) -> Flask:
    """The app on ``config`` with the schema created (CSRF on, as in production)."""
    app = create_app(config)
    upgrade(app.extensions["tryghed"].db)
    return app


def prepare_round(app: Flask, name: str, people: int, answered: int) -> tuple[int, list[str]]:
    """An open round of ``people`` invitations of which ``answered`` already have an answer set.

    Returns the round id and the links (tokens) of the invitations still unanswered.
    """
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team, import_participants

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, name, "leder@example.org", "Lis Leder", "da")
        rows = "\n".join(f"p{i}@example.org,Person {i}" for i in range(people))
        import_participants(s, team.id, f"email,name\n{rows}\n")
        round_id = create_round(rt, s, team.id, min_responses=5).id
        open_round(rt, s, round_id)
        invitations = list(s.execute(select(Invitation.id, Invitation.nonce).where(Invitation.round_id == round_id)))
        s.commit()
    with rt.db.answer_engine.connect() as conn:  # as the form stores them: claim and store, one by one
        for inv in invitations[:answered]:
            answer_store.store_answer(conn, inv.id, round_id, answers())
    secret = str(app.config["SECRET_KEY"])
    return round_id, [make_token(secret, inv.nonce) for inv in invitations[answered:]]


def stored(app: Flask, round_id: int) -> int:
    """How many answer sets the round holds."""
    with app.extensions["tryghed"].db.session() as s:
        return answer_store.answer_count(s, round_id)


# --- 1. submission cost vs round size (test client) --------------------------------------------------


@dataclass
class SubmitRow:
    backend: str
    size: int
    form: float
    submission: float
    post: float


def submission_costs(app: Flask, backend: str, sizes: list[int], submits: int) -> list[SubmitRow]:
    """Median GET-form, GET+POST and POST-alone times per round size, measured alternately."""

    def form_get(token: str) -> float:
        client = app.test_client()
        started = time.perf_counter()
        page = client.get(f"/s/{token}")
        elapsed = time.perf_counter() - started
        assert page.status_code == 200, page.status_code
        return elapsed

    def submit(token: str) -> tuple[float, float]:
        client = app.test_client()
        started = time.perf_counter()
        page = client.get(f"/s/{token}")
        assert page.status_code == 200, page.status_code
        posted_at = time.perf_counter()
        done = client.post(f"/s/{token}", data={**hidden_fields(page.get_data(as_text=True)), **answers()})
        finished = time.perf_counter()
        assert done.status_code == 200, done.status_code
        return finished - started, finished - posted_at

    _, warm = prepare_round(app, f"Opvarmning {backend}", 3, 0)
    for token in warm:  # imports, templates, connection pool
        form_get(token)
        submit(token)
    rounds = {size: prepare_round(app, f"Runde {size}", size + submits, size) for size in sizes}
    samples: dict[int, tuple[list[float], list[float], list[float]]] = {size: ([], [], []) for size in sizes}
    for i in range(submits):  # round-robin over the sizes, so every size sees the same background load
        for size in sizes:
            token = rounds[size][1][i]
            forms, totals, posts = samples[size]
            forms.append(form_get(token))
            total, post = submit(token)
            totals.append(total)
            posts.append(post)
    rows = []
    for size in sizes:
        assert stored(app, rounds[size][0]) == size + submits
        forms, totals, posts = samples[size]
        rows.append(
            SubmitRow(backend, size, statistics.median(forms), statistics.median(totals), statistics.median(posts))
        )
    return rows


# --- 2. a real server under load ----------------------------------------------------------------------


@contextmanager
def server(module: str, env_extra: dict[str, str], workers: int, log: Path) -> Iterator[int]:
    """gunicorn serving ``module`` (an app factory, e.g. ``survey:create_app()``) with ``workers`` sync
    workers on a free 127.0.0.1 port, ``benchmarks/`` on its path (for the floor app); stopped (SIGTERM,
    then SIGKILL) after. Shared by this benchmark and bench_answer.py."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    env.update(env_extra)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--bind",
                f"{HOST}:{port}",
                "--timeout",
                "60",
                "--pythonpath",
                str(ROOT / "benchmarks"),
                module,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log}")
                try:
                    if get(port, "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer within 30 s; see {log}")
                time.sleep(0.2)
            yield port
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@contextmanager
def gunicorn(config: dict[str, Any], workers: int = 2) -> Iterator[int]:
    """``gunicorn 'survey:create_app()'`` with ``config`` as TRYGHED_* settings; log beside the instance."""
    env = {f"TRYGHED_{key}": str(value) for key, value in config.items()}
    with server("survey:create_app()", env, workers, Path(config["INSTANCE_PATH"]).parent / "gunicorn.log") as port:
        yield port


def get(port: int, path: str) -> tuple[int, float]:
    """One GET on a new connection to 127.0.0.1: status and wall seconds (body read in full)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - started
    finally:
        conn.close()


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def load(port: int, path: str, clients: int, seconds: float) -> LoadResult:
    """``clients`` threads GET ``path`` back to back for ``seconds``; every non-200 counts as an error."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        while time.perf_counter() < deadline:
            try:
                status, elapsed = get(port, path)
            except OSError:
                errors[i] += 1
                continue
            if status == 200:
                latencies[i].append(elapsed)
            else:
                errors[i] += 1

    started = time.perf_counter()
    run_threads(clients, client)
    wall = time.perf_counter() - started
    flat = [x for per in latencies for x in per]
    return LoadResult(len(flat), sum(errors), wall, flat)


def run_threads(count: int, target: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@dataclass
class DepartmentResult:
    wall: float
    latencies: list[float]
    statuses: dict[int, int]


def department(port: int, tokens: list[str], threads: int) -> DepartmentResult:
    """Every token answers once (GET + POST, own cookies) from ``threads`` threads; total wall time."""
    queue = list(tokens)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def participant(_: int) -> None:
        while True:
            with lock:
                if not queue:
                    return
                token = queue.pop()
            started = time.perf_counter()
            status, _page = Browser().answer(f"http://{HOST}:{port}/s/{token}", answers())
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    run_threads(threads, participant)
    return DepartmentResult(time.perf_counter() - started, latencies, statuses)


@dataclass
class ServerRow:
    backend: str
    health: LoadResult
    form: LoadResult
    dept: DepartmentResult
    dept_size: int


def server_load(
    app: Flask, config: dict[str, Any], backend: str, clients: int, seconds: float, dept_size: int
) -> ServerRow:
    """Load on /healthz and on the form of a 40-person round (20 answered), then a department answering."""
    _, team_tokens = prepare_round(app, "Team Nord", 40, 20)
    dept_round, dept_tokens = prepare_round(app, "Hele afdelingen", dept_size, 0)
    form_path = f"/s/{team_tokens[0]}"
    with gunicorn(config) as port:
        for path in ("/healthz", form_path):  # warm both workers
            load(port, path, clients, 1.0)
        health = load(port, "/healthz", clients, seconds)
        form = load(port, form_path, clients, seconds)
        dept = department(port, dept_tokens, clients)
    assert stored(app, dept_round) == dept.statuses.get(200, 0), (stored(app, dept_round), dept.statuses)
    return ServerRow(backend, health, form, dept, dept_size)


# --- output -------------------------------------------------------------------------------------------


def machine_note(pg_version: str | None) -> str:
    load1, load5, _ = os.getloadavg()
    parts = [
        f"Python {platform.python_version()}",
        f"{platform.machine()}, {os.cpu_count()} CPUs",
        f"load average {load1:.2f} / {load5:.2f} (1 / 5 min) at the end",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if pg_version:
        parts.append(pg_version)
    return ", ".join(parts)


def print_submit_table(rows: list[SubmitRow], submits: int) -> None:
    print(f"\n### Submission cost vs round size (test client, median of {submits} each)\n")
    print(
        "| database | answer sets already in the round | GET form (ms) | submission: GET + POST (ms) "
        "| of which POST (ms) | ratio submission / form |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.backend} | {r.size} | {ms(r.form)} | {ms(r.submission)} | {ms(r.post)} "
            f"| {r.submission / r.form:.1f} |"
        )


def print_server_tables(rows: list[ServerRow], clients: int, seconds: float) -> None:
    print(f"\n### Survey page under load (gunicorn, 2 sync workers, {clients} client threads, {seconds:g} s each)\n")
    print(
        "| database | endpoint | requests | errors | requests/s | p50 (ms) | p95 (ms) | ratio req/s form / healthz "
        "| ratio p50 form / healthz |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        for name, res in (("GET /healthz (baseline)", r.health), ("GET /s/<token> (form)", r.form)):
            is_form = res is r.form
            ratio_rate = f"{r.form.rate / r.health.rate:.2f}" if is_form else ""
            ratio_p50 = (
                f"{statistics.median(r.form.latencies) / statistics.median(r.health.latencies):.2f}" if is_form else ""
            )
            print(
                f"| {r.backend} | {name} | {res.requests} | {res.errors} | {res.rate:.0f} "
                f"| {ms(statistics.median(res.latencies))} | {ms(p95(res.latencies))} | {ratio_rate} | {ratio_p50} |"
            )
    print(f"\n### A whole department answering at once ({clients} threads, GET + POST per participant)\n")
    print(
        "| database | participants | accepted | total wall (s) | submissions/s | p50 per participant (ms) "
        "| p95 per participant (ms) | ratio p50 / form p50 under load |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        d = r.dept
        accepted = d.statuses.get(200, 0)
        print(
            f"| {r.backend} | {r.dept_size} | {accepted} | {d.wall:.2f} | {r.dept_size / d.wall:.1f} "
            f"| {ms(statistics.median(d.latencies))} | {ms(p95(d.latencies))} "
            f"| {statistics.median(d.latencies) / statistics.median(r.form.latencies):.1f} |"
        )


def main(argv: list[str] | None = None) -> int:
    """Run both parts on each backend and print the markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0,25,100,300", help="answer sets already in the round")
    parser.add_argument("--submits", type=int, default=15, help="measured submissions per round size")
    parser.add_argument("--seconds", type=float, default=8.0, help="load duration per endpoint")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--department", type=int, default=100, help="participants answering at once")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = [b.strip() for b in args.backends.split(",")]
    assert set(backends) <= {"sqlite", "postgres"}, backends

    submit_rows: list[SubmitRow] = []
    server_rows: list[ServerRow] = []
    pg_version: str | None = None
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="tryghed-bench-") as tmp_name, database(backend, Path(tmp_name)) as url:
            tmp = Path(tmp_name)
            config = settings(url, tmp, "bench-" + secrets.token_hex(24))
            app = make_app(config)
            try:
                if backend == "postgres":
                    with app.extensions["tryghed"].db.engine.connect() as conn:
                        pg_version = "PostgreSQL " + str(conn.scalar(text("SHOW server_version")))
                print(f"[{backend}] submission cost vs round size ...", file=sys.stderr, flush=True)
                submit_rows += submission_costs(app, backend, sizes, args.submits)
                print(f"[{backend}] gunicorn under load ...", file=sys.stderr, flush=True)
                server_rows.append(server_load(app, config, backend, args.clients, args.seconds, args.department))
            finally:
                app.extensions["tryghed"].db.dispose()

    print(f"Machine: {machine_note(pg_version)}")
    print_submit_table(submit_rows, args.submits)
    print_server_tables(server_rows, args.clients, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
