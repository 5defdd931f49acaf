"""Small teams: a team with fewer people than a round's threshold k can never show figures, however many
answer. It is told so before the round opens (``round create``/``round open`` warnings, the team page) with
the honest options (a lower threshold, never below 3; measuring with a sibling team; a dialogue-only round),
rather than afterwards as "few answered" (issue 19).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.data.models import Participant, Round
from survey.domain.rounds import OPENABLE


def participant_count(session: Session, rnd: Round) -> int:
    """Who the round asks: those invited once it has opened, else the team's active participants now."""
    if rnd.status not in OPENABLE:
        return rnd.invited_count
    return team_participants(session, rnd.team_id)


def threshold_warnings(session: Session, rnd: Round) -> list[dict[str, str]]:
    """``[{"code", "message"}]`` for what will keep the round from giving figures (PRODUCT.md).

    A team with fewer people than the round's threshold k cannot reach k however many answer; it is told
    so before it opens, with the honest options, rather than after as "few answered".
    """
    n, k = participant_count(session, rnd), rnd.min_responses
    if n >= k:
        return []
    if n >= 3:
        lower_da = f"sænk grænsen til {n} eller derunder (aldrig under 3), "
        lower_en = f"lower the threshold to {n} or less (never below 3), "
    else:
        lower_da, lower_en = "", ""
    message = (
        f"Teamet har {n} deltagere, men runden viser først tal ved {k} svar, så den kan ikke give tal. "
        f"Muligheder: {lower_da}mål sammen med et søsterteam i enheden, eller hold en runde med dialog alene "
        f"(dilemmaer og guide til teammødet). / The team has {n} participants but the round shows figures only "
        f"from {k} answers, so it cannot give figures. Options: {lower_en}measure together with a sibling team "
        "in the unit, or hold a dialogue-only round (dilemmas and the guide for the team meeting)."
    )
    return [{"code": "fewer_participants_than_threshold", "message": message}]


def small_team(session: Session, team_id: int, default_k: int) -> dict[str, int] | None:
    """``{"participants", "k"}`` when the team has fewer active participants than the threshold of its
    next round (the round not yet closed, else the installation's default); None when it can reach it."""
    pending = session.scalars(
        select(Round)
        .where(Round.team_id == team_id, Round.status.in_(OPENABLE + ("open",)))
        .order_by(Round.number.desc())
        .limit(1)
    ).first()
    if pending is not None:
        n, k = participant_count(session, pending), pending.min_responses
    else:
        n, k = team_participants(session, team_id), default_k
    return {"participants": n, "k": k} if n < k else None


def team_participants(session: Session, team_id: int) -> int:
    """The team's active participants: who the next round would invite."""
    return session.scalar(select(func.count()).where(Participant.team_id == team_id, Participant.active.is_(True))) or 0
