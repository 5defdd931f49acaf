"""Inline SVG charts generated from numbers: vector, crisp in print, a few hundred bytes each.

Pure functions returning SVG markup as ``str`` (every label is escaped here). The report embeds them
inline, so WeasyPrint fetches nothing and the web page shows exactly the same pictures. Every chart
carries a ``<title>`` and ``aria-label``; the figures are also printed as text next to each chart,
so nothing is said by colour or picture alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

FONT = "DejaVu Sans, sans-serif"
INK = "#1f2a44"
MUTED = "#5b6475"
GRID = "#c9ced8"
BAND_FILL = {"red": "#f6d5d1", "yellow": "#faebc0", "green": "#d3ead2"}
BAR = "#2b3a67"
# One colour and one marker shape per pillar so lines stay apart in greyscale print too.
SERIES_COLOURS = ("#2b3a67", "#c0392b", "#1e8449", "#b9770e")
SERIES_MARKERS = ("circle", "square", "diamond", "triangle")


@dataclass(frozen=True)
class BarRow:
    label: str
    mean: float | None
    value_text: str  # the mean as printed ("3,75"); the caller formats it for the language
    emphasis: bool = False  # the focus pillar


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # one per round; None is drawn as a gap


def _open(width: float, height: float, title: str) -> str:
    t = escape(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'width="100%" role="img" aria-label="{t}" font-family="{FONT}"><title>{t}</title>'
    )


def _band_spans(scale_min: float, scale_max: float, red_below: float, green_from: float):
    return (
        ("red", scale_min, red_below),
        ("yellow", red_below, green_from),
        ("green", green_from, scale_max),
    )


def pillar_bars(
    rows: Sequence[BarRow],
    *,
    scale_min: int,
    scale_max: int,
    red_below: float,
    green_from: float,
    title: str,
    tick_text: Callable[[float], str] = lambda v: f"{v:g}",
) -> str:
    """Horizontal bars of pillar means over the band zones (red, yellow, green) of the scale."""
    width, label_w, right_pad, row_h, top = 640.0, 150.0, 56.0, 46.0, 8.0
    x0, x1 = label_w, width - right_pad
    height = top + row_h * len(rows) + 30

    def x(v: float) -> float:
        return x0 + (v - scale_min) / (scale_max - scale_min) * (x1 - x0)

    plot_h = row_h * len(rows)
    out = [_open(width, height, title)]
    for band, lo, hi in _band_spans(scale_min, scale_max, red_below, green_from):
        out.append(
            f'<rect x="{x(lo):.1f}" y="{top}" width="{x(hi) - x(lo):.1f}" height="{plot_h}" fill="{BAND_FILL[band]}"/>'
        )
    for v in range(scale_min, scale_max + 1):
        out.append(
            f'<line x1="{x(v):.1f}" y1="{top}" x2="{x(v):.1f}" y2="{top + plot_h}" stroke="{GRID}" '
            f'stroke-width="0.8"/>'
            f'<text x="{x(v):.1f}" y="{top + plot_h + 18}" font-size="12" fill="{MUTED}" '
            f'text-anchor="middle">{escape(tick_text(v))}</text>'
        )
    for i, row in enumerate(rows):
        cy = top + row_h * i + row_h / 2
        weight = "bold" if row.emphasis else "normal"
        out.append(
            f'<text x="{x0 - 10}" y="{cy + 5:.1f}" font-size="14" font-weight="{weight}" fill="{INK}" '
            f'text-anchor="end">{escape(row.label)}</text>'
        )
        if row.mean is None:
            out.append(
                f'<text x="{x0 + 8}" y="{cy + 5:.1f}" font-size="13" fill="{MUTED}">{escape(row.value_text)}</text>'
            )
            continue
        end = x(max(scale_min, min(scale_max, row.mean)))
        out.append(
            f'<rect x="{x0:.1f}" y="{cy - 10:.1f}" width="{max(end - x0, 1.5):.1f}" height="20" '
            f'rx="2" fill="{BAR}"/>'
            f'<text x="{end + 7:.1f}" y="{cy + 5:.1f}" font-size="14" font-weight="bold" '
            f'fill="{INK}">{escape(row.value_text)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


# Answers grouped by what they mean for safety: the safe side teal, the unsafe side brown, the middle
# grey (colour-blind-safe diverging pair; the text beside every bar says the same in words). For a
# reverse-worded item agreeing is the unsafe side, so its "agree" share is drawn brown.
SAFE, UNSAFE, NEUTRAL = "#018571", "#a6611a", "#d9d9d9"
SAFE_TEXT, UNSAFE_TEXT, NEUTRAL_TEXT = "#ffffff", "#ffffff", INK


@dataclass(frozen=True)
class Grouped:
    """One statement's answers grouped as shares of the respondents, in whole per cent (summing to 100)."""

    disagree: int
    neutral: int
    agree: int
    has_neutral: bool  # False on a scale with an even number of points


