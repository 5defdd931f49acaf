"""The focus a team chooses at the debrief of a round.

The report *suggests* a focus pillar (``pipeline.recommend.focus_pillars``: the stage order) and says why;
the team decides at its meeting. Its choice is recorded on the round and drives the next round's report:
what was chosen, how it moved, which of its hacks are already in the action plan and which are new.

One domain function, called by the CLI (``tryghed round focus``) and by the web app alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.content.model import Content
from survey.data.models import Round, RoundResultRow
from survey.domain.rounds import get_round
from survey.errors import Text, UserError


def record_focus(session: Session, content: Content, round_id: int, pillar_key: str) -> Round:
    """Record ``pillar_key`` as the focus the team chose for ``round_id`` (committed); returns the round.

    Refused with a ``UserError`` when the round has no figures to choose from (not yet aggregated, or
    suppressed: a suppressed round names no pillar, and a recorded choice would hint at its weakest one)
    or when the pillar is not one of the round's instrument. Choosing again replaces the earlier choice:
    the team may change its mind at a later meeting.
    """
    rnd = get_round(session, round_id)
    stored = session.get(RoundResultRow, round_id)
    if stored is None:
        raise UserError(
            Text(
                "round %(round_id)s is %(status)s; a focus is chosen after its results are out",
                round_id=round_id,
                status=rnd.status,
            ),
            round_id=round_id,
        )
    if stored.suppressed:
        raise UserError(
            Text(
                "round %(round_id)s had too few answers to show figures, so it has no focus to choose",
                round_id=round_id,
            ),
            round_id=round_id,
        )
    key = pillar_key.strip().lower()
    pillars = [p.key for p in content.instrument(rnd.instrument).pillars]
    if key not in pillars:
        raise UserError(
            Text("unknown pillar %(key)s; choose one of %(choices)s", key=repr(pillar_key), choices=", ".join(pillars)),
            round_id=round_id,
            pillars=pillars,
        )
    rnd.chosen_focus = key
    rnd.chosen_focus_at = datetime.now(UTC)
    session.commit()
    return rnd


def last_chosen_focus(session: Session, team_id: int, up_to_number: int | None = None) -> str | None:
    """The focus the team chose most recently (its latest round, up to ``up_to_number``, that recorded one)."""
    query = select(Round.chosen_focus).where(Round.team_id == team_id, Round.chosen_focus.is_not(None))
    if up_to_number is not None:
        query = query.where(Round.number <= up_to_number)
    return session.scalars(query.order_by(Round.number.desc()).limit(1)).first()
