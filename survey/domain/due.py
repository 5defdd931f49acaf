"""What a scheduler pass finds due, read and claimed with SQLAlchemy Core: free of the ORM.

``tryghed tick`` runs from cron every minute and finds nothing due almost every time; importing
``sqlalchemy.orm`` and mapping the classes would be a third of its start (docs/benchmarks.md, "Starting a
command"). So these take a Core ``Connection`` (or an ORM ``Session``: both execute the same statements) and
read the tables of ``survey.data.tables``. ``survey.domain.rounds``, ``round_storage``, ``unit_reports`` and
``survey.mail.outbox`` re-export them where they were.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update

from survey.data.db import affected
from survey.data.tables import DROPPING, OWN, messages, rounds, unit_reports

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

# How many rounds of each kind one scheduler pass takes on: the rest wait for the next pass (a minute),
# so a pass stays bounded in time and memory however many rounds fall due at once.
TICK_BATCH = 500
EMAIL = "email"  # ``rounds.channel`` of a round with personal links (survey.domain.cards)
WORKING = ("queued", "figures", "layout")  # a unit overview not finished (survey.domain.unit_reports)


def stalled_pipeline(
    now: datetime, stall: timedelta, beat_timeout: timedelta, queue_idle: bool = False
) -> ColumnElement[bool]:
    """A closing round whose pipeline shows no life: untouched for the stall period, or its running task
    stopped beating (``pipeline.heartbeat``), or, when the broker's queue is empty (``queue_idle``), no
    task has started for it within a beat timeout: its task is not waiting anywhere, so it was lost (a
    broker restarted without persistence). The stall period alone would wait ten minutes for either."""
    r = rounds.c
    dead = [r.pipeline_touched_at < now - stall, r.pipeline_beat_at < now - beat_timeout]
    if queue_idle:
        dead.append(and_(r.pipeline_beat_at.is_(None), r.pipeline_touched_at < now - beat_timeout))
    return and_(r.status == "closing", or_(*dead))


def due_rounds(
    conn: Connection | Session,
    now: datetime,
    stall: timedelta,
    beat_timeout: timedelta | None = None,
    queue_idle: bool = False,
    limit: int = TICK_BATCH,
) -> dict[str, list[int]]:
    """What a scheduler pass should do: rounds to open, to close, and stalled pipelines to re-drive
    (``stalled_pipeline``).

    Ids only (sorted), at most ``limit`` of each, the longest overdue first. Each is a range scan of an
    index that starts with ``status``; the order by the time column keeps PostgreSQL on that index (by id,
    or unordered, it expects "open and past closing" to be common, as reported rounds are past closing,
    and reads the whole table to find the few).
    """
    r = rounds.c

    def ids(order: Any, *where: Any) -> list[int]:
        return sorted(conn.scalars(select(r.id).where(*where).order_by(order).limit(limit)))

    return {
        "open": ids(r.opens_at, r.status == "scheduled", r.opens_at <= now),
        "close": ids(r.closes_at, r.status == "open", r.closes_at.is_not(None), r.closes_at <= now),
        "stalled": ids(r.pipeline_touched_at, stalled_pipeline(now, stall, beat_timeout or stall, queue_idle)),
        # a round waiting for its report email moves on as soon as the mail is out, not after a stall
        "sending": ids(r.id, r.status == "closing", r.pipeline_step == "sending"),
    }


def claim_redrive(
    conn: Connection | Session, round_id: int, now: datetime, stall: timedelta, beat_timeout: timedelta, idle: bool
) -> bool:
    """Claim the re-drive of a stalled round (no commit): the guard re-checks the stall, so that overlapping
    ticks enqueue it once. The dead beat is cleared; the new task beats again once it runs."""
    claim = (
        update(rounds)
        .where(rounds.c.id == round_id, stalled_pipeline(now, stall, beat_timeout, idle))
        .values(pipeline_touched_at=now, pipeline_beat_at=None)
    )
    return affected(conn.execute(claim)) == 1


def reminder_candidates(
    conn: Connection | Session, now: datetime, *, max_reminders: int, interval: timedelta, limit: int = TICK_BATCH
) -> list[Any]:
    """Open rounds whose next reminder is due by count and time since the last one (rows, not objects).

    The part of ``pipeline.schedule.reminder_due`` that SQL can decide; the caller applies the whole rule
    (working hours, holidays) to these few. Most open rounds are not due in a given minute, so a pass
    reads only those that are, not every open round.
    """
    r = rounds.c
    since = func.coalesce(r.last_reminder_at, r.opened_at)
    return list(
        conn.execute(
            select(r.id, r.opened_at, r.last_reminder_at, r.reminders_sent, r.closes_at)
            .where(
                r.status == "open",
                r.channel == EMAIL,  # a round of answer cards has no one to remind
                r.reminders_sent < max_reminders,
                r.opened_at.is_not(None),
                since <= now - interval,
                or_(r.closes_at.is_(None), r.closes_at > now + timedelta(hours=1)),
            )
            .limit(limit)
        )
    )


def pending_trails(conn: Connection | Session, limit: int) -> list[int]:
    """Rounds whose own tables are still to be dropped, for the tick to retry: sealed ones, and failed ones
    whose seal never ran (the pipeline gave up on them; ``pipeline.tasks.remove_trail`` seals them first).

    At most ``limit`` (the tick takes a batch; the rest wait for the next one). Rounds whose drop was never
    refused come first, then those a lock held back before (``trail_reason``), each by id: rounds whose drop
    keeps failing cannot hold back the others for ever."""
    r = rounds.c
    waiting = (r.answer_storage == DROPPING) | ((r.answer_storage == OWN) & (r.status == "failed"))
    order = (r.trail_reason.is_not(None), r.id)
    return list(conn.scalars(select(r.id).where(waiting).order_by(*order).limit(limit)))


def lease_of(config: dict[str, Any]) -> timedelta:
    """How long an outbox claim holds: the stall period (``TRYGHED_STALL_SECONDS``), at least a second.

    A message whose sender died is claimable again after this, so a round re-driven after a crash gets
    its report out within about one stall period; a live sender renews its claim long before (see
    ``survey.mail.outbox.deliver``), and its SMTP timeout is kept below the lease (``pipeline.tasks.send_pending``).
    """
    return timedelta(seconds=max(1, int(config["STALL_SECONDS"])))


def due_mail(now: datetime, lease: timedelta, round_id: int | None) -> Select[Any]:
    """The ids of pending messages that may be sent now (not waiting for a retry, not held by a live claim)."""
    m = messages.c
    q = select(m.id).where(
        m.status == "pending",
        or_(m.next_attempt_at.is_(None), m.next_attempt_at <= now),
        or_(m.claimed_at.is_(None), m.claimed_at < now - lease),
    )
    return q if round_id is None else q.where(m.round_id == round_id)


def rounds_with_due_mail(conn: Connection | Session, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """The rounds (at most ``limit``, lowest id first) that have a message that may be sent now.

    One statement that returns round ids, never the message ids: a wave of 100,000 invitations is
    100,000 ids, more than a driver may bind in one statement (psycopg: 65,535), and a reason to hold
    them all in memory for nothing. The partial index of pending rows (``ix_messages_pending``) serves it.
    ``None`` (mail that belongs to no round, such as a nudge about a facilitation request) comes first, so a
    wave of round mail never holds it back past the limit.
    """
    due = due_mail(now, lease, None).with_only_columns(messages.c.round_id).distinct()
    due = due.order_by(messages.c.round_id.asc().nulls_first())
    return list(conn.scalars(due.limit(limit)))


def move_report(conn: Connection | Session, report_id: str, before: tuple[str, ...], **values: object) -> bool:
    """Move a unit overview request on from one of the ``before`` states (committed); True when claimed."""
    u = unit_reports.c
    claimed = affected(
        conn.execute(update(unit_reports).where(u.id == report_id, u.status.in_(before)).values(**values))
    )
    conn.commit()
    return claimed == 1


def stalled_reports(conn: Connection | Session, now: datetime, older_than: timedelta, limit: int) -> list[str]:
    """Requests not finished ``older_than`` after they were (re)queued, queued again (committed).

    A worker killed mid-render leaves its request in "figures" or "layout"; a broker that lost the task
    leaves it "queued". Either is put back as queued with a fresh time, so the scheduler enqueues it again
    at most once per ``older_than``; the claim in ``make_report`` makes a duplicate harmless.
    """
    u = unit_reports.c
    stuck = list(conn.scalars(select(u.id).where(u.status.in_(WORKING), u.created_at < now - older_than).limit(limit)))
    return [r for r in stuck if move_report(conn, r, WORKING, status="queued", started_at=None, created_at=now)]
