"""What answering costs, against a floor measured in the same run (PostgreSQL, real gunicorn).

    .venv/bin/python benchmarks/bench_answer.py [--seconds 20] [--slices 4] [--clients 8] [--workers 2]
                                                [--wal 200] [--posts 40] [--big 5000] [--links 30000]

1. Throughput side by side, one process tree: ``gunicorn 'survey:create_app()'`` and the floor,
   ``gunicorn 'floor_app:create_app()'`` (benchmarks/floor_app.py, as issue 22 defines it: the same
   gunicorn settings, the same form bytes as the product's page, one autocommit INSERT of 16 small
   integers through SQLAlchemy Core), each with the same ``--workers`` sync workers on one throwaway
   PostgreSQL database. ``--clients`` threads submit back to back: GET the form, POST the answers with
   whatever hidden fields the form carries, each on a distinct link with its own cookie jar (one
   connection per request, as a sync worker closes it). The servers take turns in ``--slices`` slices of
   ``--seconds / --slices`` each (floor first), so both see the same background load. Reported:
   submissions/s, p50 and p99 of a whole submission (GET + POST), the ratios, and the load average.
2. WAL per submission, each server alone in turn (floor, Tryghed, twice): ``CHECKPOINT``, then ``--wal``
   submissions ("right after a checkpoint": every page they touch is written whole once), then ``--wal``
   more ("steady"). The WAL is read back with ``pg_walinspect`` between ``pg_current_wal_flush_lsn()`` marks and
   only this database's records are counted (block references in it, and the commit records of its
   transactions), so the other users of the shared server do not count; a temporary replication slot
   keeps those WAL segments until they are read. A cell inside which the server checkpointed again
   (another user's ``CHECKPOINT``, or a timed one) is marked ``*``. Then the records by type and
   relation per submission, with their full-page images (the pages written whole after the checkpoint).
3. POST latency against the size of the round (Flask test client, in-process, PostgreSQL): rounds that
   already hold 10 and ``--big`` answer sets, ``--posts`` submissions each, alternating; median POST.

(The seal's cost is measured by ``benchmarks/bench_seal.py``.)

All traffic goes to 127.0.0.1; the database ``tryghed_bench_<hex>`` is dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_survey import answers, database, machine_note, make_app, prepare_round, run_threads, server, settings
from floor_app import TABLE as FLOOR_TABLE
from sqlalchemy import Engine, text

from tests.helpers import Browser, hidden_fields  # noqa: E402

HOST = "127.0.0.1"


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def submissions(port: int, tokens: list[str], clients: int, seconds: float, into: Load, limit: int = 0) -> None:
    """``clients`` threads submit (GET, POST) on distinct links for ``seconds`` (or until ``limit`` are
    done); added to ``into``."""
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    started_count = [0]

    def client(_: int) -> None:
        while time.perf_counter() < deadline:
            with lock:
                if (limit and started_count[0] >= limit) or not tokens:
                    return  # done, or out of links (reported after the load: raise --links)
                started_count[0] += 1
                token = tokens.pop()
            browser = Browser()
            url = f"http://{HOST}:{port}/s/{token}"
            started = time.perf_counter()
            status, page = browser.request(url)
            if status == 200:
                status, page = browser.request(url, {**hidden_fields(page), **answers()})
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


# Records of this database: a block reference in it, or the commit/abort of a transaction that wrote one.
_WAL_OF_DB = text(
    "WITH recs AS (SELECT * FROM pg_get_wal_records_info(CAST(:a AS pg_lsn), CAST(:b AS pg_lsn))),"
    " ours AS (SELECT xid FROM recs WHERE block_ref LIKE :rel AND xid <> 0)"
    " SELECT resource_manager, record_type, record_length, fpi_length, coalesce(block_ref, '') FROM recs"
    " WHERE block_ref LIKE :rel OR (resource_manager = 'Transaction' AND xid IN (SELECT xid FROM ours))"
)
# Checkpoints inside a span (server-wide: another user's CHECKPOINT, or a timed one): the pages written
# after it are written whole again, so such a cell is not "steady" and an "after a checkpoint" cell had two.
_CHECKPOINTS = text(
    "SELECT count(*) FROM pg_get_wal_records_info(CAST(:a AS pg_lsn), CAST(:b AS pg_lsn))"
    " WHERE resource_manager = 'XLOG' AND record_type LIKE 'CHECKPOINT%'"
)
_FILENODES = text("SELECT pg_relation_filenode(oid), relname FROM pg_class WHERE pg_relation_filenode(oid) <> 0")
_BLOCK_REL = re.compile(r"rel \d+/\d+/(\d+)")
_ROUND_ID = re.compile(r"round_\d+_")
PHASES = ("after a checkpoint", "steady")


@dataclass
class Wal:
    after_checkpoint: list[float] = field(default_factory=list)  # bytes per submission, one per measurement
    steady: list[float] = field(default_factory=list)
    checkpoints: dict[str, list[int]] = field(default_factory=lambda: {p: [] for p in PHASES})  # inside each cell
    submissions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))
    # (phase, record type, relation) -> [records, bytes, of which full-page images, full-page images]
    records: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)

    def add(self, phase: str, rows: list[Any], relnames: dict[str, str]) -> None:
        """Count a measurement's records by type and relation (a round's tables named without their id)."""
        for rm, kind, length, fpi, refs in rows:
            rels = sorted({relnames.get(node, node) for node in _BLOCK_REL.findall(refs)})
            rel = _ROUND_ID.sub("round_<id>_", ", ".join(rels)) or "-"
            cell = self.records.setdefault((phase, f"{rm} {kind}", rel), [0, 0, 0, 0])
            cell[0] += 1
            cell[1] += length
            cell[2] += fpi
            cell[3] += refs.count("FPW")


def wal_per_submission(engine: Engine, port: int, tokens: list[str], clients: int, count: int, into: Wal) -> None:
    """CHECKPOINT, ``count`` submissions, ``count`` more: this database's WAL bytes per submission of each."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        oid = conn.exec_driver_sql("SELECT oid FROM pg_database WHERE datname = current_database()").scalar()
        rel = f"%rel %/{oid}/%"
        # a temporary replication slot keeps the WAL from here until this session ends: the other users of
        # the shared server write enough to have the segments recycled before they are read back
        conn.exec_driver_sql(f"SELECT pg_create_physical_replication_slot('bench_{secrets.token_hex(6)}', true, true)")
        conn.exec_driver_sql("CHECKPOINT")
        # the flushed position: every commit of the submissions is flushed before its page is answered
        marks = [str(conn.exec_driver_sql("SELECT pg_current_wal_flush_lsn()").scalar())]
        done = []
        for _ in range(2):
            load = Load()
            submissions(port, tokens, clients, 120.0, load, limit=count)
            done.append(len(load.latencies))
            marks.append(str(conn.exec_driver_sql("SELECT pg_current_wal_flush_lsn()").scalar()))
        relnames = {str(node): name for node, name in conn.execute(_FILENODES)}
        spans = list(zip(marks, marks[1:], strict=False))
        records = [conn.execute(_WAL_OF_DB, {"a": a, "b": b, "rel": rel}).all() for a, b in spans]
        checkpoints = [int(conn.execute(_CHECKPOINTS, {"a": a, "b": b}).scalar() or 0) for a, b in spans]
    for phase, rows, n, cps in zip(PHASES, records, done, checkpoints, strict=True):
        into.add(phase, rows, relnames)
        into.submissions[phase] += n
        into.checkpoints[phase].append(cps)
    into.after_checkpoint.append(sum(r[2] for r in records[0]) / max(done[0], 1))
    into.steady.append(sum(r[2] for r in records[1]) / max(done[1], 1))


