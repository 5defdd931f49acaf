"""No statement parameters in any log (issue 16, acceptance 4): a database error during a submission, and
one in a Celery worker, leave the SQL in the logs but no invitation id, answer set, email or token.

Real processes on PostgreSQL: gunicorn and ``flask run`` serve the form, a ``celery -A celery_app worker``
runs the report pipeline. Every process connects with ``lock_timeout`` and ``deadlock_timeout`` set in the
database URL. Another session (like any other application on the server) then:

- holds EXCLUSIVE locks on every table of the schema, so a submission's write waits and fails with a lock
  timeout (reads still pass: the link is looked up, the answers are refused with a 500 page);
- makes a deadlock: it locks one table, waits until the submission waits for it while holding another
  table, and then asks for that one. PostgreSQL cancels the submission ("deadlock detected");
- holds the same EXCLUSIVE locks while a worker seals a closed round, which fails and is retried.

Without ``hide_parameters``, each error's text (in the traceback and in Celery's retry line) would end with
``[parameters: {'i': 809, 'answers': '{"ink1": 4, ...}'}]``.
"""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.helpers import SMTPSink, free_port, token_of
from tests.integration.conftest import VENV_BIN, Stack, new_round, wait_for

pytestmark = pytest.mark.postgres

LOCK_TIMEOUT_MS = 2500
DEADLOCK_TIMEOUT_MS = 800


def _with_timeouts(url: str) -> str:
    options = f"-c lock_timeout={LOCK_TIMEOUT_MS} -c deadlock_timeout={DEADLOCK_TIMEOUT_MS}"
    return f"{url}?options={urllib.parse.quote(options)}"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").split("?", 1)[0]


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


@contextmanager
def _server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:

        def up() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"{command[0]} exited:\n{log.read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return True
            except OSError:
                return False

        wait_for(up, 30, f"{command[0]} on port {port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _post(base: str, token: str, answers: dict[str, int], into: list[int]) -> None:
    import http.client

    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)
    try:
        body = urllib.parse.urlencode(answers)
        conn.request("POST", f"/s/{token}", body, {"Content-Type": "application/x-www-form-urlencoded"})
        into.append(conn.getresponse().status)
    finally:
        conn.close()


def _waiting(admin: psycopg.Connection[Any], other_pid: int) -> list[str]:
    """Tables the app's backend holds while it waits for a lock (empty while it is not waiting)."""
    rows = admin.execute(
        "SELECT l.pid, l.granted, c.relname, c.relkind FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
        " WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND l.pid NOT IN (pg_backend_pid(), %s)",
        (other_pid,),
    ).fetchall()
    waiting = {pid for pid, granted, _name, _kind in rows if not granted}
    return [name for pid, granted, name, kind in rows if pid in waiting and granted and kind in ("r", "p")]


@contextmanager
def _all_tables_locked(url: str) -> Iterator[None]:
    """Another session holds EXCLUSIVE locks on every table: reads pass, writes wait (until lock_timeout)."""
    with psycopg.connect(_libpq(url)) as other:
        other.execute(f"LOCK TABLE {', '.join(_tables(other))} IN EXCLUSIVE MODE")
        yield
        other.rollback()


def _lock_timeout(url: str, base: str, token: str, answers: dict[str, int]) -> int:
    statuses: list[int] = []
    with _all_tables_locked(url):
        _post(base, token, answers, statuses)
    return statuses[0]


def _deadlock(url: str, base: str, tokens: list[str], answers: dict[str, int]) -> int:
    """Make the submission and another session wait for each other; the submission's status."""
    with psycopg.connect(_libpq(url), autocommit=True) as admin:
        # any table may be the one the write waits for while it holds another; answer storage first (likely)
        candidates = sorted(_tables(admin), key=lambda t: ("response" not in t and "answer" not in t, t))
        for table in candidates:
            token = tokens.pop()
            statuses: list[int] = []
            with psycopg.connect(_libpq(url)) as other:
                other.execute("SET deadlock_timeout = '20s'")  # the submission detects it, not this session
                other.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
                post = threading.Thread(target=_post, args=(base, token, answers, statuses))
                post.start()
                held: list[str] = []
                deadline = time.monotonic() + LOCK_TIMEOUT_MS / 1000
                while post.is_alive() and time.monotonic() < deadline and not held:
                    held = [t for t in _waiting(admin, other.info.backend_pid) if t != table]
                    time.sleep(0.01)
                if held:
                    # ACCESS EXCLUSIVE: the submission may hold only ACCESS SHARE on the table it read (the
                    # round's status), which EXCLUSIVE would not wait for
                    with _no_error():
                        other.execute(f"LOCK TABLE {held[0]} IN ACCESS EXCLUSIVE MODE")
                post.join(timeout=30)
                other.rollback()
            if held:
                return statuses[0]
    pytest.fail(f"no deadlock could be made with the tables {candidates}")


