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
    literal_column,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from pipeline.report_text import percent
from survey.data.models import Action, FacilitationRequest, Message, Response, Round, Team
from survey.data.plans import constant, plan_once
from survey.data.tables import OWN
from survey.domain import answer_store, round_storage

STEPS = ("faelles_viden", "tag_temperaturen", "det_goer_vi", "vi_holder_fast")
NOT_STARTED = ("draft", "scheduled")  # a round in these states has not been opened yet
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


def step_of(started: bool, followup: bool, baseline_reported: bool, has_actions: bool) -> str:
    """The toolkit step a team is in: no round opened yet, step 1 (shared knowledge); the baseline running,
    step 2; the baseline reported (or a plan made) and no follow-up yet, step 3 (the debrief and the plan);
    a follow-up round exists, step 4 (holding on)."""
    if not started:
        return "faelles_viden"
    if followup:
        return "vi_holder_fast"
    if baseline_reported or has_actions:
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
def _statuses_statement(scope: str, lateral: bool, limit: int = 0) -> Any:
    """The one statement behind a list of statuses, built once: one row per team (``scope`` "ids": those
    given; "all": a page of every team by name; "leader": a page of a leader's teams by name) with its
    latest round, what its step needs (whether a round has started, whether there is a follow-up, the
    baseline's status, whether any round has an action), whether its latest round has an action, whether any
    email of it failed (not a reminder), whether a request is open, and the answer count of a latest round
    sealed into ``responses``.

    A row per team whatever its number of rounds, each part read through an index on a team or round id
    (``ix_teams_name`` for the page), so the cost follows the page, not the organisation or the history; a
    page's teams are a subquery, not a list of ids. The latest round is a LATERAL subquery on PostgreSQL,
    which otherwise hashes the whole ``rounds`` table once it holds some ten thousand rows, and the round
    with the team's highest number on SQLite (no LATERAL; the maximum is read off ``(team_id, number)``).
    Fixed values are written into the text (``survey.data.plans``): PostgreSQL plans it once per connection.
    A page's size (``limit``) is one of them: with the size a parameter, the one plan expected a tenth of all
    teams on a page and read every round of the organisation in a hash instead of a team's through its index.
    """
    teams = select(*TEAM_COLUMNS)
    if scope == "ids":
        teams = teams.where(Team.id.in_(bindparam("ids", expanding=True)))
    else:
        if scope == "leader":
            teams = teams.where(Team.leader_email == bindparam("email"))  # ix_teams_leader_email
        teams = teams.order_by(Team.name, Team.id).limit(constant(limit)).offset(bindparam("offset"))
    page = teams.subquery("page")
    team_columns = [page.c[name] for name in TeamRow._fields]
    latest_columns = [*ROUND_COLUMNS, Round.answer_storage]
    if lateral:
        newest = (
            select(*latest_columns).where(Round.team_id == page.c.id).order_by(Round.number.desc()).limit(constant(1))
        ).lateral("latest")
        query = select(*team_columns, *newest.c).select_from(page).outerjoin(newest, true())
        latest = newest.c
    else:
        numbered = aliased(Round)
        top = select(func.max(numbered.number)).where(numbered.team_id == page.c.id).scalar_subquery()
        query = (
            select(*team_columns, *latest_columns)
            .select_from(page)
            .outerjoin(Round, and_(Round.team_id == page.c.id, Round.number == top))
        )
        latest = Round.__table__.c
    any_round = aliased(Round)
    of_team = any_round.team_id == page.c.id
    sealed = func.coalesce(latest.answer_storage, constant("")) != constant(OWN)
    sealed_count = select(func.count()).where(Response.round_id == latest.id).scalar_subquery()
    baseline = select(any_round.status).where(of_team).order_by(any_round.number).limit(constant(1)).scalar_subquery()

    def any_of(*conditions: Any) -> Any:
        # whether some row meets ``conditions``, looked up per team of the page; on PostgreSQL behind OFFSET 0,
        # which keeps the planner from answering it with a hash of every matching row in the organisation:
        # the one plan (survey.data.plans) did that for a page of 26 teams, 1.3 ms at 10,000 teams and growing
        probe: Any = select(literal_column("1")).where(*conditions)
        return (probe.offset(constant(0)) if lateral else probe).exists()

    return query.add_columns(
        any_of(Action.round_id == latest.id).label("latest_action"),
        case((sealed, sealed_count)).label("sealed_count"),
        any_of(
            of_team,
            or_(any_round.status.not_in([constant(s) for s in NOT_STARTED]), any_round.kind == constant("followup")),
        ).label("started"),
        any_of(of_team, any_round.kind == constant("followup")).label("followup"),
        (baseline == constant("reported")).label("baseline_reported"),
        any_of(of_team, any_of(Action.round_id == any_round.id)).label("any_action"),
        any_of(
            of_team,
            any_of(
                Message.round_id == any_round.id,
                Message.status == constant("failed"),
                Message.kind != constant("reminder"),
            ),
        ).label("failed_mail"),
        any_of(FacilitationRequest.team_id == page.c.id, FacilitationRequest.status == constant("open")).label(
            "open_request"
        ),
    ).order_by(page.c.name, page.c.id)


