"""The team's IGLO action plan (Individ, Gruppe, Ledelse, Organisation), recorded after the debrief of a
round and reviewed in the next round's report.

An action has a real due date (``due``; the nudges count down to it) and optionally an owner's email (who
gets those nudges; else the leader). Planned and ongoing actions carry over: when the next round of the
team closes, each gets a copy in that round's plan marked ``carried_from``, so the plan the team meets
with at the follow-up's debrief is the one it is still working on. The original keeps the status it had,
which is what the follow-up report reviews.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from survey.content.model import Content
from survey.data.models import Action
from survey.data.tables import LIVE_STATUSES
from survey.domain.rounds import get_round
from survey.domain.validation import clean_email, clean_text
from survey.errors import NotFound, Text, UserError

# The IGLO sheet's four levels of who can act, in its order: Individ, Gruppe, Ledelse, Organisation.
IGLO_LEVELS = ("individ", "gruppe", "ledelse", "organisation")
ACTION_STATUSES = ("planned", "done", "ongoing", "dropped")
_UNSET: Any = object()


def parse_due(value: str | date | None, option: str = "--due") -> date | None:
    """``YYYY-MM-DD`` (or a date, or empty) -> a date; anything else is a clear UserError."""
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise UserError(
            Text("%(option)s: %(value)s is not a date like 2027-03-31", option=option, value=repr(value))
        ) from exc


def _check_hack(hack_key: str | None, content: Content | None) -> str | None:
    if hack_key is None:
        return None
    hack_key = hack_key.strip()
    if not hack_key:
        return None
    known = [h.key for h in content.hacks] if content is not None else None
    if known is not None and hack_key not in known:
        raise UserError(
            Text(
                "unknown hack %(hack_key)s; known hacks: %(choices)s", hack_key=repr(hack_key), choices=", ".join(known)
            )
        )
    return hack_key


def _check_level(level: str) -> str:
    level = level.strip().lower()
    if level not in IGLO_LEVELS:
        raise UserError(
            Text("level must be one of %(choices)s, got %(level)s", choices=", ".join(IGLO_LEVELS), level=repr(level))
        )
    return level


def add_action(
    session: Session,
    round_id: int,
    level: str,
    what: str,
    who: str,
    by_when: str = "",
    *,
    hack_key: str | None = None,
    content: Content | None = None,
    due: str | date | None = None,
    owner_email: str | None = None,
) -> Action:
    """Record one agreed action for a closed round (committed).

    ``hack_key`` names the hack the action puts into practice (checked against ``content``'s hacks when
    given); the next report lists it as already in the plan instead of recommending it again.
    """
    rnd = get_round(session, round_id)
    if rnd.status not in ("closing", "reported"):
        raise UserError(
            Text(
                "round %(round_id)s is %(status)s; actions are agreed after its results are out",
                round_id=round_id,
                status=rnd.status,
            )
        )
    action = Action(
        round_id=round_id,
        level=_check_level(level),
        # free text shown in the next report (PDF and web): checked where it enters (survey.domain.validation)
        what=clean_text(what, "--what", max_len=2000, multiline=True),
        who=clean_text(who, "--who", max_len=200),
        by_when=clean_text(by_when, "--by", max_len=100, required=False),
        hack_key=_check_hack(hack_key, content),
        due=parse_due(due),
        owner_email=clean_email(owner_email, "--owner-email") if owner_email else None,
        status="planned",
    )
    session.add(action)
    session.commit()
    return action


def get_action(session: Session, action_id: int) -> Action:
    action = session.get(Action, action_id)
    if action is None:
        raise NotFound(Text("action %(action_id)s does not exist", action_id=action_id))
    return action


def set_action_status(session: Session, action_id: int, status: str) -> Action:
    """Mark an agreed action planned, done, ongoing or dropped (committed); the follow-up report shows it."""
    if status not in ACTION_STATUSES:
        raise UserError(
            Text(
                "status must be one of %(choices)s, got %(status)s",
                choices=", ".join(ACTION_STATUSES),
                status=repr(status),
            )
        )
    action = get_action(session, action_id)
    action.status = status
    session.commit()
    return action


def edit_action(
    session: Session,
    action_id: int,
    *,
    level: str | None = None,
    what: str | None = None,
    who: str | None = None,
    due: Any = _UNSET,
    owner_email: Any = _UNSET,
    hack_key: Any = _UNSET,
    status: str | None = None,
    content: Content | None = None,
) -> Action:
    """Change what was agreed (committed); only the given fields change. ``""``/None clears an optional one."""
    action = get_action(session, action_id)
    if level is not None:
        action.level = _check_level(level)
    if what is not None:
        action.what = clean_text(what, "--what", max_len=2000, multiline=True)
    if who is not None:
        action.who = clean_text(who, "--who", max_len=200)
    if due is not _UNSET:
        action.due = parse_due(due)
    if owner_email is not _UNSET:
        action.owner_email = clean_email(owner_email, "--owner-email") if owner_email else None
    if hack_key is not _UNSET:
        action.hack_key = _check_hack(hack_key, content)
    if status is not None:
        if status not in ACTION_STATUSES:
            raise UserError(
                Text(
                    "status must be one of %(choices)s, got %(status)s",
                    choices=", ".join(ACTION_STATUSES),
                    status=repr(status),
                )
            )
        action.status = status
    session.commit()
    return action


def delete_action(session: Session, action_id: int) -> int:
    """Remove an action from the plan (committed); returns its round. A copy carried from it stays."""
    action = get_action(session, action_id)
    round_id = action.round_id
    session.delete(action)
    session.commit()
    return round_id


def carry_over(session: Session, round_id: int) -> int:
    """Copy the live actions of the round before ``round_id`` into its plan (no commit); returns how many.

    Called in the transaction that closes ``round_id`` (``survey.domain.rounds.close_round``), which only
    one caller can claim, so each action is carried once. An action already carried (a copy names it)
    is left alone as well, so a repeated call adds nothing.
    """
    rnd = get_round(session, round_id)
    if rnd.previous_round_id is None:
        return 0
    copy = aliased(Action)
    live = session.scalars(
        select(Action)
        .where(
            Action.round_id == rnd.previous_round_id,
            Action.status.in_(LIVE_STATUSES),
            ~exists().where(and_(copy.carried_from == Action.id, copy.round_id == round_id)),
        )
        .order_by(Action.id)
    ).all()
    for a in live:
        session.add(
            Action(
                round_id=round_id,
                level=a.level,
                what=a.what,
                who=a.who,
                by_when=a.by_when,
                hack_key=a.hack_key,
                due=a.due,
                owner_email=a.owner_email,
                status=a.status,
                carried_from=a.id,
            )
        )
    return len(live)


def action_json(a: Action) -> dict[str, Any]:
    """One action as ``tryghed actions list --json`` shows it."""
    return {
        "id": a.id,
        "level": a.level,
        "what": a.what,
        "who": a.who,
        "status": a.status,
        "hack": a.hack_key,
        "due": a.due.isoformat() if a.due else None,
        "carried_from": a.carried_from,
        "owner_email": a.owner_email,
        "by_when": a.by_when,
    }


def list_actions(session: Session, round_id: int) -> list[dict[str, Any]]:
    """The round's plan, by IGLO level, each level in the order the actions were agreed."""
    get_round(session, round_id)
    rows = session.scalars(select(Action).where(Action.round_id == round_id).order_by(Action.id))
    order = {level: i for i, level in enumerate(IGLO_LEVELS)}
    return sorted((action_json(a) for a in rows), key=lambda a: order[a["level"]])
