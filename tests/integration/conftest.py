"""The production pipeline for real: Redis as broker, ``celery -A celery_app worker`` processes,
PostgreSQL, and a local SMTP server (aiosmtpd).

Each test gets its own Redis database number (claimed with a lock key, flushed at the end) and its own
PostgreSQL database (``pg_url``), so tests never see each other's tasks or rows. Workers run in their own
process group and are killed at teardown, before the database is dropped. Every wait is bounded and says
what it waited for.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import make_app
from tests.helpers import SMTPSink, free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
REDIS_HOST = os.environ.get("TRYGHED_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TRYGHED_TEST_REDIS_PORT", "6379"))
LOCK_KEY = "tryghed-test-lock"
WORKER_READY_S = 30.0


def _require(what: str) -> None:
    """Missing service: a clear failure on CI (where it must be there), a skip on a laptop."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must provide it: scripts/services)")
    pytest.skip(what)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """``redis://host:port/N`` on the shared Redis, with database N claimed for this test and flushed."""
    import redis

    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=2).ping()
    except redis.RedisError:
        _require(f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT}")
    for db in range(1, 16):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
        # a db that is in use by someone else (another test run) has keys; ours gets a lock key, so two
        # runs never pick the same number
        if client.dbsize() == 0 and client.set(LOCK_KEY, os.getpid(), nx=True, ex=3600):
            break
        client.close()
    else:
        pytest.fail("no free Redis database number (1-15) for this test")
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
    finally:
        client.flushdb()
        client.close()


