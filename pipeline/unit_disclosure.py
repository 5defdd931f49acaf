"""Which figures a unit overview may show, across the whole tree of units and over time.

Pure functions over plain values: no Flask, no Celery, no database. ``docs/privacy.md`` states the rule
and its proof; in short, every figure shown anywhere (a team's, an "other teams" pool's, a unit's) is a
sum over whole **atoms**, and every atom holds at least k respondents:

- a team's latest reported round that reached its own k is an atom of its own (its figure is shown);
- rounds below k are pooled into an "other teams" atom at the lowest unit where the pooled respondents
  reach k (the pool's threshold is the largest k of the installation and of its rounds). A pool is
  **frozen** once created: its rounds never join another pool. While every one of its rounds is still
  its team's latest, the pool is *live* and counted; otherwise it is dead and its remaining rounds are
  counted nowhere (until their teams measure again);
- a unit's figure is the sum of the atoms that lie wholly inside its subtree: its teams' own figures and
  the live pools anchored at the unit or below it. A small team whose pool is anchored higher up adds to
  no figure of the lower units.

Any linear combination of the figures (sums = mean x n, and counts) is then constant on each atom, so the
sum over a group of respondents can be recovered only when the group is a union of whole atoms, i.e.
holds at least k people. Atoms never change once formed (a round's figure is fixed at close; pools are
frozen), so this holds across all overviews ever shown, not only on one page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pipeline.scoring import round_half_up

MIN_TEAMS_FOR_RANK = 5  # fewer teams with figures than this: a rank says more about chance than the team


@dataclass(frozen=True)
class TeamCell:
    """A team's latest reported round, as far as disclosure is concerned."""

    team_id: int
    unit_id: int
    round_id: int | None  # None: the team has no reported round yet
    n: int  # respondents of that round
    k: int  # the round's own threshold (fixed when it opened)
    comparable: bool = True  # measured with the instrument the unit figures are made of


@dataclass(frozen=True)
class Pool:
    """An "other teams" atom anchored at ``unit_id``; ``id`` is None until it is stored."""

    unit_id: int
    round_ids: frozenset[int]
    id: str | None = None


@dataclass(frozen=True)
class Plan:
    """What may be shown, for every unit of the (sub)tree the plan was made for."""

    shown_rounds: frozenset[int]  # rounds whose team figure is shown
    live_pools: tuple[Pool, ...]  # stored pools still counted, and the new ones
    new_pools: tuple[Pool, ...]  # pools this plan forms (to be stored before anything is shown)
    # unit id -> (rounds with own figure, pools) whose sum is the unit's figure
    unit_atoms: dict[int, tuple[frozenset[int], tuple[Pool, ...]]] = field(default_factory=dict)
    excluded_rounds: frozenset[int] = frozenset()  # below k and in no live pool: counted in no figure


def subtree(children: Mapping[int, Sequence[int]], root: int) -> list[int]:
    """``root`` and every unit below it, parents before children."""
    out, stack = [], [root]
    while stack:
        unit = stack.pop()
        out.append(unit)
        stack.extend(reversed(children.get(unit, ())))
    return out


def children_of(parent: Mapping[int, int | None]) -> dict[int, list[int]]:
    """The tree as unit id -> child unit ids (sorted, so that plans are deterministic)."""
    children: dict[int, list[int]] = {}
    for unit, up in sorted(parent.items()):
        if up is not None:
            children.setdefault(up, []).append(unit)
    return children


