"""The email outbox: rows decide *what* is sent (once), delivery decides *when*.

A row is queued in the same transaction as the decision that calls for it (opening a round, a
reminder, a delivered report). Sending happens after that commit: a sender claims a batch of due rows in
one conditional UPDATE (so two workers never send the same row at once), holds the claim for a lease
tied to the stall period, and records the outcomes of the batch in one go: sent, retried later with
backoff, or failed for good with the reason shown to facilitators.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from survey.models import Message
from survey.transport import Outgoing, PermanentFailure, TransientFailure, Transport, Unreachable

log = logging.getLogger(__name__)

# Waits before retry n (seconds); after the last, the message is recorded as failed.
# The default of TRYGHED_MAIL_BACKOFF; the Redis visibility timeout must stay above the longest.
BACKOFF = (30, 120, 600, 1800, 3600)


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


def lease_of(config: dict[str, Any]) -> timedelta:
    """How long a claim holds: the stall period (``TRYGHED_STALL_SECONDS``), at least a second.

    A message whose sender died is claimable again after this, so a round re-driven after a crash gets
    its report out within about one stall period; a live sender renews its claim long before (see
    :func:`deliver`), and its SMTP timeout is kept below the lease (``pipeline.tasks.send_pending``).
    """
    return timedelta(seconds=max(1, int(config["STALL_SECONDS"])))


def _due(now: datetime, lease: timedelta, round_id: int | None) -> Select[Any]:
    q = select(Message.id).where(
        Message.status == "pending",
        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
        or_(Message.claimed_at.is_(None), Message.claimed_at < now - lease),
    )
    return q if round_id is None else q.where(Message.round_id == round_id)


def _quick_commit(session: Session) -> bool:
    """On PostgreSQL, let this transaction commit without waiting for the WAL flush; True there.

    A sender commits twice per batch, and waiting for the disk each time was a third of its time over
    the SMTP floor. What a database crash could lose is the last fraction of a second of claims and
    marks: a lost claim is claimed again, a lost "sent" mark means a resend with the same Message-ID,
    which is what a worker crash between the SMTP reply and the mark already means. The outbox rows
    themselves (exactly one per round, kind, recipient and seq) are written by the deciding
    transaction, which keeps the server's setting.
    """
    if session.get_bind().dialect.name != "postgresql":
        return False
    session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    return True


def due_ids(session: Session, now: datetime, lease: timedelta, round_id: int | None = None) -> list[int]:
    """Pending messages that may be sent now (not waiting for a retry, not held by a live claim)."""
    return list(session.scalars(_due(now, lease, round_id).order_by(Message.id)))


@dataclass(frozen=True)
class Claimed:
    """An outbox row as claimed for sending (plain values: no ORM object outlives the claim)."""

    id: int
    round_id: int
    kind: str
    recipient: str
    lang: str
    invitation_id: int | None
    message_id: str
    attempts: int
    claimed_at: datetime


_CLAIMED_COLUMNS = tuple(getattr(Message, f.name) for f in fields(Claimed))


def claim_batch(
    session: Session, now: datetime, lease: timedelta, limit: int, round_id: int | None = None
) -> list[Claimed]:
    """Claim up to ``limit`` due messages in one statement (committed), oldest first.

    On PostgreSQL the ``SELECT ... FOR UPDATE SKIP LOCKED`` lets concurrent senders take disjoint
    batches instead of queueing on the same rows; the outer conditions re-check the claim either way.
    """
    due = _due(now, lease, round_id).order_by(Message.id).limit(limit)
    if _quick_commit(session):
        # materialized: PostgreSQL may otherwise run a LIMIT ... FOR UPDATE subquery once per outer row,
        # and claim far more than ``limit``
        batch = due.with_for_update(skip_locked=True).cte("batch").prefix_with("MATERIALIZED")
    else:
        batch = due.cte("batch")
    rows = session.execute(
        update(Message)
        .where(
            Message.id.in_(select(batch.c.id)),
            Message.status == "pending",
            or_(Message.claimed_at.is_(None), Message.claimed_at < now - lease),
        )
        .values(claimed_at=now, attempts=Message.attempts + 1)
        .returning(*_CLAIMED_COLUMNS),
        execution_options={"synchronize_session": False},
    ).all()
    session.commit()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


def renew(session: Session, ids: Sequence[int], held_since: datetime, now: datetime) -> set[int]:
    """Extend this sender's claim on ``ids`` (one statement, committed); returns the ids still held."""
    if not ids:
        return set()
    _quick_commit(session)
    held = session.scalars(
        update(Message)
        .where(Message.id.in_(ids), Message.status == "pending", Message.claimed_at == held_since)
        .values(claimed_at=now)
        .returning(Message.id),
        execution_options={"synchronize_session": False},
    ).all()
    session.commit()
    return set(held)


def next_retry_at(session: Session, round_id: int | None = None) -> datetime | None:
    """When the earliest pending message waiting for a retry becomes due (None: nothing waits)."""
    q = select(func.min(Message.next_attempt_at)).where(
        Message.status == "pending", Message.next_attempt_at.is_not(None)
    )
    if round_id is not None:
        q = q.where(Message.round_id == round_id)
    return session.scalar(q)


class Composes(Protocol):
    """What :func:`deliver` needs to build emails (``survey.composer.Composer``)."""

    def load(self, rows: Iterable[Claimed]) -> None: ...

    def compose(self, row: Claimed) -> Outgoing: ...


