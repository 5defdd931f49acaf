"""Throttling failed logins so that guessing is slow and an office is never locked out.

Three counts of failures in a fixed window, each under a keyed hash (the table holds no email and no
address, and a dump without the secret key gives neither back):

- per **account** (``per_account``): many failures on one account, from anywhere, lock that account
  until the window ends (a slow, distributed guess at one password);
- per **account and address** (``per_pair``): a lower limit that locks the account only from that
  address (one person or one script hammering one account);
- per **address** (``per_client`` failures free, then a delay that doubles with each further failure up
  to ``max_delay`` seconds): many accounts tried from one address. It only *slows down the answer to a
  failed attempt*; it never refuses one. So a colleague behind the same office NAT or proxy, whose own
  account is not locked, signs in with the right password at once, however many others failed.

Counts live in the database, not in process memory, so the limits hold across gunicorn workers; each is
one atomic upsert, so concurrent failures count correctly on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, delete
from sqlalchemy.orm import Session

from survey.data.db import count_in_window
from survey.data.models import LoginFailure

FIRST_DELAY = 0.25  # seconds added to the first failure past the free ones; doubles after that


@dataclass(frozen=True)
class Keys:
    account: str
    pair: str
    client: str


@dataclass(frozen=True)
class Throttle:
    """The limits; ``blocked``, ``failed`` and ``succeeded`` do the counting."""

    secret: str
    per_account: int = 20
    per_pair: int = 5
    per_client: int = 10
    max_delay: float = 5.0
    window: timedelta = timedelta(minutes=15)

    def keys(self, email: str, client: str | None) -> Keys:
        """Keyed hashes for the account, the account from this address, and the address."""

        def mac(text: str) -> str:
            return hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest()

        email, client = email.strip().lower(), client or "unknown"
        return Keys(mac(f"login-account:{email}"), mac(f"login-pair:{client}|{email}"), mac(f"login-client:{client}"))

    def blocked(self, session: Session, email: str, client: str | None, now: datetime) -> int:
        """Seconds to wait when this account is locked (everywhere, or from this address); else 0.

        The address's own count is not looked at: it slows failures down (``delay``) but locks nobody.
        """
        keys = self.keys(email, client)
        wait = 0
        for key, limit in ((keys.account, self.per_account), (keys.pair, self.per_pair)):
            row = session.get(LoginFailure, key)
            if row is not None and row.window_start >= now - self.window and row.count >= limit:
                wait = max(wait, int((row.window_start + self.window - now).total_seconds()) + 1)
        return wait

    def failed(self, session: Session, email: str, client: str | None, now: datetime) -> float:
        """Count one failure on all three keys (committed); returns the delay in seconds for this answer."""
        keys = self.keys(email, client)
        key_column = cast(Column[str], LoginFailure.__table__.c.key)
        counts = [
            count_in_window(session, key_column, k, now, self.window)[0] for k in (keys.account, keys.pair, keys.client)
        ]
        client_count = counts[-1]
        session.commit()
        return self.delay(client_count)

    def delay(self, client_failures: int) -> float:
        """The slowdown after the address's ``client_failures``-th failure in the window."""
        over = client_failures - self.per_client
        if over <= 0:
            return 0.0
        return min(self.max_delay, FIRST_DELAY * 2 ** min(over - 1, 30))

    def succeeded(self, session: Session, email: str, client: str | None) -> None:
        """A good login clears the account's counts (not the address's: one good account must not let
        the same address go on guessing others at full speed)."""
        keys = self.keys(email, client)
        session.execute(delete(LoginFailure).where(LoginFailure.key.in_([keys.account, keys.pair])))
        session.commit()


def throttle_of(config: dict[str, Any]) -> Throttle:
    """The throttle configured by the ``TRYGHED_LOGIN_*`` settings."""
    return Throttle(
        secret=str(config["SECRET_KEY"]),
        per_account=int(config["LOGIN_LIMIT"]),
        per_pair=int(config["LOGIN_PAIR_LIMIT"]),
        per_client=int(config["LOGIN_CLIENT_LIMIT"]),
        max_delay=float(config["LOGIN_DELAY_MAX"]),
        window=timedelta(seconds=int(config["LOGIN_WINDOW"])),
    )
