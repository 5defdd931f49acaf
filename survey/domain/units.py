"""Organisational units: the tree, who heads what, and the figures of a unit's overview.

The overview is read in a fixed number of queries whatever the number of teams (units, teams with their
latest reported round, pools, answers, last overview): ``tests/test_units.py`` counts them. Which figure
may be shown is decided by the pure rule in ``pipeline.unit_disclosure``; this module only fetches the
rows and stores the pools the rule forms (a pool is frozen from the moment it could have been seen).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline import unit_disclosure as rule
from pipeline.scoring import band_of, scored
from survey.content.model import Content, Instrument
from survey.data.models import Response, Round, RoundResultRow, Team, Unit, UnitPool, UnitPoolRound
from survey.domain.teams import check_email
from survey.domain.validation import NAME_MAX, clean_text
from survey.errors import NotFound, Text, UserError

if TYPE_CHECKING:
    from pipeline.unit_render import OverviewPage
    from survey.runtime import Runtime

STALE_DAYS = 365  # a team whose last round is older than this is flagged "not measured for a year"
CHUNK = 1000  # round ids per statement where a list of them is bound


def add_unit(session: Session, name: str, parent_id: int | None = None, head_email: str | None = None) -> Unit:
    """Create a unit under ``parent_id`` (None: a top unit) and commit it."""
    # shown on pages and in PDFs: one line, no control or direction characters (survey.domain.validation)
    name = clean_text(name, "unit name", max_len=NAME_MAX)
    if parent_id is not None and session.get(Unit, parent_id) is None:
        raise NotFound(Text("unit %(parent_id)s does not exist", parent_id=parent_id))
    unit = Unit(
        name=name, parent_id=parent_id, head_email=check_email(head_email, "head email") if head_email else None
    )
    session.add(unit)
    session.commit()
    return unit


def get_unit(session: Session, unit_id: int) -> Unit:
    """The unit, or NotFound."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(Text("unit %(unit_id)s does not exist", unit_id=unit_id))
    return unit


def tree(session: Session) -> dict[int, int | None]:
    """Every unit's parent, in one query (a municipality has a few hundred units)."""
    return {r.id: r.parent_id for r in session.execute(select(Unit.id, Unit.parent_id))}


def subtree_ids(session: Session, unit_id: int) -> list[int]:
    """The unit and every unit below it, parents first."""
    get_unit(session, unit_id)
    return rule.subtree(rule.children_of(tree(session)), unit_id)


def units_headed_by(session: Session, email: str) -> list[Unit]:
    """The units whose head email is ``email`` (case-insensitive), for the unit-head account scope.

    A head sees these units and every unit below them (``visible_units``), and their teams' aggregate
    figures only; never a team's detailed report unless they lead that team.
    """
    return list(session.scalars(select(Unit).where(Unit.head_email == email.strip().lower()).order_by(Unit.id)).all())


def visible_units(session: Session, email: str) -> set[int]:
    """Every unit a head may see: the units they head and all units below them."""
    children = rule.children_of(tree(session))
    seen: set[int] = set()
    for unit in units_headed_by(session, email):
        seen.update(rule.subtree(children, unit.id))
    return seen


# -- the overview ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    """One team in the overview, with only the figures the rule allows."""

    id: int
    name: str
    unit_id: int
    round_id: int | None
    kind: str | None  # baseline | followup of the latest reported round
    has_rounds: bool
    last_round_at: datetime | None
    invited: int
    responses: int
    suppressed: bool  # the latest reported round is below its k: no figure of this team anywhere
    pillars: dict[str, float | None] | None  # None: no figure may be shown
    pool_id: str | None
    in_unit_figure: bool
    instrument: Instrument | None = None  # of the latest reported round; None when there is none
    change: TeamChange | None = None  # since the team's previous measurement; None: nothing to compare


