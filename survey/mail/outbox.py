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
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import any_, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from survey.data.models import Message
from survey.domain.due import due_mail as _due
from survey.domain.due import (
    lease_of,  # noqa: F401  (re-exported)
    rounds_with_due_mail,  # noqa: F401  (re-exported: the tick's read, in Core)
)
from survey.mail.transport import Outgoing, PermanentFailure, TransientFailure, Transport, Unreachable

log = logging.getLogger(__name__)

# Waits before retry n (seconds); after the last, the message is recorded as failed.
# The default of TRYGHED_MAIL_BACKOFF; the Redis visibility timeout must stay above the longest.
BACKOFF = (30, 120, 600, 1800, 3600)


def new_message_id(domain: str = "tryghed.local") -> str:
    return f"<{secrets.token_hex(16)}@{domain}>"


def queue(
    session: Session,
    *,
    round_id: int | None,
    kind: str,
    recipient: str,
    lang: str,
    seq: int = 0,
    invitation_id: int | None = None,
    request_id: int | None = None,
    domain: str = "tryghed.local",
) -> Message:
    """Add one email to the outbox (no commit: it belongs to the caller's transaction)."""
    msg = Message(
        round_id=round_id,
        request_id=request_id,
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


def due_ids(
    session: Session, now: datetime, lease: timedelta, round_id: int | None = None, limit: int | None = None
) -> list[int]:
    """Pending messages that may be sent now (not waiting for a retry, not held by a live claim)."""
    return list(session.scalars(_due(now, lease, round_id).order_by(Message.id).limit(limit)))


@dataclass(frozen=True)
class Claimed:
    """An outbox row as claimed for sending (plain values: no ORM object outlives the claim)."""

    id: int
    round_id: int | None
    kind: str
    recipient: str
    lang: str
    invitation_id: int | None
    message_id: str
    request_id: int | None
    seq: int
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
        # ``id = ANY(ARRAY(SELECT ... LIMIT ... FOR UPDATE SKIP LOCKED))``: the sub-select runs once (an
        # InitPlan) and the rows are then found through the primary key, whatever the statistics say.
        # As ``IN (SELECT ...)`` from a CTE, a round just opened (its rows not yet analysed, so estimated
        # at one row) was planned as a nested loop over every pending row: 180 ms per batch of 250, the
        # largest single cost of sending on PostgreSQL. (A plain ``IN`` subquery without the CTE could
        # even be run once per outer row and claim far more than ``limit``.)
        chosen = Message.id == any_(func.array(due.with_for_update(skip_locked=True).scalar_subquery()))
    else:
        chosen = Message.id.in_(select(due.cte("batch").c.id))
    rows = session.execute(
        update(Message)
        .where(
            chosen,
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
    """What :func:`deliver` needs to build emails (``survey.mail.composer.Composer``)."""

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
            # ORM bulk UPDATE by primary key: one executemany for all failures of the batch; a row cancelled
            # meanwhile (its team's leader changed: survey.domain.leader_mail) stays cancelled, never retried
            self.session.execute(
                update(Message).where(Message.status == "pending"),
                [self._failure(row, error, now) for row, error in self.failed],
                execution_options={"synchronize_session": False},
            )
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


_AHEAD = 32  # composed messages waiting for the wire: enough to cover a database write of the batch
# The composer refills the queue this many at a time: one wake-up of the sending thread per 16 messages
# rather than per message (each costs CPU, which is what the sender competes for with the SMTP server
# and the database on a busy machine).
_REFILL = 16
_SKIPPED = "skipped"


class _Wire:
    """One message on the wire at a time, on a thread of its own, fed from a short queue.

    The SMTP conversation is mostly waiting for the server; with a queue in front of it, the next
    message is ready the moment the last one is accepted, and the sender's database writes (marks,
    renewals, the next claim) happen while the queue drains instead of between two messages. Outcomes
    are collected here and recorded by the sender's thread, which alone uses the database session.
    """

    def __init__(self, transport: Transport, held: Callable[[int], bool]) -> None:
        self.transport, self.held = transport, held
        lock = threading.Lock()
        self.work = threading.Condition(lock)  # the wire thread waits for a message (or the end)
        self.room = threading.Condition(lock)  # the composer waits for room in a full queue
        self.landed = threading.Condition(lock)  # the sender waits for the queue to be empty
        self.todo: deque[tuple[Claimed, Outgoing]] = deque()
        self.done: list[tuple[Claimed, Exception | str | None]] = []
        self.busy = False
        self.closed = False
        self.broken: Exception | None = None  # the server is unreachable (or the transport crashed)
        self.thread = threading.Thread(target=self._run, name="smtp", daemon=True)
        self.thread.start()

    def put(self, row: Claimed, outgoing: Outgoing, timeout: float) -> bool:
        """Queue a message; False if the queue stayed full for ``timeout`` seconds."""
        with self.room:
            if len(self.todo) >= _AHEAD and not self.room.wait_for(lambda: len(self.todo) <= _AHEAD - _REFILL, timeout):
                return False
            self.todo.append((row, outgoing))
            self.work.notify()
            return True

    def idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until every queued message has landed; True when it has."""
        with self.landed:
            return self.landed.wait_for(lambda: not self.todo and not self.busy, timeout)

    def take(self) -> list[tuple[Claimed, Exception | str | None]]:
        """The outcomes since the last call: None (sent), an exception, or ``_SKIPPED``."""
        with self.work:
            done, self.done = self.done, []
            return done

    def close(self) -> None:
        """Stop the thread once the message on the wire has landed; queued messages are dropped."""
        with self.work:
            self.closed = True
            self.todo.clear()
            self.work.notify()
        self.thread.join()

    def _run(self) -> None:
        while True:
            with self.work:
                self.work.wait_for(lambda: self.todo or self.closed)
                if not self.todo:
                    return
                row, outgoing = self.todo.popleft()
                self.busy = True
                if len(self.todo) <= _AHEAD - _REFILL:
                    self.room.notify()
            outcome: Exception | str | None = None
            if self.broken is not None:
                outcome = self.broken  # the rest fails this attempt alike, without a timeout each
            elif not self.held(row.id):
                outcome = _SKIPPED  # the lease ran out and another sender took it
            else:
                try:
                    self.transport.send(outgoing)
                except Exception as exc:  # recorded (Permanent/Transient) or raised by the sender's thread
                    outcome = exc
                    if isinstance(exc, Unreachable) or not isinstance(exc, (PermanentFailure, TransientFailure)):
                        self.broken = exc
            with self.work:
                self.done.append((row, outcome))
                self.busy = False
                if not self.todo:
                    self.landed.notify_all()


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
    meanwhile: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Send a claimed batch through one transport; returns counts by outcome.

    One message is on the wire at a time, on a thread of its own (:class:`_Wire`), fed from a short
    queue that this thread fills with composed messages while it also writes results. ``reserve(kind)``
    is the pacing: the seconds to wait before this message may go (0 when it is not paced); before such
    a wait the queue is drained and the results written, so a wait comes right before its message and
    never after the last one. Results are written every second, so a crash loses at most a second's
    marks (those messages are resent with the same Message-ID after the lease). The claim is renewed
    when a third of the lease has gone. If the server is unreachable, the rest of the batch fails this
    attempt alike (same count, same backoff, same cap), without one connection timeout per message.

    ``meanwhile`` (the caller claiming its next batch) is called once the whole batch is queued, while
    its last messages are still on the way, but only if a message of this batch has already been sent
    or failed for good: a batch that only meets a server refusing everything is not followed by another.
    """
    results = _Results(session, backoff)
    held = {row.id for row in batch}
    held_since = batch[0].claimed_at if batch else now()
    recorded: set[int] = set()
    written = time.monotonic()

    def record() -> None:
        for row, outcome in wire.take():
            recorded.add(row.id)
            if outcome is None:
                results.sent.append(row.id)
                results.counts["sent"] += 1
            elif outcome == _SKIPPED:
                results.counts["skipped"] += 1
            elif isinstance(outcome, (PermanentFailure, TransientFailure)):
                results.fail(row, outcome)
            elif isinstance(outcome, Exception):
                raise outcome  # a bug in the transport: the claims run out and the lease brings a resend

    def tick(force: bool = False) -> None:
        """Record outcomes; write them if a second has gone (or ``force``); renew the claim if due."""
        nonlocal written, held, held_since
        record()
        if force or time.monotonic() - written >= 1.0:
            results.flush(now())
            written = time.monotonic()
        if now() - held_since > lease / 3:
            stamp = now()
            held = renew(session, [r.id for r in batch if r.id in held and r.id not in recorded], held_since, stamp)
            held_since = stamp

    composer.load(batch)
    wire = _Wire(transport, lambda row_id: row_id in held)
    try:
        for row in batch:
            if wire.broken is not None:
                break
            wait = reserve(row.kind)
            if wait > 0:
                while not wire.idle(timeout=1.0):
                    tick()
                tick(force=True)
                sleep(wait)
            tick()
            if row.id not in held:
                recorded.add(row.id)
                results.counts["skipped"] += 1  # the lease ran out and another sender took it
                continue
            try:
                outgoing = composer.compose(row)
            except DBAPIError as exc:  # the database, not the message: try again later
                session.rollback()
                recorded.add(row.id)
                results.fail(row, TransientFailure(f"database error while composing: {exc}"))
                continue
            except Exception as exc:
                # what the email needs is gone (LookupError) or cannot be built (ComposeError, e.g. a
                # line break in a header): the same data fails the same way on every retry
                session.rollback()
                recorded.add(row.id)
                results.fail(row, PermanentFailure(f"{type(exc).__name__}: {exc}"))
                continue
            while not wire.put(row, outgoing, timeout=1.0):
                tick()
        if meanwhile is not None:
            record()
            if wire.broken is None and results.counts["sent"] + results.counts["failed"] > 0:
                meanwhile()
        while not wire.idle(timeout=1.0):
            tick()
    finally:
        wire.close()
    record()
    if isinstance(wire.broken, Unreachable):
        for other in batch:
            if other.id in held and other.id not in recorded:
                results.fail(other, wire.broken)
    results.flush(now())
    return results.counts
