"""Deleting what was made by mistake: a round that never opened, a team none of whose rounds ever opened.

Why only those. A round that has opened has invitations and answers: while it is open they live in the
round's own tables (``survey.domain.round_storage``), which a cascading delete of the round would not
remove, and on SQLite a later round could be given the same id and find those tables; after close its
answers are in ``responses``, the team's measurement and maybe part of a unit's pooled figure. None of
that may be lost or become readable by a side door, so such a round and its team are kept, and the refusal
says why. A round that never opened has no invitation, no answer and no storage of its own: deleting it
removes a plan and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from survey.data.models import Action, FacilitationRequest, Message, Participant, Round
from survey.domain.rounds import get_round
from survey.domain.teams import get_team
from survey.errors import Text, UserError

NOT_OPENED = ("draft", "scheduled")


@dataclass(frozen=True)
class TeamContents:
    """What deleting a team takes with it, for the confirmation page and the command's answer."""

    participants: int
    rounds: int
    opened_rounds: list[int]  # numbers of rounds that have opened: while any exists, the team is kept


def round_refusal(session: Session, round_id: int) -> Text | None:
    """Why the round cannot be deleted, or None when it can."""
    rnd = get_round(session, round_id)
    if rnd.status not in NOT_OPENED:
        return Text(
            "round %(round_id)s cannot be deleted: it is %(status)s. Only a round that has not opened yet can "
            "be deleted; a round that has opened holds answers, which are kept",
            round_id=round_id,
            status=rnd.status,
        )
    later = session.scalar(
        select(func.count()).select_from(Round).where(Round.team_id == rnd.team_id, Round.number > rnd.number)
    )
    if later:
        return Text(
            "round %(round_id)s cannot be deleted: the team has a later round; delete that one first", round_id=round_id
        )
    return None


def delete_round(session: Session, round_id: int) -> dict[str, object]:
    """Delete a round that has not opened (draft or scheduled) and is its team's latest. Committed."""
    _refuse(round_refusal(session, round_id), code="round_kept", round_id=round_id)
    rnd = get_round(session, round_id)
    result: dict[str, object] = {"deleted": round_id, "team_id": rnd.team_id, "number": rnd.number}
    _delete_round_rows(session, [round_id])
    session.delete(rnd)
    session.commit()
    return result


def team_contents(session: Session, team_id: int) -> TeamContents:
    """How many participants and rounds the team has, and which of its rounds have opened."""
    get_team(session, team_id)
    people = session.scalar(select(func.count()).select_from(Participant).where(Participant.team_id == team_id))
    rounds = session.execute(select(Round.number, Round.status).where(Round.team_id == team_id)).all()
    opened = sorted(r.number for r in rounds if r.status not in NOT_OPENED)
    return TeamContents(people or 0, len(rounds), opened)


def team_refusal(session: Session, team_id: int) -> Text | None:
    """Why the team cannot be deleted, or None when it can."""
    held = team_contents(session, team_id)
    if held.opened_rounds:
        numbers = ", ".join(str(n) for n in held.opened_rounds)
        return Text(
            "team %(team_id)s cannot be deleted: round(s) %(numbers)s have opened, so the team has answers, "
            "which are kept. Only a team none of whose rounds has opened can be deleted",
            team_id=team_id,
            numbers=numbers,
        )
    return None


def delete_team(session: Session, team_id: int) -> dict[str, object]:
    """Delete a team none of whose rounds has opened, with its participants and unopened rounds. Committed."""
    _refuse(team_refusal(session, team_id), code="team_kept", team_id=team_id)
    team = get_team(session, team_id)
    held = team_contents(session, team_id)
    _delete_round_rows(session, select(Round.id).where(Round.team_id == team_id))
    requests = select(FacilitationRequest.id).where(FacilitationRequest.team_id == team_id)
    session.execute(delete(Message).where(Message.request_id.in_(requests)))
    session.execute(delete(FacilitationRequest).where(FacilitationRequest.team_id == team_id))
    session.execute(delete(Round).where(Round.team_id == team_id))
    session.execute(delete(Participant).where(Participant.team_id == team_id))
    result = {"deleted": team_id, "name": team.name, "participants": held.participants, "rounds": held.rounds}
    session.delete(team)
    session.commit()
    return result


def _refuse(reason: str | None, **details: object) -> None:
    if reason:
        raise UserError(reason, **details)


def _delete_round_rows(session: Session, round_ids: Any) -> None:
    """What a round that never opened can have besides itself: a kick-off email, actions typed in early."""
    session.execute(delete(Message).where(Message.round_id.in_(round_ids)))
    session.execute(delete(Action).where(Action.round_id.in_(round_ids)))
