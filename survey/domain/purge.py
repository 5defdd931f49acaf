"""Retention: the personal data of a finished round is deleted after ``RETENTION_DAYS``.

What goes: the round's invitations (email address, language, token hash), its outbox rows
(recipient addresses), participants who have left the team and are in no unpurged round, and expired
link-guess counters. What stays: the round itself (with ``invited_count``), its anonymous answer sets,
the aggregate, the PDF report and the IGLO actions, so that follow-up reports can show trends; and the
participants still on the team (they are its roster for the next round).

An old link is still recognised after the purge (``retired_links`` keeps the token's hash, the round and
the language, nothing personal), so its owner gets "round closed" (410), not "unknown link".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, exists, insert, or_, select, update

from survey.data.db import affected
from survey.data.tables import (
    actions,
    audit_events,
    invitations,
    link_guesses,
    login_failures,
    messages,
    participants,
    retired_links,
    rounds,
    web_sessions,
)
from survey.runtime import Runtime

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

FINISHED = ("reported", "failed")  # a round still "closing" may yet need its outbox rows


def purge_expired(
    conn: Connection | Session,
    now: datetime,
    retention_days: int,
    guess_window: timedelta,
    limit: int | None = None,
) -> dict[str, Any]:
    """Purge every finished round closed more than ``retention_days`` ago (committed); returns counts.

    ``limit``: at most that many rounds, longest closed first (the scheduler's pass; the rest go next time).
    Core statements, on the tick's connection or a session alike.
    """
    r, inv = rounds.c, invitations.c
    cutoff = now - timedelta(days=retention_days)
    due = list(
        conn.scalars(
            select(r.id)
            .where(r.status.in_(FINISHED), r.purged_at.is_(None), r.closed_at <= cutoff)
            .order_by(r.closed_at)
            .limit(limit)
        )
    )
    counts = {"messages": 0, "invitations": 0}
    purged: list[int] = []
    for round_id in due:
        # claim first, so that two purges running at once do the work once
        claim = update(rounds).where(r.id == round_id, r.purged_at.is_(None)).values(purged_at=now)
        if affected(conn.execute(claim)) != 1:
            continue
        purged.append(round_id)
        counts["messages"] += affected(conn.execute(delete(messages).where(messages.c.round_id == round_id))) or 0
        # the plan's reviews keep what and who; an owner's address was only for the due-date nudges
        conn.execute(update(actions).where(actions.c.round_id == round_id).values(owner_email=None))
        # keep recognising the old links (hash and language only), so their owners still get "round closed"
        conn.execute(
            insert(retired_links).from_select(
                ["token_hash", "round_id", "lang"],
                select(inv.token_hash, inv.round_id, inv.lang).where(inv.round_id == round_id),
            )
        )
        counts["invitations"] += affected(conn.execute(delete(invitations).where(inv.round_id == round_id))) or 0
    # nudges about a facilitation request belong to no round: their addresses go after the same period
    stale_mail = delete(messages).where(messages.c.round_id.is_(None), messages.c.created_at <= cutoff)
    counts["messages"] += affected(conn.execute(stale_mail)) or 0
    # people who left the team: nothing keeps them once no unpurged round invited them
    p = participants.c
    departed = affected(
        conn.execute(delete(participants).where(p.active.is_(False), ~exists().where(inv.participant_id == p.id)))
    )
    # expired link-guess counters (survey.domain.ratelimit)
    guesses = _forget(conn, delete(link_guesses).where(link_guesses.c.window_start < now - guess_window))
    conn.commit()
    return {
        "purged_rounds": purged,
        "invitations": counts["invitations"],
        "messages": counts["messages"],
        "participants": departed or 0,
        "link_guesses": guesses,
        "retention_days": retention_days,
    }


def _forget(conn: Connection | Session, stmt: Any) -> int:
    return affected(conn.execute(stmt)) or 0


def purge(rt: Runtime, conn: Connection | Session, limit: int | None = None) -> dict[str, Any]:
    """``purge_expired`` with the installation's settings (``TRYGHED_RETENTION_DAYS``), and the sign-in
    leftovers: sessions that can no longer be resumed (``survey.domain.sessions``), login counts whose window
    has run out (``survey.domain.throttle``) and audit events past the retention period (``survey.domain.audit``).
    """
    config = rt.config
    window = timedelta(seconds=int(config["LINK_GUESS_WINDOW"]))
    result = purge_expired(conn, rt.now(), int(config["RETENTION_DAYS"]), window, limit)
    now = rt.now()
    # TRYGHED_SESSION_IDLE_SECONDS / _MAX_SECONDS (survey.domain.sessions.lifetimes_of)
    idle, lifetime = (timedelta(seconds=int(str(config[k]))) for k in ("SESSION_IDLE_SECONDS", "SESSION_MAX_SECONDS"))
    s = web_sessions.c
    stale = or_(s.last_seen_at < now - idle, s.created_at < now - lifetime)
    result["web_sessions"] = _forget(conn, delete(web_sessions).where(stale))
    login_window = timedelta(seconds=int(config["LOGIN_WINDOW"]))
    result["login_failures"] = _forget(
        conn, delete(login_failures).where(login_failures.c.window_start < now - login_window)
    )
    cutoff = now - timedelta(days=int(config["RETENTION_DAYS"]))
    result["audit_events"] = _forget(conn, delete(audit_events).where(audit_events.c.at < cutoff))
    conn.commit()
    return result
