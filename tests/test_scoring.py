"""The pure rules: scoring with reverse items, rounding, threshold, bands, focus pillar, hacks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.recommend import focus_pillars, recommended_hacks
from pipeline.scoring import (
    PillarResult,
    RoundResult,
    aggregate,
    band_of,
    check_min_responses,
    round_half_up,
    validate_answers,
)
from survey.content.model import Bands


@dataclass(frozen=True)
class Spec:
    key: str
    pillar: str
    reverse: bool


PILLARS = ["inkludere", "laere", "bidrage", "udfordre"]
ITEMS = [Spec(f"{p[:3]}{i}", p, i == 2) for p in PILLARS for i in range(1, 5)]
BANDS = Bands()
answer_sets = st.lists(st.fixed_dictionaries({i.key: st.integers(1, 5) for i in ITEMS}), min_size=0, max_size=30)


def reference_mean(values: list[int]) -> float:
    return float((Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@given(answer_sets, st.integers(3, 10))
def test_pillar_means_match_a_hand_computation(rows: list[dict[str, int]], k: int) -> None:
    result = aggregate(rows, ITEMS, PILLARS, BANDS, k)
    assert result.responses == len(rows)
    if len(rows) < k:
        assert result.suppressed
        assert all(p.mean is None and p.band is None for p in result.pillars)
        assert all(i.mean is None and i.distribution is None for i in result.items)
        return
    for pillar in result.pillars:
        scores = [6 - r[i.key] if i.reverse else r[i.key] for r in rows for i in ITEMS if i.pillar == pillar.key]
        assert pillar.mean == reference_mean(scores)
        assert pillar.band == band_of(pillar.mean, BANDS)
        assert pillar.n == len(rows)
    for item in result.items:
        assert item.distribution is not None and sum(item.distribution) == len(rows)


def test_reverse_item_is_scored_six_minus_answer() -> None:
    rows = [{i.key: (1 if i.reverse else 5) for i in ITEMS}] * 5
    result = aggregate(rows, ITEMS, PILLARS, BANDS, 5)
    assert [p.mean for p in result.pillars] == [5.0] * 4
    reversed_item = next(i for i in result.items if i.key == "ink2")
    assert reversed_item.mean == 5.0 and reversed_item.distribution == (5, 0, 0, 0, 0)


def test_threshold_k_minus_one_k_k_plus_one() -> None:
    row = {i.key: 4 for i in ITEMS}
    assert aggregate([row] * 4, ITEMS, PILLARS, BANDS, 5).suppressed
    assert not aggregate([row] * 5, ITEMS, PILLARS, BANDS, 5).suppressed
    assert not aggregate([row] * 6, ITEMS, PILLARS, BANDS, 5).suppressed


def test_half_up_rounding() -> None:
    assert round_half_up(2.345) == 2.35
    assert round_half_up(2.125) == 2.13
    assert round_half_up(Decimal(7) / 3) == 2.33


@pytest.mark.parametrize("k", [2, 0, -1, 2.5, True])
def test_minimum_never_below_three(k: object) -> None:
    with pytest.raises(ValueError):
        check_min_responses(k)  # type: ignore[arg-type]


def test_bands() -> None:
    assert [band_of(m, BANDS) for m in (2.99, 3.0, 3.99, 4.0, 5.0)] == ["red", "yellow", "yellow", "green", "green"]


def test_validate_answers() -> None:
    row = {i.key: 3 for i in ITEMS}
    assert validate_answers(row, ITEMS) == {}
    assert validate_answers({**row, "ink1": 6}, ITEMS) == {"ink1": "out_of_range"}
    del row["udf4"]
    assert validate_answers({**row, "x": 1}, ITEMS) == {"udf4": "missing", "x": "unknown_item"}


def result(means: list[float | None], suppressed: bool = False) -> RoundResult:
    pillars = tuple(
        PillarResult(k, m, None if m is None else band_of(m, BANDS), 5) for k, m in zip(PILLARS, means, strict=True)
    )
    return RoundResult(5, 5, suppressed, pillars, ())


@pytest.mark.parametrize(
    ("means", "focus"),
    [
        ([4.5, 2.9, 2.0, 4.1], ["laere"]),  # first red in pillar order, not the lowest
        ([4.5, 3.5, 4.2, 3.1], ["laere"]),  # no red: first yellow
        ([4.5, 4.4, 4.2, 4.3], ["bidrage"]),  # all green: the lowest
        ([4.2, 4.5, 4.2, 4.3], ["inkludere"]),  # a tie: the earlier pillar
    ],
)
def test_focus_pillar_rule(means: list[float], focus: list[str]) -> None:
    assert focus_pillars(result(means), PILLARS) == focus


def test_suppressed_round_has_no_focus_and_no_hacks() -> None:
    assert focus_pillars(result([None] * 4, suppressed=True), PILLARS) == []
    assert recommended_hacks([], [Spec("h1", "laere", False)]) == []


def test_recommended_hacks_are_the_focus_pillars() -> None:
    from survey.content import load_content

    content = load_content()
    hacks = recommended_hacks(["bidrage"], content.hacks)
    assert len(hacks) == 3 and {h.pillar for h in hacks} == {"bidrage"}
