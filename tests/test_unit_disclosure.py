"""The cross-tree disclosure rule (pipeline.unit_disclosure), checked by brute force on many random trees,
across every level of the tree and across two overviews in time."""

from __future__ import annotations

import random

import pytest

from pipeline.unit_disclosure import (
    Plan,
    Pool,
    Sums,
    TeamCell,
    combine,
    means,
    plan_disclosure,
    ranks,
)
from tests.leak_check import Vector, leaks, vector

K = 5


def figures_of(plan: Plan, label: dict[int, str]) -> set[Vector | frozenset[str]]:
    """Every figure the plan lets any page of the tree show, as a set of round labels."""
    out: set[frozenset[str]] = set()
    out.update(frozenset({label[r]}) for r in plan.shown_rounds)
    out.update(frozenset(label[r] for r in p.round_ids) for p in plan.live_pools)
    for rounds, pools in plan.unit_atoms.values():
        members = {label[r] for r in rounds} | {label[r] for p in pools for r in p.round_ids}
        if members:
            out.add(frozenset(members))
    return out  # type: ignore[return-value]


def random_tree(rng: random.Random, units: int) -> dict[int, int | None]:
    parent: dict[int, int | None] = {1: None}
    for u in range(2, units + 1):
        parent[u] = rng.randint(1, u - 1)
    return parent


def random_teams(rng: random.Random, parent: dict[int, int | None], count: int, first_round: int) -> list[TeamCell]:
    units = list(parent)
    # mostly small teams: that is where leaks hide
    return [
        TeamCell(t, rng.choice(units), first_round + t, rng.choice([1, 2, 2, 3, 3, 4, 4, 5, 6, 8]), K)
        for t in range(count)
    ]


def freeze(plan: Plan, start: int) -> list[Pool]:
    """What the database does: give each new pool an id; stored pools keep theirs."""
    out = [p for p in plan.live_pools if p.id is not None]
    out += [Pool(p.unit_id, p.round_ids, f"p{start + i}") for i, p in enumerate(plan.new_pools)]
    return out


@pytest.mark.parametrize("seed", range(60))
def test_no_small_group_recoverable_across_the_tree_and_over_time(seed: int) -> None:
    rng = random.Random(seed)
    parent = random_tree(rng, rng.randint(1, 5))
    teams = random_teams(rng, parent, rng.randint(3, 7), 100)

    first = plan_disclosure(parent, 1, teams, [], K)
    stored = freeze(first, 1)
    label = {t.round_id: f"t{t.team_id}r1" for t in teams if t.round_id is not None}
    n = {label[t.round_id]: t.n for t in teams if t.round_id is not None}
    shown_then = figures_of(first, label)

    # Later: some teams measured again (a new round each, of a new size); the stored pools are kept.
    later = []
    for t in teams:
        if rng.random() < 0.4:
            new_round = 1000 + t.team_id
            later.append(TeamCell(t.team_id, t.unit_id, new_round, rng.choice([2, 3, 4, 6, 9]), K))
            label[new_round] = f"t{t.team_id}r2"
            n[label[new_round]] = later[-1].n
        else:
            later.append(t)
    second = plan_disclosure(parent, 1, later, stored, K)
    shown_now = figures_of(second, label)

    order = sorted(n)
    now_only = {vector(f, order) for f in shown_now}  # type: ignore[arg-type]
    both = now_only | {vector(f, order) for f in shown_then}  # type: ignore[arg-type]
    assert leaks(now_only, n, order, K) == []
    assert leaks(both, n, order, K) == [], (parent, teams, later)


def test_the_checker_catches_a_unit_figure_over_every_team() -> None:
    """The naive overview (each team with k, and the unit over everyone) leaks the small team."""
    n = {"a": 6, "b": 7, "small": 2}
    order = sorted(n)
    shown = {vector({"a"}, order), vector({"b"}, order), vector({"a", "b", "small"}, order)}
    assert leaks(shown, n, order, K)