def plan_disclosure(
    parent: Mapping[int, int | None],
    root: int,
    teams: Iterable[TeamCell],
    pools: Iterable[Pool],
    k: int,
) -> Plan:
    """Decide the atoms of the subtree under ``root``.

    ``parent`` maps every unit of the tree to its parent; ``teams`` are the teams of the subtree; ``pools``
    are the stored pools that hold any round of those teams or are anchored in the subtree; ``k`` is the
    installation's threshold (pools must reach it and each member round's own k).
    """
    children = children_of(parent)
    units = subtree(children, root)
    inside = set(units)
    cells = [t for t in teams if t.round_id is not None and t.unit_id in inside]
    latest = {t.round_id: t for t in cells}
    shown = frozenset(t.round_id for t in cells if t.round_id is not None and t.n >= t.k)

    # A stored pool is live when every one of its rounds is still its team's latest and small, lies under
    # the pool's unit, and the pool still reaches the threshold. Its rounds are taken either way.
    locked: set[int] = set()
    live: list[Pool] = []
    for pool in pools:
        locked |= pool.round_ids
        members = [latest.get(r) for r in pool.round_ids]
        if pool.unit_id not in inside or any(m is None for m in members):
            continue
        real = [m for m in members if m is not None]
        under = set(subtree(children, pool.unit_id))
        if all(m.unit_id in under and m.n < m.k and m.comparable for m in real) and _reaches(real, k):
            live.append(pool)

    # New pools, bottom-up: at each unit, the small rounds not yet in any pool (its own and those handed up
    # by its children) become one pool as soon as they reach the threshold together.
    small: dict[int, list[TeamCell]] = {}
    for t in cells:
        if t.round_id not in shown and t.round_id not in locked and t.comparable:
            small.setdefault(t.unit_id, []).append(t)
    handed_up: dict[int, list[TeamCell]] = {}
    new: list[Pool] = []
    for unit in reversed(units):  # children before parents
        candidates = small.get(unit, []) + handed_up.pop(unit, [])
        if not candidates:
            continue
        if _reaches(candidates, k):
            new.append(Pool(unit, frozenset(t.round_id for t in candidates if t.round_id is not None)))
        elif unit != root and (up := parent.get(unit)) is not None:
            handed_up.setdefault(up, []).extend(candidates)
    all_pools = tuple(sorted(live, key=_pool_order) + sorted(new, key=_pool_order))

    pooled = {r for p in all_pools for r in p.round_ids}
    excluded = frozenset(
        t.round_id for t in cells if t.round_id is not None and t.round_id not in shown and t.round_id not in pooled
    )
    # Each unit's figure: the shown comparable rounds of its subtree and the pools anchored in it.
    unit_atoms: dict[int, tuple[frozenset[int], tuple[Pool, ...]]] = {}
    by_unit: dict[int, list[TeamCell]] = {}
    for t in cells:
        by_unit.setdefault(t.unit_id, []).append(t)
    pools_at: dict[int, list[Pool]] = {}
    for pool in all_pools:
        pools_at.setdefault(pool.unit_id, []).append(pool)
    for unit in reversed(units):
        rounds = {t.round_id for t in by_unit.get(unit, []) if t.round_id in shown and t.comparable}
        mine = list(pools_at.get(unit, []))
        for child in children.get(unit, []):
            child_rounds, child_pools = unit_atoms[child]
            rounds |= child_rounds
            mine.extend(child_pools)
        unit_atoms[unit] = (frozenset(r for r in rounds if r is not None), tuple(mine))
    return Plan(shown, all_pools, tuple(new), unit_atoms, excluded)


def _reaches(members: Sequence[TeamCell], k: int) -> bool:
    """A pool reaches the threshold: at least the installation's k and every member round's own k."""
    return bool(members) and sum(m.n for m in members) >= max([k, *(m.k for m in members)])


def _pool_order(pool: Pool) -> tuple[int, list[int]]:
    return pool.unit_id, sorted(pool.round_ids)


# -- figures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sums:
    """One round's scored answers per pillar: pillar key -> (sum of scores, number of answers)."""

    n: int
    pillars: dict[str, tuple[int, int]]


def combine(parts: Iterable[Sums]) -> Sums:
    """The sums over several atoms (exact integers, so a unit's mean is not a mean of rounded means)."""
    n = 0
    total: dict[str, list[int]] = {}
    for part in parts:
        n += part.n
        for key, (score, count) in part.pillars.items():
            acc = total.setdefault(key, [0, 0])
            acc[0] += score
            acc[1] += count
    return Sums(n, {key: (s, c) for key, (s, c) in total.items()})


def means(sums: Sums, pillar_keys: Sequence[str]) -> dict[str, float | None]:
    """Pillar means to two decimals, half up (None where a pillar has no answers)."""
    out: dict[str, float | None] = {}
    for key in pillar_keys:
        score, count = sums.pillars.get(key, (0, 0))
        out[key] = round_half_up(Decimal(score) / count) if count else None
    return out


def ranks(scores: Mapping[int, float], minimum: int = MIN_TEAMS_FOR_RANK) -> dict[int, int]:
    """Competition ranks (1 = highest score; ties share a rank); empty when fewer than ``minimum`` teams.

    Only teams whose figures are shown may be passed in: a rank is derived from shown figures and adds
    nothing a reader could not work out, but a rank among too few teams is noise dressed up as a verdict.
    """
    if len(scores) < minimum:
        return {}
    # the first place of each score in the descending order (a dict, not list.index: 10,000 teams)
    first: dict[float, int] = {}
    for place, score in enumerate(sorted(scores.values(), reverse=True), start=1):
        first.setdefault(score, place)
    return {team: first[score] for team, score in scores.items()}
