"""Security headers on every kind of response, and on every route the app has (including ones added
later: the walk over ``app.url_map`` covers new pages without anyone listing them here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.domain.report_links import report_link
from tests.conftest import make_app
from tests.helpers import LiveServer, close, read_outbox, setup_round, submit, token_of


def full(value: int = 4) -> dict[str, int]:
    from survey.content import load_content

    return {i.key: value for i in load_content().instrument().items}


def assert_secure(response: Any, path: str, *, https: bool = False) -> None:
    """The contract of PRODUCT.md for one response."""
    h = response.headers
    where = f"{response.status_code} {path}"
    csp = h.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert "script-src" in directives and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("X-Frame-Options") == "DENY", where
    referrer = h.get("Referrer-Policy")
    assert referrer, where
    if path.startswith(("/s/", "/r/")):
        assert referrer == "no-referrer", where
    if not path.startswith("/static/"):
        assert "no-store" in h.get("Cache-Control", ""), where
    for cookie in h.getlist("Set-Cookie"):
        flags = cookie.lower()
        assert "httponly" in flags and re.search(r"samesite=(lax|strict)", flags), (where, cookie)
        assert ("; secure" in flags) == https, (where, cookie)
    if https:
        assert h.get("Strict-Transport-Security", "").startswith("max-age="), where


def tokens(tmp_path: Path) -> list[str]:
    return [token_of(m) for m in read_outbox(tmp_path / "outbox")]


def test_every_kind_of_respondent_response(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from survey.web import access

    app = make_app(tmp_path, LINK_GUESS_LIMIT=1)

    @app.get("/boom")
    def boom() -> str:  # an unexpected failure inside a view
        raise RuntimeError("boom")

    # the web app's guard answers 303 to /login on any route it does not know as public; this one is
    # public for the test, so that the failure inside the view is what answers
    monkeypatch.setattr(access, "PUBLIC_ENDPOINTS", access.PUBLIC_ENDPOINTS | {"boom"})

    app.testing = False  # let the 500 handler answer instead of re-raising into the test
    client = app.test_client()
    _, round_id = setup_round(app, 5, min_responses=3)
    first, second, third, fourth, _ = tokens(tmp_path)
    seen: dict[str, int] = {}

    def check(name: str, path: str, response: Any, status: int) -> None:
        assert response.status_code == status, (name, response.status_code)
        assert_secure(response, path)
        seen[name] = status

    form = client.get(f"/s/{first}")
    check("form", f"/s/{first}", form, 200)
    assert not form.headers.getlist("Set-Cookie")  # the respondent's pages keep no session
    check("400", f"/s/{first}", client.post(f"/s/{first}", data={"ink1": "4"}), 400)
    check("415", f"/s/{first}", client.post(f"/s/{first}", json=full()), 415)
    check("413", f"/s/{first}", client.post(f"/s/{first}", data={"x": "y" * 70_000}), 413)
    check("405", f"/s/{first}", client.put(f"/s/{first}", data=full()), 405)
    check("thanks", f"/s/{first}", submit(client, first, full()), 200)
    check("409", f"/s/{first}", client.get(f"/s/{first}"), 409)
    check("404", "/s/" + "A" * 43, client.get("/s/" + "A" * 43), 404)
    check("429", "/s/" + "B" * 43, client.get("/s/" + "B" * 43), 429)
    check("404 page", "/nowhere", client.get("/nowhere"), 404)
    check("500", "/boom", client.get("/boom"), 500)
    check("healthz", "/healthz", client.get("/healthz"), 200)
    for token in (second, third):
        assert submit(client, token, full()).status_code == 200
    close(app, round_id)
    check("410", f"/s/{fourth}", client.get(f"/s/{fourth}"), 410)
    with app.app_context():
        link = report_link(app.extensions["tryghed"], round_id)
    path = link.removeprefix("http://tryghed.test")
    check("report", path, client.get(path), 200)
    check("report 404", "/r/forged", client.get("/r/forged"), 404)
    assert len(seen) == 15


def _url_for_rule(rule: Any) -> str:
    values = {arg: 1 if "int" in type(rule._converters[arg]).__name__.lower() else "x" for arg in rule.arguments}
    return str(rule.build(values, append_unknown=False)[1])


@pytest.mark.parametrize("https", [False, True])
def test_every_route_of_the_app_with_every_method(tmp_path: Path, https: bool) -> None:
    base = "https://tryghed.test" if https else "http://tryghed.test"
    app = make_app(tmp_path, BASE_URL=base)
    setup_round(app, 5)
    client = app.test_client()
    rules = list(app.url_map.iter_rules())
    assert {r.rule for r in rules} >= {"/s/<token>", "/r/<token>", "/healthz"}
    checked = 0
    for rule in rules:
        path = _url_for_rule(rule)
        for method in sorted((rule.methods or set()) | {"GET", "POST", "PUT", "DELETE"}):
            response = client.open(path, method=method, base_url=base)
            assert response.status_code < 500, (method, path, response.status_code)
            assert_secure(response, path, https=https)
            checked += 1
    # the session cookie itself (set by the login form for its CSRF token) carries the flags; a fresh
    # client, because the walk above already got one, which is then not set again. The respondent's form
    # sets none at all.
    page = app.test_client().get("/login", base_url=base)
    assert page.headers.getlist("Set-Cookie")
    assert_secure(page, "/login", https=https)
    token = tokens(tmp_path)[0]
    form = app.test_client().get(f"/s/{token}", base_url=base)
    assert form.status_code == 200 and not form.headers.getlist("Set-Cookie")
    assert_secure(form, f"/s/{token}", https=https)
    assert checked >= 4 * len(rules)


def test_inline_styles_are_allowed_by_hash_only(client: FlaskClient, app: Flask, tmp_path: Path) -> None:
    """The policy names the exact <style> blocks of the page, so an injected one would not apply."""
    from survey.web.security import style_hashes

    setup_round(app, 5)
    page = client.get(f"/s/{tokens(tmp_path)[0]}")
    hashes = style_hashes(page.get_data())
    assert hashes and all(h in page.headers["Content-Security-Policy"] for h in hashes)
    assert style_hashes(b"<style>x{}</style>") != hashes


@pytest.mark.browser
def test_the_browser_applies_the_styles_and_reports_no_violation(tmp_path: Path, browser: Any) -> None:
    app = make_app(tmp_path)
    with LiveServer(app) as live:
        setup_round(app, 5)
        token = tokens(tmp_path)[0]
        context = browser.new_context(java_script_enabled=True)
        page = context.new_page()
        messages: list[str] = []
        page.on("console", lambda msg: messages.append(msg.text))
        page.goto(f"{live.url}/s/{token}")
        colour = page.eval_on_selector("button", "b => getComputedStyle(b).backgroundColor")
        context.close()
    assert colour == "rgb(47, 107, 94)"  # the accent colour from the page's <style> block
    assert not [m for m in messages if "Content Security Policy" in m], messages