# where the parts of a row of ``_statuses_statement`` are: the team's columns, its latest round's, that
# round's answer storage, then the flags and counts
_ROUND_AT = len(TeamRow._fields)
_ROUND_END = _ROUND_AT + len(RoundRow._fields)


def _read_statuses(
    session: Session, scope: str, params: dict[str, Any], now: datetime, min_rate: float, limit: int = 0
) -> dict[int, TeamStatus]:
    """Statuses by team id, in the statement's order: the statement, and the answer counts of the latest
    rounds still in their own storage (one more statement when there are any)."""
    # Core on the session's connection: the same transaction, without the ORM's per-statement work
    connection = session.connection()
    if scope != "ids":  # a page of teams: planned once per connection, not per page (survey.data.plans)
        plan_once(connection)
    statement = _statuses_statement(scope, connection.dialect.name == "postgresql", limit)
    found: list[tuple[TeamRow, RoundRow | None, Any]] = []
    answered: dict[int, int] = {}
    own: list[int] = []  # latest rounds whose answers are still in their own tables (open rounds)
    for row in connection.execute(statement, params):
        # by position: a Row's attributes cost more than the rest of this loop
        latest = RoundRow(*row[_ROUND_AT:_ROUND_END]) if row[_ROUND_AT] is not None else None
        flags = row[_ROUND_END + 1 :]
        found.append((TeamRow(*row[:_ROUND_AT]), latest, flags))
        if latest is not None:
            if flags[1] is not None:
                answered[latest.id] = int(flags[1])
            elif row[_ROUND_END] == OWN:
                own.append(latest.id)
    if own:
        answered.update(round_storage.own_answer_counts(session, own))
    return {team.id: _status(team, latest, flags, answered, now, min_rate) for team, latest, flags in found}


def _status(
    team: TeamRow, latest: RoundRow | None, flags: Any, answered: dict[int, int], now: datetime, min_rate: float
) -> TeamStatus:
    """One team's status from its row: the latest round and the flags of ``_statuses_statement``."""
    latest_action, _count, started, followup, baseline_reported, any_action, failed, open_request = flags
    status = TeamStatus(
        team=team,
        step=step_of(bool(started), bool(followup), bool(baseline_reported), bool(any_action)),
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
    if latest is not None and latest_action and latest.status == "reported":
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
            _read_statuses(session, "leader", {"email": email.lower(), "offset": offset}, now, min_rate, limit).values()
        )
    return list(_read_statuses(session, "all", {"offset": offset}, now, min_rate, limit).values())


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
def _attention_statement(cut: int) -> Any:
    """The statement of ``needs_attention``, built once per ``cut`` (an alias and a union cost more to build
    than to run): the open latest rounds closing soon (with what their count needs), and the teams of each
    flag, every part with the team's name and cut at its own limit. The limits are written into the text,
    like the fixed values, for the plan PostgreSQL makes once (``survey.data.plans``)."""
    later = aliased(Round)
    latest = ~exists().where(later.team_id == Round.team_id, later.number > Round.number)  # a team's latest round

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
        .where(
            Round.status == constant("open"),
            Round.closes_at <= bindparam("soon"),
            Round.invited_count > constant(0),
            latest,
        )
        .order_by(Round.closes_at)
        .limit(constant(CLOSING_CANDIDATES))
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
        return query.order_by(name, team_id).limit(constant(cut))

    # a failed email (not a reminder) and an open request are rare states to put right: every team with one
    # is read through the state's index and sorted by name
    failed = (
        select(Round.team_id)
        .join(Message, Message.round_id == Round.id)
        .where(Message.status == constant("failed"), Message.kind != constant("reminder"))
        .distinct()
        .subquery()
    )
    asking = (
        select(FacilitationRequest.team_id).where(FacilitationRequest.status == constant("open")).distinct().subquery()
    )
    # a plan on the latest round, which has been reported: common (every team between its debrief and its
    # follow-up), so the teams are walked by name along ix_teams_name and the walk stops after ``cut`` of them,
    # three index lookups a team (its latest round, that round's status, an action on it)
    last = aliased(Round)
    latest_id = (
        select(last.id).where(last.team_id == Team.id).order_by(last.number.desc()).limit(constant(1)).correlate(Team)
    )
    planned = exists().where(
        Round.id == latest_id.scalar_subquery(),
        Round.status == constant("reported"),
        exists().where(Action.round_id == Round.id),
    )
    parts = [
        closing,
        first_by_name("failed_mail", failed.c.team_id, failed),
        select(literal("plan_no_followup"), Team.id, Team.name, *empty)
        .where(after(Team.name, Team.id), planned)
        .order_by(Team.name, Team.id)
        .limit(constant(cut)),
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
    params = {"soon": now + CLOSING_SOON, "after_name": cursor[0], "after_id": cursor[1]}
    connection = session.connection()
    plan_once(connection)  # planned once per connection, not per page (survey.data.plans)
    rows = connection.execute(_attention_statement(limit + 1), params).all()
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