@dataclass(frozen=True)
class TeamChange:
    """A team's change since its own previous measurement: its latest reported round that reached its k
    before the one shown, measured with the same instrument. Both rounds are atoms of their own (each
    reached k), so the difference reveals nothing the team's two reports do not."""

    since_round_id: int
    since_number: int
    n_then: int
    n_now: int
    then: dict[str, float | None]  # pillar means of the previous measurement
    delta: dict[str, float | None]  # pillar key -> now minus then (None where either has no figure)


@dataclass(frozen=True)
class PoolRow:
    """An "other teams" cell shown on the overview: its unit, how many teams and answers, its figures."""

    id: str
    unit_id: int
    teams: int
    respondents: int
    pillars: dict[str, float | None]


@dataclass(frozen=True)
class UnitChange:
    """The change of the teams of the unit figure that have a previous measurement: their latest rounds
    summed, against their previous measurements summed (exact sums; every part reached k)."""

    teams: int
    n_now: int
    n_then: int
    delta: dict[str, float | None]


@dataclass(frozen=True)
class Overview:
    """Plain values for ``unit show`` and the overview page/PDF; every figure has passed the rule."""

    unit_id: int
    name: str
    parent_id: int | None
    unit_names: dict[int, str]
    instrument: Instrument
    teams: list[TeamRow]
    pools: list[PoolRow]
    pillars: dict[str, float | None] | None
    respondents: int
    excluded_respondents: int
    k: int
    change: UnitChange | None = None  # the unit's teams against their own previous measurements

    @property
    def teams_suppressed(self) -> int:
        """How many teams' latest reported round is below its k (shown with counts only)."""
        return sum(1 for t in self.teams if t.suppressed)


def build_overview(content: Content, session: Session, unit_id: int, k: int) -> Overview:
    """Read the unit's subtree, apply the disclosure rule, store any new pool, and return the figures."""
    for _attempt in range(3):
        try:
            return _build(content, session, unit_id, k)
        except IntegrityError:
            # another request froze a pool holding one of these rounds first: read again and use theirs
            session.rollback()
    raise UserError(Text("unit %(unit_id)s: the overview could not be computed, try again", unit_id=unit_id))


