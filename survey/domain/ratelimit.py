"""Slowing down link guessing: unknown tokens are counted per client, and refused past a limit.

A token has 256 random bits, so guessing one is hopeless; the limit is there to keep scanners from
hammering the database and the logs. Only *unknown* tokens are counted and refused: a valid token is
looked up first and always works, so a colleague mistyping links behind the same office address never
locks real respondents out.

The client is stored as HMAC(secret key, address): the table holds no IP address, and a dump without the
key does not give one back. Rows are a fixed window per client (start, count), updated with one atomic
upsert, so concurrent requests count correctly on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Column
from sqlalchemy.orm import Session

from survey.data.db import count_in_window
from survey.data.models import LinkGuess

DEFAULT_LIMIT = 20  # unknown links per client and window; a person mistyping a link needs a handful
DEFAULT_WINDOW_SECONDS = 600


@dataclass(frozen=True)
class Verdict:
    """The outcome of counting one unknown link: refused past the limit, with the wait in seconds."""

    count: int
    refused: bool
    retry_after: int


def client_key(secret_key: str, address: str | None) -> str:
    """The keyed hash that stands for a client address in the database (64 hex characters)."""
    message = f"link-guess:{address or 'unknown'}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def note_unknown(
    session: Session,
    client: str,
    now: datetime,
    *,
    limit: int = DEFAULT_LIMIT,
    window: timedelta = timedelta(seconds=DEFAULT_WINDOW_SECONDS),
) -> Verdict:
    """Count one unknown link for ``client`` (committed) and say whether to refuse it."""
    count, started = count_in_window(session, cast(Column[str], LinkGuess.__table__.c.client), client, now, window)
    session.commit()
    wait = max(1, int((started + window - now).total_seconds()))
    return Verdict(count=count, refused=count > limit, retry_after=wait)