class _Results:
    """Outcomes of a batch, written in one go: one UPDATE for the sent, one bulk UPDATE for the rest."""

    def __init__(self, session: Session, backoff: Sequence[float]) -> None:
        self.session, self.backoff = session, backoff
        self.sent: list[int] = []
        self.failed: list[tuple[Claimed, Exception]] = []
        self.counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}

    def _final(self, row: Claimed, error: Exception) -> bool:
        return isinstance(error, PermanentFailure) or row.attempts >= len(self.backoff)

    def fail(self, row: Claimed, error: Exception) -> None:
        self.failed.append((row, error))
        self.counts["failed" if self._final(row, error) else "retry"] += 1

    def flush(self, now: datetime) -> None:
        if not self.sent and not self.failed:
            return
        _quick_commit(self.session)
        if self.sent:
            self.session.execute(
                update(Message)
                .where(Message.id.in_(self.sent))
                .values(status="sent", sent_at=now, claimed_at=None, last_error=None),
                execution_options={"synchronize_session": False},
            )
        if self.failed:
            # ORM bulk UPDATE by primary key: one executemany for all failures of the batch
            self.session.execute(update(Message), [self._failure(row, error, now) for row, error in self.failed])
        self.session.commit()
        self.sent, self.failed = [], []

    def _failure(self, row: Claimed, error: Exception, now: datetime) -> dict[str, Any]:
        final = self._final(row, error)
        reason = f"{type(error).__name__}: {error}"[:2000]
        if final:
            # Never silent: the worker log says it, and `round show` lists it under failed_messages.
            log.error(
                "email %s (round %s, %s) failed for good after %s attempt(s): %s",
                row.message_id,
                row.round_id,
                row.kind,
                row.attempts,
                reason,
            )
        retry_at = None if final else now + timedelta(seconds=self.backoff[row.attempts - 1])
        return {
            "id": row.id,
            "status": "failed" if final else "pending",
            "next_attempt_at": retry_at,
            "claimed_at": None,
            "last_error": reason,
        }


def deliver(
    session: Session,
    batch: Sequence[Claimed],
    transport: Transport,
    composer: Composes,
    now: Callable[[], datetime],
    *,
    lease: timedelta,
    reserve: Callable[[str], float] = lambda kind: 0.0,
    sleep: Callable[[float], None] = time.sleep,
    backoff: Sequence[float] = BACKOFF,
) -> dict[str, int]:
    """Send a claimed batch through one transport; returns counts by outcome.

    One message is on the wire at a time, on a thread of its own, while this thread composes the next
    one and writes results: the SMTP conversation is mostly waiting for the server, and that wait is
    when our own work gets done. ``reserve(kind)`` is the pacing: the seconds to wait before this
    message may go (0 when it is not paced), so a wait comes before a message and never after the last
    one. Results are written every second and before any wait, so a crash loses at most a second's
    marks (those messages are resent with the same Message-ID after the lease). The claim is renewed
    when a third of the lease has gone.
    """
    results = _Results(session, backoff)
    held = {row.id for row in batch}
    held_since = batch[0].claimed_at if batch else now()
    composer.load(batch)
    written = time.monotonic()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtp") as wire:
        in_flight: tuple[Claimed, Future[None]] | None = None

        def landed() -> Exception | None:
            """Wait for the message on the wire and record it; returns the error if it failed."""
            nonlocal in_flight
            if in_flight is None:
                return None
            row, future = in_flight
            in_flight = None
            try:
                future.result()
            except (PermanentFailure, TransientFailure) as exc:
                results.fail(row, exc)
                return exc
            results.sent.append(row.id)
            results.counts["sent"] += 1
            return None

        for index, row in enumerate(batch):
            wait = reserve(row.kind)
            if wait > 0:
                landed()
                results.flush(now())
                written = time.monotonic()
                sleep(wait)
            if now() - held_since > lease / 3:
                stamp = now()
                held = renew(session, [r.id for r in batch[index:] if r.id in held], held_since, stamp)
                held_since = stamp
            if row.id not in held:
                results.counts["skipped"] += 1  # the lease ran out and another sender took it
                continue
            outgoing: Outgoing | None = None
            try:
                outgoing = composer.compose(row)
            except DBAPIError as exc:  # the database, not the message: try again later
                session.rollback()
                results.fail(row, TransientFailure(f"database error while composing: {exc}"))
            except Exception as exc:
                # what the email needs is gone (LookupError) or cannot be built (ComposeError, e.g. a
                # line break in a header): the same data fails the same way on every retry
                session.rollback()
                results.fail(row, PermanentFailure(f"{type(exc).__name__}: {exc}"))
            error = landed()
            if isinstance(error, Unreachable):
                # The server is down: the rest of the batch fails this attempt alike (same count, same
                # backoff, same cap), without one connection timeout per message.
                recorded = {r.id for r, _e in results.failed}
                for other in batch[index:]:
                    if other.id in held and other.id not in recorded:
                        results.fail(other, error)
                break
            if outgoing is not None:
                in_flight = (row, wire.submit(transport.send, outgoing))
            if time.monotonic() - written >= 1.0:
                results.flush(now())  # while the message is on the wire
                written = time.monotonic()
        landed()  # the last message of the batch
    results.flush(now())
    return results.counts
