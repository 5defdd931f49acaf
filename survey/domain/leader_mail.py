"""A team's mail to its leader when the leader changes: what is still waiting for the old leader about the
team goes to the new one, or is cancelled.

Per kind, what the email is for decides:

- ``report`` (the report with its PDF and the web link) and ``kickoff`` (the shared knowledge to start
  from): the team's material, which the new leader needs and the old one must no longer get. The old row
  is cancelled and a new one queued for the new leader; its body is composed at send time, so the report
  link in it is signed after the change and opens the report, while the old leader's links do not
  (``survey.domain.report_links``). A report that had failed for good is sent to the new leader at once,
  and its round finishes its pipeline (``reported``) when that is out.
- ``session_planned`` (a calendar invitation to a planned facilitation session): the new leader is the
  one to attend; re-addressed the same way.
- ``debrief``, ``no_plan``, ``action_due``, ``action_overdue``: nudges to a person about a step they can no
  longer take (the old leader has lost the team), so they are cancelled; the new leader's start page lists
  the same to-dos, worked out from the team's state (``survey.domain.nudges.leader_todos``).

Invitations and reminders are never touched (the old leader may be a participant), nor is the TRIO notice
(its addresses are not the leader's), nor anything sent already. "Waiting" is pending (also between
retries) or failed for good, which ``tryghed mail retry`` would send again. A row a sender has already
claimed may still leave in the milliseconds it takes; its report link was signed before the change and is
refused all the same.

Pure domain code: no Flask, no Celery; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from survey.data.models import FacilitationRequest, Message, Round, Team
from survey.domain.nudges import lang_of
from survey.mail import outbox

READDRESSED = ("report", "kickoff", "session_planned")
CANCELLED = ("debrief", "no_plan", "action_due", "action_overdue")
WAITING = ("pending", "failed")


@dataclass(frozen=True)
class Handover:
    """One waiting email of the old leader's and what became of it."""

    kind: str
    round_id: int | None
    request_id: int | None
    outcome: str  # "readdressed" | "cancelled"
    to: str | None  # the new recipient when re-addressed
    round_number: int | None = None  # the round's number in its team (what people call it)

    @property
    def subject(self) -> str:
        """What the audit log says it concerned (no link, no token)."""
        about = f"round {self.round_id}" if self.round_id is not None else f"request {self.request_id}"
        return f"{about} {self.kind}" + (f" -> {self.to}" if self.to else "")


def _waiting(session: Session, team: Team, old: str) -> list[Message]:
    rounds = select(Round.id).where(Round.team_id == team.id)
    requests = select(FacilitationRequest.id).where(FacilitationRequest.team_id == team.id)
    return list(
        session.scalars(
            select(Message)
            .where(
                func.lower(Message.recipient) == old.lower(),
                Message.kind.in_(READDRESSED + CANCELLED),
                Message.status.in_(WAITING),
                or_(Message.round_id.in_(rounds), Message.request_id.in_(requests)),
            )
            .order_by(Message.id)
            .with_for_update()
        )
    )


def _readdress(session: Session, msg: Message, new: str, lang: str) -> None:
    """Queue ``msg`` again for ``new``."""
    if msg.request_id is not None:  # (request, kind, recipient) is unique: one invitation per person
        had = session.scalars(
            select(Message).where(
                Message.request_id == msg.request_id, Message.kind == msg.kind, Message.recipient == new
            )
        ).first()
        if had is not None:
            if had.status == "cancelled":  # handed back to an earlier leader: theirs goes out again
                had.status, had.attempts, had.next_attempt_at, had.claimed_at = "pending", 0, None, None
            return  # waiting or sent to them already
        outbox.queue(session, round_id=None, request_id=msg.request_id, kind=msg.kind, recipient=new, lang=lang)
        return
    # a round's report or kick-off: a fresh number keeps (round, kind, recipient, seq) unique even when the
    # team goes back to an earlier leader, who gets a fresh email (their old link is refused by then)
    seq = (
        session.scalar(select(func.max(Message.seq)).where(Message.round_id == msg.round_id, Message.kind == msg.kind))
        or 0
    ) + 1
    outbox.queue(session, round_id=msg.round_id, kind=msg.kind, recipient=new, lang=lang, seq=seq)


def hand_over(session: Session, team: Team, old: str, new: str, now: datetime) -> list[Handover]:
    """Cancel or re-address every email waiting for ``old`` about ``team`` (see the module); no commit."""
    done: list[Handover] = []
    resume: set[int] = set()
    lang = lang_of(session, new, team.lang)
    for msg in _waiting(session, team, old):
        was_failed = msg.status == "failed"
        msg.status, msg.claimed_at, msg.next_attempt_at = "cancelled", None, None
        msg.last_error = f"cancelled {now:%Y-%m-%d %H:%M} UTC: the team's leader changed"
        number = session.scalar(select(Round.number).where(Round.id == msg.round_id)) if msg.round_id else None
        if msg.kind in READDRESSED:
            _readdress(session, msg, new, lang)
            done.append(Handover(msg.kind, msg.round_id, msg.request_id, "readdressed", new, number))
            if msg.kind == "report" and was_failed and msg.round_id is not None:
                resume.add(msg.round_id)
        else:
            done.append(Handover(msg.kind, msg.round_id, msg.request_id, "cancelled", None, number))
    for rid in sorted(resume):
        # as ``tryghed mail retry`` does: the round failed only because this email did; it ends once sent
        session.execute(
            update(Round)
            .where(Round.id == rid, Round.status == "failed", Round.pipeline_step == "done")
            .values(status="closing", pipeline_step="sending", status_reason=None, pipeline_touched_at=now)
        )
    session.flush()
    return done