def _build(content: Content, session: Session, unit_id: int, k: int) -> Overview:
    rows = session.execute(select(Unit.id, Unit.parent_id, Unit.name)).all()
    parent = {r.id: r.parent_id for r in rows}
    names = {r.id: r.name for r in rows}
    if unit_id not in parent:
        raise NotFound(Text("unit %(unit_id)s does not exist", unit_id=unit_id))
    units = rule.subtree(rule.children_of(parent), unit_id)
    instrument = content.instrument()

    latest = (
        select(Round.team_id, func.max(Round.number).label("number"))
        .where(Round.status == "reported")
        .group_by(Round.team_id)
        .subquery()
    )
    counts = select(Round.team_id, func.count().label("n")).group_by(Round.team_id).subquery()
    team_rows = session.execute(
        select(
            Team.id,
            Team.name,
            Team.unit_id,
            Round.id.label("round_id"),
            Round.kind,
            Round.min_responses,
            Round.invited_count,
            Round.instrument,
            Round.closed_at,
            RoundResultRow.responses,
            RoundResultRow.result,
            func.coalesce(counts.c.n, 0).label("rounds"),
        )
        .outerjoin(latest, latest.c.team_id == Team.id)
        .outerjoin(Round, (Round.team_id == Team.id) & (Round.number == latest.c.number))
        .outerjoin(RoundResultRow, RoundResultRow.round_id == Round.id)
        .outerjoin(counts, counts.c.team_id == Team.id)
        .where(Team.unit_id.in_(units))
        .order_by(Team.name, Team.id)
    ).all()
    cells = [
        rule.TeamCell(
            r.id,
            r.unit_id,
            r.round_id,
            r.responses or 0,
            r.min_responses or k,
            comparable=r.instrument == instrument.name,
        )
        for r in team_rows
    ]
    # the same rounds as a subquery, not an id list: the top unit of a municipality has 10,000 of them
    latest_rounds = (
        select(Round.id)
        .join(latest, (latest.c.team_id == Round.team_id) & (latest.c.number == Round.number))
        .join(Team, Team.id == Round.team_id)
        .where(Team.unit_id.in_(units))
    )
    stored = _stored_pools(session, units, latest_rounds)
    plan = rule.plan_disclosure(parent, unit_id, cells, stored, k)
    pools = list(plan.live_pools)
    if plan.new_pools:
        pools = [p for p in pools if p.id is not None] + _freeze(session, plan.new_pools)

    wanted = set(plan.shown_rounds) | {r for p in pools for r in p.round_ids}
    instruments = {r.round_id: content.instrument(r.instrument) for r in team_rows if r.round_id in wanted}
    results = {r.round_id: r.result for r in team_rows if r.round_id in wanted}
    # each shown team's previous measurement (same instrument), summed in the same pass as the latest rounds
    latest_of = {r.id: (r.round_id, r.instrument) for r in team_rows}
    before = {
        p.team_id: p
        for p in _previous_measurements(session, units, latest)
        if latest_of[p.team_id][0] in plan.shown_rounds and latest_of[p.team_id][1] == p.instrument
    }
    instruments.update({p.id: content.instrument(p.instrument) for p in before.values()})
    results.update({p.id: p.result for p in before.values()})
    sums = _round_sums(session, instruments, results)
    keys = [p.key for p in instrument.pillars]
    pool_of = {r: p for p in pools for r in p.round_ids}
    in_unit_rounds, unit_pools = plan.unit_atoms[unit_id]
    in_figure = set(in_unit_rounds) | {r for p in unit_pools for r in p.round_ids}

    teams = []
    for r in team_rows:
        shown = r.round_id in plan.shown_rounds
        own_keys = [p.key for p in instruments[r.round_id].pillars] if shown else []
        pool = pool_of.get(r.round_id)
        pillars = rule.means(sums[r.round_id], own_keys) if shown else None
        prev = before.get(r.id)
        teams.append(
            TeamRow(
                id=r.id,
                name=r.name,
                unit_id=r.unit_id,
                round_id=r.round_id,
                kind=r.kind,
                has_rounds=r.rounds > 0,
                last_round_at=r.closed_at,
                invited=r.invited_count or 0,
                responses=r.responses or 0,
                suppressed=r.round_id is not None and not shown,
                pillars=pillars,
                pool_id=pool.id if pool else None,
                in_unit_figure=r.round_id in in_figure,
                instrument=content.instruments.get(r.instrument) if r.instrument else None,
                change=_team_change(prev, sums, pillars, r.responses or 0, own_keys) if prev and pillars else None,
            )
        )
    pool_rows = [
        PoolRow(
            id=p.id or "",
            unit_id=p.unit_id,
            teams=len(p.round_ids),
            respondents=sum(sums[r].n for r in p.round_ids),
            pillars=rule.means(rule.combine(sums[r] for r in p.round_ids), keys),
        )
        for p in pools
        if p.unit_id in set(units)
    ]
    unit_sums = rule.combine(sums[r] for r in in_figure)
    # the unit's change: its own-figure teams that have a previous measurement, now against then
    compared = [t for t in teams if t.change is not None and t.round_id in in_unit_rounds]
    change = None
    if compared:
        now_sums = rule.combine(sums[t.round_id] for t in compared if t.round_id is not None)
        then_sums = rule.combine(sums[t.change.since_round_id] for t in compared if t.change is not None)
        change = UnitChange(
            teams=len(compared),
            n_now=now_sums.n,
            n_then=then_sums.n,
            delta=_delta(rule.means(now_sums, keys), rule.means(then_sums, keys)),
        )
    excluded = sum(r.responses or 0 for r in team_rows if r.round_id is not None and r.round_id not in in_figure)
    return Overview(
        unit_id=unit_id,
        name=names[unit_id],
        parent_id=parent[unit_id],
        unit_names={u: names[u] for u in units},
        instrument=instrument,
        teams=teams,
        pools=pool_rows,
        pillars=rule.means(unit_sums, keys) if unit_sums.n else None,
        respondents=unit_sums.n,
        excluded_respondents=excluded,
        k=k,
        change=change,
    )


