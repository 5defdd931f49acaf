"""Shared fixtures: an isolated app per test (SQLite or a fresh PostgreSQL database), a real local SMTP
server (aiosmtpd), and helpers that drive a round the way people do: through emails and the form."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from tests.a11y import launch_chromium
from tests.helpers import SMTPSink, throwaway_database

PG_ADMIN_URL = os.environ.get("TRYGHED_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's TRYGHED_* settings or reaches a mail server by accident."""
    for key in list(os.environ):
        if key.startswith("TRYGHED_") and key != "TRYGHED_TEST_PG_ADMIN":
            monkeypatch.delenv(key)
    monkeypatch.setenv("TRYGHED_INSTANCE_PATH", str(tmp_path / "instance"))


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the local server, dropped afterwards."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (CI must start it)")
        pytest.skip("PostgreSQL is not reachable")
    with throwaway_database(PG_ADMIN_URL, "tryghed_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tryghed.sqlite'}"
    return request.getfixturevalue("pg_url")


def make_app(tmp_path: Path, database_url: str | None = None, **overrides: Any) -> Flask:
    """An app on its own database and outbox folder, schema created."""
    from survey import create_app
    from survey.data.db import upgrade

    config = {
        "TESTING": True,
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'tryghed.sqlite'}",
        "SECRET_KEY": "test-secret-" + secrets.token_hex(8),
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "BASE_URL": "http://tryghed.test",
        **overrides,
    }
    app = create_app(config)
    upgrade(app.extensions["tryghed"].db)
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    application = make_app(tmp_path)
    yield application
    application.extensions["tryghed"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def smtp() -> Iterator[SMTPSink]:
    """A real SMTP server on localhost that keeps what it receives."""
    sink = SMTPSink()
    sink.start()
    yield sink
    sink.stop()


TOKEN_IN_URL = re.compile(r"/s/([A-Za-z0-9_-]{43})")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless system Chromium (Playwright) for the whole run; each test opens its own context."""
    yield from launch_chromium()
