"""The round pipeline as a state machine: aggregate -> render -> deliver -> sending -> done.

Every step claims its transition with a conditional UPDATE on ``rounds.pipeline_step`` in the same
transaction as its effect, so a duplicated, retried or redelivered task never does a step twice, and a
worker killed mid-step leaves the round at the step it was on, for the next tick to re-drive.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipeline.recommend import focus_pillars, recommended_hacks
from pipeline.report_builder import build_report_data, followed_focus
from pipeline.report_history import hacks_in_plan
from pipeline.scoring import aggregate
from survey.data.db import affected
from survey.data.models import Message, Report, Round, RoundResultRow
from survey.domain import answer_store, round_storage
from survey.domain.followup import followup_on_report
from survey.mail import outbox
from survey.runtime import Runtime

log = logging.getLogger(__name__)
MAX_PIPELINE_ATTEMPTS = 3


def _advance(session: Session, rt: Runtime, round_id: int, frm: str, to: str, **values: object) -> bool:
    """Claim the step transition ``frm -> to``; False when another run already made it."""
    return (
        affected(
            session.execute(
                update(Round)
                .where(Round.id == round_id, Round.status == "closing", Round.pipeline_step == frm)
                .values(pipeline_step=to, pipeline_touched_at=rt.now(), **values)
            )
        )
        == 1
    )


def aggregate_step(rt: Runtime, session: Session, round_id: int) -> bool:
    """Seal the round's answers (committed on its own, and its trail removed, before anything else can
    fail), then compute and store the thresholded aggregate, the focus pillar and its hacks in the
    transaction that claims the step. A re-driven run finds the round sealed and reads the same answers."""
    answer_store.seal_round(session, round_id)
    session.commit()
    # Never in the way of the report: if a reader holds a lock on the round's own storage, this gives up
    # after a short lock timeout and the tick retries (round show and the team page say so).
    round_storage.remove_trail(session.get_bind().engine, round_id)
    rnd = session.get(Round, round_id)
    assert rnd is not None
    instrument = rt.content.instrument(rnd.instrument)
    answers = answer_store.filled_answers(session, round_id)
    result = aggregate(
        answers,
        instrument.items,
        [p.key for p in instrument.pillars],
        instrument.bands,
        rnd.min_responses,
        instrument.scale_min,
        instrument.scale_max,
    )
    focus = focus_pillars(result, [p.key for p in instrument.pillars])
    earlier = session.scalars(select(Round.id).where(Round.team_id == rnd.team_id, Round.number < rnd.number)).all()
    # the same hacks the report recommends (pipeline.report_builder): the team's own last choice first
    followed = followed_focus(session, rnd, [p.key for p in instrument.pillars])
    pillars = list(dict.fromkeys(([followed] if followed else []) + focus))
    hacks = (
        [] if result.suppressed else recommended_hacks(pillars, rt.content.hacks, hacks_in_plan(session, list(earlier)))
    )
    if not _advance(session, rt, round_id, "aggregate", "render"):
        session.rollback()
        return False
    session.add(
        RoundResultRow(
            round_id=round_id,
            responses=result.responses,
            suppressed=result.suppressed,
            result=dataclasses.asdict(result),
            focus_pillars=focus,
            hack_keys=[h.key for h in hacks],
            computed_at=rt.now(),
        )
    )
    session.commit()
    return True


def render_step(rt: Runtime, session: Session, round_id: int) -> bool:
    """Render the PDF (outside any lock: it takes a while), then store it if this run still owns the step."""
    from pipeline.render import render_pdf

    data = build_report_data(session, round_id, rt.content, rt.tz)
    session.rollback()  # end the read transaction before the slow part
    pdf = render_pdf(data, timeout_s=float(rt.config["RENDER_TIMEOUT"]))
    if not _advance(session, rt, round_id, "render", "deliver"):
        session.rollback()
        return False
    session.add(
        Report(
            round_id=round_id,
            lang=data.lang,
            pdf=pdf,
            sha256=hashlib.sha256(pdf).hexdigest(),
            created_at=rt.now(),
        )
    )
    session.commit()
    return True


def deliver_step(rt: Runtime, session: Session, round_id: int) -> bool:
    """Queue the leader's report email (and the TRIO notice) in the transaction that claims the step."""
    rnd = session.get(Round, round_id)
    assert rnd is not None
    team = rnd.team
    if not _advance(session, rt, round_id, "deliver", "sending"):
        session.rollback()
        return False
    if team.leader_email:
        outbox.queue(session, round_id=round_id, kind="report", recipient=team.leader_email, lang=team.lang)
    for address in team.trio_emails or []:
        outbox.queue(session, round_id=round_id, kind="trio", recipient=address, lang=team.lang)
    session.commit()
    return True


