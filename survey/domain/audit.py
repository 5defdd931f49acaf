"""The audit log: who signed in or failed to, who changed accounts and roles, opened, reminded or closed
rounds, viewed or downloaded reports, changed units, teams and leaders, and deleted teams and rounds.

An event is (time, actor, action, subject): the actor is an account's email (or ``cli``, or None for
someone who signed in with no account, e.g. a report link from an email), the subject names what was
acted on ("round 12", "user ole@kommune.dk"). It never holds answers, tokens, links or passwords: a
failed login names the account only when it exists (a password typed into the email field would
otherwise be kept). Events older than ``TRYGHED_RETENTION_DAYS`` are deleted with the other personal data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.data.models import AuditEvent
from survey.domain.validation import clean_optional

PAGE = 100
EXPORT_BATCH = 1000
# Every action the log knows, so a page can translate them and a test can see each one happen.
ACTIONS = (
    "login",
    "login_failed",
    "login_sso",
    "login_sso_refused",
    "logout",
    "password_changed",
    "account_created",
    "account_disabled",
    "account_enabled",
    "role_changed",
    "sessions_ended",
    "round_opened",
    "round_reminded",
    "round_closed",
    "report_viewed",
    "report_downloaded",
    "paper_form_entered",  # a paper form typed in with a spare card (never the card's code)
    "unit_report_viewed",
    "unit_report_downloaded",
    "unit_created",
    "unit_changed",
    "unit_deleted",
    "team_changed",
    "team_deleted",
    "leader_changed",
    "mail_readdressed",  # an email waiting for a team's old leader now goes to the new one
    "mail_cancelled",  # ... or is cancelled (survey.domain.leader_mail)
    "round_deleted",
)


def record(session: Session, action: str, actor: str | None, subject: str | None, now: datetime) -> None:
    """Add one event (committed)."""
    add(session, action, actor, subject, now)
    session.commit()


def add(session: Session, action: str, actor: str | None, subject: str | None, now: datetime) -> None:
    """Add one event to the caller's transaction (not committed): logged with the change it records."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(
        AuditEvent(
            at=now,
            actor=clean_optional(actor, "actor", max_len=320),
            action=action,
            subject=clean_optional(subject, "subject", max_len=400),
        )
    )


def page(session: Session, before: int | None = None, size: int = PAGE) -> list[AuditEvent]:
    """The newest ``size`` events, or those older than event ``before`` (keyset paging: one index range)."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(size)
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    return list(session.scalars(stmt))


def export_csv(session: Session) -> Iterator[str]:
    """The whole log as CSV, oldest first, read in batches of ``EXPORT_BATCH`` (never all rows at once)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at_utc", "actor", "action", "subject"])
    last = 0
    while True:
        rows = list(
            session.scalars(select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(EXPORT_BATCH))
        )
        for event in rows:
            writer.writerow([event.id, event.at.isoformat(), event.actor or "", event.action, event.subject or ""])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(rows) < EXPORT_BATCH:
            return
        last = rows[-1].id
