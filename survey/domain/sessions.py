"""Server-side web sessions: a session exists while its row exists.

The browser's cookie holds a random token (256 bits); the table keeps its SHA-256 only, so a copy of the
database cannot be turned into a working cookie. A session ends when its row goes: at logout, when an
admin ends an account's sessions, when the account is disabled or its password changes, and when it has
been idle longer than ``idle`` or lived longer than ``lifetime`` (checked on every request). The account's
role and state are read from its row on every request, so a change takes effect on the next one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.orm import Session

from survey.data import tables
from survey.data.db import affected
from survey.data.models import WebSession

# last_seen_at is written at most this often per session: one write a minute, not one per request
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Lifetimes:
    """How long a session may be idle, and how long it may live in all."""

    idle: timedelta = timedelta(hours=8)
    lifetime: timedelta = timedelta(days=7)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user_id: int, now: datetime) -> str:
    """A new session for the account (committed); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(id=_digest(token), user_id=user_id, created_at=now, last_seen_at=now))
    session.commit()
    return token


# one round trip per request: the session's row joined to its account, as plain columns (no ORM objects), on
# the Core tables and built once with its parameter: building the comparison per request cost as much as the
# statement's execution
_SESSIONS, _USERS = tables.web_sessions, tables.users
_LIVE = (
    select(
        _SESSIONS.c.created_at,
        _SESSIONS.c.last_seen_at,
        _USERS.c.id,
        _USERS.c.email,
        _USERS.c.role,
        _USERS.c.name,
        _USERS.c.lang,
        _USERS.c.active,
    )
    .join(_USERS, _USERS.c.id == _SESSIONS.c.user_id)
    .where(_SESSIONS.c.id == bindparam("digest"))
)


# created_at, last_seen_at, and the account's id, email, role, name, lang, active
Live = Row[datetime, datetime, int, str, str, str | None, str, bool]


def resume(session: Session, token: str, now: datetime, limits: Lifetimes) -> Live | None:
    """The active account of a live session (a row of ``id, email, role, name, lang``), or None (an
    expired session's row is deleted). One statement, plus a write at most once per ``TOUCH_EVERY``."""
    digest = _digest(token)
    # Core on the session's connection (same transaction): every logged-in request runs this, and the ORM's
    # per-statement work was a tenth of a small page's time
    connection = session.connection()
    row = connection.execute(_LIVE, {"digest": digest}).first()
    if row is None:
        return None
    if now - row.last_seen_at > limits.idle or now - row.created_at > limits.lifetime:
        connection.execute(delete(WebSession).where(WebSession.id == digest))
        session.commit()
        return None
    if not row.active:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        connection.execute(update(WebSession).where(WebSession.id == digest).values(last_seen_at=now))
        session.commit()
    return row


def end(session: Session, token: str) -> None:
    """End one session (logout; committed)."""
    session.execute(delete(WebSession).where(WebSession.id == _digest(token)))
    session.commit()


def end_all(session: Session, user_id: int, keep: str | None = None) -> int:
    """End every session of the account except ``keep`` (a token), without committing; returns how many."""
    stmt = delete(WebSession).where(WebSession.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(WebSession.id != _digest(keep))
    return affected(session.execute(stmt)) or 0


def lifetimes_of(config: dict[str, object]) -> Lifetimes:
    """The lifetimes set by ``TRYGHED_SESSION_IDLE_SECONDS`` and ``TRYGHED_SESSION_MAX_SECONDS``."""
    return Lifetimes(
        idle=timedelta(seconds=int(str(config["SESSION_IDLE_SECONDS"]))),
        lifetime=timedelta(seconds=int(str(config["SESSION_MAX_SECONDS"]))),
    )
