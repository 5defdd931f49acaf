"""Send again what failed for good (``tryghed mail retry`` and the facilitator's team page).

A failed message goes back to ``pending`` with a fresh count of attempts and keeps its Message-ID, so a
reader (and a mail server's duplicate filter) can tell a resend from a new email. Invitations and
reminders are only resent while their round is open (after close the link accepts nothing), and nothing
of a purged round is touched. A round that ended ``failed`` because its report email could not be
delivered goes back to its ``sending`` step, so that it becomes ``reported`` (and schedules its
follow-up) once the report is out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from survey.data.db import affected
from survey.data.models import Message, Round
from survey.domain.rounds import get_round
from survey.runtime import Runtime

# Messages whose only use is to answer an open round.
ROUND_OPEN_ONLY = ("invitation", "reminder")


def _retryable(round_id: int | None) -> Any:
    """Failed messages that may be sent again (one condition for the count and the update alike)."""
    usable_round = exists().where(
        Round.id == Message.round_id,
        Round.purged_at.is_(None),
        or_(Message.kind.not_in(ROUND_OPEN_ONLY), Round.status == "open"),
    )
    condition = and_(Message.status == "failed", usable_round)
    return condition if round_id is None else and_(condition, Message.round_id == round_id)


def retry_failed(rt: Runtime, session: Session, round_id: int | None = None) -> dict[str, Any]:
    """Put every retryable failed message (of one round, or all) back in the outbox; commits.

    Returns ``{"requeued", "rounds", "reports_resumed"}``: the rounds whose mail is to be sent now, and
    those of them whose pipeline must run again to finish (report email). Two statements per call, not
    one per message: a failed wave can be thousands of rows.
    """
    if round_id is not None:
        get_round(session, round_id)  # NotFound for an unknown id
    condition = _retryable(round_id)
    # the condition needs the message's round, so a request nudge (no round, issue 19) is never among them
    rounds = sorted({r for r in session.scalars(select(Message.round_id).where(condition).distinct()) if r is not None})
    resumed = sorted(
        set(
            session.scalars(
                select(Round.id).where(
                    Round.id.in_(select(Message.round_id).where(condition, Message.kind == "report").scalar_subquery()),
                    Round.status == "failed",
                    Round.pipeline_step == "done",
                )
            )
        )
    )
    requeued = affected(
        session.execute(
            update(Message)
            .where(condition)
            .values(status="pending", attempts=0, next_attempt_at=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
    )
    for rid in resumed:
        session.execute(
            update(Round)
            .where(Round.id == rid, Round.status == "failed", Round.pipeline_step == "done")
            .values(status="closing", pipeline_step="sending", status_reason=None, pipeline_touched_at=rt.now())
        )
    session.commit()
    return {"requeued": requeued, "rounds": rounds, "reports_resumed": resumed}
