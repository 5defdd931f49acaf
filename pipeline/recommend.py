"""Which pillar a team should work on first, and which hacks to recommend for it.

Pure functions: the rule is the toolkit's, stated in PRODUCT.md. Pillars build on each other
(Inkludere before Lære before Bidrage before Udfordre), so the earliest weak pillar comes first.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def recommended_hacks(focus: Sequence[str], hacks: Sequence[H]) -> list[H]:
    """The hacks of the focus pillar(s), in the content's order."""
    return [h for pillar in focus for h in hacks if h.pillar == pillar]
