"""The tick's finding: what is due now, read and claimed in the database, and the retention purge.

Free of Celery and Flask: ``pipeline.tasks.tick`` (beat, every minute on the workers) and ``tryghed tick``
(cron, on the embedded default) both plan here and only then hand the work to tasks. Almost every minute
there is nothing to hand over, so the command never builds the app or imports Celery for it; and the plan,
the nudges and the purge run in SQLAlchemy Core on a connection (``survey.domain.due``), so a tick with
nothing due never imports the ORM either (docs/benchmarks.md, "Starting a command").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pipeline import heartbeat
from pipeline.schedule import parse_days, parse_hours, reminder_due
from survey.domain import due
from survey.runtime import Runtime

# A municipality's overview PDF lays out for minutes (WeasyPrint); past this a worker kills the task, and
# the tick queues the request again after a stall period more (survey.domain.unit_reports.stalled_reports).
UNIT_REPORT_LIMIT_S = 960


@dataclass
class TickPlan:
    """What one tick found due; each list becomes one task per item."""

    opened: list[int] = field(default_factory=list)
    reminded: list[tuple[int, int]] = field(default_factory=list)  # (round, reminder number)
    closed: list[int] = field(default_factory=list)
    redriven: list[int] = field(default_factory=list)
    mail_rounds: list[int] = field(default_factory=list)
    trails: list[int] = field(default_factory=list)
    unit_reports: list[str] = field(default_factory=list)
    nudged: dict[str, int] = field(default_factory=dict)
    mail_without_round: bool = False  # nudges about a facilitation request: one sender for all due mail

    def has_tasks(self) -> bool:
        """True when there is anything to hand to a task."""
        lists = (self.opened, self.reminded, self.closed, self.redriven, self.mail_rounds, self.trails)
        return any(lists) or bool(self.unit_reports) or self.mail_without_round

    def result(self, purged: list[int]) -> dict[str, Any]:
        """The tick's JSON (PRODUCT.md, ``tryghed tick --json``)."""
        return {
            "opened": self.opened,
            "reminded": [rid for rid, _seq in self.reminded],
            "closed": self.closed,
            "redriven": self.redriven,
            "mail_rounds": self.mail_rounds,
            "purged": purged,
            "trails": self.trails,
            "unit_reports": self.unit_reports,
            "nudged": self.nudged,
        }


def reminder_due_now(rt: Runtime, rnd: Any, now: datetime) -> bool:
    """The configured reminder rules (``pipeline.schedule``) applied to one round now.

    ``rnd``: a ``Round``, or a row with its ``opened_at``, ``last_reminder_at``, ``reminders_sent`` and
    ``closes_at`` (``survey.domain.due.reminder_candidates``).
    """
    return reminder_due(
        now,
        rt.tz,
        opened_at=rnd.opened_at,
        last_reminder_at=rnd.last_reminder_at,
        reminders_sent=rnd.reminders_sent,
        max_reminders=int(rt.config["REMINDER_MAX"]),
        interval=timedelta(days=int(rt.config["REMINDER_INTERVAL_DAYS"])),
        hours=parse_hours(str(rt.config["REMINDER_HOURS"])),
        closes_at=rnd.closes_at,
        days=parse_days(str(rt.config["REMINDER_DAYS"])),
        skip_holidays=bool(rt.config["REMINDER_SKIP_HOLIDAYS"]),
    )


def queue_nudges(rt: Runtime, now: datetime) -> dict[str, int]:
    """The tick's nudge step (``survey.domain.nudges``); nothing when ``TRYGHED_NUDGES`` is off."""
    if not rt.config.get("NUDGES", True):
        return {}
    from survey.domain.nudges import queue_due

    with rt.db.engine.connect() as conn:
        return queue_due(conn, now, now.astimezone(rt.tz).date())


def plan(rt: Runtime, now: datetime, idle: bool) -> TickPlan:
    """Find (and claim, where two ticks could race) what is due; ``idle``: the broker's queue is empty."""
    stall = timedelta(seconds=int(rt.config["STALL_SECONDS"]))
    beat_timeout = heartbeat.beat_timeout(rt.config)
    found = TickPlan()
    with rt.db.engine.connect() as conn:
        found_due = due.due_rounds(conn, now, stall, beat_timeout, idle)
        found.opened, found.closed = found_due["open"], found_due["close"]
        # claim the re-drive, so that overlapping ticks enqueue a stalled round once
        found.redriven = [
            rid for rid in found_due["stalled"] if due.claim_redrive(conn, rid, now, stall, beat_timeout, idle)
        ]
        conn.commit()
        # (round, reminder number): two ticks that both see a reminder due enqueue the same number,
        # and only one task can claim it. Only the rounds SQL finds due by count and time are read.
        candidates = due.reminder_candidates(
            conn,
            now,
            max_reminders=int(rt.config["REMINDER_MAX"]),
            interval=timedelta(days=int(rt.config["REMINDER_INTERVAL_DAYS"])),
        )
        found.reminded = [(r.id, r.reminders_sent + 1) for r in candidates if reminder_due_now(rt, r, now)]
        found.redriven += [rid for rid in found_due["sending"] if rid not in found.redriven]
        # sealed rounds whose own tables wait to be dropped, a batch per pass
        found.trails = due.pending_trails(conn, due.TICK_BATCH)
    found.nudged = queue_nudges(rt, now)  # a separate, bounded step: its rows go out with the mail below
    with rt.db.engine.connect() as conn:
        due_mail = due.rounds_with_due_mail(conn, now, due.lease_of(rt.config), due.TICK_BATCH)
        found.mail_rounds = [rid for rid in due_mail if rid is not None]
        found.mail_without_round = None in due_mail
        # a unit overview whose worker died mid-render (or whose task the broker lost) is made again
        limit = stall + timedelta(seconds=UNIT_REPORT_LIMIT_S)
        found.unit_reports = due.stalled_reports(conn, now, limit, due.TICK_BATCH)
    return found


def run_tick(rt: Runtime, *, idle: bool, dispatch: Callable[[TickPlan], None]) -> dict[str, Any]:
    """One scheduler pass: plan, hand what is due to ``dispatch`` (only when there is some), then purge."""
    found = plan(rt, rt.now(), idle)
    if found.has_tasks():
        dispatch(found)
    from survey.domain.purge import purge  # retention: personal data of long-finished rounds goes

    with rt.db.engine.connect() as conn:
        purged = purge(rt, conn, limit=due.TICK_BATCH)["purged_rounds"]
    return found.result(purged)
