"""Disclosure rules: when may a figure over a group of respondents be shown?

Pure functions, no Flask, no Celery, no database. Every simultaneous cut of the same answers (a subgroup,
a unit's figure beside its teams') asks these first. Comparisons over time are not cuts: each round is a
fresh measurement, compared whenever both rounds reached k (``pipeline.trend``, ``docs/privacy.md``).

The cell + complement rule: a figure over a *cell* of ``cell`` respondents out of ``total`` may be shown
only when the cell has at least ``k`` respondents **and** its complement (``total - cell``) is either
empty or also has at least ``k``. Otherwise a reader who knows the total figure subtracts the cell's
figure and learns the answers of fewer than ``k`` people (with a complement of one: one person's).
"""

from __future__ import annotations

from pipeline.scoring import check_min_responses


def cell_allowed(cell: int, total: int, k: int) -> bool:
    """True when a figure over ``cell`` of ``total`` respondents may be shown under threshold ``k``."""
    check_min_responses(k)
    if cell < 0 or total < cell:
        raise ValueError(f"a cell of {cell} does not fit in a total of {total}")
    complement = total - cell
    return cell >= k and (complement == 0 or complement >= k)
