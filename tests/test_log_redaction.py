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
from flask import Flask

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
    return _server_env(app, tmp_path), token, signed


def _server_env(app: Flask, tmp_path: Path) -> dict[str, str]:
    """The environment of a server process on the app's SQLite database."""
    return {
        **os.environ,
        "TRYGHED_DATABASE_URL": f"sqlite:///{tmp_path / 'tryghed.sqlite'}",
        "TRYGHED_SECRET_KEY": str(app.config["SECRET_KEY"]),
        "TRYGHED_OUTBOX_DIR": str(tmp_path / "outbox"),
        "TRYGHED_INSTANCE_PATH": str(tmp_path / "instance"),
        "TRYGHED_BASE_URL": "http://tryghed.test",
        "PYTHONUNBUFFERED": "1",
    }


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


def test_dev_server_in_debug_mode_logs_no_link(tmp_path: Path) -> None:
    """``flask --debug run``: the interactive debugger answers the error and werkzeug logs the traceback."""
    env, token, signed = _broken_install(tmp_path)
    port = free_port()
    command = [str(BIN / "flask"), "--app", "survey", "--debug", "run", "--no-reload", "--port", str(port)]
    log = _drive(command, env, port, token, signed)
    assert '"GET /s/[redacted] HTTP/1.1" 500' in log and '"GET /r/[redacted] HTTP/1.1" 500' in log, log
    assert "no such table" in log and "Traceback" in log, log
    assert token not in log and not any(part in log for part in signed.split(".")), log


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_gunicorn_logs_no_link(tmp_path: Path, log_format: str) -> None:
    """Whatever the log format: the redaction is a filter on the loggers, which runs before any formatter."""
    env, token, signed = _broken_install(tmp_path)
    env["TRYGHED_LOG_FORMAT"] = log_format
    workers = 1
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
    if log_format == "json":
        assert '"message": "Exception on /s/[redacted] [GET]"' in log, log


# --- every way of writing a personal link (issue 16, acceptance 5) ------------------------------------


def _working_install(tmp_path: Path) -> tuple[dict[str, str], str, str]:
    """A database with an open round; (environment, survey token, report token of a reported round)."""
    from tests.helpers import close

    app = make_app(tmp_path)
    _team, reported = setup_round(app, 3, min_responses=3)
    links = [token_of(m) for m in read_outbox(tmp_path / "outbox")]
    client = app.test_client()
    for link in links:
        assert client.post(f"/s/{link}", data={i.key: 4 for i in _items()}).status_code == 200
    close(app, reported)
    rt = app.extensions["tryghed"]
    signed = report_link(rt, reported).rsplit("/r/", 1)[1]
    for path in (tmp_path / "outbox").glob("*.eml"):
        path.unlink()
    setup_round(app, 3, team_name="Team Two")
    token = token_of(read_outbox(tmp_path / "outbox")[0])
    rt.db.dispose()
    return _server_env(app, tmp_path), token, signed


def _items() -> list[object]:
    from survey.content import load_content

    return list(load_content().instrument().items)


