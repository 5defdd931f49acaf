"""An outside check for differencing attacks: can any combination of shown figures isolate a small group?

A shown figure is a sum over a set of teams' rounds (a team, a pool, a unit): its count and its sums
(mean x n per pillar) are linear in those rounds' own sums. So a reader can recover the sum of a group
of rounds G exactly when the indicator vector of G lies in the span of the shown figures' vectors. The
checker tries both ways, independently of the product's own reasoning:

- brute force: every combination of the shown figures with coefficients -1, 0, +1 (all of them when
  there are few enough figures, otherwise every combination of up to four), looking for a result that is
  the indicator of a group of fewer than k respondents;
- exact linear algebra (fractions): for every group of rounds with fewer than k respondents, whether its
  indicator lies in the span (which catches combinations with any coefficients).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from fractions import Fraction

Vector = tuple[int, ...]


def vector(members: set[str] | frozenset[str], order: Sequence[str]) -> Vector:
    """The figure's indicator vector over the rounds in ``order``."""
    return tuple(1 if name in members else 0 for name in order)


def _rank(rows: Sequence[Sequence[Fraction]]) -> int:
    matrix = [list(r) for r in rows]
    rank, cols = 0, len(matrix[0]) if matrix else 0
    for col in range(cols):
        pivot = next((i for i in range(rank, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for i in range(len(matrix)):
            if i != rank and matrix[i][col] != 0:
                factor = matrix[i][col] / matrix[rank][col]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[rank], strict=True)]
        rank += 1
    return rank


def leaks(figures: set[Vector], n: Mapping[str, int], order: Sequence[str], k: int) -> list[str]:
    """Every way a group of fewer than ``k`` respondents can be recovered from ``figures``; [] if none."""
    found: list[str] = []
    vectors = sorted(figures)
    sizes = [n[name] for name in order]

    def small_group(v: Sequence[int]) -> bool:
        return all(x in (0, 1) for x in v) and 0 < sum(s for s, x in zip(sizes, v, strict=True) if x) < k

    # 1. brute force over combinations with coefficients -1, 0, +1
    if len(vectors) <= 11:
        combos: itertools.chain[tuple[int, ...]] | itertools.product[tuple[int, ...]] = itertools.product(
            (-1, 0, 1), repeat=len(vectors)
        )
    else:
        combos = itertools.chain.from_iterable(_sparse(len(vectors), size) for size in range(1, 5))
    for coefs in combos:
        total = [0] * len(order)
        for c, v in zip(coefs, vectors, strict=True):
            if c:
                for i, x in enumerate(v):
                    total[i] += c * x
        if small_group(total):
            names = [name for name, x in zip(order, total, strict=True) if x]
            found.append(f"brute force: {coefs} isolates {names}")
            break

    # 2. exact span test for every small group
    base = [[Fraction(x) for x in v] for v in vectors]
    rank = _rank(base) if base else 0
    for bits in itertools.product((0, 1), repeat=len(order)):
        if small_group(bits) and _rank([*base, [Fraction(b) for b in bits]]) == rank:
            found.append(f"span: {[name for name, b in zip(order, bits, strict=True) if b]}")
    return found


def _sparse(width: int, size: int) -> itertools.chain[tuple[int, ...]]:
    """Coefficient vectors with exactly ``size`` non-zero entries of -1 or +1."""

    def gen(positions: tuple[int, ...]) -> list[tuple[int, ...]]:
        out = []
        for signs in itertools.product((-1, 1), repeat=size):
            coefs = [0] * width
            for p, s in zip(positions, signs, strict=True):
                coefs[p] = s
            out.append(tuple(coefs))
        return out

    return itertools.chain.from_iterable(gen(p) for p in itertools.combinations(range(width), size))


def compositions(
    n: int,
    means: Mapping[str, float],
    sums: Mapping[str, Mapping[str, tuple[int, int]]],
    sizes: Mapping[str, int],
    candidates: Sequence[str],
) -> list[frozenset[str]]:
    """Which sets of rounds a shown figure (count ``n``, pillar ``means``) can be made of.

    Found by brute force over the true answers (the test knows them), not by asking the product.
    """
    found = []
    for r in range(1, len(candidates) + 1):
        for combo in itertools.combinations(candidates, r):
            if sum(sizes[c] for c in combo) != n:
                continue
            ok = True
            for key, mean in means.items():
                score = sum(sums[c][key][0] for c in combo)
                count = sum(sums[c][key][1] for c in combo)
                if abs(score / count - mean) > 0.0051:
                    ok = False
                    break
            if ok:
                found.append(frozenset(combo))
    return found
