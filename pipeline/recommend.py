"""Which pillar a team should work on first, and which hacks to recommend for it.

Pure functions: the rule is the toolkit's, stated in PRODUCT.md. Pillars build on each other
(Inkludere before Lære before Bidrage before Udfordre), so the earliest weak pillar comes first.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pipeline.scoring import RoundResult


class HackSpec(Protocol):
    # read-only, so that frozen dataclasses (survey.content.model.Hack) satisfy it
    @property
    def key(self) -> str: ...
    @property
    def pillar(self) -> str: ...


def focus_pillars(result: RoundResult, pillar_order: Sequence[str]) -> list[str]:
    """The focus pillar: the first red pillar in order, else the first yellow, else the lowest mean.

    Returns an empty list for a suppressed round: naming the weakest pillar would itself be a figure.
    """
    if result.suppressed:
        return []
    by_key = {p.key: p for p in result.pillars if p.mean is not None}
    ordered = [by_key[k] for k in pillar_order if k in by_key]
    if not ordered:
        return []
    for band in ("red", "yellow"):
        for pillar in ordered:
            if pillar.band == band:
                return [pillar.key]
    lowest = min(ordered, key=lambda p: p.mean if p.mean is not None else 0.0)  # first lowest in order
    return [lowest.key]


H = TypeVar("H", bound=HackSpec)


def recommended_hacks(focus: Sequence[str], hacks: Sequence[H], in_plan: Collection[str] = ()) -> list[H]:
    """The hacks of the focus pillar(s), in the content's order, leaving out those already in the plan.

    A hack the team already agreed (an action of an earlier round names it, ``in_plan``) is never
    recommended again as if it were new; the report lists it as part of the plan instead.
    """
    return [h for pillar in focus for h in hacks if h.pillar == pillar and h.key not in in_plan]


@dataclass(frozen=True)
class FocusReason:
    """Why the suggested pillar was suggested, so that the report can say it."""

    suggested: str
    rule: str  # "red": the first red pillar in stage order; "yellow": the first yellow; "lowest": all green
    lowest: str  # the pillar with the lowest mean (the first in order on a tie)


def focus_reason(result: RoundResult, pillar_order: Sequence[str]) -> FocusReason | None:
    """The reason behind ``focus_pillars``; None for a suppressed round (no suggestion at all)."""
    focus = focus_pillars(result, pillar_order)
    if not focus:
        return None
    by_key = {p.key: p for p in result.pillars if p.mean is not None}
    ordered = [by_key[k] for k in pillar_order if k in by_key]
    lowest = min(ordered, key=lambda p: p.mean if p.mean is not None else 0.0)
    band = by_key[focus[0]].band
    return FocusReason(focus[0], band if band in ("red", "yellow") else "lowest", lowest.key)
