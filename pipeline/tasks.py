"""Celery tasks: thin wrappers that take ids, reload what they need and call the steps.

The same tasks run in-process (no broker: ``task_always_eager``) or on workers. Beat runs ``tick`` every
minute; the tick only finds due work and enqueues a task per round. Every task is safe to run twice:
the work it does is claimed with conditional UPDATEs (``survey.domain.rounds``, ``pipeline.steps``,
``survey.mail.outbox``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from sqlalchemy import update

from pipeline import heartbeat, steps
from pipeline.tick import UNIT_REPORT_LIMIT_S, TickPlan, reminder_due_now, run_tick
from survey.data.models import Round
from survey.domain import answer_store, round_storage, rounds
from survey.errors import UserError
from survey.mail import outbox
from survey.mail.composer import Composer
from survey.mail.pacing import pacer_for
from survey.mail.transport import make_transport
from survey.runtime import get_runtime

log = logging.getLogger(__name__)


@shared_task(name="pipeline.tasks.send_pending", ignore_result=True)
def send_pending(round_id: int | None = None) -> dict[str, int]:
    """Send the due outbox messages (of one round, or all) in batches over one reused connection."""
    rt = get_runtime()
    lease = outbox.lease_of(rt.config)
    # a message must not sit in an SMTP transaction longer than its claim: past the lease another sender
    # may take it over, and both would deliver
    timeout = min(float(rt.config["SMTP_TIMEOUT"]), lease.total_seconds() / 2)
    transport = make_transport({**rt.config, "SMTP_TIMEOUT": timeout})
    pacer = pacer_for(rt.config)
    size = int(rt.config["MAIL_BATCH_SIZE"])
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    try:
        with rt.db.session() as session:
            composer = Composer(rt, session)
            ahead: list[list[outbox.Claimed]] = []

            def claim_next() -> None:
                # while the last messages of a batch are on the wire, so the wire does not wait for it
                ahead.append(outbox.claim_batch(session, rt.now(), lease, size, round_id))
                composer.load(ahead[-1])

            batch = outbox.claim_batch(session, rt.now(), lease, size, round_id)
            while batch:
                ahead.clear()
                done = outbox.deliver(
                    session,
                    batch,
                    transport,
                    composer,
                    rt.now,
                    lease=lease,
                    reserve=pacer.reserve,
                    backoff=rt.config["MAIL_BACKOFF"],
                    meanwhile=claim_next,
                )
                counts = {k: counts[k] + done[k] for k in counts}
                if done["retry"] == len(batch):
                    # not one message of the batch went out or failed for good: the server is not taking
                    # mail now (down, or deferring everything); the retry below or the tick carries on,
                    # rather than one connection timeout per further batch
                    break
                batch = ahead[0] if ahead else outbox.claim_batch(session, rt.now(), lease, size, round_id)
            retry_at = outbox.next_retry_at(session, round_id) if counts["retry"] else None
    finally:
        transport.close()
    if retry_at is not None and not rt.eager:
        # A retry on time, not only at the next tick; the tick stays the safety net if this task is lost.
        # Eager (no broker) a countdown would run at once, in a loop: there, cron's tick retries.
        countdown = max(1.0, (retry_at - rt.now()).total_seconds())
        send_pending.apply_async((round_id,), countdown=countdown)
    return counts


@shared_task(name="pipeline.tasks.open_round", ignore_result=True)
def open_round(round_id: int) -> str:
    """Open a due round and send its invitations; a duplicate finds the round open and stops."""
    rt = get_runtime()
    with rt.db.session() as session:
        try:
            rounds.open_round(rt, session, round_id)
        except UserError as exc:
            session.rollback()
            rnd = session.get(Round, round_id)
            if rnd is None or rnd.status != "scheduled":
                return "skipped"  # a duplicate task, or opened by hand meanwhile: nothing to report
            log.warning("round %s not opened: %s", round_id, exc.message)
            if rnd.closes_at is not None and rnd.closes_at <= rt.now():
                # it can never open now; without this the tick would retry it every minute forever
                _give_up(session, round_id, exc.message)
            else:
                _note(session, round_id, exc.message)  # e.g. no participants yet: shown in `round show`
            return "skipped"
    send_pending.delay(round_id)
    return "opened"


@shared_task(name="pipeline.tasks.remind_round", ignore_result=True)
def remind_round(round_id: int, seq: int | None = None) -> int:
    """Send scheduled reminder number ``seq``; a duplicate (same seq) or a late task sends nothing."""
    rt = get_runtime()
    with rt.db.session() as session:
        rnd = session.get(Round, round_id)
        # Re-checked here, not only in the tick: a task may run late (queue backlog, broker outage),
        # and must not then remind outside working hours or right after another reminder.
        if rnd is None or rnd.status != "open" or not reminder_due_now(rt, rnd, rt.now()):
            return 0
        try:
            count = rounds.remind_round(rt, session, round_id, expected_seq=seq)
        except UserError as exc:
            log.info("round %s: no reminder: %s", round_id, exc.message)
            return 0
    if count:
        send_pending.delay(round_id)
    return count


@shared_task(name="pipeline.tasks.close_round", ignore_result=True)
def close_round(round_id: int) -> str:
    rt = get_runtime()
    with rt.db.session() as session:
        try:
            rounds.close_round(rt, session, round_id)
        except UserError as exc:
            log.info("round %s not closed: %s", round_id, exc.message)
            return "skipped"
    start_pipeline(round_id)
    return "closing"


def start_pipeline(round_id: int) -> None:
    """Enqueue the pipeline of a round just closed; if the broker refuses, flag the round as overdue.

    Then the first tick that can reach the broker re-drives it, instead of the round waiting out the
    stall period (the issue measured 10 minutes for "Redis down at close"). The error still propagates.
    """
    try:
        run_pipeline.delay(round_id)
    except Exception:
        rt = get_runtime()
        heartbeat.mark(rt, round_id, rt.now() - heartbeat.beat_timeout(rt.config) - timedelta(seconds=1))
        raise


# Waits before pipeline retry n (seconds): short first, so that a database restart costs seconds, and
# enough of them to ride out a few minutes of outage; past the last, the tick's re-drive takes over.
PIPELINE_RETRY_COUNTDOWNS = (5, 10, 20, 30, 60, 60, 60, 120, 120, 120)


@shared_task(name="pipeline.tasks.run_pipeline", bind=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def run_pipeline(self: Any, round_id: int) -> str:
    """Aggregate, render and deliver one closed round, from whatever step it is at.

    The error path needs no database: when PostgreSQL restarts mid-render, the handler must still reach
    ``self.retry`` (it used to reload the round first, failed again, and left the round to the stall
    period). Whether to give up is decided by the steps (``PipelineFailed``), which count attempts while
    the database works.
    """
    rt = get_runtime()
    with heartbeat.Beating(rt, round_id) as beating:
        try:
            with rt.db.session() as session:
                # send in this process, not as a new task: the report must be out before the round is `reported`
                return steps.run_pipeline(rt, session, round_id, send_pending.run)
        except steps.PipelineFailed as exc:
            log.error("round %s pipeline gave up: %s", round_id, exc)
            return "failed"
        except Exception as exc:
            if rt.eager:
                # recorded on the round (status_reason / failed); in-process, the next tick re-drives
                log.exception("round %s pipeline failed", round_id)
                return "error"
            retries = self.request.retries or 0
            if retries >= len(PIPELINE_RETRY_COUNTDOWNS):
                log.error("round %s pipeline: retries used up (%s); the tick re-drives it", round_id, exc)
                raise
            countdown = PIPELINE_RETRY_COUNTDOWNS[retries]
            beating.resume_in = countdown
            log.warning("round %s pipeline: %s; retry in %s s", round_id, type(exc).__name__, countdown)
            raise self.retry(exc=exc, countdown=countdown, max_retries=len(PIPELINE_RETRY_COUNTDOWNS)) from exc


@shared_task(name="pipeline.tasks.remove_trail", ignore_result=True)
def remove_trail(round_id: int) -> bool:
    """Drop a sealed round's own storage (retried by every tick until no reader holds it); a round the
    pipeline gave up on is sealed first, so that its answers do not stay linkable."""
    rt = get_runtime()
    with rt.db.session() as session:
        answer_store.seal_round(session, round_id)  # nothing to do for a sealed round
        session.commit()
    return round_storage.remove_trail(rt.db.engine, round_id)


@shared_task(
    name="pipeline.tasks.render_unit_report",
    ignore_result=True,
    soft_time_limit=UNIT_REPORT_LIMIT_S - 60,
    time_limit=UNIT_REPORT_LIMIT_S,
)
def render_unit_report(report_id: str) -> str:
    """Make a unit overview PDF asked for in the web app (``survey.domain.unit_reports``)."""
    from survey.domain.unit_reports import make_report

    rt = get_runtime()
    with rt.db.session() as session:
        try:
            return make_report(rt, session, report_id)
        except Exception:
            # recorded on the request (status "failed", with the reason), which its page shows
            log.exception("unit overview %s failed", report_id)
            return "failed"


def _note(session: Any, round_id: int, reason: str) -> None:
    session.execute(update(Round).where(Round.id == round_id, Round.status == "scheduled").values(status_reason=reason))
    session.commit()


def _give_up(session: Any, round_id: int, reason: str) -> None:
    session.execute(
        update(Round)
        .where(Round.id == round_id, Round.status == "scheduled")
        .values(status="failed", status_reason=f"not opened before its closing time: {reason}")
    )
    session.commit()


def _queue_empty() -> bool:
    """True when no task waits in the broker's default queue (False when that cannot be told)."""
    app = tick.app
    try:
        with app.connection_for_read() as conn:
            # one quick try: with the broker down the tick fails at its first enqueue anyway
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
            declared = conn.default_channel.queue_declare(queue=app.conf.task_default_queue, passive=True)
            return int(declared.message_count) == 0
    except Exception as exc:  # unknown: the stall period and the heartbeats still apply
        if "NOT_FOUND" in str(exc):
            return True  # Redis keeps no empty list: a queue that does not exist holds nothing
        log.info("tick: queue length unknown (%s)", type(exc).__name__)
        return False


