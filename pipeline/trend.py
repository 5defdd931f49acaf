"""Change between rounds of a team, with its uncertainty.

Rounds are fresh measurements: everyone is invited anew and answers anew, and the answers of one round
are never linked to those of another. So a follow-up is compared with **every** earlier round of the
team that itself reached k, whatever the two respondent counts are (PRODUCT.md, anonymity; the reasoning
and the accepted risk are in ``docs/privacy.md``). A round below k shows no figure at all and is not
compared with anything.

Every change is stated with a 95 % interval for the difference of the two pillar means, computed from
the stored answer distributions (Welch's interval for two independent means). A change whose interval
contains zero is within what the numbers of answers can explain and is read as "unchanged".

Pure functions: no Flask, no Celery, no database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.scoring import ItemSpec, RoundResult, round_half_up, scored

CONFIDENCE = 0.95
_Z = 1.959963984540054  # the standard normal quantile for a two-sided 95 % interval


@dataclass(frozen=True)
class PillarChange:
    """The change of one pillar's mean between an earlier round and this one."""

    key: str
    before: float
    after: float
    change: float  # after - before, two decimals, half up
    low: float  # 95 % interval of the difference, two decimals
    high: float
    unchanged: bool  # the interval contains zero: chance can explain the change


@dataclass(frozen=True)
class RoundChange:
    """Every pillar's change since one earlier round of the team."""

    since_round_id: int
    since_number: int
    since_responses: int
    pillars: tuple[PillarChange, ...]

    def pillar(self, key: str) -> PillarChange | None:
        """The change of pillar ``key``, or None when the pillar has no figure in either round."""
        return next((p for p in self.pillars if p.key == key), None)


def t_quantile(df: float) -> float:
    """The two-sided 95 % quantile of Student's t with ``df`` degrees of freedom.

    A Cornish-Fisher expansion around the normal quantile (Abramowitz & Stegun 26.7.5): within 0.01 of
    the table value from 3 degrees of freedom up, which is as small as a round above k can get.
    """
    if df <= 0 or math.isnan(df):
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    if math.isinf(df):
        return _Z
    z = _Z
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * df**4)
    )


def pillar_spread(
    result: RoundResult, items: Sequence[ItemSpec], pillar_key: str, scale_min: int, scale_max: int
) -> float | None:
    """The standard deviation of single scored answers of one pillar in one round (None if unknown).

    Only the per-item answer distributions are stored, not who gave which answers, so a person's own
    pillar score cannot be recomputed. The spread of single answers around the pillar mean is an upper
    bound for the spread of a person's pillar average (averaging never widens a spread), so the
    interval below errs on the wide side: on the side of "unchanged".
    """
    reverse = {i.key: i.reverse for i in items}
    values: list[int] = []
    for item in result.items:
        if item.pillar != pillar_key or item.distribution is None:
            continue
        for offset, count in enumerate(item.distribution):
            values.extend([scored(scale_min + offset, reverse.get(item.key, False), scale_min, scale_max)] * count)
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def difference_interval(
    before: float, after: float, sd_before: float, sd_after: float, n_before: int, n_after: int
) -> tuple[float, float]:
    """Welch's 95 % interval for ``after - before`` of two independent means."""
    if n_before < 2 or n_after < 2:
        raise ValueError("an interval needs at least two answers on each side")
    va, vb = sd_before**2 / n_before, sd_after**2 / n_after
    se = math.sqrt(va + vb)
    delta = after - before
    if se == 0:
        return delta, delta
    df = (va + vb) ** 2 / (va**2 / (n_before - 1) + vb**2 / (n_after - 1))
    half = t_quantile(df) * se
    return delta - half, delta + half


# The spread assumed for a pillar mean when the answers behind a figure are not at hand (a unit's
# overview keeps its means and counts only): a cautious value for a person's pillar score on a 1-5 scale.
ASSUMED_SD = 0.8


def within_chance(delta: float, n_now: int, n_then: int, sd: float = ASSUMED_SD) -> bool:
    """True when a change of ``delta`` between two means of ``n_then`` and ``n_now`` answers lies within
    its 95 % interval of zero (Welch, spread ``sd`` on both sides): read as "unchanged", as the team report
    reads a change whose interval contains 0."""
    if n_now < 2 or n_then < 2:
        return True
    low, high = difference_interval(0.0, delta, sd, sd, n_then, n_now)
    return low <= 0.0 <= high


def round_change(
    before: RoundResult,
    after: RoundResult,
    items: Sequence[ItemSpec],
    pillar_keys: Sequence[str],
    scale_min: int,
    scale_max: int,
    *,
    since_round_id: int,
    since_number: int,
) -> RoundChange | None:
    """Every pillar's change from ``before`` to ``after``; None when either round is below its k."""
    if before.suppressed or after.suppressed:
        return None
    pillars: list[PillarChange] = []
    for key in pillar_keys:
        a = next((p.mean for p in before.pillars if p.key == key), None)
        b = next((p.mean for p in after.pillars if p.key == key), None)
        if a is None or b is None:
            continue
        sd_a = pillar_spread(before, items, key, scale_min, scale_max)
        sd_b = pillar_spread(after, items, key, scale_min, scale_max)
        # Without distributions (never the case for a stored round above k) assume the widest spread
        # the scale allows, half its range: the honest fallback is a wide interval, not a narrow one.
        fallback = (scale_max - scale_min) / 2
        low, high = difference_interval(
            a, b, sd_a if sd_a is not None else fallback, sd_b if sd_b is not None else fallback,
            before.responses, after.responses,
        )  # fmt: skip
        low_r, high_r = round_half_up(low), round_half_up(high)
        pillars.append(
            PillarChange(
                key=key,
                before=a,
                after=b,
                change=round_half_up(b - a),
                low=low_r,
                high=high_r,
                unchanged=low <= 0 <= high,
            )
        )
    return RoundChange(since_round_id, since_number, before.responses, tuple(pillars))


def changes_since(
    earlier: Sequence[tuple[int, int, RoundResult]],
    current: RoundResult,
    items: Sequence[ItemSpec],
    pillar_keys: Sequence[str],
    scale_min: int,
    scale_max: int,
) -> list[RoundChange]:
    """The change since every earlier round ``(round_id, number, result)`` that reached k, newest first."""
    out: list[RoundChange] = []
    for round_id, number, result in sorted(earlier, key=lambda e: e[1], reverse=True):
        change = round_change(
            result, current, items, pillar_keys, scale_min, scale_max, since_round_id=round_id, since_number=number
        )
        if change is not None:
            out.append(change)
    return out


def change_to_json(change: RoundChange) -> dict[str, object]:
    """A ``RoundChange`` as the plain object ``round show --json`` prints."""
    return {
        "since_round_id": change.since_round_id,
        "since_number": change.since_number,
        "since_responses": change.since_responses,
        "confidence": CONFIDENCE,
        "pillars": [
            {
                "key": p.key,
                "before": p.before,
                "after": p.after,
                "change": p.change,
                "low": p.low,
                "high": p.high,
                "unchanged": p.unchanged,
            }
            for p in change.pillars
        ],
    }
