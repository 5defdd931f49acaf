"""Where each team is: its step in the toolkit, its latest round, and what needs a facilitator's attention.

Counts only: how many were invited and how many answered, never who. Read by the web app's start page and
team page (and usable from the CLI); imports neither Flask nor Celery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from pipeline.report_text import percent
from survey.data.models import Action, FacilitationRequest, Message, Response, Round, Team
from survey.data.tables import OWN
from survey.domain import answer_store, round_storage

STEPS = ("faelles_viden", "tag_temperaturen", "det_goer_vi", "vi_holder_fast")
CLOSING_SOON = timedelta(days=2)


@dataclass
class TeamStatus:
    """One team as the start page shows it."""

    team: Any  # a Team, or a row with its TEAM_COLUMNS
    step: str  # one of STEPS
    latest: Any  # the latest round (a row of ROUND_COLUMNS), None before the first
    invited: int
    responses: int
    attention: list[str] = field(default_factory=list)  # keys: closing_low, failed_mail, plan_no_followup, request

    @property
    def rate(self) -> float | None:
        """The response rate as a fraction of whole per cents, rounded half up like every share of a count
        (``pipeline.report_text.percent``), so 5 of 7 is 71 % on every page and in every report."""
        return percent(self.responses, self.invited) / 100 if self.invited else None


def team_step(rounds: list[Any], has_actions: bool) -> str:
    """The toolkit step a team is in, from its rounds (oldest first; rounds or rows with their ``status``
    and ``kind``) and whether it has a plan.

    No round opened yet: step 1 (shared knowledge). The baseline running: step 2. The baseline reported,
    no follow-up yet: step 3 (the debrief and the plan). A follow-up exists: step 4 (holding on).
    """
    started = [r for r in rounds if r.status not in ("draft", "scheduled") or r.kind == "followup"]
    if not started:
        return "faelles_viden"
    if any(r.kind == "followup" for r in rounds):
        return "vi_holder_fast"
    baseline = rounds[0]
    if baseline.status == "reported" or has_actions:
        return "det_goer_vi"
    return "tag_temperaturen"


class TeamRow(NamedTuple):
    """What a status reads of its team (``TeamStatus.team`` when the caller gave no team object)."""

    id: int
    name: str
    track: str
    leader_email: str | None


class RoundRow(NamedTuple):
    """What a status reads of a round (``TeamStatus.latest``)."""

    id: int
    team_id: int
    number: int
    kind: str
    status: str
    invited_count: int
    min_responses: int
    closes_at: datetime | None


class TeamName(NamedTuple):
    """A team in the attention list: a link and a name."""

    id: int
    name: str


ROUND_COLUMNS = tuple(getattr(Round, name) for name in RoundRow._fields)
TEAM_COLUMNS = tuple(getattr(Team, name) for name in TeamRow._fields)

# Teams per statement in ``team_statuses``: callers pass a page of teams, but a longer list is cut into
# chunks, so no statement binds an unbounded number of parameters (drivers stop at 65,535).
CHUNK = 50


def may_see_team(team: Any, role: str, email: str) -> bool:
    """Whether an account may see a team: a leader the teams whose leader email is theirs, others every
    team (the rule ``page_statuses`` reads pages by)."""
    return role in ("admin", "facilitator") or (team.leader_email or "").lower() == email.lower()


@cache
def _statuses_statement(scope: str, lateral: bool) -> Any:
    """The one statement behind a list of statuses, built once: the teams (``scope`` "ids": those given;
    "all": a page of every team by name; "leader": a page of a leader's teams by name), each with every
    round (oldest first) and, per round, whether it has an action and a failed email (not a reminder), per
    team whether a request is open, and the answer count of a latest round sealed into ``responses``.

    Every part goes through an index on a team or round id (``ix_teams_name`` for the page), so the cost
    follows the page, not the organisation; a page's teams are a subquery, not a list of ids. ``lateral``
    (PostgreSQL) reads each team's rounds in a LATERAL subquery: joined plainly, PostgreSQL hashes the
    whole ``rounds`` table once it holds some ten thousand rows (SQLite has no LATERAL, and needs none: it
    reads the page's rounds through ``ix_rounds_team_id``).
    """
    teams = select(*TEAM_COLUMNS)
    if scope == "ids":
        teams = teams.where(Team.id.in_(bindparam("ids", expanding=True)))
    else:
        if scope == "leader":
            teams = teams.where(Team.leader_email == bindparam("email"))  # ix_teams_leader_email
        teams = teams.order_by(Team.name, Team.id).limit(bindparam("limit")).offset(bindparam("offset"))
    page = teams.subquery("page")
    later = aliased(Round)
    is_latest = ~exists().where(later.team_id == Round.team_id, later.number > Round.number)
    sealed = func.coalesce(Round.answer_storage, "") != OWN
    sealed_count = select(func.count()).where(Response.round_id == Round.id).scalar_subquery()
    of_round = [
        *(column.label(f"round_{column.key}") for column in ROUND_COLUMNS),
        Round.answer_storage,
        exists().where(Action.round_id == Round.id).label("has_action"),
        exists()
        .where(Message.round_id == Round.id, Message.status == "failed", Message.kind != "reminder")
        .label("failed_mail"),
        case((and_(sealed, is_latest), sealed_count)).label("sealed_count"),
    ]
    open_request = exists().where(FacilitationRequest.team_id == page.c.id, FacilitationRequest.status == "open")
    team_columns = [page.c[name] for name in TeamRow._fields]
    number: Any
    if lateral:
        rounds = select(*of_round).where(Round.team_id == page.c.id).lateral("team_rounds")
        query = select(*team_columns, *rounds.c).select_from(page).outerjoin(rounds, true())
        number = rounds.c.round_number
    else:
        query = select(*team_columns, *of_round).select_from(page).outerjoin(Round, Round.team_id == page.c.id)
        number = Round.number
    return query.add_columns(open_request.label("open_request")).order_by(page.c.name, page.c.id, number)


# where a round's columns are in a row of ``_statuses_statement``: after the team's
_ROUND_AT = len(TeamRow._fields)
_ROUND_END = _ROUND_AT + len(RoundRow._fields)


def _read_statuses(
    session: Session, scope: str, params: dict[str, Any], now: datetime, min_rate: float
) -> dict[int, TeamStatus]:
    """Statuses by team id, in the statement's order: the statement, and the answer counts of the latest
    rounds still in their own storage (one more statement when there are any)."""
    teams: dict[int, TeamRow] = {}
    rounds: dict[int, list[RoundRow]] = {}
    answered: dict[int, int] = {}
    failed: set[int] = set()  # teams with a failed non-reminder email
    with_actions: set[int] = set()  # rounds with an IGLO action
    open_requests: set[int] = set()
    # Core on the session's connection: the same transaction, without the ORM's per-statement work
    connection = session.connection()
    statement = _statuses_statement(scope, connection.dialect.name == "postgresql")
    for row in connection.execute(statement, params):
        if row.id not in teams:
            teams[row.id] = TeamRow(*row[:_ROUND_AT])
            rounds[row.id] = []
        if row.open_request:
            open_requests.add(row.id)
        if row.round_id is None:
            continue  # a team without rounds
        rounds[row.id].append(RoundRow(*row[_ROUND_AT:_ROUND_END]))
        if row.has_action:
            with_actions.add(row.round_id)
        if row.failed_mail:
            failed.add(row.id)
        if row.sealed_count is not None:
            answered[row.round_id] = int(row.sealed_count)
    # the latest rounds whose answers are still in their own tables (open rounds): not counted above
    own = [rs[-1].id for rs in rounds.values() if rs and rs[-1].id not in answered]
    if own:
        answered.update(round_storage.own_answer_counts(session, own))
    return {
        team_id: _status(
            team, rounds[team_id], answered, with_actions, team_id in failed, team_id in open_requests, now, min_rate
        )
        for team_id, team in teams.items()
    }


def _status(
    team: Any,
    rounds: list[RoundRow],
    answered: dict[int, int],
    with_actions: set[int],
    failed: bool,
    open_request: bool,
    now: datetime,
    min_rate: float,
) -> TeamStatus:
    """One team's status from its rounds (oldest first) and what the statement found."""
    latest = rounds[-1] if rounds else None
    status = TeamStatus(
        team=team,
        step=team_step(rounds, any(r.id in with_actions for r in rounds)),
        latest=latest,
        invited=latest.invited_count if latest else 0,
        responses=answered.get(latest.id, 0) if latest else 0,
    )
    if latest is not None and latest.status == "open" and latest.closes_at is not None:
        few = status.invited and status.responses < max(latest.min_responses, status.invited * min_rate)
        if latest.closes_at - now <= CLOSING_SOON and few:
            status.attention.append("closing_low")
    if failed:
        status.attention.append("failed_mail")
    if latest is not None and latest.id in with_actions and latest.status == "reported":
        status.attention.append("plan_no_followup")  # a plan agreed, but no follow-up round to check it
    if open_request:
        status.attention.append("request")
    return status


def team_statuses(session: Session, teams: list[Any], now: datetime, min_rate: float = 0.5) -> list[TeamStatus]:
    """Step, latest round, response count and attention points for each of ``teams`` (objects or rows with
    an ``id``; each status keeps the object given), in one statement per ``CHUNK`` teams, plus one when a
    latest round is open. Every part is bounded by the teams given and read through indexes."""
    out: list[TeamStatus] = []
    for start in range(0, len(teams), CHUNK):
        chunk = teams[start : start + CHUNK]
        found = _read_statuses(session, "ids", {"ids": [t.id for t in chunk]}, now, min_rate)
        for team in chunk:
            status = found[team.id]
            status.team = team
            out.append(status)
    return out


def page_statuses(
    session: Session, role: str, email: str, now: datetime, *, limit: int, offset: int = 0, min_rate: float = 0.5
) -> list[TeamStatus]:
    """The statuses of a page of the teams an account may see (the rule of ``may_see_team``), by name:
    the teams and everything their statuses need in one statement, plus one when a latest round is open."""
    if role == "leader":
        return list(
            _read_statuses(
                session, "leader", {"email": email.lower(), "limit": limit, "offset": offset}, now, min_rate
            ).values()
        )
    return list(_read_statuses(session, "all", {"limit": limit, "offset": offset}, now, min_rate).values())


# "Needs attention" over every team (not only a page of them): the start page shows the first teams by name,
# and /attention every team, a page at a time
ATTENTION_PREVIEW = 10
ATTENTION_PAGE_SIZE = 50
# Open rounds closing soon whose answers are counted for it: open rounds close within days, so few are
CLOSING_CANDIDATES = 500


@dataclass
class Attention:
    """What needs a facilitator's attention in the whole organisation, by team name."""

    entries: list[tuple[TeamName, str]]  # (team, attention key), by team name
    more: bool  # more teams need attention than the list shows


@cache
def _attention_statement() -> Any:
    """The statement of ``needs_attention``, built once (an alias and a union cost more to build than to
    run): the open latest rounds closing soon (with what their count needs), and the teams of each flag,
    every part with the team's name and cut at its own limit."""
    later = aliased(Round)
    latest = ~exists().where(later.team_id == Round.team_id, later.number > Round.number)  # a team's latest round
    cut = bindparam("cut", type_=Integer)

    def name_of(team_id: Any) -> Any:
        # a lookup by primary key per row, not a join: joined, PostgreSQL hashes all of ``teams`` for 50 names
        return select(Team.name).where(Team.id == team_id).scalar_subquery().label("name")

    closing = (
        select(
            literal("closing_low").label("kind"),
            Round.team_id,
            name_of(Round.team_id),
            Round.id.label("round_id"),
            Round.invited_count,
            Round.min_responses,
            Round.answer_storage,
        )
        .where(Round.status == "open", Round.closes_at <= bindparam("soon"), Round.invited_count > 0, latest)
        .order_by(Round.closes_at)
        .limit(CLOSING_CANDIDATES)
    )

    # the closing part's columns that only it needs, empty in the others (typed: PostgreSQL reads an untyped
    # NULL in a subquery as text, which a union with integers refuses)
    empty = [cast(null(), c.type).label(c.name) for c in closing.selected_columns[3:]]

    def after(name: Any, team_id: Any) -> Any:
        # teams after the last one of the page before, by name and id (the next page of /attention)
        return tuple_(name, team_id) > tuple_(bindparam("after_name"), bindparam("after_id", type_=Integer))

    def first_by_name(kind: str, team_id: Any, source: Any) -> Any:
        # the first teams of ``source`` by name: the list shows the first teams by name of every kind
        name = name_of(team_id)
        query = select(literal(kind), team_id, name, *empty).select_from(source).where(after(name, team_id))
        return query.order_by(name, team_id).limit(cut)

    # a failed email (not a reminder) and an open request are rare states to put right: every team with one
    # is read through the state's index and sorted by name
    failed = (
        select(Round.team_id)
        .join(Message, Message.round_id == Round.id)
        .where(Message.status == "failed", Message.kind != "reminder")
        .distinct()
        .subquery()
    )
    asking = select(FacilitationRequest.team_id).where(FacilitationRequest.status == "open").distinct().subquery()
    # a plan on the latest round, which has been reported: common (every team between its debrief and its
    # follow-up), so the teams are walked by name along ix_teams_name and the walk stops after ``cut`` of them,
    # three index lookups a team (its latest round, that round's status, an action on it)
    last = aliased(Round)
    latest_id = select(last.id).where(last.team_id == Team.id).order_by(last.number.desc()).limit(1).correlate(Team)
    planned = exists().where(
        Round.id == latest_id.scalar_subquery(),
        Round.status == "reported",
        exists().where(Action.round_id == Round.id),
    )
    parts = [
        closing,
        first_by_name("failed_mail", failed.c.team_id, failed),
        select(literal("plan_no_followup"), Team.id, Team.name, *empty)
        .where(after(Team.name, Team.id), planned)
        .order_by(Team.name, Team.id)
        .limit(cut),
        first_by_name("request", asking.c.team_id, asking),
    ]
    # each part keeps its own LIMIT inside the union (a subquery each: SQLite allows no LIMIT in a compound)
    return union_all(*(select(p.subquery()) for p in parts))


def needs_attention(
    session: Session,
    now: datetime,
    *,
    after: TeamName | None = None,
    limit: int = ATTENTION_PREVIEW,
    min_rate: float = 0.5,
) -> Attention:
    """The attention points of ``team_statuses`` for every team: those of the first ``limit`` teams by name
    (after the team ``after``, for the next page), in one statement, and one to count the answers of the
    rounds closing soon when there are any.

    Each kind is read through an index (``ix_rounds_status_closes_at``, ``ix_messages_status``,
    ``ix_facilitation_requests_status``, ``ix_teams_name``) and cut at ``limit`` + 1 teams by name, so the
    cost follows what needs attention, not the size of the organisation; of the rounds closing soon, the
    ``CLOSING_CANDIDATES`` that close first are looked at. Only a team's latest round counts, as on its card.
    """
    cursor = (after.name, after.id) if after else ("", 0)
    params = {"soon": now + CLOSING_SOON, "cut": limit + 1, "after_name": cursor[0], "after_id": cursor[1]}
    rows = session.connection().execute(_attention_statement(), params).all()
    keys: dict[TeamName, set[str]] = {}
    closing = [row for row in rows if row[0] == "closing_low" and (row[2], row[1]) > cursor]
    if closing:
        own = [row[3] for row in closing if row[6] == OWN]
        counts = round_storage.own_answer_counts(session, own)
        rest = [row[3] for row in closing if row[6] != OWN]
        if rest:
            counts.update(answer_store.answer_counts(session, rest))
        for row in closing:
            if counts.get(row[3], 0) < max(row[5], row[4] * min_rate):
                keys.setdefault(TeamName(row[1], row[2]), set()).add("closing_low")
    for row in rows:
        if row[0] != "closing_low":
            keys.setdefault(TeamName(row[1], row[2]), set()).add(row[0])
    teams = sorted(keys, key=lambda team: (team.name, team.id))
    entries = [(team, key) for team in teams[:limit] for key in ATTENTION_KEYS if key in keys[team]]
    return Attention(entries, more=len(teams) > limit)


ATTENTION_KEYS = ("closing_low", "failed_mail", "plan_no_followup", "request")


def delivery(session: Session, round_id: int) -> dict[str, Any]:
    """Emails of a round by status, with the failed ones and their reasons.

    Reminders are counted but never listed by recipient: only non-respondents get one, so the list would
    tell who has not answered.
    """
    counts = dict(
        session.execute(
            select(Message.status, func.count()).where(Message.round_id == round_id).group_by(Message.status)
        ).all()
    )
    failed = session.scalars(
        select(Message)
        .where(Message.round_id == round_id, Message.status == "failed", Message.kind != "reminder")
        .order_by(Message.id)
    ).all()
    return {
        "sent": counts.get("sent", 0),
        "pending": counts.get("pending", 0),
        "failed": counts.get("failed", 0),
        "failures": [{"kind": m.kind, "recipient": m.recipient, "error": m.last_error or ""} for m in failed],
    }
