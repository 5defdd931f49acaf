"""The app's header is rendered once per kind of page and kept (``survey.web.topbar``): what is kept must never
carry one request's token or address into another's, and every change the header shows (role, unit head,
language, current page) must show at once."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from survey.domain.units import add_unit
from tests.web_helpers import add_account, csrf_of, login

HEADER = re.compile(r'<header class="top">.*?</header>', re.S)


def _header(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    found = HEADER.search(page.get_data(as_text=True))
    assert found, path
    return found.group(0)


def _tokens(header: str) -> set[str]:
    return set(re.findall(r'name="(?:ui-)?csrf_token" value="([^"]+)"', header))


def test_each_session_gets_its_own_token_and_address_from_the_kept_header(app: Flask) -> None:
    add_account(app, "fie@example.org", "facilitator")
    add_account(app, "bo@example.org", "facilitator")
    first, second = app.test_client(), app.test_client()
    assert login(first, "fie@example.org") == 303 and login(second, "bo@example.org") == 303
    one, other = _header(first), _header(second)
    assert len(_tokens(one)) == 1 and len(_tokens(other)) == 1  # both forms carry the session's one token
    assert _tokens(one) != _tokens(other)
    assert "@@" not in one + other  # no stand-in left behind
    # the address to come back to is this request's, escaped as the template escaped it
    hostile = _header(first, '/knowledge?x="><script>alert(1)</script>')
    assert 'name="back" value="/knowledge?x=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in hostile
    assert "<script>" not in hostile
    assert 'name="back" value="/knowledge"' in _header(first, "/knowledge")
    # the kept header's token works: switching the language with it is accepted
    switched = first.post(
        "/account/language", data={"ui-csrf_token": csrf_of(one), "csrf_token": csrf_of(one), "ui-lang": "en"}
    )
    assert switched.status_code == 303
    english = _header(first)
    assert "Log out" in english and '<option selected value="en">' in english
    assert "Log ud" in _header(second)  # the other account keeps its own language


def test_the_menu_follows_role_unit_head_and_current_page(app: Flask) -> None:
    add_account(app, "lis@example.org", "leader")
    add_account(app, "ada@example.org", "admin")
    leader, admin = app.test_client(), app.test_client()
    assert login(leader, "lis@example.org") == 303 and login(admin, "ada@example.org") == 303
    led = _header(leader)
    assert 'href="/units"' not in led and 'href="/admin' not in led and 'href="/requests"' not in led
    assert 'href="/" aria-current="page"' in led
    assert 'href="/requests"' in _header(admin)  # the same page, another role: another kept header
    assert 'href="/requests"' not in _header(leader)
    with app.extensions["tryghed"].db.session() as s:
        add_unit(s, "Område Nord", head_email="lis@example.org")
        s.commit()
    assert 'href="/units"' in _header(leader)  # heading a unit shows the menu item on the next page
    ran = _header(admin, "/knowledge")
    assert 'href="/requests"' in ran and 'href="/admin/audit"' in ran
    assert 'href="/knowledge" aria-current="page"' in ran and 'href="/" aria-current="page"' not in ran


def test_a_logged_out_page_has_no_token_in_its_header(app: Flask) -> None:
    client = app.test_client()
    for lang in ("da", "en"):
        header = _header(client, f"/login?lang={lang}")
        assert "csrf_token" not in header and "@@" not in header
        assert f'href="/login?lang={lang}" lang="{lang}" aria-current="true"' in header
