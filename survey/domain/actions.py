"""The team's IGLO action plan (Individ, Gruppe, Ledelse, Organisation), recorded after the debrief of a
round and reviewed in the next round's report."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.content.model import Content
from survey.data.models import Action
from survey.domain.rounds import get_round
from survey.domain.validation import clean_text
from survey.errors import NotFound, UserError

# The IGLO sheet's four levels of who can act, in its order: Individ, Gruppe, Ledelse, Organisation.
IGLO_LEVELS = ("individ", "gruppe", "ledelse", "organisation")


def add_action(
    session: Session,
    round_id: int,
    level: str,
    what: str,
    who: str,
    by_when: str,
    *,
    hack_key: str | None = None,
    content: Content | None = None,
) -> Action:
    """Record one agreed action for a closed round (committed).

    ``hack_key`` names the hack the action puts into practice (checked against ``content``'s hacks when
    given); the next report lists it as already in the plan instead of recommending it again.
    """
    rnd = get_round(session, round_id)
    if rnd.status not in ("closing", "reported"):
        raise UserError(f"round {round_id} is {rnd.status}; actions are agreed after its results are out")
    level = level.strip().lower()
    if level not in IGLO_LEVELS:
        raise UserError(f"level must be one of {', '.join(IGLO_LEVELS)}, got {level!r}")
    # free text shown in the next report (PDF and web): checked where it enters (survey.domain.validation)
    what = clean_text(what, "--what", max_len=2000, multiline=True)
    who = clean_text(who, "--who", max_len=200)
    by_when = clean_text(by_when, "--by", max_len=100, required=False)
    if hack_key is not None:
        hack_key = hack_key.strip()
        known = [h.key for h in content.hacks] if content is not None else None
        if not hack_key or (known is not None and hack_key not in known):
            raise UserError(f"unknown hack {hack_key!r}; known hacks: {', '.join(known or [])}")
    action = Action(
        round_id=round_id, level=level, what=what, who=who, by_when=by_when, hack_key=hack_key, status="planned"
    )
    session.add(action)
    session.commit()
    return action


ACTION_STATUSES = ("planned", "done", "ongoing", "dropped")


def get_action(session: Session, action_id: int) -> Action:
    action = session.get(Action, action_id)
    if action is None:
        raise NotFound(f"action {action_id} does not exist")
    return action


def set_action_status(session: Session, action_id: int, status: str) -> Action:
    """Mark an agreed action planned, done, ongoing or dropped (committed); the follow-up report shows it."""
    if status not in ACTION_STATUSES:
        raise UserError(f"status must be one of {', '.join(ACTION_STATUSES)}, got {status!r}")
    action = get_action(session, action_id)
    action.status = status
    session.commit()
    return action


def list_actions(session: Session, round_id: int) -> list[dict[str, Any]]:
    get_round(session, round_id)
    rows = session.scalars(select(Action).where(Action.round_id == round_id).order_by(Action.id))
    order = {level: i for i, level in enumerate(IGLO_LEVELS)}
    return sorted(
        (
            {
                "id": a.id,
                "level": a.level,
                "what": a.what,
                "who": a.who,
                "by_when": a.by_when,
                "hack": a.hack_key,
                "status": a.status,
            }
            for a in rows
        ),
        key=lambda a: order[a["level"]],
    )
