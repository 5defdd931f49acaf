"""Change between two rounds of a team, under the anonymity rule for comparisons.

Rule: a change is shown only when both rounds passed the threshold on their own. A round's figures are
computed once, from the answers frozen at close, and never recomputed with a different set of
respondents, so two published figures never differ by one person's late answer within a round.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.scoring import RoundResult, round_half_up


def comparable_change(
    before: RoundResult, after: RoundResult, pillar_keys: Sequence[str]
) -> dict[str, float | None]:
    """Pillar key -> change in mean (after - before), or None where either side is withheld."""
    change: dict[str, float | None] = {}
    for key in pillar_keys:
        a = next((p.mean for p in before.pillars if p.key == key), None)
        b = next((p.mean for p in after.pillars if p.key == key), None)
        if before.suppressed or after.suppressed or a is None or b is None:
            change[key] = None
        else:
            change[key] = round_half_up(b - a)
    return change
