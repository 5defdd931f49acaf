"""Sending email: the project's sender against a raw smtplib loop, and the shared pacing rate.

    .venv/bin/python benchmarks/bench_mail.py [--messages 1000] [--repeat 3] [--backends sqlite,postgres]
                                              [--rate 600] [--paced 300] [--workers 2]

1. Throughput, pacing off. A local SMTP server (aiosmtpd, answering 250 to everything) runs in its own
   process, so the sending side is measured and not the server sharing its interpreter. The floor is a
   raw smtplib loop: one connection, ``sendmail`` of ready-made bytes (a real invitation of the same
   size, composed once beforehand), ``--messages`` times. The project sends ``--messages`` invitations of
   a freshly opened round (team, CSV import, create + open round with the product code) with
   ``pipeline.tasks.send_pending`` in-process: claim batches, compose, send over one connection, mark.
   Floor and project alternate ``--repeat`` times on each backend (SQLite file; PostgreSQL throwaway
   database ``tryghed_bench_<hex>`` on 127.0.0.1:5432, dropped afterwards); the medians are compared,
   and the best of each (background load only ever adds time). The CPU seconds of each process are read
   from /proc around every run: this client, the SMTP server and, on PostgreSQL, the backends of the
   benchmark's database and the WAL writer (the database server's share of the work).
2. Pacing, ``--rate`` per minute with ``--workers`` real Celery workers (Redis broker on
   127.0.0.1:6379, a free database number, flushed afterwards; PostgreSQL). Two rounds of ``--paced / 2``
   invitations each are sent at once, one ``send_pending`` task per round, so every worker sends at
   the same time; the measured rate is (received - 1) / (last - first arrival) at the SMTP server.

Prints markdown tables. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import signal
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without install

from flask import Flask  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from survey import create_app  # noqa: E402
from survey.data.db import upgrade  # noqa: E402
from survey.data.models import Message  # noqa: E402
from tests.helpers import free_port, throwaway_database  # noqa: E402

PG_ADMIN_URL = os.environ.get("TRYGHED_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("TRYGHED_BENCH_REDIS", "redis://127.0.0.1:6379")
HOST = "127.0.0.1"
VENV_BIN = Path(sys.executable).parent


# --- the SMTP server process -------------------------------------------------------------------------


def serve(port: int, log_path: str) -> None:
    """``--serve PORT LOG``: aiosmtpd that accepts everything and writes each arrival time to LOG."""
    from aiosmtpd.controller import Controller

    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - open for the life of the process

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            log.write(f"{time.time():.6f}\n")
            return "250 OK"

    controller = Controller(Handler(), hostname=HOST, port=port)
    controller.start()
    stop = asyncio.Event()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        asyncio.run(stop.wait())
    finally:
        controller.stop()


class SMTPServer:
    """The server above as a child process, with its arrival log."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.log = tmp / f"smtp-{self.port}.log"
        self.log.touch()
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", str(self.port), str(self.log)])
        deadline = time.monotonic() + 20
        while True:
            try:
                smtplib.SMTP(HOST, self.port, timeout=2).quit()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the SMTP server did not start") from None
                time.sleep(0.1)

    def arrivals(self) -> list[float]:
        return [float(line) for line in self.log.read_text().split()]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


# --- setup ---------------------------------------------------------------------------------------------


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file in ``tmp`` or a throwaway PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / f'bench-{secrets.token_hex(4)}.sqlite'}"
        return
    with throwaway_database(PG_ADMIN_URL, "tryghed_bench") as url:
        yield url


def settings(url: str, tmp: Path, smtp_port: int, **extra: Any) -> dict[str, Any]:
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-" + secrets.token_hex(24),
        "INSTANCE_PATH": str(tmp / "instance"),
        "BASE_URL": "https://tryghed.example.dk",
        "SMTP_HOST": HOST,
        "SMTP_PORT": smtp_port,
        "MAIL_RATE_PER_MINUTE": 0,
        **extra,
    }


def make_app(config: dict[str, Any]) -> Flask:
    app = create_app(config)
    upgrade(app.extensions["tryghed"].db)
    return app


def open_round(app: Flask, people: int, name: str) -> int:
    """A team of ``people`` and an opened round: ``people`` invitations pending in the outbox."""
    from survey.domain.rounds import create_round
    from survey.domain.rounds import open_round as open_
    from survey.domain.teams import add_team, import_participants

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, name, "leder@example.org", "Lis Leder", "da")
        rows = "\n".join(f"p{i}.{team.id}@example.org,Person {i}" for i in range(people))
        import_participants(s, team.id, f"email,name\n{rows}\n")
        rnd = create_round(rt, s, team.id)
        open_(rt, s, rnd.id)
        return rnd.id


def sent_count(app: Flask, round_id: int) -> int:
    with app.extensions["tryghed"].db.session() as s:
        return int(s.scalar(select(func.count()).where(Message.round_id == round_id, Message.status == "sent")) or 0)


