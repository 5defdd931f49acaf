"""Login throttling (issue 18 point 4, issue 17 point 4): per account and per account + address, a
growing delay per address, and an office behind one address (NAT or a trusted proxy) never locked out."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import make_app
from tests.web_helpers import PASSWORD, add_account, csrf_of, login

OFFICE = "198.51.100.7"  # one public address for a whole office (documentation range)
PROXY = "127.0.0.1"


def behind_proxy(client_addr: str) -> dict[str, str]:
    """The environ of a request that reached the app through one reverse proxy."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": client_addr}


def test_limits_hold_across_workers_and_lock_only_the_account(tmp_path: Path) -> None:
    """Two app instances on one database stand for two gunicorn workers: the counts are shared."""
    settings = {"LOGIN_LIMIT": 4, "LOGIN_PAIR_LIMIT": 3, "LOGIN_CLIENT_LIMIT": 100}
    worker_a = make_app(tmp_path, **settings)
    worker_b = make_app(
        tmp_path,
        DATABASE_URL=worker_a.config["DATABASE_URL"],
        SECRET_KEY=worker_a.config["SECRET_KEY"],  # one installation: the same key in every worker
        **settings,
    )
    add_account(worker_a, "fie@example.org", "facilitator")
    a, b = worker_a.test_client(), worker_b.test_client()
    for _ in range(3):
        assert login(a, "fie@example.org", "not the password", REMOTE_ADDR="10.0.0.1") == 401
    # the account from that address is locked, on the other worker too, and says when to come back
    token = csrf_of(b.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_data(as_text=True))
    refused = b.post(
        "/login",
        data={"email": "fie@example.org", "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # from another address the person still gets in (the pair is locked, not the account)
    assert login(worker_b.test_client(), "fie@example.org", PASSWORD, REMOTE_ADDR="10.0.0.2") == 303
    # the success cleared the account's count; now four failures from four addresses lock the account itself
    for i in range(4):
        assert login(worker_a.test_client(), "fie@example.org", "wrong again!", REMOTE_ADDR=f"10.0.1.{i}") == 401
    assert login(worker_b.test_client(), "fie@example.org", PASSWORD, REMOTE_ADDR="10.0.2.1") == 429
    for app in (worker_a, worker_b):
        app.extensions["tryghed"].db.dispose()


def test_an_office_behind_a_trusted_proxy_is_never_locked_out(tmp_path: Path) -> None:
    """Thirty failures on many accounts from one office, through the proxy: a colleague whose own account
    is not locked signs in at once; the failing address is slowed down, more with each failure."""
    app = make_app(
        tmp_path, TRUSTED_PROXIES=1, LOGIN_LIMIT=20, LOGIN_PAIR_LIMIT=5, LOGIN_CLIENT_LIMIT=25, LOGIN_DELAY_MAX=1
    )
    add_account(app, "ole@example.org", "leader")
    client = app.test_client()
    for i in range(25):  # free failures: answered at once
        assert login(client, f"nobody{i}@example.org", "x" * 12, **behind_proxy(OFFICE)) == 401
    slowed = []
    for i in range(3):
        started = time.monotonic()
        assert login(client, f"other{i}@example.org", "x" * 12, **behind_proxy(OFFICE)) == 401
        slowed.append(time.monotonic() - started)
    # 0.25 s, 0.5 s, then the 1 s cap: a sleep is never shorter than asked, so these bounds cannot flake
    assert slowed[0] >= 0.25 and slowed[1] >= 0.5 and slowed[2] >= 1.0
    started = time.monotonic()
    assert login(app.test_client(), "ole@example.org", PASSWORD, **behind_proxy(OFFICE)) == 303
    # ... and the right password is not slowed down either (argon2 takes well under a second)
    assert time.monotonic() - started < 5
    app.extensions["tryghed"].db.dispose()


def test_the_proxy_tells_people_apart_and_untrusted_headers_are_ignored(tmp_path: Path) -> None:
    """With one trusted proxy, two people behind it are two addresses; without the setting a client
    cannot escape its lock by sending X-Forwarded-For."""
    trusting = make_app(tmp_path, TRUSTED_PROXIES=1, LOGIN_PAIR_LIMIT=2, LOGIN_LIMIT=50)
    add_account(trusting, "fie@example.org", "facilitator")
    for _ in range(2):
        assert login(trusting.test_client(), "fie@example.org", "wrong one!!", **behind_proxy("203.0.113.5")) == 401
    assert login(trusting.test_client(), "fie@example.org", PASSWORD, **behind_proxy("203.0.113.5")) == 429
    assert login(trusting.test_client(), "fie@example.org", PASSWORD, **behind_proxy("203.0.113.6")) == 303
    trusting.extensions["tryghed"].db.dispose()

    plain = make_app(tmp_path / "plain", LOGIN_PAIR_LIMIT=2, LOGIN_LIMIT=50)
    add_account(plain, "fie@example.org", "facilitator")
    for _ in range(2):
        assert login(plain.test_client(), "fie@example.org", "wrong one!!", **behind_proxy("203.0.113.5")) == 401
    # a made-up X-Forwarded-For does not make the same client someone else
    assert login(plain.test_client(), "fie@example.org", PASSWORD, **behind_proxy("203.0.113.99")) == 429
    plain.extensions["tryghed"].db.dispose()
