"""The email outbox: rows decide *what* is sent (once), delivery decides *when*.

A row is queued in the same transaction as the decision that calls for it (opening a round, a
reminder, a delivered report). Sending happens after that commit, claims the row with a conditional
UPDATE (so two workers never send the same row at once), and records the outcome: sent, retried later
with backoff, or failed for good with the reason shown to facilitators.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from survey.models import Message
from survey.transport import PermanentFailure, TransientFailure, Transport

# Waits before retry n (seconds); after the last, the message is recorded as failed.
BACKOFF = (30, 120, 600, 1800, 3600)
# A claimed row whose sender vanished (killed worker) may be claimed again after this.
CLAIM_LEASE = timedelta(minutes=10)


def new_message_id(domain: str = "tryghed.local") -> str:
    return f"<{secrets.token_hex(16)}@{domain}>"


def queue(
    session: Session,
    *,
    round_id: int,
    kind: str,
    recipient: str,
    lang: str,
    seq: int = 0,
    invitation_id: int | None = None,
    domain: str = "tryghed.local",
) -> Message:
    """Add one email to the outbox (no commit: it belongs to the caller's transaction)."""
    msg = Message(
        round_id=round_id,
        kind=kind,
        recipient=recipient,
        lang=lang,
        seq=seq,
        invitation_id=invitation_id,
        message_id=new_message_id(domain),
        status="pending",
        attempts=0,
    )
    session.add(msg)
    return msg


def due_ids(session: Session, now: datetime, round_id: int | None = None) -> list[int]:
    """Pending messages that may be sent now (not waiting for a retry, not held by a live claim)."""
    q = select(Message.id).where(
        Message.status == "pending",
        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
        or_(Message.claimed_at.is_(None), Message.claimed_at < now - CLAIM_LEASE),
    )
    if round_id is not None:
        q = q.where(Message.round_id == round_id)
    return list(session.scalars(q.order_by(Message.id)))


def claim(session: Session, message_id: int, now: datetime) -> bool:
    """Take one message for sending; False when another sender has it or it is done."""
    result = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == "pending",
            or_(Message.claimed_at.is_(None), Message.claimed_at < now - CLAIM_LEASE),
        )
        .values(claimed_at=now, attempts=Message.attempts + 1)
    )
    session.commit()
    return result.rowcount == 1


def mark_sent(session: Session, message_id: int, now: datetime) -> None:
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status="sent", sent_at=now, claimed_at=None, last_error=None)
    )
    session.commit()


def mark_failed_attempt(session: Session, message_id: int, now: datetime, error: Exception) -> str:
    """Record a failed attempt; returns the new status ("pending" to retry, or "failed")."""
    msg = session.get(Message, message_id)
    assert msg is not None
    permanent = isinstance(error, PermanentFailure)
    if permanent or msg.attempts >= len(BACKOFF):
        msg.status = "failed"
        msg.next_attempt_at = None
    else:
        msg.status = "pending"
        msg.next_attempt_at = now + timedelta(seconds=BACKOFF[msg.attempts - 1])
    msg.claimed_at = None
    msg.last_error = f"{type(error).__name__}: {error}"[:2000]
    session.commit()
    return msg.status


def deliver(
    session: Session,
    ids: list[int],
    transport: Transport,
    compose: Callable[[Message], EmailMessage],
    now: Callable[[], datetime],
    pause: Callable[[], None] = lambda: None,
) -> dict[str, int]:
    """Send the given outbox rows through one transport; returns counts by outcome."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    for message_id in ids:
        if not claim(session, message_id, now()):
            counts["skipped"] += 1
            continue
        msg = session.get(Message, message_id)
        assert msg is not None
        session.refresh(msg)
        try:
            email = compose(msg)
            transport.send(email)
        except (PermanentFailure, TransientFailure) as exc:
            status = mark_failed_attempt(session, message_id, now(), exc)
            counts["failed" if status == "failed" else "retry"] += 1
            continue
        except LookupError as exc:  # what the email needs is gone (e.g. purged): nothing to retry
            session.rollback()
            mark_failed_attempt(session, message_id, now(), PermanentFailure(str(exc)))
            counts["failed"] += 1
            continue
        except Exception as exc:  # anything else is recorded and retried, never swallowed
            session.rollback()
            status = mark_failed_attempt(session, message_id, now(), TransientFailure(repr(exc)))
            counts["failed" if status == "failed" else "retry"] += 1
            continue
        mark_sent(session, message_id, now())
        counts["sent"] += 1
        pause()
    return counts