def dispatch(found: TickPlan) -> None:
    """Hand what a tick found due (``pipeline.tick.plan``) to one task each."""
    for rid in found.opened:
        open_round.delay(rid)
    for rid, seq in found.reminded:
        remind_round.delay(rid, seq)
    for rid in found.closed:
        close_round.delay(rid)
    for rid in found.redriven:
        run_pipeline.delay(rid)
    for rid in found.mail_rounds:
        send_pending.delay(rid)
    for rid in found.trails:
        remove_trail.delay(rid)
    for report_id in found.unit_reports:
        render_unit_report.delay(report_id)
    if found.mail_without_round:
        send_pending.delay(None)


@shared_task(name="pipeline.tasks.tick", ignore_result=True)
def tick() -> dict[str, Any]:
    """One scheduler pass: enqueue opening, reminders, closing, stalled pipelines and mail retries."""
    rt = get_runtime()
    return run_tick(rt, idle=not rt.eager and _queue_empty(), dispatch=dispatch)


def send_again(retried: dict[str, Any]) -> None:
    """Hand what ``survey.domain.mail_retry.retry_failed`` put back in the outbox to the senders: a round
    whose report is resent runs its pipeline (which sends, then marks it reported), the others send."""
    resumed = set(retried["reports_resumed"])
    for rid in retried["rounds"]:
        if rid in resumed:
            start_pipeline(rid)
        else:
            send_pending.delay(rid)
