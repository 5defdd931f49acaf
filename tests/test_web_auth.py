"""Accounts and access: login required on every non-public route (walking the URL map), CSRF, login
throttling that holds across processes, passwords never stored or logged in clear, roles and teams."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter

from survey.web.access import is_public
from tests.conftest import make_app
from tests.web_helpers import PASSWORD, add_account, csrf_of, login, post_form

# The contract's public paths, plus the answer cards' links (``/k/<code>`` and the page for typing a code):
# like ``/s/<token>`` they are a respondent's link, where the link itself is the secret (issue 21).
PUBLIC_PREFIXES = ("/s/", "/r/", "/login", "/healthz", "/static/", "/k/")


def _sample_url(rule) -> str:  # type: ignore[no-untyped-def]
    """The rule's URL with a made-up value for each parameter (1 for numbers, 'x' otherwise)."""
    values = {arg: 1 if isinstance(rule._converters[arg], IntegerConverter) else "x" for arg in rule.arguments}
    if rule.endpoint == "static":
        values["filename"] = "web.css"
    return rule.build(values, append_unknown=False)[1]


def test_every_non_public_route_needs_a_login(app: Flask, client: FlaskClient) -> None:
    rules = list(app.url_map.iter_rules())
    checked = 0
    for rule in rules:
        url = _sample_url(rule)
        blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else None
        public = is_public(rule.endpoint, blueprint)
        # the public list is the contract's, nothing more
        assert public == url.startswith(PUBLIC_PREFIXES), (rule.rule, public)
        if public:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            if method == "GET":
                assert response.status_code == 303, (method, url, response.status_code)
                assert response.headers["Location"].startswith("/login"), url
            else:
                assert response.status_code in (401, 403), (method, url, response.status_code)
            checked += 1
    assert checked >= 20  # the walk really covered the app's pages


def test_login_form_fields_and_results(app: Flask, client: FlaskClient) -> None:
    add_account(app, "fie@example.org", "facilitator")
    page = client.get("/login").get_data(as_text=True)
    for name in ('name="email"', 'name="password"', 'name="csrf_token"'):
        assert name in page
    assert login(client, "fie@example.org", "wrong password!") in (400, 401)
    token = csrf_of(client.get("/login").get_data(as_text=True))
    good = client.post("/login", data={"email": "fie@example.org", "password": PASSWORD, "csrf_token": token})
    assert good.status_code == 303 and good.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    # an open redirect through ?next= is refused: only paths of this site
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").get_data(as_text=True))})
    token = csrf_of(client.get("/login").get_data(as_text=True))
    away = client.post(
        "/login?next=//evil.example/x", data={"email": "fie@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert away.headers["Location"] == "/"


def test_csrf_is_rejected(app: Flask, client: FlaskClient) -> None:
    add_account(app, "fie@example.org", "facilitator")
    client.get("/login")
    assert client.post("/login", data={"email": "fie@example.org", "password": PASSWORD}).status_code == 400
    assert login(client, "fie@example.org") == 303
    no_token = client.post(
        "/teams/new", data={"name": "T", "leader_email": "l@example.org", "lang": "da", "track": "selfguided"}
    )
    assert no_token.status_code == 400
    wrong = client.post("/teams/new", data={"csrf_token": "forged", "name": "T", "leader_email": "l@example.org"})
    assert wrong.status_code == 400
    from survey.data.models import Team

    with app.extensions["tryghed"].db.session() as s:
        assert s.query(Team).count() == 0


def test_passwords_never_stored_or_logged_in_clear(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Kæmpe-hemmeligt-kodeord-981"
    wrong = "Forkert-men-ogsaa-hemmeligt-77"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    db_file = tmp_path / "instance" / "tryghed.sqlite"
    env.update({"TRYGHED_INSTANCE_PATH": str(tmp_path / "instance")})
    cli = [sys.executable, "-m", "survey.cli"]
    subprocess.run([*cli, "init"], env=env, cwd=tmp_path, check=True, capture_output=True)
    proc = subprocess.run(
        [*cli, "user", "add", "Admin@Example.org", "--role", "admin", "--name", "Ada", "--password-stdin", "--json"],
        input=secret + "\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    import json

    assert json.loads(proc.stdout) == {"id": 1, "email": "admin@example.org", "role": "admin"}
    assert secret not in proc.stdout + proc.stderr
    # without --password-stdin the command refuses (a password as an argument would show in `ps`)
    refused = subprocess.run(
        [*cli, "user", "add", "b@example.org", "--role", "leader", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1 and "password-stdin" in refused.stdout

    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{db_file}")
    client = app.test_client()
    with caplog.at_level(logging.DEBUG):
        assert login(client, "admin@example.org", wrong) == 401
        assert login(client, "admin@example.org", secret) == 303
        changed = post_form(client, "/account", "/account", {"current": secret, "new": secret + "-ny"})
        assert changed.status_code == 303  # type: ignore[attr-defined]
    app.extensions["tryghed"].db.dispose()
    stored = b"".join(p.read_bytes() for p in db_file.parent.glob("tryghed.sqlite*"))
    for clear in (secret, wrong, secret + "-ny"):
        assert clear.encode() not in stored and clear.encode("utf-16-le") not in stored
        assert clear not in caplog.text
    assert b"$argon2id$" in stored


def test_roles_and_teams(app: Flask) -> None:
    """A leader sees exactly the teams whose leader email is theirs; another team's URLs answer 404;
    facilitator-only and admin-only pages answer 403 to a leader."""
    from survey.domain.teams import add_team

    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        mine = add_team(s, "Mit team", "leder@example.org").id
        other = add_team(s, "Andet team", "anden@example.org").id
    add_account(app, "leder@example.org", "leader")
    client = app.test_client()
    assert login(client, "leder@example.org") == 303
    start = client.get("/").get_data(as_text=True)
    assert "Mit team" in start and "Andet team" not in start
    assert client.get(f"/teams/{mine}").status_code == 200
    assert client.get(f"/teams/{other}").status_code == 404
    assert client.get("/teams/new").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert client.get("/requests").status_code == 403
    token = csrf_of(client.get("/").get_data(as_text=True))
    assert (
        client.post(f"/teams/{other}/requests", data={"csrf_token": token, "request-kind": "briefing"}).status_code
        == 404
    )
    assert client.post(f"/teams/{mine}/settings", data={"csrf_token": token}).status_code == 403


def test_admin_manages_accounts(app: Flask) -> None:
    add_account(app, "ada@example.org", "admin")
    client = app.test_client()
    assert login(client, "ada@example.org") == 303
    created = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {"email": "ny@example.org", "name": "Ny", "role": "leader", "password": "kort"},
    )
    assert created.status_code == 400  # type: ignore[attr-defined]
    assert 'aria-describedby="password-hint password-error"' in created.get_data(as_text=True)  # type: ignore[attr-defined]
    created = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {"email": "ny@example.org", "name": "Ny", "role": "leader", "password": "lang-nok-kode-1"},
    )
    assert created.status_code == 303  # type: ignore[attr-defined]
    assert "ny@example.org" in client.get("/admin/users").get_data(as_text=True)
    other = app.test_client()
    assert login(other, "ny@example.org", "lang-nok-kode-1") == 303
