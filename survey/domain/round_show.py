"""The contract's ``round show`` object, read with SQLAlchemy Core.

``show_round`` takes a Core ``Connection`` or an ORM ``Session``: ``tryghed round show`` reads on a bare
connection and so never imports the ORM or maps the model classes, a third of a short command's start
(docs/benchmarks.md, "Starting a command"); the other callers pass their session.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from survey.data.tables import DROPPING, OWN, messages, responses, round_results, rounds, teams
from survey.errors import NotFound, Text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row
    from sqlalchemy.orm import Session

    from survey.runtime import Runtime


def show_round(rt: Runtime, db: Connection | Session, round_id: int) -> dict[str, Any]:
    """The contract's ``round show`` object. Figures only once aggregated, and never below k."""
    rnd = db.execute(select(rounds).where(rounds.c.id == round_id)).first()
    if rnd is None:
        raise NotFound(Text("round %(round_id)s does not exist", round_id=round_id))
    instrument = rt.content.instrument(rnd.instrument)
    stored = db.execute(select(round_results).where(round_results.c.round_id == round_id)).first()
    responses = stored.responses if stored else _answer_count(db, rnd)
    suppressed = responses < rnd.min_responses
    pillars: list[dict[str, Any]] = [
        {"key": p.key, "mean": None, "band": None, "n": responses} for p in instrument.pillars
    ]
    items: list[dict[str, Any]] = [{"key": i.key, "pillar": i.pillar, "mean": None} for i in instrument.items]
    focus: list[str] = []
    hacks: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    plan: list[dict[str, Any]] = []
    if stored is not None and not stored.suppressed:
        from pipeline.report_history import changes_for, plan_hacks_of, result_from_json
        from pipeline.trend import change_to_json

        result = result_from_json(stored.result)
        changes = [change_to_json(c) for c in changes_for(db, rnd, result, rt.content)]
        suppressed = False
        pillars = [
            {"key": p["key"], "mean": p["mean"], "band": p["band"], "n": p["n"]} for p in stored.result["pillars"]
        ]
        items = [{"key": i["key"], "pillar": i["pillar"], "mean": i["mean"]} for i in stored.result["items"]]
        focus = list(stored.focus_pillars)
        by_key = {h.key: h for h in rt.content.hacks}
        lang = db.scalars(select(teams.c.lang).where(teams.c.id == rnd.team_id)).one()
        hacks = [
            {"pillar": by_key[k].pillar, "key": k, "title": by_key[k].title.get(lang)}
            for k in stored.hack_keys
            if k in by_key
        ]
        # hacks the team's plan already holds (not dropped): listed apart, never recommended as new
        plan = [
            {"pillar": h.pillar, "key": h.key, "title": h.title.get(lang)}
            for h in plan_hacks_of(db, rnd.team_id, rnd.number, rt.content.hacks)
        ]
    # Reminders are left out: only non-respondents get one, so a failed reminder listed by recipient
    # would tell who had not answered. A bad address shows up on its invitation anyway.
    failed = db.execute(
        select(messages.c.kind, messages.c.recipient, messages.c.last_error)
        .where(messages.c.round_id == round_id, messages.c.status == "failed", messages.c.kind != "reminder")
        .order_by(messages.c.id)
    ).all()
    pending = rnd.answer_storage == DROPPING
    return {
        "id": rnd.id,
        "team_id": rnd.team_id,
        "number": rnd.number,
        "kind": rnd.kind,
        "channel": rnd.channel,
        "status": rnd.status,
        "status_reason": rnd.status_reason,
        "opens_at": iso(rt, rnd.opens_at),
        "closes_at": iso(rt, rnd.closes_at),
        # when it really opened and closed (a round opened or closed by hand differs from its schedule)
        "opened_at": iso(rt, rnd.opened_at),
        "closed_at": iso(rt, rnd.closed_at),
        "invited": rnd.invited_count,
        "responses": responses,
        "min_responses": rnd.min_responses,
        "suppressed": suppressed,
        "pillars": pillars,
        "items": items,
        "focus_pillars": focus,
        "recommended_hacks": hacks,
        "hacks_in_plan": plan,
        # the focus the team chose at the debrief (tryghed round focus), null until it records one
        "chosen_focus": rnd.chosen_focus,
        # change since every earlier round that reached k, newest first, each pillar with its 95 % interval
        "changes": changes,
        "reminders_sent": rnd.reminders_sent,
        # failed deliveries with address and reason, so a facilitator can fix a bad address; reminders are
        # left out (the query above), because only non-respondents get one
        "failed_messages": [{"kind": m.kind, "recipient": m.recipient, "error": m.last_error} for m in failed],
        # after the seal: whether dropping the open round's own storage is still waiting, and why
        "trail_pending": pending,
        "trail_reason": rnd.trail_reason if pending else None,
    }


def _answer_count(db: Connection | Session, rnd: Row[Any]) -> int:
    """How many answer sets the round holds: sealed ones are counted in ``responses``; a round whose answers
    are in its own tables (open, or closed and not yet sealed) is counted there (``survey.domain.answer_store``,
    which works in a session)."""
    if rnd.answer_storage == OWN:
        from sqlalchemy.orm import Session

        from survey.domain.answer_store import answer_count

        if isinstance(db, Session):
            return answer_count(db, rnd.id)
        with Session(bind=db) as session:
            return answer_count(session, rnd.id)
    return int(db.scalars(select(func.count()).where(responses.c.round_id == rnd.id)).one())


def iso(rt: Runtime, value: datetime | None) -> str | None:
    """A stored time in the installation's time zone, as ISO 8601 (None stays None)."""
    return value.astimezone(rt.tz).isoformat() if value else None
