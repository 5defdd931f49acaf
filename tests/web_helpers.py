"""Helpers for the web app's tests: accounts and a logged-in test client."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

PASSWORD = "lang-og-hemmelig-42"


_TOKEN = re.compile(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The session's CSRF token from any form on the page (every form of a session shares it)."""
    found = _TOKEN.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def add_account(app: Flask, email: str, role: str, password: str = PASSWORD, lang: str = "da") -> int:
    from survey.domain.users import add_user

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        return add_user(s, email, role, password, email.split("@")[0].title(), lang).id


def login(client: FlaskClient, email: str, password: str = PASSWORD, **environ: str) -> int:
    """Log in through the form (GET for the CSRF token, then POST); the POST's status code."""
    page = client.get("/login", environ_base=dict(environ))
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.get_data(as_text=True))},
        environ_base=dict(environ),
    )
    return response.status_code


def post_form(client: FlaskClient, page_url: str, action: str, data: dict[str, object], **kw: object) -> object:
    """POST to ``action`` with the CSRF token taken from ``page_url`` (as a browser would)."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(action, data={"csrf_token": csrf_of(page.get_data(as_text=True)), **data}, **kw)
