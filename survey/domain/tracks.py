"""The toolkit's two tracks: a team runs the steps itself or with a facilitator. A leader asks for a
facilitator for one step; a facilitator takes the request and plans the session (when, until when,
where, what to bring). A team on the facilitated track follows the toolkit's own process (pre-meeting,
briefing, screening, debriefing), each a session a facilitator plans straight from the team's page.
The team's timeline puts sessions, rounds and actions in the order of the four steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from survey.content.model import SESSION_STEPS
from survey.data.models import Action, FacilitationRequest, Round
from survey.domain.teams import get_team
from survey.domain.validation import clean_text
from survey.errors import NotFound, Text, UserError

# What a facilitator can be asked for, and the toolkit step each belongs to (the content's sessions use
# the same kinds, so every session it describes is one that can be planned).
REQUEST_KINDS: dict[str, str] = SESSION_STEPS
MAX_SESSION = timedelta(hours=12)  # a session lasts at most a (long) working day; longer is a typo


def request_facilitator(session: Session, team_id: int, kind: str, note: str = "") -> FacilitationRequest:
    """A leader's request for a facilitator for one step (committed)."""
    get_team(session, team_id)
    if kind not in REQUEST_KINDS:
        raise UserError(
            Text("kind must be one of %(choices)s, got %(kind)s", choices=", ".join(REQUEST_KINDS), kind=repr(kind))
        )
    note = clean_text(note, "note", max_len=2000, multiline=True, required=False)
    req = FacilitationRequest(team_id=team_id, kind=kind, note=note, status="open")
    session.add(req)
    session.commit()
    return req


def get_request(session: Session, request_id: int) -> FacilitationRequest:
    req = session.get(FacilitationRequest, request_id)
    if req is None:
        raise NotFound(Text("request %(request_id)s does not exist", request_id=request_id))
    return req


def open_requests(session: Session) -> list[FacilitationRequest]:
    """Requests nobody has taken yet, oldest first."""
    return list(
        session.scalars(
            select(FacilitationRequest).where(FacilitationRequest.status == "open").order_by(FacilitationRequest.id)
        )
    )


def requests_of(session: Session, team_id: int) -> list[FacilitationRequest]:
    return list(
        session.scalars(
            select(FacilitationRequest).where(FacilitationRequest.team_id == team_id).order_by(FacilitationRequest.id)
        )
    )


def take_request(session: Session, request_id: int, facilitator_id: int) -> FacilitationRequest:
    """A facilitator takes an open request (committed); a request already taken is refused."""
    req = get_request(session, request_id)
    if req.status != "open":
        raise UserError(Text("request %(request_id)s has already been taken", request_id=request_id))
    req.status, req.facilitator_id = "taken", facilitator_id
    session.commit()
    return req


def plan_session(
    session: Session, request_id: int, when: datetime, place: str, bring: str = "", ends: datetime | None = None
) -> FacilitationRequest:
    """Plan the session of a taken request: date and time, optionally its end, place, what to bring (committed)."""
    req = get_request(session, request_id)
    if req.status == "open":
        raise UserError(
            Text("request %(request_id)s must be taken before its session is planned", request_id=request_id)
        )
    _plan(req, when, ends, place, bring)
    session.commit()
    return req


def _plan(req: FacilitationRequest, when: datetime, ends: datetime | None, place: str, bring: str) -> None:
    if ends is not None and not when < ends <= when + MAX_SESSION:
        raise UserError(Text("the session must end after it starts, and on the same day"))
    place = clean_text(place, "place", max_len=200)
    bring = clean_text(bring, "what to bring", max_len=2000, multiline=True, required=False)
    req.session_at, req.ends_at, req.place, req.bring, req.status = when, ends, place, bring, "planned"


def plan_team_session(
    session: Session,
    team_id: int,
    kind: str,
    facilitator_id: int | None,
    when: datetime,
    place: str,
    bring: str = "",
    ends: datetime | None = None,
) -> FacilitationRequest:
    """Plan one session of the team's process (committed): the newest session of that kind is planned or
    moved (a leader's open request for it is taken on the way); with none, a planned one is made."""
    get_team(session, team_id)
    if kind not in REQUEST_KINDS:
        raise UserError(f"kind must be one of {', '.join(REQUEST_KINDS)}, got {kind!r}")
    req = session.scalar(
        select(FacilitationRequest)
        .where(FacilitationRequest.team_id == team_id, FacilitationRequest.kind == kind)
        .order_by(FacilitationRequest.id.desc())
        .limit(1)
    )
    if req is None:
        req = FacilitationRequest(team_id=team_id, kind=kind, note="")
        session.add(req)
    if req.facilitator_id is None:
        req.facilitator_id = facilitator_id
    _plan(req, when, ends, place, bring)
    session.commit()
    return req


def process_of(session: Session, team_id: int, kinds: Sequence[str]) -> dict[str, FacilitationRequest | None]:
    """The newest session of each kind of a track's process (None: nobody has asked for or planned it)."""
    newest: dict[str, FacilitationRequest | None] = dict.fromkeys(kinds)
    for req in requests_of(session, team_id):
        if req.kind in newest:
            newest[req.kind] = req
    return newest


@dataclass(frozen=True)
class Event:
    """One entry of a team's timeline."""

    step: str
    # session | unplanned (a session of the track's process nobody has planned: obj is its kind) | round | action
    kind: str
    when: datetime | None
    obj: object


def timeline(
    session: Session, team_id: int, process: Sequence[str] = (), *, rounds: int | None = None
) -> dict[str, list[Event]]:
    """The team's sessions, rounds and actions grouped by toolkit step, each step in time order; the
    sessions of the track's ``process`` that nobody has asked for or planned yet are shown as such.

    ``rounds``: only the latest so many rounds and their actions (the team's page; the history page has
    every round)."""
    steps: dict[str, list[Event]] = {
        s: [] for s in ("faelles_viden", "tag_temperaturen", "det_goer_vi", "vi_holder_fast")
    }
    requests = requests_of(session, team_id)
    asked = {req.kind for req in requests}
    for kind in process:
        if kind not in asked:
            steps[REQUEST_KINDS[kind]].append(Event(REQUEST_KINDS[kind], "unplanned", None, kind))
    for req in requests:
        steps[REQUEST_KINDS[req.kind]].append(Event(REQUEST_KINDS[req.kind], "session", req.session_at, req))
    latest = select(Round).where(Round.team_id == team_id).order_by(Round.number.desc())
    shown = list(session.scalars(latest.limit(rounds) if rounds is not None else latest))[::-1]
    for rnd in shown:
        step = "tag_temperaturen" if rnd.kind == "baseline" else "vi_holder_fast"
        # when it really opened (early or late), else when it is scheduled to
        steps[step].append(Event(step, "round", rnd.opened_at or rnd.opens_at or rnd.created_at, rnd))
    round_ids = [r.id for r in shown]
    if round_ids:
        copy = aliased(Action)
        # an action carried into the next round's plan appears once, as its newest copy
        live = select(Action).where(Action.round_id.in_(round_ids), ~exists().where(copy.carried_from == Action.id))
        for action in session.scalars(live.order_by(Action.id)):
            steps["det_goer_vi"].append(Event("det_goer_vi", "action", None, action))
    return steps
