"""Step 1, "Fælles viden": the leader's kick-off email with the shared knowledge before the first round."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.data.models import Message
from survey.domain.rounds import get_round
from survey.errors import Text, UserError
from survey.mail import outbox


def queue_kickoff(session: Session, round_id: int) -> str:
    """Queue the kick-off email to the team's leader for this round, once (committed); the recipient."""
    rnd = get_round(session, round_id)
    team = rnd.team
    if not team.leader_email:
        raise UserError(Text("team %(team_id)s has no leader email", team_id=team.id))
    exists = session.scalar(
        select(Message.id).where(
            Message.round_id == round_id, Message.kind == "kickoff", Message.recipient == team.leader_email
        )
    )
    if exists is not None:
        raise UserError(
            Text(
                "the kick-off email for round %(round_id)s has already been sent to %(email)s",
                round_id=round_id,
                email=team.leader_email,
            )
        )
    outbox.queue(session, round_id=round_id, kind="kickoff", recipient=team.leader_email, lang=team.lang)
    session.commit()
    return team.leader_email
