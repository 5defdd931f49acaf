"""Disclosure rules: when may a figure over a group of respondents be shown?

Pure functions, no Flask, no Celery, no database. Every breakdown or comparison the product makes (today:
the comparison of a follow-up round with earlier rounds; tomorrow: any subgroup) asks these first.

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


def comparison_allowed(n_before: int, n_after: int, k: int) -> bool:
    """True when figures of two rounds of the same team may be shown side by side (or subtracted).

    Respondents are unlinkable, so nobody can tell which people answered both rounds; the worst case is
    that the smaller round's respondents all answered the larger one too. Then the smaller round is a
    cell of the larger and the difference of the two figures is a figure over the complement: it must be
    empty (equal counts: the same people, or swaps that mix at least two people's answers with opposite
    signs) or hold at least ``k`` people. So: both rounds reach ``k`` and ``|n_before - n_after|`` is
    0 or at least ``k``. Withheld, for example, when a follow-up differs from the baseline by one answer.
    """
    small, large = sorted((n_before, n_after))
    return small >= k and cell_allowed(small, large, k)