def _encoded(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


def _variants(token: str, signed: str) -> list[tuple[str, str, int | tuple[int, ...]]]:
    """(method, target, expected status) for every way of writing a link we know of."""
    return [
        ("GET", f"/s/{token}", 200),
        ("GET", f"/%73/{token}", 200),  # the server decodes the path before routing: the form itself
        ("GET", f"/%73/{_encoded(token)}", 200),  # every character percent-encoded
        ("GET", f"/s//{token}", 404),  # no longer a redirect (308) to the form
        ("GET", f"//s/{token}", (200, 404)),  # the development server reads it as /s/<token>
        ("GET", f"/S/{token}", 404),
        ("GET", f"/s/{token}/", 404),
        ("GET", f"/s/{token}?t={token}", 200),
        ("GET", f"/?t={token}", 303),
        ("GET", f"/healthz?t={token}&next=/s/{token}", 200),
        ("GET", f"/login?next=/s/{token}", 200),
        ("GET", f"/{token}", (303, 404)),
        ("POST", f"/%73/{token}", 400),  # an empty form: refused, the link stays unused
        ("GET", f"/r/{signed}", 200),
        ("GET", f"/%72/{signed}", 200),
        ("GET", f"/r//{signed}", 404),
        ("GET", f"/R/{signed}", 404),
        ("GET", f"/r/{signed}/debrief", (200, 404)),
    ]


def _raw_request(port: int, method: str, target: str, headers: dict[str, str]) -> int:
    """Send ``target`` exactly as written (urllib would normalise it)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = b"" if method == "POST" else None
        extra = {"Content-Type": "application/x-www-form-urlencoded"} if method == "POST" else {}
        conn.request(method, target, body=body, headers={**headers, **extra})
        return conn.getresponse().status
    finally:
        conn.close()


def _drive_variants(command: list[str], env: dict[str, str], port: int, token: str, signed: str) -> str:
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, proc)
        for method, target, expected in _variants(token, signed):
            status = _raw_request(port, method, target, {})
            allowed = expected if isinstance(expected, tuple) else (expected,)
            assert status in allowed, (method, target.replace(token, "<token>").replace(signed, "<signed>"), status)
        # a referer that names a link (the browser of someone who had the form open in another tab)
        assert _raw_request(port, "GET", "/healthz", {"Referer": f"http://tryghed.test/S//{token}"}) == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    return re.sub(r"\x1b\[[0-9;]*m", "", out.decode(errors="replace"))


def _check_variants(log: str, token: str, signed: str) -> None:
    assert token not in log, log
    for part in signed.split("."):
        assert part not in log, log
    assert _encoded(token)[:30] not in log and _encoded(token)[-30:] not in log, log
    assert log.count("/s/[redacted]") >= 6 and log.count("/r/[redacted]") >= 2, log  # the lines are there
    assert "t=[redacted]" in log and "next=[redacted]" in log, log


def test_dev_server_debug_log_redacts_every_way_of_writing_a_link(tmp_path: Path) -> None:
    env, token, signed = _working_install(tmp_path)
    port = free_port()
    command = [str(BIN / "flask"), "--app", "survey", "--debug", "run", "--no-reload", "--port", str(port)]
    log = _drive_variants(command, env, port, token, signed)
    _check_variants(log, token, signed)
    assert '"GET /s/[redacted] HTTP/1.1" 200' in log and '"GET /S/[redacted] HTTP/1.1" 404' in log, log


def test_gunicorn_access_log_redacts_every_way_of_writing_a_link(tmp_path: Path) -> None:
    env, token, signed = _working_install(tmp_path)
    port = free_port()
    # the default access log format, plus atoms that hold the target in other forms
    access_format = '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s %(q)s %({raw_uri}e)s %({location}o)s'
    command = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--access-logfile",
        "-",
        "--access-logformat",
        access_format,
        "--error-logfile",
        "-",
        "survey:create_app()",
    ]
    log = _drive_variants(command, env, port, token, signed)
    _check_variants(log, token, signed)
    assert '"GET /s/[redacted] HTTP/1.1" 200' in log and '"GET /S/[redacted] HTTP/1.1" 404' in log, log


def test_every_engine_in_product_code_hides_statement_parameters() -> None:
    """Issue 16.4: each ``create_engine`` call of the product (and the benchmark floor, which runs beside
    it) passes ``hide_parameters=True``; the behaviour is tested on real servers in
    tests/integration/test_error_logs.py."""
    import ast

    root = Path(__file__).resolve().parent.parent
    files = [*root.glob("survey/**/*.py"), *root.glob("pipeline/**/*.py"), root / "celery_app.py"]
    files.append(root / "benchmarks" / "floor_app.py")
    calls = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "create_engine"
            ):
                hidden = any(
                    k.arg == "hide_parameters" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords
                ) or any(k.arg is None for k in node.keywords)  # **kwargs: checked below through make_engine
                calls.append((f"{path.relative_to(root)}:{node.lineno}", hidden))
    assert len(calls) >= 3 and [c for c in calls if not c[1]] == [], calls
    from survey.data.db import make_engine

    assert make_engine("sqlite://").hide_parameters