def sample_bytes(app: Flask, round_id: int) -> bytes:
    """One real invitation of the round, composed by the product (the floor sends bytes of this size)."""
    from survey.mail.composer import Composer
    from survey.mail.outbox import Claimed

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        m = s.scalars(select(Message).where(Message.round_id == round_id).limit(1)).one()
        row = Claimed(m.id, m.round_id, m.kind, m.recipient, m.lang, m.invitation_id, m.message_id, 0, rt.now())
        return Composer(rt, s).compose(row).data


# --- part 1: throughput ------------------------------------------------------------------------------


def floor(server: SMTPServer, data: bytes, n: int) -> tuple[float, dict[str, float]]:
    """Seconds for ``n`` messages with smtplib over one connection, and the CPU seconds of this process
    and the SMTP server."""
    before = (time.process_time(), cpu_seconds([server.proc.pid]))
    started = time.perf_counter()
    smtp = smtplib.SMTP(HOST, server.port)
    for i in range(n):
        smtp.sendmail("tryghed@localhost", [f"p{i}@example.org"], data)
    smtp.quit()
    took = time.perf_counter() - started
    after = (time.process_time(), cpu_seconds([server.proc.pid]))
    return took, {"ours": after[0] - before[0], "db": 0.0, "smtp": after[1] - before[1]}


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (from /proc; 0 for a process gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / tick


def backends(app: Flask) -> list[int]:
    """Process ids of the PostgreSQL backends connected to the app's database, and the WAL writer."""
    rt = app.extensions["tryghed"]
    if rt.db.engine.dialect.name != "postgresql":
        return []
    with rt.db.engine.connect() as conn:
        return list(
            conn.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR backend_type = 'walwriter'"
                )
            )
        )


def project(app: Flask, round_id: int, server: SMTPServer) -> tuple[float, dict[str, float]]:
    """Seconds for ``send_pending`` to send the round's pending invitations (in-process), and the CPU
    seconds of this process, the database server (its backends for this database + WAL writer) and
    the SMTP server while it ran."""
    from pipeline.tasks import send_pending

    with app.app_context():
        with app.extensions["tryghed"].db.session() as s:
            s.execute(text("SELECT 1"))  # a pooled connection: the backend send_pending will use
        pg = backends(app)
        before = (time.process_time(), cpu_seconds(pg), cpu_seconds([server.proc.pid]))
        started = time.perf_counter()
        counts = send_pending.run(round_id)
        took = time.perf_counter() - started
        after = (time.process_time(), cpu_seconds(pg), cpu_seconds([server.proc.pid]))
    assert counts["sent"] == sent_count(app, round_id), counts
    cpu = dict(zip(("ours", "db", "smtp"), (b - a for a, b in zip(before, after, strict=True)), strict=True))
    return took, cpu


def throughput(backend: str, messages: int, repeat: int, server: SMTPServer, tmp: Path) -> dict[str, Any]:
    with database(backend, tmp) as url:
        app = make_app(settings(url, tmp, server.port))
        try:
            rounds = [open_round(app, messages, f"Team {backend} {i}") for i in range(repeat)]
            data = sample_bytes(app, rounds[0])
            floor(server, data, 50)  # warm-up: connection, server code paths
            floors, ours = [], []
            floor_cpu: list[dict[str, float]] = []
            our_cpu: list[dict[str, float]] = []
            for rid in rounds:
                took, cpu = floor(server, data, messages)
                floors.append(took)
                floor_cpu.append(cpu)
                took, cpu = project(app, rid, server)
                ours.append(took)
                our_cpu.append(cpu)
                assert sent_count(app, rid) == messages, f"round {rid}: not all sent"
        finally:
            app.extensions["tryghed"].db.dispose()
    f, p = statistics.median(floors), statistics.median(ours)
    return {
        "backend": backend,
        "floor": f,
        "project": p,
        "best": min(floors) / min(ours),
        "size": len(data),
        "floors": floors,
        "ours": ours,
        "floor_cpu": {k: statistics.median(c[k] for c in floor_cpu) for k in ("ours", "smtp")},
        "our_cpu": {k: statistics.median(c[k] for c in our_cpu) for k in ("ours", "db", "smtp")},
    }


# --- part 2: pacing with workers -----------------------------------------------------------------------


@contextmanager
def redis_db() -> Iterator[str]:
    import redis

    for db in range(1, 16):
        client = redis.Redis.from_url(f"{REDIS}/{db}")
        if client.dbsize() == 0 and client.set("tryghed-bench-lock", os.getpid(), nx=True, ex=3600):
            break
        client.close()
    else:
        raise RuntimeError("no free Redis database number")
    try:
        yield f"{REDIS}/{db}"
    finally:
        client.flushdb()
        client.close()


