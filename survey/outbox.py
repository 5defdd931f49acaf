"""The email outbox: rows decide *what* is sent (once), delivery decides *when*.

A row is queued in the same transaction as the decision that calls for it (opening a round, a
reminder, a delivered report). Sending happens after that commit, claims the row with a conditional
UPDATE (so two workers never send the same row at once), and records the outcome: sent, retried later
with backoff, or failed for good with the reason shown to facilitators.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from survey.db import affected
from survey.models import Message
from survey.transport import PermanentFailure, TransientFailure, Transport, Unreachable

log = logging.getLogger(__name__)

# Waits before retry n (seconds); after the last, the message is recorded as failed.
# The default of TRYGHED_MAIL_BACKOFF; the Redis visibility timeout must stay above the longest.
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
    return affected(result) == 1


def mark_sent(session: Session, message_id: int, now: datetime) -> None:
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status="sent", sent_at=now, claimed_at=None, last_error=None)
    )
    session.commit()


def mark_failed_attempt(
    session: Session,
    message_id: int,
    now: datetime,
    error: Exception,
    backoff: Sequence[float] = BACKOFF,
) -> str:
    """Record a failed attempt; returns the new status ("pending" to retry, or "failed")."""
    msg = session.get(Message, message_id)
    assert msg is not None
    permanent = isinstance(error, PermanentFailure)
    if permanent or msg.attempts >= len(backoff):
        msg.status = "failed"
        msg.next_attempt_at = None
    else:
        msg.status = "pending"
        msg.next_attempt_at = now + timedelta(seconds=backoff[msg.attempts - 1])
    msg.claimed_at = None
    msg.last_error = f"{type(error).__name__}: {error}"[:2000]
    session.commit()
    if msg.status == "failed":
        # Never silent: the worker log says it, and `round show` lists it under failed_messages.
        log.error(
            "email %s (round %s, %s) failed for good after %s attempt(s): %s",
            msg.message_id,
            msg.round_id,
            msg.kind,
            msg.attempts,
            msg.last_error,
        )
    return msg.status


def next_retry_at(session: Session, round_id: int | None = None) -> datetime | None:
    """When the earliest pending message waiting for a retry becomes due (None: nothing waits)."""
    q = select(func.min(Message.next_attempt_at)).where(
        Message.status == "pending", Message.next_attempt_at.is_not(None)
    )
    if round_id is not None:
        q = q.where(Message.round_id == round_id)
    return session.scalar(q)


def deliver(
    session: Session,
    ids: list[int],
    transport: Transport,
    compose: Callable[[Message], EmailMessage],
    now: Callable[[], datetime],
    pause: Callable[[], None] = lambda: None,
    backoff: Sequence[float] = BACKOFF,
) -> dict[str, int]:
    """Send the given outbox rows through one transport; returns counts by outcome."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    for index, message_id in enumerate(ids):
        if not claim(session, message_id, now()):
            counts["skipped"] += 1
            continue
        msg = session.get(Message, message_id)
        assert msg is not None
        session.refresh(msg)
        try:
            email = compose(msg)
            transport.send(email)
        except Unreachable as exc:
            # The server is down: the whole batch fails this attempt alike (same count, same backoff,
            # same cap), without one connection timeout per message.
            for other in [message_id, *ids[index + 1 :]]:
                if other == message_id or claim(session, other, now()):
                    status = mark_failed_attempt(session, other, now(), exc, backoff)
                    counts["failed" if status == "failed" else "retry"] += 1
            break
        except (PermanentFailure, TransientFailure) as exc:
            status = mark_failed_attempt(session, message_id, now(), exc, backoff)
            counts["failed" if status == "failed" else "retry"] += 1
            continue
        except LookupError as exc:  # what the email needs is gone (e.g. purged): nothing to retry
            session.rollback()
            mark_failed_attempt(session, message_id, now(), PermanentFailure(str(exc)), backoff)
            counts["failed"] += 1
            continue
        except Exception as exc:  # anything else is recorded and retried, never swallowed
            session.rollback()
            status = mark_failed_attempt(session, message_id, now(), TransientFailure(repr(exc)), backoff)
            counts["failed" if status == "failed" else "retry"] += 1
            continue
        mark_sent(session, message_id, now())
        counts["sent"] += 1
        pause()
    return counts
