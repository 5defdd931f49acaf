"""Where each team is: its step in the toolkit, its latest round, and what needs a facilitator's attention.

Counts only: how many were invited and how many answered, never who. Read by the web app's start page and
team page (and usable from the CLI); imports neither Flask nor Celery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Integer, bindparam, exists, func, literal, select, union, union_all
from sqlalchemy.orm import Session, aliased

from pipeline.report_text import percent
from survey.data.models import Action, FacilitationRequest, Message, Round, Team
from survey.domain import answer_store

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


# What a team's status reads of its rounds (``TeamStatus.latest`` is such a row, with these attributes)
ROUND_COLUMNS = (
    Round.id,
    Round.team_id,
    Round.number,
    Round.kind,
    Round.status,
    Round.invited_count,
    Round.min_responses,
    Round.closes_at,
)

# Teams per round of statements in ``team_statuses``: callers pass a page of teams, but a longer list is cut
# into chunks, so no statement binds an unbounded number of parameters (drivers stop at 65,535); a chunk's
# round ids (about ten a team) stay in the hundreds.
CHUNK = 50


def _visible(query: Any, role: str, email: str) -> Any:
    if role == "leader":
        query = query.where(Team.leader_email == email.lower())  # ix_teams_leader_email
    return query


# What a page of teams reads of each team (the start page's cards): rows, not ORM objects
TEAM_COLUMNS = (Team.id, Team.name, Team.track, Team.leader_email)


def visible_teams(session: Session, role: str, email: str, *, limit: int | None = None, offset: int = 0) -> list[Any]:
    """The teams an account may see: a leader those whose leader email is theirs, others every team.

    By name; ``limit``/``offset`` give one page of them (``ix_teams_name`` serves the order). Rows with the
    team's ``TEAM_COLUMNS``.
    """
    query = _visible(select(*TEAM_COLUMNS), role, email).order_by(Team.name, Team.id).limit(limit).offset(offset)
    return list(session.execute(query))


def may_see_team(team: Any, role: str, email: str) -> bool:
    """The same rule as ``visible_teams`` for one team."""
    return role in ("admin", "facilitator") or (team.leader_email or "").lower() == email.lower()


@cache
def _status_statements() -> tuple[Any, Any]:
    """The statements of ``team_statuses``, built once and run with the ids of a chunk of teams."""
    teams: Any = bindparam("teams", expanding=True)
    rounds: Any = bindparam("rounds", expanding=True)
    rounds_query = select(*ROUND_COLUMNS).where(Round.team_id.in_(teams)).order_by(Round.number)
    # the three flags in one statement: a failed email (not a reminder), an open request, an action
    flags = union(
        select(literal("failed"), Round.team_id)
        .join(Message, Message.round_id == Round.id)
        .where(Round.team_id.in_(teams), Message.status == "failed", Message.kind != "reminder"),
        select(literal("request"), FacilitationRequest.team_id).where(
            FacilitationRequest.team_id.in_(teams), FacilitationRequest.status == "open"
        ),
        select(literal("action"), Action.round_id).where(Action.round_id.in_(rounds)),
    )
    return rounds_query, flags


def team_statuses(session: Session, teams: list[Any], now: datetime, min_rate: float = 0.5) -> list[TeamStatus]:
    """Step, latest round, response count and attention points for each team.

    Every statement is bounded by the teams given (a page), reached through indexes on the team and
    round ids; none reads a whole table.
    """
    if not teams:
        return []
    rounds: dict[int, list[Any]] = {t.id: [] for t in teams}
    answered: dict[int, int] = {}
    failed: set[int] = set()  # teams with a failed non-reminder email
    with_actions: set[int] = set()  # rounds with an IGLO action
    open_requests: set[int] = set()
    ids = [t.id for t in teams]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rounds_query, flags = _status_statements()
        # the columns the step, the counts and the page need, as rows: no ORM object per round
        for r in session.execute(rounds_query, {"teams": chunk}):
            rounds[r.team_id].append(r)
        latest_ids = [rounds[t][-1].id for t in chunk if rounds[t]]
        if latest_ids:
            # of the latest rounds only, the only count shown: in the round's own storage while it is open,
            # in ``responses`` once sealed (survey.domain.answer_store)
            answered.update(answer_store.answer_counts(session, latest_ids))
        round_ids = [r.id for t in chunk for r in rounds[t]]
        for kind, key in session.execute(flags, {"teams": chunk, "rounds": round_ids}):
            (failed if kind == "failed" else open_requests if kind == "request" else with_actions).add(key)
    out = []
    for team in teams:
        rs = rounds[team.id]
        latest = rs[-1] if rs else None
        status = TeamStatus(
            team=team,
            step=team_step(rs, any(r.id in with_actions for r in rs)),
            latest=latest,
            invited=latest.invited_count if latest else 0,
            responses=answered.get(latest.id, 0) if latest else 0,
        )
        if latest is not None and latest.status == "open" and latest.closes_at is not None:
            few = status.invited and status.responses < max(latest.min_responses, status.invited * min_rate)
            if latest.closes_at - now <= CLOSING_SOON and few:
                status.attention.append("closing_low")
        if team.id in failed:
            status.attention.append("failed_mail")
        if latest is not None and latest.id in with_actions and latest.status == "reported":
            status.attention.append("plan_no_followup")  # a plan agreed, but no follow-up round to check it
        if team.id in open_requests:
            status.attention.append("request")
        out.append(status)
    return out


# The start page's "needs attention" list: at most this many entries, over every team (not only the page)
ATTENTION_LIMIT = 50
# Open rounds closing soon whose answers are counted for it: open rounds close within days, so few are
CLOSING_CANDIDATES = 500


@dataclass
class Attention:
    """What needs a facilitator's attention in the whole organisation, by team name."""

    entries: list[tuple[Any, str]]  # (team row with id and name, attention key)
    more: bool  # there is more than the list shows


