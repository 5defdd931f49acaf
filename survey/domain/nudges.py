"""Nudges: the emails that keep the team's loop going after the report (issue 19), and the leader's
to-do list that shows the same items.

The tick calls :func:`queue_due` once per pass. Each kind is one bounded query (``LIMIT``) for what is due
now and has no outbox row yet; the row is queued in the same transaction, and the outbox's unique keys
((round, kind, recipient, seq) and (request, kind, recipient)) make each nudge happen once even when two
ticks overlap. Windows keep an installation that switches nudges on from mailing about the distant past.

- ``debrief``: the leader, when the report has arrived: hold the debrief meeting (link to the guide);
- ``no_plan``: the leader, 14 days after the report, when the round still has no focus or no plan;
- ``action_due`` / ``action_overdue``: an action's owner (else the leader), 3 days before its due date
  and once it is past (``seq`` is the action's id);
- ``request_new``: every facilitator, when a team asks for one;
- ``session_planned``: the leader, when a facilitator has planned the session (with an .ics invitation).

``TRYGHED_NUDGES=false`` switches them off for the installation. Pure domain code: no Flask, no Celery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, insert, select
from sqlalchemy.exc import IntegrityError

from survey.data.tables import (
    LIVE_STATUSES,
    actions,
    facilitation_requests,
    messages,
    round_results,
    rounds,
    teams,
    users,
)

if TYPE_CHECKING:  # the leader's to-do list reads ORM objects; the tick's nudges are Core (``queue_due``)
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from survey.data.models import Action, FacilitationRequest, Team

DUE_SOON = timedelta(days=3)
NO_PLAN_AFTER = timedelta(days=14)
# how far back a nudge is still worth sending (an installation switching nudges on, a tick long down)
WINDOW = timedelta(days=14)
BATCH = 200  # rows per kind and pass: the next tick takes the rest


def _sent(kind: str, *, round_col: Any = None, recipient: Any = None, seq: Any = None, request_col: Any = None) -> Any:
    """``EXISTS`` an outbox row of ``kind`` for the given round/request (and recipient, seq)."""
    m = messages.c
    cond = [m.kind == kind]
    if round_col is not None:
        cond.append(m.round_id == round_col)
    if request_col is not None:
        cond.append(m.request_id == request_col)
    if recipient is not None:
        cond.append(m.recipient == recipient)
    if seq is not None:
        cond.append(m.seq == seq)
    return exists().where(and_(*cond))


def lang_of(session: Connection | Session, email: str, fallback: str) -> str:
    """The recipient's own language: their account's, else ``fallback`` (the team's)."""
    found = session.scalars(select(users.c.lang).where(users.c.email == email.lower())).first()
    return found or fallback


def _queue(conn: Connection | Session, **values: Any) -> bool:
    """One outbox row in a savepoint: a duplicate from an overlapping tick is dropped, not an error."""
    try:
        from survey.mail.outbox import new_message_id  # only when a nudge is due

        with conn.begin_nested():  # the row ``survey.mail.outbox.queue`` adds, in Core
            conn.execute(insert(messages).values(message_id=new_message_id(), status="pending", attempts=0, **values))
        return True
    except IntegrityError:
        return False


def queue_due(conn: Connection | Session, now: datetime, today: date, *, batch: int = BATCH) -> dict[str, int]:
    """Queue every nudge due now (committed); returns how many of each kind.

    Core statements on a connection (the tick's, which must not load the ORM) or a session alike."""
    counts = {k: 0 for k in ("debrief", "no_plan", "action_due", "action_overdue", "request_new", "session_planned")}
    r, t, a, fr = rounds.c, teams.c, actions.c, facilitation_requests.c
    # the leader: the report has arrived -> hold the debrief
    rows = conn.execute(
        select(r.id, t.leader_email, t.lang)
        .join(teams, t.id == r.team_id)
        .where(
            r.status == "reported",
            r.reported_at >= now - WINDOW,
            r.purged_at.is_(None),  # a purge deletes the round's outbox rows, the once-guard with them
            t.leader_email.is_not(None),
            ~_sent("debrief", round_col=r.id),
        )
        .order_by(r.id)
        .limit(batch)
    ).all()
    for rid, leader, lang in rows:
        counts["debrief"] += _queue(
            conn, round_id=rid, kind="debrief", recipient=str(leader), lang=lang_of(conn, str(leader), lang)
        )
    # the leader: 14 days on, still no focus or no plan (a suppressed round has neither to make)
    later = rounds.alias()
    rows = conn.execute(
        select(r.id, t.leader_email, t.lang)
        .join(teams, t.id == r.team_id)
        .join(round_results, round_results.c.round_id == r.id)
        .where(
            r.status == "reported",
            r.reported_at <= now - NO_PLAN_AFTER,
            r.reported_at >= now - NO_PLAN_AFTER - WINDOW,
            r.purged_at.is_(None),
            round_results.c.suppressed.is_(False),
            t.leader_email.is_not(None),
            (r.chosen_focus.is_(None)) | ~exists().where(a.round_id == r.id),
            # a later round that has opened means the team has moved on
            ~exists().where(
                and_(later.c.team_id == r.team_id, later.c.number > r.number, later.c.opened_at.is_not(None))
            ),
            ~_sent("no_plan", round_col=r.id),
        )
        .order_by(r.id)
        .limit(batch)
    ).all()
    for rid, leader, lang in rows:
        counts["no_plan"] += _queue(
            conn, round_id=rid, kind="no_plan", recipient=str(leader), lang=lang_of(conn, str(leader), lang)
        )
    # an action's owner (or the leader): 3 days before the due date, and once it is overdue
    for kind, low, high in (
        ("action_due", today, today + DUE_SOON),
        ("action_overdue", today - WINDOW, today - timedelta(days=1)),
    ):
        copy = actions.alias()
        action_rows = conn.execute(
            select(a.id, a.round_id, a.owner_email, t.leader_email, t.lang)
            .join(rounds, r.id == a.round_id)
            .join(teams, t.id == r.team_id)
            .where(
                a.status.in_(LIVE_STATUSES),
                a.due >= low,
                a.due <= high,
                # a carried action is followed by its copy in the next round's plan: nudge about that one
                ~exists().where(copy.c.carried_from == a.id),
                ~_sent(kind, round_col=a.round_id, seq=a.id),
            )
            .order_by(a.due, a.id)
            .limit(batch)
        ).all()
        for aid, rid, owner, leader, lang in action_rows:
            to = owner or leader
            if to:
                counts[kind] += _queue(
                    conn, round_id=rid, kind=kind, recipient=to, lang=lang_of(conn, to, lang), seq=aid
                )
    # every facilitator: a team asks for one
    u = users.c
    facilitators = conn.execute(
        select(u.email, u.lang).where(u.role == "facilitator", u.active.is_(True)).order_by(u.id)
    ).all()
    requests = conn.scalars(
        select(fr.id)
        .where(
            fr.status == "open",
            fr.created_at >= now - WINDOW,
            ~_sent("request_new", request_col=fr.id),
        )
        .order_by(fr.id)
        .limit(batch)
    ).all()
    for req_id in requests:
        for email, lang in facilitators:
            counts["request_new"] += _queue(
                conn, round_id=None, request_id=req_id, kind="request_new", recipient=email, lang=lang
            )
    # the leader: a facilitator has planned the session (the email carries an .ics invitation)
    rows = conn.execute(
        select(fr.id, t.leader_email, t.lang)
        .join(teams, t.id == fr.team_id)
        .where(
            fr.status == "planned",
            fr.session_at >= now,
            t.leader_email.is_not(None),
            ~_sent("session_planned", request_col=fr.id),
        )
        .order_by(fr.id)
        .limit(batch)
    ).all()
    for req_id, leader, lang in rows:
        counts["session_planned"] += _queue(
            conn,
            round_id=None,
            request_id=req_id,
            kind="session_planned",
            recipient=str(leader),
            lang=lang_of(conn, str(leader), lang),
        )
    conn.commit()
    return counts


@dataclass(frozen=True)
class Todo:
    """One item of the leader's to-do list: the same occasions as the nudges."""

    kind: str  # debrief | no_plan | action_due | action_overdue | session_planned
    team: Team
    round_id: int | None = None
    action: Action | None = None
    request: FacilitationRequest | None = None


def leader_todos(session: Session, teams: list[Team], now: datetime, today: date) -> list[Todo]:
    """What the leader of ``teams`` has to do now, in a fixed number of statements whatever the teams."""
    from sqlalchemy.orm import aliased

    from survey.data.models import Action, FacilitationRequest, Round, RoundResultRow

    out: list[Todo] = []
    ids = [t.id for t in teams]
    if not ids:
        return out
    by_id = {t.id: t for t in teams}
    latest: dict[int, Round] = {}
    for rnd in session.scalars(select(Round).where(Round.team_id.in_(ids)).order_by(Round.number)):
        latest[rnd.team_id] = rnd
    reported = [rnd.id for rnd in latest.values() if rnd.status == "reported"]
    # two statements for all the latest reported rounds, not two per team (a head may lead many)
    shown: set[int] = set()
    planned: set[int] = set()
    if reported:
        shown = set(
            session.scalars(
                select(RoundResultRow.round_id).where(
                    RoundResultRow.round_id.in_(reported), RoundResultRow.suppressed.is_(False)
                )
            )
        )
        planned = set(session.scalars(select(Action.round_id).where(Action.round_id.in_(reported)).distinct()))
    for team_id, rnd in latest.items():
        if rnd.status != "reported":
            continue
        if rnd.id in shown and (rnd.chosen_focus is None or rnd.id not in planned):
            late = rnd.reported_at is not None and rnd.reported_at <= now - NO_PLAN_AFTER
            out.append(Todo("no_plan" if late else "debrief", by_id[team_id], round_id=rnd.id))
    copy = aliased(Action)
    actions = session.execute(
        select(Action, Round.team_id)
        .join(Round, Round.id == Action.round_id)
        .where(
            Round.team_id.in_(ids),
            Action.status.in_(LIVE_STATUSES),
            Action.due <= today + DUE_SOON,
            ~exists().where(copy.carried_from == Action.id),
        )
        .order_by(Action.due, Action.id)
    ).all()
    for action, team_id in actions:
        assert action.due is not None
        kind = "action_overdue" if action.due < today else "action_due"
        out.append(Todo(kind, by_id[team_id], round_id=action.round_id, action=action))
    for req in session.scalars(
        select(FacilitationRequest)
        .where(
            FacilitationRequest.team_id.in_(ids),
            FacilitationRequest.status == "planned",
            FacilitationRequest.session_at >= now,
        )
        .order_by(FacilitationRequest.session_at)
    ):
        out.append(Todo("session_planned", by_id[req.team_id], request=req))
    return out