def _stored_pools(session: Session, units: list[int], round_ids: Select[Any]) -> list[rule.Pool]:
    """Pools anchored in the subtree or holding one of its teams' latest rounds (``round_ids``, a
    subquery), with all their rounds."""
    touching = select(UnitPoolRound.pool_id).where(UnitPoolRound.round_id.in_(round_ids))
    rows = session.execute(
        select(UnitPool.id, UnitPool.unit_id, UnitPoolRound.round_id)
        .join(UnitPoolRound, UnitPoolRound.pool_id == UnitPool.id)
        .where(or_(UnitPool.unit_id.in_(units), UnitPool.id.in_(touching)))
    ).all()
    members: dict[tuple[str, int], set[int]] = {}
    for r in rows:
        members.setdefault((r.id, r.unit_id), set()).add(r.round_id)
    return [rule.Pool(unit, frozenset(rounds), pid) for (pid, unit), rounds in sorted(members.items())]


def _freeze(session: Session, pools: tuple[rule.Pool, ...]) -> list[rule.Pool]:
    """Store new pools before any figure of them is shown (two statements, whatever the number)."""
    from survey.data.models import random_id, utcnow

    frozen = [rule.Pool(p.unit_id, p.round_ids, random_id()) for p in pools]
    session.execute(insert(UnitPool), [{"id": p.id, "unit_id": p.unit_id, "created_at": utcnow()} for p in frozen])
    session.execute(
        insert(UnitPoolRound), [{"round_id": r, "pool_id": p.id} for p in frozen for r in sorted(p.round_ids)]
    )
    session.commit()
    return frozen


def _round_sums(
    session: Session, instruments: dict[int, Instrument], stored: dict[int, dict[str, Any] | None]
) -> dict[int, rule.Sums]:
    """Exact scored sums per pillar for the given rounds (one query whatever their number).

    A round that reached k has its answer counts per item and scale point stored with its aggregate,
    which gives the exact sums without reading its answer sets; only the rounds below k (pooled) are
    summed from their stored answer sets.
    """
    out: dict[int, rule.Sums] = {}
    for round_id, ins in instruments.items():
        sums = _sums_from_distributions(ins, stored.get(round_id))
        if sums is not None:
            out[round_id] = sums
    rest = [r for r in instruments if r not in out]
    acc: dict[int, dict[str, list[int]]] = {r: {} for r in rest}
    n = dict.fromkeys(rest, 0)
    specs = {
        r: [
            (i.key, i.pillar, i.reverse, instruments[r].scale_min, instruments[r].scale_max)
            for i in instruments[r].items
        ]
        for r in rest
    }
    # always run, even for no round, so the number of statements is the same for every unit; in chunks,
    # so no statement binds more than CHUNK ids (the rounds below k of a municipality are thousands)
    rows = (
        row
        for start in range(0, max(len(rest), 1), CHUNK)
        for row in session.execute(
            select(Response.round_id, Response.answers).where(
                Response.round_id.in_(rest[start : start + CHUNK]), Response.filled
            )
        )
    )
    for round_id, answers in rows:
        n[round_id] += 1
        pillars = acc[round_id]
        for key, pillar, reverse, lo, hi in specs[round_id]:
            slot = pillars.setdefault(pillar, [0, 0])
            slot[0] += scored(answers[key], reverse, lo, hi)
            slot[1] += 1
    out.update({r: rule.Sums(n[r], {p: (s, c) for p, (s, c) in acc[r].items()}) for r in rest})
    return out