def test_pools_must_be_frozen_or_two_overviews_leak() -> None:
    """Re-pooling from scratch after a team measured again isolates that team's old small round."""
    parent: dict[int, int | None] = {1: None}
    then = [TeamCell(1, 1, 11, 2, K), TeamCell(2, 1, 12, 3, K), TeamCell(3, 1, 13, 2, K), TeamCell(4, 1, 14, 8, K)]
    now = [TeamCell(1, 1, 21, 7, K), *then[1:]]
    label = {11: "a1", 12: "b", 13: "c", 14: "d", 21: "a2"}
    n = {"a1": 2, "b": 3, "c": 2, "d": 8, "a2": 7}
    order = sorted(n)
    first = plan_disclosure(parent, 1, then, [], K)
    naive = plan_disclosure(parent, 1, now, [], K)  # forgets the pool shown last time
    frozen = plan_disclosure(parent, 1, now, freeze(first, 1), K)

    def shown(*plans: Plan) -> set[Vector]:
        return {vector(f, order) for p in plans for f in figures_of(p, label)}  # type: ignore[arg-type]

    assert leaks(shown(first, naive), n, order, K)  # a1 = (old pool) - (new pool of b, c)
    assert leaks(shown(first, frozen), n, order, K) == []
    assert frozen.excluded_rounds == {12, 13}  # b and c wait for their next round instead


def test_a_pool_forms_at_the_lowest_unit_that_reaches_k_and_not_below() -> None:
    parent: dict[int, int | None] = {1: None, 2: 1, 3: 2, 4: 1}
    teams = [
        TeamCell(1, 3, 101, 2, K),  # alone in unit 3: handed up
        TeamCell(2, 2, 102, 3, K),  # with team 1 in unit 2: 5 answers -> a pool at unit 2
        TeamCell(3, 4, 103, 4, K),  # alone under unit 4, handed up to the top, still alone: counted nowhere
        TeamCell(4, 4, 104, 9, K),  # big: its own figure
    ]
    plan = plan_disclosure(parent, 1, teams, [], K)
    assert plan.shown_rounds == {104}
    assert [(p.unit_id, set(p.round_ids)) for p in plan.new_pools] == [(2, {101, 102})]
    assert plan.excluded_rounds == {103}
    # unit 3 holds only part of the pool: its figure is empty rather than a cut of the pool
    assert plan.unit_atoms[3] == (frozenset(), ())
    assert plan.unit_atoms[1][0] == {104} and len(plan.unit_atoms[1][1]) == 1


def test_a_pool_needs_the_largest_threshold_of_its_rounds() -> None:
    parent: dict[int, int | None] = {1: None}
    teams = [TeamCell(1, 1, 1, 4, 7), TeamCell(2, 1, 2, 2, K)]  # 6 answers, but one round asked for 7
    assert plan_disclosure(parent, 1, teams, [], K).new_pools == ()
    assert len(plan_disclosure(parent, 1, [*teams, TeamCell(3, 1, 3, 1, K)], [], K).new_pools) == 1


def test_a_round_under_another_instrument_is_never_pooled_or_added_up() -> None:
    parent: dict[int, int | None] = {1: None}
    teams = [TeamCell(1, 1, 1, 3, K, comparable=False), TeamCell(2, 1, 2, 3, K), TeamCell(3, 1, 3, 8, K, False)]
    plan = plan_disclosure(parent, 1, teams, [], K)
    assert plan.new_pools == () and plan.shown_rounds == {3}
    assert plan.unit_atoms[1] == (frozenset(), ())


def test_unit_means_are_exact_not_means_of_rounded_means() -> None:
    a = Sums(3, {"p": (10, 3)})  # 3.333...
    b = Sums(3, {"p": (11, 3)})  # 3.666...
    assert means(combine([a, b]), ["p"]) == {"p": 3.5}
    assert means(combine([]), ["p"]) == {"p": None}


def test_ranks_only_among_enough_teams() -> None:
    assert ranks({1: 3.0, 2: 4.0, 3: 2.0, 4: 4.0}) == {}
    assert ranks({1: 3.0, 2: 4.0, 3: 2.0, 4: 4.0, 5: 1.0}) == {2: 1, 4: 1, 1: 3, 3: 4, 5: 5}
