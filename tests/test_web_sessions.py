"""Sessions end when they should (issue 18 point 2): logout, idle time, whole lifetime, an admin ending an
account's sessions, disabling an account and changing its role, each effective at the next request."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.data.models import WebSession
from tests.conftest import make_app
from tests.web_helpers import add_account, csrf_of, login, post_form


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """Another browser holding a copy of a session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", value, domain="localhost")
    return thief


def signed_in(app: Flask, email: str, role: str = "facilitator") -> FlaskClient:
    add_account(app, email, role)
    client = app.test_client()
    assert login(client, email) == 303
    return client


def account_id(app: Flask, email: str) -> int:
    from survey.data.models import User

    with app.extensions["tryghed"].db.session() as s:
        found = s.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


def test_logout_ends_the_session_on_the_server(app: Flask) -> None:
    client = signed_in(app, "fie@example.org")
    copied = cookie_of(client)
    assert with_cookie(app, copied).get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").get_data(as_text=True))})
    assert client.get("/").status_code == 303
    # the cookie copied before logging out opens nothing any more
    stale = with_cookie(app, copied).get("/")
    assert stale.status_code == 303 and stale.headers["Location"].startswith("/login")
    with app.extensions["tryghed"].db.session() as s:
        assert s.scalars(select(WebSession)).all() == []


def _age(app: Flask, *, idle: timedelta = timedelta(0), lived: timedelta = timedelta(0)) -> None:
    with app.extensions["tryghed"].db.session() as s:
        for row in s.scalars(select(WebSession)):
            row.last_seen_at -= idle
            row.created_at -= lived
        s.commit()


def test_idle_and_absolute_lifetimes_are_settings(tmp_path: Path) -> None:
    app = make_app(tmp_path, SESSION_IDLE_SECONDS=600, SESSION_MAX_SECONDS=3600)
    client = signed_in(app, "fie@example.org")
    _age(app, idle=timedelta(seconds=590), lived=timedelta(seconds=590))
    assert client.get("/").status_code == 200  # within both; this request counts as activity
    _age(app, idle=timedelta(seconds=610))
    assert client.get("/").status_code == 303  # idle too long
    assert login(client, "fie@example.org") == 303
    # active all the time, yet past the whole lifetime
    _age(app, lived=timedelta(seconds=3601))
    assert client.get("/").status_code == 303
    app.extensions["tryghed"].db.dispose()


def test_defaults_are_eight_hours_idle_and_seven_days(app: Flask) -> None:
    assert app.config["SESSION_IDLE_SECONDS"] == 8 * 3600
    assert app.config["SESSION_MAX_SECONDS"] == 7 * 24 * 3600
    client = signed_in(app, "fie@example.org")
    _age(app, idle=timedelta(hours=7, minutes=59), lived=timedelta(days=6, hours=23))
    assert client.get("/").status_code == 200
    _age(app, idle=timedelta(hours=8, minutes=2))
    assert client.get("/").status_code == 303


def test_admin_ends_every_session_of_an_account(app: Flask) -> None:
    admin = signed_in(app, "ada@example.org", "admin")
    laptop = signed_in(app, "fie@example.org")
    phone = app.test_client()
    assert login(phone, "fie@example.org") == 303
    fie_id = account_id(app, "fie@example.org")
    ended = post_form(admin, "/admin/users", f"/admin/users/{fie_id}/sessions", {})
    assert ended.status_code == 303  # type: ignore[attr-defined]
    assert laptop.get("/").status_code == 303 and phone.get("/").status_code == 303
    assert admin.get("/").status_code == 200  # the admin's own session goes on
    with app.extensions["tryghed"].db.session() as s:
        assert s.scalars(select(WebSession.user_id)).all() == [account_id(app, "ada@example.org")]


def test_disabling_and_role_changes_take_effect_at_the_next_request(app: Flask) -> None:
    from survey.domain.teams import add_team

    with app.extensions["tryghed"].db.session() as s:
        add_team(s, "Team Nord", "leder@example.org")
    admin = signed_in(app, "ada@example.org", "admin")
    fie = signed_in(app, "fie@example.org", "facilitator")
    fie_id = account_id(app, "fie@example.org")
    assert fie.get("/teams/new").status_code == 200
    changed = post_form(admin, "/admin/users", f"/admin/users/{fie_id}/role", {"role": "leader"})
    assert changed.status_code == 303  # type: ignore[attr-defined]
    assert fie.get("/teams/new").status_code == 403  # a leader now, in the same session
    assert "Team Nord" not in fie.get("/").get_data(as_text=True)
    post_form(admin, "/admin/users", f"/admin/users/{fie_id}/active", {})
    assert fie.get("/").status_code == 303
    assert login(app.test_client(), "fie@example.org") == 401


def test_a_missing_account_is_404_for_every_admin_action(app: Flask) -> None:
    admin = signed_in(app, "ada@example.org", "admin")
    for action in ("active", "role", "sessions"):
        response = post_form(admin, "/admin/users", f"/admin/users/99/{action}", {"role": "leader"})
        assert response.status_code == 404, action  # type: ignore[attr-defined]


def test_the_database_keeps_no_usable_session_token(app: Flask) -> None:
    client = signed_in(app, "fie@example.org")
    interface = app.session_interface
    token = interface.get_signing_serializer(app).loads(cookie_of(client))["_user_id"]  # type: ignore[attr-defined]
    with app.extensions["tryghed"].db.session() as s:
        stored = s.scalars(select(WebSession.id)).all()
    assert len(token) >= 43 and token not in stored and len(stored) == 1
