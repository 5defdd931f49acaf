"""Code newer than the schema refuses to serve: 503 "upgrade pending" (Danish and English), ``/healthz``
says why, the respondent's POST reaches neither the database nor a log, and never a 500."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from survey.data import migrate
from survey.data.schema_gate import RECHECK_CURRENT_S, RECHECK_PENDING_S
from tests.conftest import make_app
from tests.helpers import csrf_of, hidden_fields, read_outbox, setup_round, submit, token_of


class Clock:
    """The gate's clock, moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app sends while inside the block (both of its engines)."""
    db = app.extensions["tryghed"].db
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    engines = {id(e): e for e in (db.engine, db.answer_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Warnings and errors logged by the app (kombu's note about the in-memory broker is not one)."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING and not r.name.startswith("kombu")]


def items(app: Flask) -> dict[str, str]:
    instrument = app.extensions["tryghed"].content.instrument(None)
    return {item.key: "3" for item in instrument.items}


def round_with_links(tmp_path: Path, db_url: str) -> tuple[Flask, Clock, list[str]]:
    app = make_app(tmp_path, db_url)
    clock = Clock()
    app.extensions["tryghed"].schema_gate.clock = clock
    setup_round(app, 4, min_responses=3)
    tokens = [token_of(m) for m in read_outbox(app.config["OUTBOX_DIR"])]
    return app, clock, tokens


def test_an_old_schema_gets_503_and_answers_never_reach_the_database(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, clock, tokens = round_with_links(tmp_path, db_url)
    client = app.test_client()
    assert submit(client, tokens[0], items(app)).status_code in (200, 303)
    form = client.get(f"/s/{tokens[1]}").get_data(as_text=True)  # a phone holding the form open
    migrate.downgrade(db_url, migrate.revisions()[-2])  # as if this code had been deployed before `init`
    clock.now += RECHECK_CURRENT_S

    caplog.set_level(logging.DEBUG)
    with statements(app) as seen:
        page = client.get(f"/s/{tokens[1]}")
        posted = client.post(f"/s/{tokens[1]}", data={**hidden_fields(form), **items(app)})
    schema_checks = [s for s in seen if "alembic_version" in s]
    assert seen == schema_checks and len(schema_checks) <= 2  # the gate's one look, nothing else
    for response in (page, posted):
        assert response.status_code == 503 and response.headers["Retry-After"] == "30"
        body = response.get_data(as_text=True)
        assert "Tryghed bliver opdateret" in body and "Tryghed is being updated" in body
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"  # the security headers still apply
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert tokens[1] not in caplog.text and "csrf" not in caplog.text.lower()
    assert not problems(caplog)

    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["schema"] == "outdated"
    assert "tryghed init" in health.json["reason"]
    for path in ("/", "/login", "/teams/1", "/nowhere"):
        assert client.get(path).status_code == 503, path
    assert client.post("/login", data={"email": "a@b.c", "password": "x"}).status_code == 503

    migrate.upgrade(db_url)
    clock.now += RECHECK_PENDING_S  # within seconds of `tryghed init`, service resumes
    assert client.get("/healthz").status_code == 200
    assert client.get(f"/s/{tokens[0]}").status_code == 409
    assert submit(client, tokens[1], items(app)).status_code in (200, 303)  # the answer sent again counts
    app.extensions["tryghed"].db.dispose()


def test_the_respondent_path_does_not_ask_for_the_schema_per_request(tmp_path: Path) -> None:
    app, clock, tokens = round_with_links(tmp_path, f"sqlite:///{tmp_path / 't.sqlite'}")
    client = app.test_client()
    with statements(app) as seen:
        for _ in range(30):
            assert client.get(f"/s/{tokens[0]}").status_code == 200
            clock.now += 1.0
    assert len([s for s in seen if "alembic_version" in s]) <= 1
    app.extensions["tryghed"].db.dispose()


def test_a_rollback_under_a_running_app_gives_503_not_500(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Between two looks of the gate the schema goes back to 0006 (no accounts, no login throttle): the
    query that fails makes the gate look at once, and the person gets the 503 page, nothing in the log."""
    url = f"sqlite:///{tmp_path / 't.sqlite'}"
    app, clock, tokens = round_with_links(tmp_path, url)
    client = app.test_client()
    login = csrf_of(client.get("/login").get_data(as_text=True))
    form = client.get(f"/s/{tokens[0]}").get_data(as_text=True)
    migrate.downgrade(url, "0006")
    caplog.set_level(logging.DEBUG)
    posted = client.post("/login", data={"csrf_token": login, "email": "it@kommune.test", "password": "x" * 12})
    assert posted.status_code == 503 and "Tryghed is being updated" in posted.get_data(as_text=True)
    assert not problems(caplog)
    assert client.get("/healthz").json["schema"] == "outdated"
    # the respondent's POST: refused by the gate, which has looked again meanwhile
    answered = client.post(f"/s/{tokens[0]}", data={**hidden_fields(form), **items(app)})
    assert answered.status_code == 503
    app.extensions["tryghed"].db.dispose()


def test_a_schema_from_a_newer_version_is_named_on_healthz(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.sqlite'}"
    app = make_app(tmp_path, url)
    with app.extensions["tryghed"].db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9001'")
    app.extensions["tryghed"].schema_gate.recheck()
    health = app.test_client().get("/healthz")
    assert health.status_code == 503 and health.json["schema"] == "ahead" and "newer version" in health.json["reason"]
    app.extensions["tryghed"].db.dispose()


@pytest.mark.browser
def test_the_pending_page_passes_axe_on_a_phone(tmp_path: Path, browser: Any) -> None:
    from tests.a11y import axe_violations, describe

    url = f"sqlite:///{tmp_path / 't.sqlite'}"
    app = make_app(tmp_path, url)
    migrate.downgrade(url, migrate.revisions()[-2])
    html = app.test_client().get("/s/" + "x" * 43).get_data(as_text=True)
    context = browser.new_context(viewport={"width": 390, "height": 740}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_content(html)
        assert page.locator("h1").inner_text() == "Tryghed bliver opdateret"
        violations = axe_violations(page)
        assert violations == [], describe(violations)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
    finally:
        context.close()
        app.extensions["tryghed"].db.dispose()