def pacing(rate: int, paced: int, workers: int, server: SMTPServer, tmp: Path) -> dict[str, Any]:
    import json

    from pipeline.tasks import send_pending

    with database("postgres", tmp) as url, redis_db() as broker:
        config = settings(url, tmp, server.port, BROKER_URL=broker, MAIL_RATE_PER_MINUTE=rate)
        app = make_app(config)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
        env.update({f"TRYGHED_{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
        procs = []
        try:
            for n in range(workers):
                log = tmp / f"worker-{n}.log"
                with log.open("wb") as out:
                    command = [str(VENV_BIN / "celery"), "-A", "celery_app", "worker", "--concurrency=1",
                               "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
                               f"-n=bench{n}@%h"]  # fmt: skip
                    procs.append(
                        subprocess.Popen(
                            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                        )
                    )
            deadline = time.monotonic() + 60
            while not all(" ready." in (tmp / f"worker-{n}.log").read_text() for n in range(workers)):
                if time.monotonic() > deadline:
                    tails = "\n".join((tmp / f"worker-{n}.log").read_text()[-2000:] for n in range(workers))
                    raise RuntimeError(f"workers did not start:\n{tails}")
                time.sleep(0.2)
            rounds = [open_round(app, paced // workers, f"Team paced {i}") for i in range(workers)]
            before = len(server.arrivals())
            with app.app_context():
                for rid in rounds:
                    send_pending.delay(rid)
            expected = (paced // workers) * workers
            deadline = time.monotonic() + 60 * expected / rate + 60
            while len(server.arrivals()) - before < expected:
                if time.monotonic() > deadline:
                    raise RuntimeError("paced sending did not finish")
                time.sleep(0.5)
            arrivals = server.arrivals()[before:]
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            app.extensions["tryghed"].db.dispose()
    span = arrivals[-1] - arrivals[0]
    return {"sent": len(arrivals), "span": span, "rate": (len(arrivals) - 1) / span * 60}


def machine_note(pg_version: str) -> str:
    load1, load5, _ = os.getloadavg()
    return ", ".join(
        [
            f"Python {platform.python_version()}",
            f"{platform.machine()}, {os.cpu_count()} CPUs",
            f"load average {load1:.2f} / {load5:.2f} (1 / 5 min) at the end",
            f"SQLite {sqlite3.sqlite_version}",
            pg_version,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Run both parts and print the markdown tables."""
    if argv is None and len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--rate", type=int, default=600, help="pacing rate per minute for part 2")
    parser.add_argument("--paced", type=int, default=300, help="messages sent paced in part 2")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    rows = []
    with tempfile.TemporaryDirectory(prefix="tryghed-bench-mail-") as tmp_name:
        tmp = Path(tmp_name)
        server = SMTPServer(tmp)
        try:
            for backend in args.backends.split(","):
                print(f"[{backend}] {args.messages} invitations, floor vs project ...", file=sys.stderr, flush=True)
                rows.append(throughput(backend.strip(), args.messages, args.repeat, server, tmp))
            paced = None
            if args.paced:
                print(f"[pacing] {args.paced} at {args.rate}/min, {args.workers} workers ...", file=sys.stderr)
                paced = pacing(args.rate, args.paced, args.workers, server, tmp)
        finally:
            server.stop()
        engine_app = create_app({"DATABASE_URL": PG_ADMIN_URL, "INSTANCE_PATH": str(tmp / "i")})
        with engine_app.extensions["tryghed"].db.engine.connect() as conn:
            pg_version = "PostgreSQL " + str(conn.scalar(text("SHOW server_version")))
        engine_app.extensions["tryghed"].db.dispose()

    print(f"Machine: {machine_note(pg_version)}\n")
    print(f"### {args.messages} invitations, pacing off (median of {args.repeat}, alternating)\n")
    print("| backend | message size (bytes) | floor: smtplib loop (s) | project: send_pending (s) "
          "| floor msg/s | project msg/s | project / floor throughput | same, best of each |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        n = args.messages
        print(
            f"| {r['backend']} | {r['size']} | {r['floor']:.3f} | {r['project']:.3f} | {n / r['floor']:.0f} "
            f"| {n / r['project']:.0f} | {r['floor'] / r['project']:.2f} | {r['best']:.2f} |"
        )
    print(f"\n### CPU seconds per {args.messages} (median), by process\n")
    print("| backend | floor: client | floor: SMTP server | project: our process | project: database server "
          "| project: SMTP server |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        fc, pc = r["floor_cpu"], r["our_cpu"]
        db = f"{pc['db']:.2f}" if r["backend"] == "postgres" else "(in our process)"
        print(f"| {r['backend']} | {fc['ours']:.2f} | {fc['smtp']:.2f} | {pc['ours']:.2f} | {db} | {pc['smtp']:.2f} |")
    if paced:
        print(f"\n### Pacing: {args.rate}/min shared by {args.workers} workers (Redis bucket), PostgreSQL\n")
        print("| messages | first to last arrival (s) | measured rate (/min) | target (/min) | measured / target |")
        print("|---:|---:|---:|---:|---:|")
        print(
            f"| {paced['sent']} | {paced['span']:.1f} | {paced['rate']:.0f} | {args.rate} "
            f"| {paced['rate'] / args.rate:.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
