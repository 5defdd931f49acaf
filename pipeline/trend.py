"""Change between two rounds of a team, under the anonymity rule for comparisons.

Rule: a change is shown only when both rounds passed the threshold on their own **and** their respondent
counts differ by 0 or by at least k (``pipeline.disclosure.comparison_allowed``): a follow-up with one
answer more than the baseline would otherwise hand the reader that one person's answers as the difference.
A round's figures are computed once, from the answers frozen at close, and never recomputed with a
different set of respondents, so two published figures never differ by one person's late answer within a
round.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.disclosure import comparison_allowed
from pipeline.scoring import RoundResult, round_half_up


def comparable_change(before: RoundResult, after: RoundResult, pillar_keys: Sequence[str]) -> dict[str, float | None]:
    """Pillar key -> change in mean (after - before), or None where either side is withheld."""
    change: dict[str, float | None] = {}
    allowed = rounds_comparable(before, after)
    for key in pillar_keys:
        a = next((p.mean for p in before.pillars if p.key == key), None)
        b = next((p.mean for p in after.pillars if p.key == key), None)
        if not allowed or before.suppressed or after.suppressed or a is None or b is None:
            change[key] = None
        else:
            change[key] = round_half_up(b - a)
    return change


def rounds_comparable(before: RoundResult, after: RoundResult) -> bool:
    """Whether two rounds' figures may appear together (under the stricter of the two thresholds)."""
    k = max(before.min_responses, after.min_responses)
    return comparison_allowed(before.responses, after.responses, k)


def visible_history(earlier: Sequence[RoundResult], current: RoundResult) -> list[bool]:
    """Which earlier rounds (oldest first) may have figures in ``current``'s report.

    Every figure printed in one report can be subtracted from every other, so the rule must hold for
    each *pair* of shown rounds, not only against the current one. Newest first, a round is shown when
    it is comparable with the current round and with every round already chosen: the recent past
    matters most for a follow-up, and the choice is deterministic.
    """
    chosen: list[RoundResult] = [current]
    visible = [False] * len(earlier)
    for index in range(len(earlier) - 1, -1, -1):
        candidate = earlier[index]
        if not candidate.suppressed and all(rounds_comparable(candidate, c) for c in chosen):
            chosen.append(candidate)
            visible[index] = True
    return visible