@contextmanager
def _no_error() -> Iterator[None]:
    try:
        yield
    except psycopg.errors.DeadlockDetected:
        pytest.fail("the other session was chosen as the deadlock victim")
    except psycopg.errors.LockNotAvailable:
        pass  # the submission gave up first (lock timeout): then its lock was released


def _secrets_in(log: str, tokens: list[str], emails: list[str], answer_texts: list[str]) -> list[str]:
    found = [f"token {t[:6]}…" for t in tokens if t in log]
    found += [f"email {e}" for e in emails if e in log]
    found += [f"answers {a}" for a in answer_texts if a in log]
    if re.search(r"\[parameters: ", log):
        found.append("[parameters: ...]")
    return found


def test_database_errors_leave_no_parameters_in_any_log(
    tmp_path: Path, pg_url: str, redis_url: str, smtp: SMTPSink
) -> None:
    url = _with_timeouts(pg_url)
    stack = Stack(tmp_path, url, redis_url, smtp)
    try:
        stack.start_worker()
        _team, round_id = new_round(stack, 40, team_name="Team Fejl")
        invitations = [m for m in stack.messages(round_id) if m.kind == "invitation"]
        wait_for(lambda: all(smtp.to(m.recipient) for m in invitations), 60, "the invitations to arrive")
        emails = [m.recipient for m in invitations]
        tokens = [token_of(smtp.to(e)[0]) for e in emails]
        items = [i.key for i in stack.rt.content.instrument().items]
        answers = {key: 1 + n % 5 for n, key in enumerate(items)}
        answer_texts = [f'"{items[0]}": 1', f"'{items[0]}': 1", f"{items[0]}=1"]
        env = {**stack.env, "PYTHONUNBUFFERED": "1"}
        logs: dict[str, str] = {}
        unused = list(tokens)
        for name in ("gunicorn", "flask"):
            port = free_port()
            if name == "gunicorn":
                command = [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1"]
                command += ["--access-logfile", "-", "--error-logfile", "-", "survey:create_app()"]
            else:
                command = [str(VENV_BIN / "flask"), "--app", "survey", "run", "--port", str(port)]
            log = tmp_path / f"{name}.log"
            with _server(command, env, port, log) as base:
                assert _lock_timeout(url, base, unused.pop(), answers) == 500
                assert _deadlock(url, base, unused, answers) == 500
            logs[name] = log.read_text(errors="replace")
            assert "lock timeout" in logs[name] and "deadlock detected" in logs[name], logs[name][-3000:]

        # the worker: sending the reminders fails on the locks (the task fails, with its traceback), then the
        # seal of the closed round does (the task is retried)
        from pipeline.tasks import run_pipeline, send_pending
        from survey.domain.rounds import close_round, remind_round

        worker_log = sorted(tmp_path.glob("worker-*.log"))[0]
        with stack.app.app_context(), stack.rt.db.session() as s:
            assert remind_round(stack.rt, s, round_id) > 0
        with _all_tables_locked(url):
            with stack.app.app_context():
                send_pending.delay(round_id)
            wait_for(lambda: "raised unexpected" in worker_log.read_text(errors="replace"), 60, "the send to fail")
        with stack.app.app_context(), stack.rt.db.session() as s:
            close_round(stack.rt, s, round_id)
        with _all_tables_locked(url):
            with stack.app.app_context():
                run_pipeline.delay(round_id)
            wait_for(lambda: "Retry in" in worker_log.read_text(errors="replace"), 60, "the seal to be retried")
        logs["worker"] = worker_log.read_text(errors="replace")
        assert logs["worker"].count("lock timeout") >= 2, logs["worker"][-3000:]
    finally:
        stack.stop_all()
        stack.rt.db.dispose()
    for name, text in logs.items():
        assert "SQL parameters hidden" in text, (name, text[-3000:])  # the error is there, its values are not
        assert _secrets_in(text, tokens, emails, answer_texts) == [], (name, text[-3000:])
