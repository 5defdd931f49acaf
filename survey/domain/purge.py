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
from typing import Any

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.orm import Session

from survey.data.db import affected
from survey.data.models import Action, Invitation, Message, Participant, RetiredLink, Round
from survey.runtime import Runtime

FINISHED = ("reported", "failed")  # a round still "closing" may yet need its outbox rows


def purge_expired(
    session: Session, now: datetime, retention_days: int, guess_window: timedelta, limit: int | None = None
) -> dict[str, Any]:
    """Purge every finished round closed more than ``retention_days`` ago (committed); returns counts.

    ``limit``: at most that many rounds, longest closed first (the scheduler's pass; the rest go next time).
    """
    from survey.domain.ratelimit import forget_expired

    cutoff = now - timedelta(days=retention_days)
    due = list(
        session.scalars(
            select(Round.id)
            .where(Round.status.in_(FINISHED), Round.purged_at.is_(None), Round.closed_at <= cutoff)
            .order_by(Round.closed_at)
            .limit(limit)
        )
    )
    counts = {"messages": 0, "invitations": 0}
    purged: list[int] = []
    for round_id in due:
        # claim first, so that two purges running at once do the work once
        if (
            affected(
                session.execute(
                    update(Round).where(Round.id == round_id, Round.purged_at.is_(None)).values(purged_at=now)
                )
            )
            != 1
        ):
            continue
        purged.append(round_id)
        counts["messages"] += affected(session.execute(delete(Message).where(Message.round_id == round_id))) or 0
        # the plan's reviews keep what and who; an owner's address was only for the due-date nudges
        session.execute(update(Action).where(Action.round_id == round_id).values(owner_email=None))
        # keep recognising the old links (hash and language only), so their owners still get "round closed"
        session.execute(
            insert(RetiredLink).from_select(
                ["token_hash", "round_id", "lang"],
                select(Invitation.token_hash, Invitation.round_id, Invitation.lang).where(
                    Invitation.round_id == round_id
                ),
            )
        )
        counts["invitations"] += (
            affected(session.execute(delete(Invitation).where(Invitation.round_id == round_id))) or 0
        )
    # nudges about a facilitation request belong to no round: their addresses go after the same period
    counts["messages"] += (
        affected(session.execute(delete(Message).where(Message.round_id.is_(None), Message.created_at <= cutoff))) or 0
    )
    # people who left the team: nothing keeps them once no unpurged round invited them
    departed = affected(
        session.execute(
            delete(Participant).where(
                Participant.active.is_(False),
                ~exists().where(Invitation.participant_id == Participant.id),
            )
        )
    )
    guesses = forget_expired(session, now, guess_window)
    session.commit()
    return {
        "purged_rounds": purged,
        "invitations": counts["invitations"],
        "messages": counts["messages"],
        "participants": departed or 0,
        "link_guesses": guesses,
        "retention_days": retention_days,
    }


def purge(rt: Runtime, session: Session, limit: int | None = None) -> dict[str, Any]:
    """``purge_expired`` with the installation's settings (``TRYGHED_RETENTION_DAYS``)."""
    from survey.domain import audit, sessions, throttle

    window = timedelta(seconds=int(rt.config["LINK_GUESS_WINDOW"]))
    result = purge_expired(session, rt.now(), int(rt.config["RETENTION_DAYS"]), window, limit)
    # sign-in leftovers: sessions that can no longer be resumed, login counts whose window has run out
    result["web_sessions"] = sessions.forget_expired(session, rt.now(), sessions.lifetimes_of(rt.config))
    result["login_failures"] = throttle.forget_expired(
        session, rt.now(), timedelta(seconds=int(rt.config["LOGIN_WINDOW"]))
    )
    result["audit_events"] = audit.forget_expired(session, rt.now(), int(rt.config["RETENTION_DAYS"]))
    session.commit()
    return result