def group_answers(counts: Sequence[int]) -> Grouped:
    """Counts per scale point (low to high) -> disagree / neutral / agree shares in per cent.

    Points below the middle of the scale disagree, points above agree, the middle point (odd scales
    only) is neutral. Shares, never counts: no bar says "1 person answered Helt uenig". Rounded with
    the largest remainder so the three shares always add up to 100.
    """
    width = len(counts)
    total = sum(counts)
    half = width // 2
    groups = [sum(counts[:half]), counts[half] if width % 2 else 0, sum(counts[width - half :])]
    if total == 0:
        return Grouped(0, 0, 0, bool(width % 2))
    shares = largest_remainder(groups)
    return Grouped(shares[0], shares[1], shares[2], bool(width % 2))


def largest_remainder(counts: Sequence[int]) -> list[int]:
    """Whole per cents of ``counts`` that add up to 100: each rounded down, then the points left go to the
    largest remainders. Remainders are compared exactly (integers, not floats), and on a tie equal counts
    are kept equal where the points left allow it: 1, 1 and 4 of 6 are 17, 17 and 66, never 17, 16 and 67.
    """
    total = sum(counts)
    if total == 0:
        return [0] * len(counts)
    shares = [c * 100 // total for c in counts]
    left = 100 - sum(shares)
    by_remainder: dict[int, list[int]] = {}
    for i, c in enumerate(counts):
        by_remainder.setdefault(c * 100 % total, []).append(i)
    for remainder in sorted(by_remainder, reverse=True):
        if left <= 0:
            break
        # the tied places, as buckets of equal counts: whole buckets first, the largest bucket that fits
        buckets: dict[int, list[int]] = {}
        for i in by_remainder[remainder]:
            buckets.setdefault(counts[i], []).append(i)
        for bucket in sorted(buckets.values(), key=len, reverse=True):
            if len(bucket) <= left:
                for i in bucket:
                    shares[i] += 1
                left -= len(bucket)
        for bucket in sorted(buckets.values(), key=len, reverse=True):  # a tie that cannot stay equal
            for i in bucket:
                if left > 0 and shares[i] == counts[i] * 100 // total:
                    shares[i] += 1
                    left -= 1
    return shares


def grouped_bar(group: Grouped, *, reverse: bool, labels: Sequence[str], title: str, lang: str = "da") -> str:
    """One stacked bar of the disagree / neutral / agree shares, coloured by what they mean for safety.

    ``labels`` are the three group names as printed (disagree, neutral, agree); the chart's title says
    every share in words, so the picture adds nothing a screen reader misses.
    """
    from pipeline.report_text import format_percent  # Babel's number data: only when a bar is drawn

    width, height = 400.0, 22.0
    out = [_open(width, height, title)]
    parts = [
        (group.disagree, SAFE if reverse else UNSAFE, SAFE_TEXT if reverse else UNSAFE_TEXT, labels[0]),
        (group.neutral, NEUTRAL, NEUTRAL_TEXT, labels[1]),
        (group.agree, UNSAFE if reverse else SAFE, UNSAFE_TEXT if reverse else SAFE_TEXT, labels[2]),
    ]
    if sum(p[0] for p in parts) == 0:
        out.append(f'<rect x="0" y="0" width="{width:g}" height="{height:g}" fill="#eeeeee"/></svg>')
        return "".join(out)
    x = 0.0
    for share, colour, text_colour, _label in parts:
        if share == 0:
            continue
        w = width * share / 100
        out.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height:g}" fill="{colour}"/>')
        if w >= 40:  # room for the share; narrower segments are still said in the text beside
            out.append(
                f'<text x="{x + w / 2:.2f}" y="15.5" font-size="12" text-anchor="middle" '
                f'fill="{text_colour}">{escape(format_percent(share, lang))}</text>'
            )
        x += w
    out.append("</svg>")
    return "".join(out)


