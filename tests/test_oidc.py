"""Single sign-on with OpenID Connect (issue 18 point 1) against a real provider: the npm package
oidc-provider, run with node on a free localhost port (tests/oidc_provider.mjs). No mock: the app fetches
the provider's discovery document and keys, the browser's redirects go through the provider, and the
code is exchanged server to server with PKCE."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.data.models import User
from tests.conftest import make_app
from tests.helpers import LiveServer, free_port
from tests.web_helpers import PASSWORD, add_account, login

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "http://tryghed.test"
REDIRECT = f"{BASE_URL}/login/sso/callback"
SECRET = "a-client-secret-for-the-tests-only"
ROLE_MAP = {"tryghed-admins": "admin", "tryghed-facilitators": "facilitator", "tryghed-leaders": "leader"}


class OpenIDProvider:
    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"

    def control(self, what: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.issuer}/_control/{what}", data=json.dumps(body or {}).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return dict(json.loads(answer.read()))

    def person(self, sub: str, email: str, roles: list[str], verified: bool = True, **extra: Any) -> None:
        claims = {"email": email, "email_verified": verified, "name": sub.title(), "roles": roles, **extra}
        self.control("account", {"sub": sub, "claims": claims})


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIDProvider]:
    node_modules = ROOT / "node_modules" / "oidc-provider"
    if not node_modules.is_dir():
        pytest.fail("oidc-provider is not installed: run `npm ci` (scripts/services does)")
    port = free_port()
    proc = subprocess.Popen(
        ["node", str(ROOT / "tests" / "oidc_provider.mjs"), str(port), REDIRECT, SECRET],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NODE_ENV": "test"},
    )
    assert proc.stdout is not None
    seen = []  # oidc-provider 9 warns on Node 20 (it is built for 22) and works: wait for our line
    while not (line := proc.stdout.readline()).startswith("ready"):
        seen.append(line)
        assert line and len(seen) < 20, "".join(seen)
    yield OpenIDProvider(port)
    proc.terminate()
    proc.wait(timeout=10)


def sso_app(tmp_path: Path, provider: OpenIDProvider, **overrides: Any) -> Flask:
    return make_app(
        tmp_path,
        BASE_URL=BASE_URL,
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID="tryghed",
        OIDC_CLIENT_SECRET=SECRET,
        OIDC_ROLES_CLAIM="roles",
        OIDC_ROLE_MAP=ROLE_MAP,
        **overrides,
    )


def through_provider(client: FlaskClient, provider: OpenIDProvider, sub: str, start_at: str = "/login/sso") -> str:
    """Start at /login/sso and follow the provider's redirects as a browser would, signed in at the
    provider as ``sub``; returns the path and query the provider sends the browser back to."""
    provider.control("login", {"sub": sub})
    start = client.get(start_at)
    assert start.status_code in (302, 303), start.status_code
    url = start.headers["Location"]
    assert url.startswith(provider.issuer) and "code_challenge_method=S256" in url and "nonce=" in url
    browser = requests.Session()
    for _ in range(10):
        if url.startswith(REDIRECT):
            return url[len(BASE_URL) :]
        answer = browser.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code in (302, 303), (answer.status_code, answer.text[:300])
        url = urljoin(url, answer.headers["Location"])
    raise AssertionError("the provider never sent the browser back")


def sign_in(client: FlaskClient, provider: OpenIDProvider, sub: str) -> Any:
    return client.get(through_provider(client, provider, sub))


def account(app: Flask, email: str) -> User | None:
    with app.extensions["tryghed"].db.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        if user is not None:
            s.expunge(user)
        return user


def test_a_good_sign_in_creates_the_account_with_its_role(tmp_path: Path, provider: OpenIDProvider) -> None:
    provider.person("fie", "fie@kommune.dk", ["tryghed-facilitators", "all-staff"])
    app = sso_app(tmp_path, provider)
    client = app.test_client()
    assert 'href="/login/sso"' in client.get("/login").get_data(as_text=True)
    keys_before = provider.control("stats")["jwks"]
    done = sign_in(client, provider, "fie")
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert client.get("/").status_code == 200 and client.get("/teams/new").status_code == 200
    user = account(app, "fie@kommune.dk")
    assert user is not None and user.role == "facilitator" and user.oidc_subject == f"{provider.issuer} fie"
    # no password works for an account made by single sign-on
    assert login(app.test_client(), "fie@kommune.dk", "!sso") == 401
    # the keys were fetched once and kept: a second sign-in does not fetch them again
    assert sign_in(app.test_client(), provider, "fie").status_code == 303
    assert provider.control("stats")["jwks"] - keys_before == 1
    app.extensions["tryghed"].db.dispose()


def test_a_person_without_a_mapped_role_gets_no_access_and_no_account(tmp_path: Path, provider: OpenIDProvider) -> None:
    provider.person("ole", "ole@kommune.dk", ["all-staff"])
    app = sso_app(tmp_path, provider)
    client = app.test_client()
    page = sign_in(client, provider, "ole")
    assert page.status_code == 403
    assert "gruppen" in page.get_data(as_text=True)  # Danish by default: ask to be added to the group
    assert account(app, "ole@kommune.dk") is None
    assert client.get("/").status_code == 303
    app.extensions["tryghed"].db.dispose()


def test_an_existing_local_account_with_a_verified_email_is_linked(tmp_path: Path, provider: OpenIDProvider) -> None:
    app = sso_app(tmp_path, provider)
    local_id = add_account(app, "lis@kommune.dk", "leader")
    provider.person("lis-at-idp", "Lis@Kommune.dk", ["tryghed-leaders"])
    assert sign_in(app.test_client(), provider, "lis-at-idp").status_code == 303
    user = account(app, "lis@kommune.dk")
    assert user is not None and user.id == local_id and user.oidc_subject == f"{provider.issuer} lis-at-idp"
    assert login(app.test_client(), "lis@kommune.dk", PASSWORD) == 303  # the local password still works
    # an unverified email does not take over an account
    add_account(app, "bo@kommune.dk", "admin")
    provider.person("bo-at-idp", "bo@kommune.dk", ["tryghed-leaders"], verified=False)
    assert sign_in(app.test_client(), provider, "bo-at-idp").status_code == 403
    bo = account(app, "bo@kommune.dk")
    assert bo is not None and bo.oidc_subject is None and bo.role == "admin"
    # Entra ID's way of saying it: no email_verified, but xms_edov (the domain owner verified the address)
    entra_id = add_account(app, "mo@kommune.dk", "leader")
    provider.control(
        "account",
        {"sub": "mo-at-entra", "claims": {"email": "mo@kommune.dk", "xms_edov": True, "roles": ["tryghed-leaders"]}},
    )
    assert sign_in(app.test_client(), provider, "mo-at-entra").status_code == 303
    mo = account(app, "mo@kommune.dk")
    assert mo is not None and mo.id == entra_id and mo.oidc_subject == f"{provider.issuer} mo-at-entra"
    app.extensions["tryghed"].db.dispose()


def test_a_role_mapping_change_takes_effect_at_the_next_sign_in(tmp_path: Path, provider: OpenIDProvider) -> None:
    provider.person("kim", "kim@kommune.dk", ["tryghed-admins"])
    app = sso_app(tmp_path, provider)
    first = app.test_client()
    assert sign_in(first, provider, "kim").status_code == 303
    assert first.get("/admin/users").status_code == 200
    provider.person("kim", "kim@kommune.dk", ["tryghed-leaders"])  # IT moves Kim to another group
    second = app.test_client()
    assert sign_in(second, provider, "kim").status_code == 303
    assert second.get("/admin/users").status_code == 403
    assert first.get("/admin/users").status_code == 403  # the role is the account's, in every session
    provider.person("kim", "kim@kommune.dk", [])  # and out of every group: no access at all
    assert sign_in(app.test_client(), provider, "kim").status_code == 403
    app.extensions["tryghed"].db.dispose()


@pytest.mark.parametrize("fault", ["wrong_issuer", "wrong_audience", "expired", "bad_signature", "replayed_nonce"])
def test_a_spoiled_id_token_is_refused(tmp_path: Path, provider: OpenIDProvider, fault: str) -> None:
    provider.person("eva", "eva@kommune.dk", ["tryghed-facilitators"])
    app = sso_app(tmp_path, provider)
    assert sign_in(app.test_client(), provider, "eva").status_code == 303  # a good one first (a nonce to replay)
    client = app.test_client()
    callback = through_provider(client, provider, "eva")
    provider.control("fault", {"mode": fault})
    refused = client.get(callback)
    assert refused.status_code == 400, fault
    assert client.get("/").status_code == 303  # not signed in
    assert provider.control("fault", {"mode": None})["tokens"] >= 2  # the provider did issue the token
    app.extensions["tryghed"].db.dispose()


def test_a_replayed_state_is_refused(tmp_path: Path, provider: OpenIDProvider) -> None:
    provider.person("ib", "ib@kommune.dk", ["tryghed-leaders"])
    app = sso_app(tmp_path, provider)
    client = app.test_client()
    callback = through_provider(client, provider, "ib")
    assert client.get(callback).status_code == 303
    # the same answer again, in the same browser and in another one: its state is used up / unknown
    assert client.get(callback).status_code == 400
    other = app.test_client()
    other.get("/login/sso")  # a state of its own, not the one in the replayed answer
    assert other.get(callback).status_code == 400
    assert other.get("/").status_code == 303
    app.extensions["tryghed"].db.dispose()


def test_passwords_can_be_switched_off(tmp_path: Path, provider: OpenIDProvider) -> None:
    app = sso_app(tmp_path, provider, LOCAL_LOGIN=False)
    add_account(app, "ada@kommune.dk", "admin")  # the first admin, as `tryghed user add` makes it
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'name="password"' not in page and 'href="/login/sso"' in page
    refused = client.post("/login", data={"email": "ada@kommune.dk", "password": PASSWORD})
    assert refused.status_code in (400, 403) and client.get("/").status_code == 303
    provider.person("ada", "ada@kommune.dk", ["tryghed-admins"])
    # where the person was going is kept through the provider
    done = client.get(through_provider(client, provider, "ada", start_at="/login/sso?next=/admin/users"))
    assert done.status_code == 303 and done.headers["Location"] == "/admin/users"
    assert client.get("/admin/users").status_code == 200
    app.extensions["tryghed"].db.dispose()


def test_the_cli_does_not_load_authlib() -> None:
    started = time.monotonic()
    code = "import sys, survey.cli, survey.web.oidc, survey.domain.sso; print('authlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False", time.monotonic() - started


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_sign_in_pages_have_no_axe_violations(
    tmp_path: Path, provider: OpenIDProvider, browser: Any, lang: str
) -> None:
    """The login page with the single sign-on button, with passwords off, and each "no access" page."""
    from tests.a11y import axe_violations, describe

    provider.person("una", "una@kommune.dk", ["all-staff"])
    pages: dict[str, str] = {}
    headers = {"Accept-Language": lang}
    app = sso_app(tmp_path, provider)
    client = app.test_client()
    pages["login with single sign-on"] = client.get("/login", headers=headers).get_data(as_text=True)
    provider.control("login", {"sub": "una"})
    pages["no role"] = client.get(through_provider(client, provider, "una"), headers=headers).get_data(as_text=True)
    pages["refused answer"] = client.get("/login/sso/callback?code=x&state=y", headers=headers).get_data(as_text=True)
    off = sso_app(tmp_path / "off", provider, LOCAL_LOGIN=False)
    pages["passwords off"] = off.test_client().get("/login", headers=headers).get_data(as_text=True)
    failures = []
    with LiveServer(app) as live:
        page = browser.new_context().new_page()
        for label, html in pages.items():
            page.goto(f"{live.url}/healthz")  # same origin, so /static/web.css loads as on the real page
            page.set_content(html)
            for width in (390, 1280):
                page.set_viewport_size({"width": width, "height": 900})
                found = axe_violations(page)
                if found:
                    failures.append(f"{label} at {width}px:\n{describe(found)}")
    assert not failures, "\n".join(failures)
    for flask_app in (app, off):
        flask_app.extensions["tryghed"].db.dispose()


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"OIDC_ROLE_MAP": {"staff": "boss"}}, "TRYGHED_OIDC_ROLE_MAP"),
        ({"OIDC_ROLE_MAP": ["admin"]}, "TRYGHED_OIDC_ROLE_MAP"),
        ({"LOCAL_LOGIN": False}, "TRYGHED_LOCAL_LOGIN"),
        ({"OIDC_ISSUER": "login.microsoftonline.com/x"}, "TRYGHED_OIDC_ISSUER"),
        ({"OIDC_ISSUER": "https://login.example"}, "TRYGHED_OIDC_CLIENT_ID"),
        ({"TRUSTED_PROXIES": -1}, "TRYGHED_TRUSTED_PROXIES"),
        ({"SESSION_IDLE_SECONDS": "8h"}, "TRYGHED_SESSION_IDLE_SECONDS"),
    ],
)
def test_sign_in_settings_that_cannot_work_are_refused_by_name(settings: dict[str, Any], named: str) -> None:
    from survey.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=named):
        load_config(settings)


def test_a_provider_that_cannot_be_reached_is_a_clear_page(tmp_path: Path) -> None:
    down = OpenIDProvider(free_port())  # nothing listens there
    app = sso_app(tmp_path, down)
    client = app.test_client()
    page = client.get("/login/sso", headers={"Accept-Language": "en"})
    assert page.status_code == 503 and "cannot be reached" in page.get_data(as_text=True)
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 400
    assert client.get("/login/sso/callback").status_code == 400
    app.extensions["tryghed"].db.dispose()


def test_the_code_and_state_never_reach_a_log_line() -> None:
    from survey.web.logredact import redact

    line = '127.0.0.1 - - "GET /login/sso/callback?code=Zk9-secret.code&state=s7ate&iss=x HTTP/1.1" 303 -'
    assert "Zk9-secret.code" not in redact(line) and "s7ate" not in redact(line) and "iss=x" in redact(line)