@cache
def _attention_statements() -> tuple[Any, Any]:
    """The statements of ``needs_attention``, built once (an alias and a union cost more to build than to run)."""
    later = aliased(Round)
    latest = ~exists().where(later.team_id == Round.team_id, later.number > Round.number)  # a team's latest round
    cut = bindparam("cut", type_=Integer)
    closing = (
        select(Round.id, Round.team_id, Round.invited_count, Round.min_responses)
        .where(Round.status == "open", Round.closes_at <= bindparam("soon"), Round.invited_count > 0, latest)
        .order_by(Round.closes_at)
        .limit(CLOSING_CANDIDATES)
    )
    parts = [
        select(literal("failed_mail"), Round.team_id)
        .join(Message, Message.round_id == Round.id)
        .where(Message.status == "failed", Message.kind != "reminder")
        .distinct()
        .limit(cut),
        # from the actions (teams with a plan), not from every reported round
        select(literal("plan_no_followup"), Round.team_id)
        .select_from(Action)
        .join(Round, Round.id == Action.round_id)
        .where(Round.status == "reported", latest)
        .distinct()
        .limit(cut),
        select(literal("request"), FacilitationRequest.team_id)
        .where(FacilitationRequest.status == "open")
        .distinct()
        .limit(cut),
    ]
    # each part keeps its own LIMIT inside the union (a subquery each: SQLite allows no LIMIT in a compound)
    return closing, union_all(*(select(p.subquery()) for p in parts))


def needs_attention(session: Session, now: datetime, min_rate: float = 0.5, limit: int = ATTENTION_LIMIT) -> Attention:
    """The attention points of ``team_statuses`` for every team, in a constant number of bounded statements.

    Each kind is read through an index and cut at ``limit`` (``ix_rounds_status_closes_at``,
    ``ix_messages_status``, ``ix_facilitation_requests_status``; the actions, then their rounds), so the
    cost follows what needs attention, not the size of the organisation. Only a team's latest round counts,
    as on its card.
    """
    closing_query, flagged = _attention_statements()
    found: dict[str, list[int]] = {}
    closing = session.execute(closing_query, {"soon": now + CLOSING_SOON}).all()
    counts = answer_store.answer_counts(session, [r.id for r in closing]) if closing else {}
    found["closing_low"] = [
        r.team_id for r in closing if counts.get(r.id, 0) < max(r.min_responses, r.invited_count * min_rate)
    ][: limit + 1]
    for key, team_id in session.execute(flagged, {"cut": limit + 1}):
        found.setdefault(key, []).append(team_id)
    more = any(len(ids) > limit for ids in found.values())
    ids = {team_id for team_ids in found.values() for team_id in team_ids[:limit]}
    if not ids:
        return Attention([], more)
    teams = {t.id: t for t in session.execute(select(Team.id, Team.name).where(Team.id.in_(ids)))}
    order = {key: n for n, key in enumerate(ATTENTION_KEYS)}
    entries = sorted(
        ((teams[team_id], key) for key, team_ids in found.items() for team_id in team_ids[:limit]),
        key=lambda entry: (entry[0].name, entry[0].id, order[entry[1]]),
    )
    return Attention(entries[:limit], more or len(entries) > limit)


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