def _sums_from_distributions(ins: Instrument, result: dict[str, Any] | None) -> rule.Sums | None:
    """The exact sums from a stored aggregate's per-item answer counts; None when it has none (below k)."""
    if not result or result.get("suppressed"):
        return None
    items = {i["key"]: i for i in result.get("items", [])}
    acc: dict[str, list[int]] = {}
    for item in ins.items:
        dist = (items.get(item.key) or {}).get("distribution")
        if not dist:
            return None
        slot = acc.setdefault(item.pillar, [0, 0])
        for offset, count in enumerate(dist):
            slot[0] += count * scored(ins.scale_min + offset, item.reverse, ins.scale_min, ins.scale_max)
            slot[1] += count
    return rule.Sums(int(result["responses"]), {p: (s, c) for p, (s, c) in acc.items()})


@dataclass(frozen=True)
class _Previous:
    team_id: int
    id: int
    number: int
    instrument: str
    responses: int
    result: dict[str, Any] | None


def _previous_measurements(session: Session, units: list[int], latest: Any) -> list[_Previous]:
    """For each team of ``units``, its newest reported round before its latest (``latest``: team id ->
    number of the latest reported round) that reached its own k: the team's previous measurement. What
    anyone viewed or downloaded plays no part (PRODUCT.md: viewing or downloading never moves a baseline)."""
    reached = (
        select(Round.team_id, func.max(Round.number).label("number"))
        .join(RoundResultRow, RoundResultRow.round_id == Round.id)
        .join(latest, latest.c.team_id == Round.team_id)
        .join(Team, Team.id == Round.team_id)
        .where(
            Team.unit_id.in_(units),
            Round.status == "reported",
            Round.number < latest.c.number,
            RoundResultRow.responses >= Round.min_responses,
        )
        .group_by(Round.team_id)
        .subquery()
    )
    rows = session.execute(
        select(Round.team_id, Round.id, Round.number, Round.instrument, RoundResultRow.responses, RoundResultRow.result)
        .join(reached, (reached.c.team_id == Round.team_id) & (reached.c.number == Round.number))
        .join(RoundResultRow, RoundResultRow.round_id == Round.id)
    ).all()
    return [_Previous(r.team_id, r.id, r.number, r.instrument, r.responses, r.result) for r in rows]


def _delta(now: dict[str, float | None], then: dict[str, float | None]) -> dict[str, float | None]:
    """Pillar key -> the difference of the two shown means (None where either is missing)."""
    from pipeline.scoring import round_half_up

    out: dict[str, float | None] = {}
    for key, a in now.items():
        b = then.get(key)
        out[key] = round_half_up(Decimal(str(a)) - Decimal(str(b))) if a is not None and b is not None else None
    return out


def _team_change(
    prev: _Previous, sums: dict[int, rule.Sums], now: dict[str, float | None], n_now: int, keys: list[str]
) -> TeamChange:
    then = rule.means(sums[prev.id], keys)
    return TeamChange(prev.id, prev.number, sums[prev.id].n, n_now, then, _delta(now, then))


def unit_page(rt: Runtime, session: Session, unit_id: int, lang: str = "da", page: int = 1) -> OverviewPage:
    """The unit's overview for the web page (the same body as the PDF), one page of rows at a time
    (``pipeline.unit_render.ROWS_PER_PAGE``).

    The caller checks access first: a facilitator or admin, or a unit head for whom
    ``unit_id in visible_units(session, email)``.
    """
    from pipeline.unit_render import overview_page

    overview = build_overview(rt.content, session, unit_id, rt.config["MIN_RESPONSES"])
    return overview_page(overview, rt.content, lang, rt.tz, page)


