"""How a round's answers become pillar and item figures, with the anonymity threshold applied.

Pure functions over plain values: no Flask, no Celery, no database. A response is a mapping of item key
to the answer on the instrument's scale; reverse-worded items are scored ``(min + max) - answer``
(6 - answer on the 1-5 scale). Means are rounded to two decimals, half up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

ABSOLUTE_MIN_RESPONSES = 3  # the floor no configuration may go below
DEFAULT_MIN_RESPONSES = 5  # the Danish Working Environment Authority's recommendation


# Members are read-only properties so that frozen dataclasses (survey.content.model) satisfy these.
class ItemSpec(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def pillar(self) -> str: ...
    @property
    def reverse(self) -> bool: ...


class BandSpec(Protocol):
    @property
    def red_below(self) -> float: ...
    @property
    def green_from(self) -> float: ...


@dataclass(frozen=True)
class ItemResult:
    key: str
    pillar: str
    mean: float | None
    # answers per scale point as given (before reversal), low to high; None when suppressed
    distribution: tuple[int, ...] | None


@dataclass(frozen=True)
class PillarResult:
    key: str
    mean: float | None
    band: str | None  # "red" | "yellow" | "green"
    n: int  # respondents


@dataclass(frozen=True)
class RoundResult:
    responses: int
    min_responses: int
    suppressed: bool
    pillars: tuple[PillarResult, ...]
    items: tuple[ItemResult, ...]

    def pillar(self, key: str) -> PillarResult:
        return next(p for p in self.pillars if p.key == key)


def round_half_up(value: float | Decimal, places: int = 2) -> float:
    """Round like people do on paper (2.345 -> 2.35), not banker's rounding."""
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def check_min_responses(k: int) -> int:
    """Validate a minimum-responses setting; raises ValueError below the absolute floor."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValueError(f"min_responses must be a whole number, got {k!r}")
    if k < ABSOLUTE_MIN_RESPONSES:
        raise ValueError(f"min_responses must be at least {ABSOLUTE_MIN_RESPONSES}, got {k}")
    return k


def is_suppressed(responses: int, min_responses: int) -> bool:
    """True when a group is too small to show any figure for."""
    return responses < min_responses


def scored(answer: int, reverse: bool, scale_min: int = 1, scale_max: int = 5) -> int:
    """The score of one answer after reversal."""
    return (scale_min + scale_max) - answer if reverse else answer


def band_of(mean: float, bands: BandSpec) -> str:
    if mean < bands.red_below:
        return "red"
    if mean < bands.green_from:
        return "yellow"
    return "green"


def validate_answers(
    answers: Mapping[str, int], items: Sequence[ItemSpec], scale_min: int = 1, scale_max: int = 5
) -> dict[str, str]:
    """Problems with one response, by item key (empty when the response is complete and in range)."""
    problems: dict[str, str] = {}
    known = {i.key for i in items}
    for item in items:
        value = answers.get(item.key)
        if value is None:
            problems[item.key] = "missing"
        elif isinstance(value, bool) or not isinstance(value, int) or not scale_min <= value <= scale_max:
            problems[item.key] = "out_of_range"
    for key in answers:
        if key not in known:
            problems[key] = "unknown_item"
    return problems


def aggregate(
    responses: Iterable[Mapping[str, int]],
    items: Sequence[ItemSpec],
    pillar_keys: Sequence[str],
    bands: BandSpec,
    min_responses: int,
    scale_min: int = 1,
    scale_max: int = 5,
) -> RoundResult:
    """Item and pillar figures for one round; every figure is None when below ``min_responses``.

    The pillar mean is the mean of all the pillar's scored answers (not the mean of item means; with
    every item answered the two agree, but this is the definition the report states).
    """
    check_min_responses(min_responses)
    rows = list(responses)
    n = len(rows)
    suppressed = is_suppressed(n, min_responses)
    width = scale_max - scale_min + 1

    item_results: list[ItemResult] = []
    pillar_scores: dict[str, list[int]] = {k: [] for k in pillar_keys}
    for item in items:
        given = [row[item.key] for row in rows]
        pillar_scores[item.pillar].extend(scored(a, item.reverse, scale_min, scale_max) for a in given)
        if suppressed:
            item_results.append(ItemResult(item.key, item.pillar, None, None))
            continue
        counts = [0] * width
        for a in given:
            counts[a - scale_min] += 1
        total = sum(scored(a, item.reverse, scale_min, scale_max) for a in given)
        item_results.append(ItemResult(item.key, item.pillar, round_half_up(Decimal(total) / n), tuple(counts)))

    pillar_results: list[PillarResult] = []
    for key in pillar_keys:
        scores = pillar_scores[key]
        if suppressed or not scores:
            pillar_results.append(PillarResult(key, None, None, n))
            continue
        mean = round_half_up(Decimal(sum(scores)) / len(scores))
        pillar_results.append(PillarResult(key, mean, band_of(mean, bands), n))

    return RoundResult(n, min_responses, suppressed, tuple(pillar_results), tuple(item_results))
