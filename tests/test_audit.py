"""The audit log (issue 18 point 5): admins read it and export it as CSV; it records sign-ins and their
failures, account and role changes, rounds opened, reminded and closed, reports viewed and downloaded
(by whom), and unit changes; it holds no answers, tokens or passwords; and it follows the retention."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from survey.data.models import AuditEvent, User
from tests.conftest import make_app
from tests.helpers import read_outbox, setup_round, submit, token_of
from tests.web_helpers import PASSWORD, add_account, login, post_form


def events(app: Flask) -> list[tuple[str | None, str, str | None]]:
    with app.extensions["tryghed"].db.session() as s:
        return [(e.actor, e.action, e.subject) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_what_people_do_is_logged_and_exported_without_secrets(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    team_id, round_id = setup_round(app, 5)
    tokens = [token_of(m) for m in read_outbox(tmp_path / "outbox")]
    items = [i.key for i in rt.content.instrument().items]
    for token in tokens[:5]:
        submit(app.test_client(), token, dict.fromkeys(items, 2))
    add_account(app, "ada@example.org", "admin")
    add_account(app, "fie@example.org", "facilitator")
    ole = add_account(app, "ole@example.org", "leader")

    assert login(app.test_client(), "fie@example.org", "not-the-password") == 401
    assert login(app.test_client(), "nobody@example.org", "lang-og-hemmelig-99") == 401
    fie = app.test_client()
    assert login(fie, "fie@example.org") == 303
    team = f"/teams/{team_id}"
    post_form(fie, team, f"/rounds/{round_id}/remind", {})
    post_form(fie, team, f"/rounds/{round_id}/close", {})
    assert fie.get(f"/rounds/{round_id}/report").status_code == 200
    assert fie.get(f"/rounds/{round_id}/report.pdf").status_code == 200

    ada = app.test_client()
    assert login(ada, "ada@example.org") == 303
    post_form(ada, "/admin/users", f"/admin/users/{ole}/role", {"role": "facilitator"})
    post_form(ada, "/admin/users", f"/admin/users/{ole}/active", {})
    post_form(ada, "/admin/users", f"/admin/users/{ole}/sessions", {})
    log = events(app)
    assert ("fie@example.org", "login_failed", None) in log
    assert (None, "login_failed", None) in log  # an unknown address is not kept (it may be a typo'd password)
    for entry in [
        ("fie@example.org", "login", None),
        ("fie@example.org", "round_reminded", f"round {round_id}"),
        ("fie@example.org", "round_closed", f"round {round_id}"),
        ("fie@example.org", "report_viewed", f"round {round_id}"),
        ("fie@example.org", "report_downloaded", f"round {round_id}"),
        ("ada@example.org", "role_changed", "user ole@example.org: facilitator"),
        ("ada@example.org", "account_disabled", "user ole@example.org"),
        ("ada@example.org", "sessions_ended", "user ole@example.org"),
    ]:
        assert entry in log, entry

    # the admin reads it (Danish labels) and exports it
    page = ada.get("/admin/audit")
    assert page.status_code == 200 and "Rapport hentet" in page.get_data(as_text=True)
    exported = ada.get("/admin/audit.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(log) and {r["action"] for r in rows} >= {"login", "round_closed", "role_changed"}
    # nothing secret: no link token, no password, no answer
    for secret in [*tokens, PASSWORD, "not-the-password", "lang-og-hemmelig-99", '"ink1"', "answers"]:
        assert secret not in text
    # admins only
    assert fie.get("/admin/audit").status_code == 403 and fie.get("/admin/audit.csv").status_code == 403
    app.extensions["tryghed"].db.dispose()


def test_the_log_pages_back_and_follows_the_retention(app: Flask) -> None:
    from survey.domain import audit
    from survey.domain.purge import purge

    rt = app.extensions["tryghed"]
    now = rt.now()
    with rt.db.session() as s:
        for i in range(audit.PAGE + 5):
            audit.record(s, "login", f"p{i}@example.org", None, now - timedelta(days=200 if i < 3 else 1))
    add_account(app, "ada@example.org", "admin")
    client = app.test_client()
    assert login(client, "ada@example.org") == 303
    first = client.get("/admin/audit").get_data(as_text=True)
    assert "p104@example.org" in first and "p5@example.org" not in first  # the newest 100 (ids 106 to 7)
    assert "?before=7" in first
    older = client.get("/admin/audit?before=4").get_data(as_text=True)
    assert "p0@example.org" in older and "p5@example.org" not in older
    with rt.db.session() as s:
        assert purge(rt, s)["audit_events"] == 3  # older than RETENTION_DAYS (90)
        left = {e.actor for e in s.scalars(select(AuditEvent))}
    assert "p0@example.org" not in left and "p3@example.org" in left


def test_the_cli_is_logged_too(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    env["TRYGHED_INSTANCE_PATH"] = str(tmp_path / "instance")
    cli = [sys.executable, "-m", "survey.cli"]

    def run(*args: str, stdin: str | None = None) -> dict[str, object]:
        proc = subprocess.run(
            [*cli, *args, "--json"], input=stdin, env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return dict(json.loads(proc.stdout))

    run("init")
    run("user", "add", "it@example.org", "--role", "admin", "--password-stdin", stdin="en lang og god kode\n")
    unit = run("unit", "add", "Socialforvaltningen")
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'instance' / 'tryghed.sqlite'}")
    log = events(app)
    assert ("cli", "account_created", "user it@example.org") in log
    assert ("cli", "unit_created", f"unit {unit['id']}") in log
    with app.extensions["tryghed"].db.session() as s:
        assert s.scalar(select(User.email)) == "it@example.org"
    app.extensions["tryghed"].db.dispose()
