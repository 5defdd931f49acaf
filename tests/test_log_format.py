"""``TRYGHED_LOG_FORMAT=json`` (issue 17, acceptance 4): one JSON object per log line from the web app, the
CLI (a real ``tryghed`` process) and a worker, with the link redaction still applied."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask.logging import default_handler

from survey.config import ConfigError, load_config
from survey.logs import JsonFormatter
from tests.conftest import make_app

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _restore_logging() -> object:
    root = logging.getLogger()
    handlers = list(root.handlers)
    formatters = {h: h.formatter for h in [*handlers, default_handler]}
    yield
    root.handlers = handlers
    for handler, formatter in formatters.items():
        handler.setFormatter(formatter)


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_web_app_logs_json_and_still_redacts_links(tmp_path: Path) -> None:
    errors = io.StringIO()  # what a server's handler on the root logger would write
    logging.getLogger().addHandler(logging.StreamHandler(errors))
    app = make_app(tmp_path, LOG_FORMAT="json")
    assert isinstance(default_handler.formatter, JsonFormatter)
    with app.test_request_context("/s/hemmeligtoken123"):
        try:
            raise RuntimeError("boom on /s/hemmeligtoken123")
        except RuntimeError:
            app.logger.exception("Exception on /s/hemmeligtoken123 [POST]")
    err = errors.getvalue()
    (entry,) = _lines(err)
    assert entry["level"] == "ERROR" and entry["message"] == "Exception on /s/[redacted] [POST]"
    assert "RuntimeError: boom on /s/[redacted]" in str(entry["exc"])
    assert "hemmeligtoken123" not in err


def test_cli_logs_json_on_standard_error(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    from survey.domain.rounds import create_round
    from survey.domain.teams import add_team

    with app.app_context(), rt.db.session() as s:  # a round due to open, without participants: a warning
        team = add_team(s, "Team Tom", "leder@example.org", "Lis", "da")
        create_round(rt, s, team.id, opens_at=rt.now() - timedelta(minutes=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    env.update(
        {
            "TRYGHED_DATABASE_URL": app.config["DATABASE_URL"],
            "TRYGHED_SECRET_KEY": app.config["SECRET_KEY"],
            "TRYGHED_INSTANCE_PATH": str(tmp_path / "instance"),
            "TRYGHED_OUTBOX_DIR": str(tmp_path / "outbox"),
            "TRYGHED_LOG_FORMAT": "json",
        }
    )
    done = subprocess.run(
        [str(VENV_BIN / "tryghed"), "tick", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "opened" in json.loads(done.stdout)  # the result stays on standard output, alone
    logged = _lines(done.stderr)
    assert any(e["level"] == "WARNING" and "not opened" in str(e["message"]) for e in logged), done.stderr
    assert all({"time", "level", "logger", "message"} <= set(e) for e in logged)


def test_an_unknown_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGHED_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="TRYGHED_LOG_FORMAT: expected text or json"):
        load_config({"SECRET_KEY": "x"})