def _marker(shape: str, cx: float, cy: float, colour: str) -> str:
    r = 5.0
    if shape == "square":
        return f'<rect x="{cx - r:.1f}" y="{cy - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{colour}"/>'
    if shape == "diamond":
        d = r + 1
        pts = f"{cx:.1f},{cy - d:.1f} {cx + d:.1f},{cy:.1f} {cx:.1f},{cy + d:.1f} {cx - d:.1f},{cy:.1f}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    if shape == "triangle":
        pts = f"{cx:.1f},{cy - r - 1:.1f} {cx + r + 1:.1f},{cy + r:.1f} {cx - r - 1:.1f},{cy + r:.1f}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="{colour}"/>'


def trend_chart(
    round_labels: Sequence[str],
    series: Sequence[Series],
    *,
    scale_min: int,
    scale_max: int,
    red_below: float,
    green_from: float,
    title: str,
    tick_text: Callable[[float], str] = lambda v: f"{v:g}",
) -> str:
    """Pillar means over rounds as lines with markers over the band zones; None values leave gaps."""
    width, height = 640.0, 300.0
    left, right, top, bottom = 40.0, 20.0, 12.0, 78.0
    x0, x1, y0, y1 = left, width - right, top, height - bottom
    count = max(len(round_labels), 1)
    step = (x1 - x0) / count

    def x(i: int) -> float:
        return x0 + step * (i + 0.5)

    def y(v: float) -> float:
        return y1 - (v - scale_min) / (scale_max - scale_min) * (y1 - y0)

    out = [_open(width, height, title)]
    for band, lo, hi in _band_spans(scale_min, scale_max, red_below, green_from):
        out.append(
            f'<rect x="{x0}" y="{y(hi):.1f}" width="{x1 - x0}" height="{y(lo) - y(hi):.1f}" fill="{BAND_FILL[band]}"/>'
        )
    for point in range(scale_min, scale_max + 1):
        out.append(
            f'<line x1="{x0}" y1="{y(point):.1f}" x2="{x1}" y2="{y(point):.1f}" stroke="{GRID}" stroke-width="0.8"/>'
            f'<text x="{x0 - 8}" y="{y(point) + 4:.1f}" font-size="12" fill="{MUTED}" text-anchor="end">'
            f"{escape(tick_text(point))}</text>"
        )
    for i, label in enumerate(round_labels):
        out.append(
            f'<text x="{x(i):.1f}" y="{y1 + 18}" font-size="12" fill="{INK}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for s_index, s in enumerate(series):
        colour = SERIES_COLOURS[s_index % len(SERIES_COLOURS)]
        shape = SERIES_MARKERS[s_index % len(SERIES_MARKERS)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(s.values):
            if v is None:  # a suppressed or withheld round: break the line, never interpolate
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(i):.1f},{y(v):.1f}")
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                out.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2.2"/>')
        for i, v in enumerate(s.values):
            if v is not None:
                out.append(_marker(shape, x(i), y(v), colour))
    # Legend in one row under the axis labels.
    slot = (x1 - x0) / max(len(series), 1)
    for s_index, s in enumerate(series):
        colour = SERIES_COLOURS[s_index % len(SERIES_COLOURS)]
        lx = x0 + slot * s_index + 8
        ly = height - 24
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 22}" y2="{ly}" stroke="{colour}" stroke-width="2.2"/>'
            + _marker(SERIES_MARKERS[s_index % len(SERIES_MARKERS)], lx + 11, ly, colour)
            + f'<text x="{lx + 30}" y="{ly + 4.5}" font-size="13" fill="{INK}">{escape(s.label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