def sending_step(rt: Runtime, session: Session, round_id: int, send_pending: Callable[[int], dict[str, int]]) -> bool:
    """Send the round's queued report emails; the round is ``reported`` once the leader's is out."""
    session.rollback()  # hold no transaction (on SQLite: no write lock) while the sender works
    send_pending(round_id)
    session.expire_all()
    report_msgs = session.scalars(select(Message).where(Message.round_id == round_id, Message.kind == "report")).all()
    if any(m.status == "pending" for m in report_msgs):
        _touch(session, rt, round_id)
        return False  # waiting for a retry; the tick comes back
    failed = [m for m in report_msgs if m.status == "failed"]
    if failed:
        claimed = _advance(
            session,
            rt,
            round_id,
            "sending",
            "done",
            status="failed",
            status_reason=f"report email could not be delivered: {failed[0].last_error}",
        )
    else:
        claimed = _advance(session, rt, round_id, "sending", "done", status="reported", reported_at=rt.now())
        if claimed:
            # in the transaction that claimed "reported": a re-driven run cannot schedule it twice
            followup_on_report(rt, session, round_id)
    session.commit()
    return claimed


def _touch(session: Session, rt: Runtime, round_id: int) -> None:
    session.execute(update(Round).where(Round.id == round_id).values(pipeline_touched_at=rt.now()))
    session.commit()


class PipelineFailed(Exception):
    """The round was marked ``failed`` (after :data:`MAX_PIPELINE_ATTEMPTS`): retrying is pointless."""


def is_transient(error: BaseException) -> bool:
    """A failure of the world around the pipeline (database restarting or unreachable), not of the round.

    It is not counted against :data:`MAX_PIPELINE_ATTEMPTS`: a PostgreSQL restart must delay a report,
    never fail it.
    """
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def record_failure(rt: Runtime, session: Session, round_id: int, error: BaseException) -> str:
    """Count a failed pipeline attempt; after the cap the round is ``failed`` with the reason."""
    session.rollback()
    rnd = session.get(Round, round_id)
    assert rnd is not None
    rnd.pipeline_attempts += 1
    reason = f"{rnd.pipeline_step}: {type(error).__name__}: {error}"[:2000]
    rnd.status_reason = reason
    if rnd.pipeline_attempts >= MAX_PIPELINE_ATTEMPTS:
        rnd.status = "failed"
    session.commit()
    log.error("round %s pipeline attempt %s failed: %s", round_id, rnd.pipeline_attempts, reason)
    return rnd.status


def run_pipeline(rt: Runtime, session: Session, round_id: int, send_pending: Callable[[int], dict[str, int]]) -> str:
    """Drive the round as far as it goes now; returns the step it is left at.

    A failing step raises: :class:`PipelineFailed` once the round has been given up, else the error itself
    (for the caller to retry). Only failures of the round itself are counted; a database outage is not,
    and counting it could not work anyway.
    """
    steps: dict[str, Callable[[], bool]] = {
        "aggregate": lambda: aggregate_step(rt, session, round_id),
        "render": lambda: render_step(rt, session, round_id),
        "deliver": lambda: deliver_step(rt, session, round_id),
        "sending": lambda: sending_step(rt, session, round_id, send_pending),
    }
    while True:
        session.expire_all()
        rnd = session.get(Round, round_id)
        if rnd is None or rnd.status != "closing" or rnd.pipeline_step not in steps:
            return rnd.pipeline_step or "" if rnd else "missing"
        step = rnd.pipeline_step
        try:
            advanced = steps[step]()
        except Exception as exc:
            if is_transient(exc):
                raise
            try:
                status = record_failure(rt, session, round_id, exc)
            except Exception as recording:
                # the failure is what matters; the retry counts it next time if the database lets it
                log.warning("round %s: failure not recorded: %s", round_id, type(recording).__name__)
                raise exc from None
            if status == "failed":
                raise PipelineFailed(rnd.status_reason or step) from exc
            raise
        if not advanced:
            return step
