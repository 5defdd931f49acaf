"""No survey token and no signed report link in any log line, including the traceback of an unexpected error.

The real servers run as subprocesses: the development server (``flask --app survey run``, which logs every
request line) and gunicorn (error log and access log). The database is broken on purpose (tables dropped),
so that ``/s/<token>`` and ``/r/<signed>`` fail with an unexpected error and Flask logs
``Exception on <path>`` with a traceback. The captured output must keep the error and lose the links.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from survey.domain.report_links import report_link
from survey.web.logredact import redact
from tests.conftest import make_app
from tests.helpers import free_port, read_outbox, setup_round, token_of

BIN = Path(sys.executable).parent


def _broken_install(tmp_path: Path) -> tuple[dict[str, str], str, str]:
    """A database with a real round whose tables are then dropped; (environment, survey token, report token)."""
    app = make_app(tmp_path)
    _team, round_id = setup_round(app, 3)
    rt = app.extensions["tryghed"]
    token = token_of(read_outbox(tmp_path / "outbox")[0])
    signed = report_link(rt, round_id).rsplit("/r/", 1)[1]
    rt.db.dispose()
    db_file = tmp_path / "tryghed.sqlite"
    with sqlite3.connect(db_file) as conn:  # foreign keys are off on this connection
        conn.execute("DROP TABLE invitations")
        conn.execute("DROP TABLE round_results")
        conn.execute("DROP TABLE rounds")
    env = {
        **os.environ,
        "TRYGHED_DATABASE_URL": f"sqlite:///{db_file}",
        "TRYGHED_SECRET_KEY": str(app.config["SECRET_KEY"]),
        "TRYGHED_OUTBOX_DIR": str(tmp_path / "outbox"),
        "TRYGHED_INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONUNBUFFERED": "1",
    }
    return env, token, signed


def _wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


def _status(url: str, data: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(url, data=data, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def _drive(command: list[str], env: dict[str, str], port: int, token: str, signed: str) -> str:
    """Start the server, make the unexpected errors happen, stop it; everything it wrote."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, proc)
        base = f"http://127.0.0.1:{port}"
        assert _status(f"{base}/s/{token}") == 500
        assert _status(f"{base}/s/{token}", b"csrf_token=x") == 500
        assert _status(f"{base}/r/{signed}") == 500
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    return re.sub(r"\x1b\[[0-9;]*m", "", out.decode(errors="replace"))  # the dev server's colours


def _check(log: str, token: str, signed: str) -> None:
    assert "Exception on /s/[redacted] [GET]" in log and "Exception on /s/[redacted] [POST]" in log, log
    assert "Exception on /r/[redacted] [GET]" in log, log
    assert "no such table" in log  # the error itself is kept
    assert "Traceback" in log
    assert token not in log
    for part in signed.split("."):  # the payload, the timestamp and the signature of the report link
        assert part not in log


def test_redact_keeps_the_rest_of_the_line() -> None:
    line = '127.0.0.1 - - "GET /s/abcDEF_-123?x=1 HTTP/1.1" 500 - http://h/r/eyJy.ZZ.sig-_'
    assert redact(line) == '127.0.0.1 - - "GET /s/[redacted]?x=1 HTTP/1.1" 500 - http://h/r/[redacted]'


def test_dev_server_logs_no_link(tmp_path: Path) -> None:
    env, token, signed = _broken_install(tmp_path)
    port = free_port()
    log = _drive([str(BIN / "flask"), "--app", "survey", "run", "--port", str(port)], env, port, token, signed)
    assert "/s/[redacted] HTTP/1.1" in log and '"GET /r/[redacted] HTTP/1.1" 500' in log, log  # request lines
    _check(log, token, signed)


@pytest.mark.parametrize("workers", [1])
def test_gunicorn_logs_no_link(tmp_path: Path, workers: int) -> None:
    env, token, signed = _broken_install(tmp_path)
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "survey:create_app()",
    ]
    log = _drive(command, env, port, token, signed)
    assert '"GET /s/[redacted] HTTP/1.1" 500' in log, log  # the access log, with the path redacted
    _check(log, token, signed)