def unit_report(
    rt: Runtime, session: Session, unit_id: int, lang: str = "da", on_layout: Callable[[], None] | None = None
) -> tuple[bytes, int]:
    """The unit's overview as PDF bytes and its page count (``tryghed unit report`` and the web app's
    download). Making it stores nothing that a later overview reads: the change it shows is each team's
    since its own previous measurement, the same whoever asked for it and however often.

    ``on_layout`` is called once the figures are ready and the layout (most of the time) begins.
    """
    from pipeline.unit_render import overview_pdf

    ov = build_overview(rt.content, session, unit_id, rt.config["MIN_RESPONSES"])
    if on_layout is not None:
        on_layout()
    return overview_pdf(ov, rt.content, lang, rt.tz)


def units_for(session: Session, email: str, *, sees_all: bool) -> list[Unit]:
    """The units an account may open: all of them for facilitators and admins, otherwise the units the
    account heads and everything below them (``visible_units``), in tree order by name."""
    query = select(Unit).order_by(Unit.name, Unit.id)
    if not sees_all:
        query = query.where(Unit.id.in_(visible_units(session, email)))
    return list(session.scalars(query))


def may_see_unit(session: Session, unit_id: int, email: str, *, sees_all: bool) -> bool:
    """Whether an account may open a unit's overview (it must exist, and be headed by it or below)."""
    if session.get(Unit, unit_id) is None:
        return False
    return sees_all or unit_id in visible_units(session, email)


def show_unit(content: Content, session: Session, unit_id: int, k: int) -> dict[str, Any]:
    """The contract's ``unit show`` object (plus pools and counts that help read it)."""
    ov = build_overview(content, session, unit_id, k)

    def figure(
        values: dict[str, float | None] | None, n: int | None = None, own: Instrument | None = None
    ) -> list[dict[str, Any]] | None:
        if values is None:
            return None
        out = []
        scale = (own or ov.instrument).bands  # a team on another instrument is banded by its own
        for key, mean in values.items():
            row: dict[str, Any] = {"key": key, "mean": mean, "band": band_of(mean, scale) if mean is not None else None}
            if n is not None:
                row["n"] = n
            out.append(row)
        return out

    return {
        "id": ov.unit_id,
        "name": ov.name,
        "parent_id": ov.parent_id,
        "teams": [
            {
                "id": t.id,
                "name": t.name,
                "unit_id": t.unit_id,
                "round_id": t.round_id,
                "invited": t.invited,
                "responses": t.responses,
                "suppressed": t.suppressed,
                "pillars": figure(t.pillars, own=t.instrument),
                "pool_id": t.pool_id,
                "change": _change_json(t.change.delta, t.change.n_now, t.change.n_then, since=t.change.since_round_id)
                if t.change
                else None,
            }
            for t in ov.teams
        ],
        "pillars": figure(ov.pillars, ov.respondents),
        "respondents": ov.respondents,
        "teams_suppressed": ov.teams_suppressed,
        "pools": [
            {
                "id": p.id,
                "unit_id": p.unit_id,
                "teams": p.teams,
                "respondents": p.respondents,
                "pillars": figure(p.pillars, p.respondents),
            }
            for p in ov.pools
        ],
        "excluded_respondents": ov.excluded_respondents,
        "min_responses": ov.k,
        "change": _change_json(ov.change.delta, ov.change.n_now, ov.change.n_then, teams=ov.change.teams)
        if ov.change
        else None,
    }


def _change_json(delta: dict[str, float | None], n_now: int, n_then: int, **about: int) -> dict[str, Any]:
    """A change as ``unit show`` gives it: each pillar's difference and whether chance can explain it."""
    from pipeline.trend import within_chance

    return {
        **about,
        "n_now": n_now,
        "n_then": n_then,
        "pillars": [
            {"key": k, "delta": d, "unchanged": d is None or within_chance(d, n_now, n_then)} for k, d in delta.items()
        ],
    }