def print_breakdown(wal: dict[str, Wal]) -> None:
    """Per server and phase: WAL records by type and relation, per submission, over all measurements."""
    print("\n### WAL records per submission, by type and relation (all measurements of a phase together)\n")
    print("| server | phase | record | relation | records | bytes | of which full-page images (bytes) | images |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    for name, w in wal.items():
        for phase in PHASES:
            n = max(w.submissions[phase], 1)
            cells = sorted(((k, v) for k, v in w.records.items() if k[0] == phase), key=lambda kv: -kv[1][1])
            for (_, kind, rel), (count, length, fpi, images) in cells:
                print(
                    f"| {name} | {phase} | {kind} | {rel} | {count / n:.2f} | {length / n:.1f} | {fpi / n:.1f} "
                    f"| {images} |"
                )


def post_latency(app: Any, posts: int, big: int) -> dict[int, float]:
    """Median POST time in rounds already holding 10 and ``big`` answer sets (alternating)."""
    sizes = [10, big]
    links = {size: prepare_round(app, f"Størrelse {size}", size + posts + 2, size)[1] for size in sizes}
    samples: dict[int, list[float]] = {size: [] for size in sizes}
    for i in range(posts + 2):
        for size in sizes:
            client = app.test_client()
            token = links[size][i]
            started = time.perf_counter()
            done = client.post(f"/s/{token}", data=answers())
            elapsed = time.perf_counter() - started
            assert done.status_code == 200, done.status_code
            if i >= 2:  # the first two warm up
                samples[size].append(elapsed)
    return {size: statistics.median(v) for size, v in samples.items()}


def main(argv: list[str] | None = None) -> int:
    """Run the three parts and print markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="load per server, in --slices slices")
    parser.add_argument("--slices", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--wal", type=int, default=200, help="submissions per WAL measurement")
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--big", type=int, default=5000)
    parser.add_argument("--links", type=int, default=30000, help="unanswered links for the load and WAL parts")
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="tryghed-bench-") as tmp_name, database("postgres", Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        config = settings(url, tmp, "bench-" + secrets.token_hex(24))
        app = make_app(config)
        engine = app.extensions["tryghed"].db.engine
        try:
            with engine.begin() as conn:
                FLOOR_TABLE.create(conn)
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
                pg_version = "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar())
            print("[bench] preparing rounds ...", file=sys.stderr, flush=True)
            tokens = prepare_round(app, "Belastning", args.links, 0)[1]
            form = app.test_client().get(f"/s/{tokens[-1]}")
            (tmp / "page.html").write_bytes(form.get_data())
            project_env = {f"TRYGHED_{k}": str(v) for k, v in config.items()}
            floor_env = {"FLOOR_PAGE": str(tmp / "page.html"), "FLOOR_DATABASE_URL": url}
            loads = {"floor": Load(), "tryghed": Load()}
            wal = {"floor": Wal(), "tryghed": Wal()}
            floor_links = [secrets.token_urlsafe(32) for _ in range(args.links)]
            print("[bench] side by side under gunicorn ...", file=sys.stderr, flush=True)
            with (
                server("floor_app:create_app()", floor_env, args.workers, tmp / "floor.log") as floor_port,
                server("survey:create_app()", project_env, args.workers, tmp / "tryghed.log") as project_port,
            ):
                ports = {"floor": (floor_port, floor_links), "tryghed": (project_port, tokens)}
                for port, links in ports.values():
                    submissions(port, links, args.clients, 1.0, Load())  # warm up: imports, pools, caches
                for _ in range(args.slices):
                    for name, (port, links) in ports.items():
                        submissions(port, links, args.clients, args.seconds / args.slices, loads[name])
                if not floor_links or not tokens:
                    # a client without a link stops early, and its server's rate would be undercounted
                    raise SystemExit(f"ran out of links during the load (--links {args.links}): raise --links")
                print("[bench] WAL per submission ...", file=sys.stderr, flush=True)
                for _ in range(2):
                    for name, (port, links) in ports.items():
                        wal_per_submission(engine, port, links, args.clients, args.wal, wal[name])
            print("[bench] POST latency vs round size ...", file=sys.stderr, flush=True)
            latency = post_latency(app, args.posts, args.big)
        finally:
            app.extensions["tryghed"].db.dispose()

    floor, ours = loads["floor"], loads["tryghed"]
    print(f"Machine: {machine_note(pg_version)}; load average at the start {load_start[0]:.2f} / {load_start[1]:.2f}")
    slice_s = args.seconds / args.slices
    print(
        f"\n### Submissions side by side (gunicorn, {args.workers} sync workers each, {args.clients} client "
        f"threads, {args.slices} slices of {slice_s:g} s per server, alternating, floor first; GET + POST on "
        "distinct links)\n"
    )
    print("| server | submissions | errors | submissions/s | p50 (ms) | p99 (ms) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, res in (("floor: same page bytes + one autocommit INSERT", floor), ("Tryghed", ours)):
        print(
            f"| {name} | {len(res.latencies)} | {res.errors} | {res.rate:.0f} "
            f"| {statistics.median(res.latencies) * 1000:.1f} | {quantile(res.latencies, 99) * 1000:.1f} |"
        )
    print(
        f"\nRatio Tryghed / floor: throughput **{ours.rate / floor.rate:.2f}x**, "
        f"p99 **{quantile(ours.latencies, 99) / quantile(floor.latencies, 99):.2f}x**."
    )
    print(f"\n### WAL per submission (this database's records only; {args.wal} submissions per cell)\n")
    print("| server | right after a checkpoint (bytes) | steady (bytes) |")
    print("|---|---|---|")
    for name in ("floor", "tryghed"):
        w = wal[name]
        cells = [
            " / ".join(f"{v:.0f}" + "*" * c for v, c in zip(values, w.checkpoints[phase], strict=True))
            for phase, values in zip(PHASES, (w.after_checkpoint, w.steady), strict=True)
        ]
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    print("\n(\\* another checkpoint of the server fell inside that cell: its pages were written whole again.)")
    ratio_cp = statistics.median(wal["tryghed"].after_checkpoint) / statistics.median(wal["floor"].after_checkpoint)
    ratio_steady = statistics.median(wal["tryghed"].steady) / statistics.median(wal["floor"].steady)
    print(f"\nRatio Tryghed / floor (medians): after a checkpoint **{ratio_cp:.2f}x**, steady **{ratio_steady:.2f}x**.")
    print_breakdown(wal)
    print(f"\n### POST latency against round size (test client, median of {args.posts})\n")
    print("| answer sets already in the round | POST (ms) |")
    print("|---:|---:|")
    for size, value in latency.items():
        print(f"| {size} | {value * 1000:.2f} |")
    print(f"\nRatio {args.big} / 10: **{latency[args.big] / latency[10]:.2f}x**.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