class OwnRedis:
    """A private redis-server on a free port, which a test may stop and start again (acceptance 5)."""

    def __init__(self, tmp: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _require("redis-server is not installed")
        self.binary = str(binary)
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            args, cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

        def up() -> bool:
            try:
                return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
            except redis.RedisError:
                return False

        wait_for(up, 10, f"redis-server on port {self.port} to answer")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class OwnPostgres:
    """A private PostgreSQL cluster on a free port, which a test may restart: the shared server on 5432
    serves every other engineer's tests and is never restarted.

    ``initdb`` and ``pg_ctl`` refuse to run as root, so they run as the ``postgres`` OS user (``runuser``);
    the data folder is made in /tmp for that user. Anything missing is a skip that says what.
    """

    BIN = Path(os.environ.get("TRYGHED_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))

    def __init__(self) -> None:
        import tempfile

        if not (self.BIN / "initdb").exists():
            pytest.skip(f"no PostgreSQL server binaries in {self.BIN} (set TRYGHED_TEST_PG_BIN)")
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                pytest.skip("running as root without runuser: initdb refuses root")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tryghed-pg-"))
        self.data = self.dir / "data"
        if self.as_postgres:
            try:
                shutil.chown(self.dir, "postgres")
            except (LookupError, PermissionError) as exc:
                shutil.rmtree(self.dir, ignore_errors=True)
                pytest.skip(f"cannot hand a data folder to the postgres user: {exc}")
        done = self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        if done.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            pytest.skip(f"initdb of a private cluster failed: {done.stderr[-500:]}")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_postgres, str(self.BIN / tool), *args], capture_output=True, text=True, timeout=120
        )

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        done = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")
        if done.returncode != 0:
            pytest.fail(f"private PostgreSQL did not start: {done.stdout}{done.stderr}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


class Stack:
    """One installation: the test process acts as CLI and web app, workers run as real processes."""

    def __init__(self, tmp: Path, db_url: str, broker_url: str, smtp: SMTPSink, **settings: Any) -> None:
        self.tmp = tmp
        self.smtp = smtp
        self.workers: list[subprocess.Popen[bytes]] = []
        config = {
            "BROKER_URL": broker_url,
            "MAIL_RATE_PER_MINUTE": 0,  # no pacing in tests
            "MAIL_BACKOFF": [1] * 20,  # retries within a second, for ~20 s of outage
            "STALL_SECONDS": 600,
            **smtp.config(),
            **settings,
        }
        self.app: Flask = make_app(tmp, db_url, **config)
        self.rt = self.app.extensions["tryghed"]
        # the workers get exactly the app's settings, through the environment like in production
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
        self.env.update(
            {
                "TRYGHED_DATABASE_URL": db_url,
                "TRYGHED_SECRET_KEY": self.app.config["SECRET_KEY"],
                "TRYGHED_INSTANCE_PATH": str(tmp / "instance"),
                "TRYGHED_BASE_URL": self.app.config["BASE_URL"],
                **{f"TRYGHED_{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
            }
        )

    def start_worker(self, name: str = "w1", concurrency: int = 1, render_delay: float = 0) -> subprocess.Popen[bytes]:
        """``celery -A celery_app worker`` (optionally with a slowed-down render, via a test wrapper)."""
        log = self.tmp / f"worker-{name}-{len(self.workers)}.log"
        if render_delay:
            cmd = [sys.executable, "-m", "tests.integration.slow_worker"]
            env = {**self.env, "TEST_RENDER_DELAY": str(render_delay)}
        else:
            cmd = [str(VENV_BIN / "celery")]
            env = self.env
        cmd += [
            "-A", "celery_app", "worker", "--loglevel=INFO", f"--concurrency={concurrency}",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h",
        ]  # fmt: skip
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.workers.append(proc)

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"worker {name} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            return " ready." in log.read_text(errors="replace")

        wait_for(ready, WORKER_READY_S, f"worker {name} to be ready (log: {log})")
        return proc

    def start_beat(self) -> subprocess.Popen[bytes]:
        """``celery -A celery_app beat``: the real scheduler, ticking every minute as in production."""
        log = self.tmp / f"worker-beat-{len(self.workers)}.log"
        cmd = [str(VENV_BIN / "celery"), "-A", "celery_app", "beat", "--loglevel=INFO"]
        cmd += [f"--schedule={self.tmp / 'celerybeat-schedule'}"]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.workers.append(proc)
        wait_for(lambda: "beat: Starting" in log.read_text(errors="replace"), WORKER_READY_S, f"beat (log: {log})")
        return proc

    def kill(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Signal the worker's whole process group (the main process and its pool children)."""
        # the group outlives its leader: pool children may still run after the main process died
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        if sig == signal.SIGKILL:
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        """Kill every worker; their log tails go to captured output (shown by pytest on failure)."""
        for proc in self.workers:
            self.kill(proc, signal.SIGKILL)
        for log in sorted(self.tmp.glob("worker-*.log")):
            print(f"----- {log.name} (tail) -----\n{log.read_text(errors='replace')[-4000:]}")

    def cli(self, *args: str, check: bool = True, timeout: float = 60) -> dict[str, Any]:
        """``tryghed ARGS --json`` as a separate process, with the installation's environment."""
        done = subprocess.run(
            [str(VENV_BIN / "tryghed"), *args, "--json"],
            cwd=self.tmp,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            pytest.fail(f"tryghed {' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def tick(self) -> dict[str, Any]:
        """One scheduler pass in this process (enqueues on Redis, like ``tryghed tick``)."""
        from pipeline.tasks import tick

        with self.app.app_context():
            return tick.run()

    def session(self) -> Any:
        return self.rt.db.session()

    def round(self, round_id: int) -> Any:
        from survey.data.models import Round

        with self.session() as s:
            return s.get(Round, round_id)

    def messages(self, round_id: int | None = None) -> list[Any]:
        from sqlalchemy import select

        from survey.data.models import Message

        with self.session() as s:
            q = select(Message).order_by(Message.id)
            if round_id is not None:
                q = q.where(Message.round_id == round_id)
            return list(s.scalars(q))

    def settled(self, round_id: int | None = None) -> bool:
        """No outbox message is still pending."""
        return all(m.status != "pending" for m in self.messages(round_id))


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    """Extra TRYGHED_* settings (without the prefix) for the stack; a test module may override this."""
    return {}


@pytest.fixture
def stack(
    tmp_path: Path, pg_url: str, redis_url: str, smtp: SMTPSink, stack_settings: dict[str, Any]
) -> Iterator[Stack]:
    st = Stack(tmp_path, pg_url, redis_url, smtp, **stack_settings)
    try:
        yield st
    finally:
        st.stop_all()
        st.rt.db.dispose()


def received_ids(smtp: SMTPSink) -> list[str]:
    """The Message-IDs the SMTP server received (duplicates kept)."""
    with smtp.lock:
        return [str(m["Message-ID"]) for m in smtp.messages]


def by_kind(stack: Stack, round_id: int | None = None) -> dict[tuple[int, str, str, int], int]:
    """How many times the SMTP server received each outbox row: {(round, kind, recipient, seq): count}."""
    ids = received_ids(stack.smtp)
    return {(m.round_id, m.kind, m.recipient, m.seq): ids.count(m.message_id) for m in stack.messages(round_id)}


def new_round(
    stack: Stack,
    people: int,
    *,
    team_name: str = "Team Havbrise",
    trio: tuple[str, ...] = (),
    opens_at: Any = None,
    closes_at: Any = None,
    open_now: bool = True,
) -> tuple[int, int]:
    """A team with ``people`` participants and a round, opened (invitations queued and enqueued)."""
    from pipeline.tasks import send_pending
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team, import_participants

    rt = stack.rt
    with stack.app.app_context(), rt.db.session() as s:
        team = add_team(s, team_name, "leder@example.org", "Lis Leder", "da", trio_emails=list(trio))
        rows = "\n".join(f"p{i}.{team.id}@example.org,Person {i}" for i in range(people))
        import_participants(s, team.id, f"email,name\n{rows}\n")
        rnd = create_round(rt, s, team.id, opens_at=opens_at, closes_at=closes_at)
        ids = (team.id, rnd.id)
        if open_now:
            open_round(rt, s, rnd.id)
            send_pending.delay(rnd.id)
    return ids


def answer(stack: Stack, round_id: int, how_many: int) -> list[str]:
    """``how_many`` participants answer through the web form, with the links from their invitations."""
    from tests.helpers import submit, token_of

    items = stack.rt.content.instrument().items
    invitations = [m for m in stack.messages(round_id) if m.kind == "invitation"]
    wait_for(
        lambda: all(stack.smtp.to(m.recipient) for m in invitations[:how_many]),
        30,
        f"the invitations of round {round_id} to arrive",
    )
    client = stack.app.test_client()
    answered = []
    for i, m in enumerate(invitations[:how_many]):
        email = next(e for e in stack.smtp.to(m.recipient) if e["Message-ID"] == m.message_id)
        page = submit(client, token_of(email), {item.key: 1 + (i + n) % 5 for n, item in enumerate(items)})
        assert page.status_code == 200, page.get_data(as_text=True)[:500]
        answered.append(m.recipient)
    return answered
