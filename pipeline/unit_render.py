"""Render a unit's overview (``survey.domain.units.Overview``) to HTML and to a tagged PDF.

One body, ``templates/unit/_overview_body.html``, serves both: WeasyPrint prints it inside
``unit/overview.html`` (A4 landscape, PDF/UA-1), and the web app places it in its own page with the app's
navigation (``overview_page``, ``templates/web/unit_overview.html``), so the route is a thin view.
The figures arrive already filtered by ``pipeline.unit_disclosure``; this module only formats them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from pipeline import report_text
from pipeline.report_html import ASSETS_DIR
from pipeline.scoring import band_of
from pipeline.trend import within_chance
from pipeline.unit_disclosure import MIN_TEAMS_FOR_RANK, ranks
from survey.locales import LANGS, N_, translate_table
from survey.paths import TEMPLATES_DIR

if TYPE_CHECKING:
    from survey.content.model import Content
    from survey.domain.units import Overview

CSS = TEMPLATES_DIR / "unit" / "overview.css"
STALE = timedelta(days=365)
# Rows (teams, then "other teams" pools) per web page: a municipality's 10,000 teams in one page were
# 5.6 MB of HTML; a page of these is about 150 KB. The PDF keeps every row.
ROWS_PER_PAGE = 250

LABELS: dict[str, str | tuple[str, str]] = {
    "title": N_("Overview"),
    "lead": N_("Psychological safety in {unit} and the units below it: each team's latest reported round."),
    "unit_figures": N_("The unit's own figures"),
    "pillar": N_("Pillar"),
    "mean": N_("Mean"),
    "band": N_("Colour"),
    "change": N_("Change against the teams' previous measurement"),
    "change_since": N_(
        "The change compares each team that has an earlier measurement with figures ({teams} in all) "
        "with its own previous measurement. It does not depend on when the overview was viewed or "
        "downloaded."
    ),
    "noise": N_("(within what the numbers of answers can explain: read as unchanged)"),
    "no_previous": N_("None of the teams has an earlier measurement with figures yet, so there is no change to show."),
    "cell_change": N_(
        "Below a team's figure is its change since the team's previous measurement; ≈ in front means the"
        " numbers of answers can explain it (read as unchanged)."
    ),
    "empty": N_("There are no teams in {unit} or the units below it yet."),
    "region": N_("Teams side by side, scrolls sideways"),
    "figures_region": N_("The unit's figures, scrolls sideways"),
    "no_unit_figure": N_("There are no figures for the unit as a whole yet."),
    "facts_teams": N_("Teams"),
    "facts_measured": N_("With figures"),
    "facts_suppressed": N_("Too few answers"),
    "facts_rate": N_("Response rate"),
    "facts_respondents": N_("Answers in the unit's figures"),
    "heatmap": N_("Teams side by side"),
    "heatmap_caption": N_("Each team's latest reported round. The figure in each cell is the pillar mean (1-5)."),
    "team": N_("Team"),
    "unit": N_("Unit"),
    "step": N_("Step"),
    "last": N_("Last round"),
    "answered": N_("Answers"),
    "rank": N_("Rank"),
    "n_of": N_("{n} of {total}"),
    "n_answers": N_("{n} answers"),
    "rank_of": N_("{rank} of {count}"),
    "never": N_("Not measured yet"),
    "stale": N_("over a year ago"),
    "too_few": N_("too few answers"),
    "in_pool": N_("counted in other teams"),
    "other_instrument": N_("measured with {name}; see the team's own report"),
    "not_counted": N_("not counted"),
    "pool": N_("Other teams in {unit} ({teams} teams)"),
    "whole": N_("{unit} as a whole"),
    "legend": N_("Colours: red below {red}, yellow from {red} to below {green}, green from {green}."),
    "privacy_title": N_("How the overview protects each person"),
    "privacy": N_(
        "A team with fewer than {k} answers shows no figure, not even indirectly: no figure here can be "
        "subtracted from another to find a small team's answers. Small teams are pooled into an 'Other "
        "teams' cell when together they have at least {k} answers; otherwise their answers count in no "
        "figure ({excluded} answers this time). Ranks are shown only when at least {rank_min} teams have"
        " figures."
    ),
    "generated": N_("Made {date}"),
    "steps_note": N_("Steps: 1 Shared knowledge, 2 Take the temperature, 3 What we do, 4 Keeping it going."),
    "page": N_("Page"),
    "pager": N_("Pages of the overview"),
    "page_of": N_("Page {page} of {pages}"),
    "previous": N_("Previous page"),
    "next": N_("Next page"),
}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # its own environment (not the leader report's), so the two documents can change independently
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a typo in the template fails the tests, not the head's PDF
        trim_blocks=True,
        lstrip_blocks=True,
    )


def team_step(has_rounds: bool, kind: str | None) -> int:
    """The toolkit step a team is in: 1 before any round, 2 while its first round runs, 3 after the
    baseline report (working on hacks and the action plan), 4 once it measures again (holding on)."""
    if kind == "followup":
        return 4
    if kind == "baseline":
        return 3
    return 2 if has_rounds else 1


def overview_context(
    ov: Overview, content: Content, lang: str, tz: ZoneInfo, now: datetime | None = None, page: int | None = None
) -> dict[str, Any]:
    """Everything the template needs, formatted in ``lang`` ("da" or "en").

    ``page``: only that page of the heatmap's rows (the teams, then the pools, ``ROWS_PER_PAGE`` a page,
    in the same order as the whole document, so the pages together are exactly it); a page past the end
    is the last one. Only the rows shown are formatted (a municipality has 10,000). None: every row.
    """
    lang = lang if lang in LANGS else "da"
    ui = translate_table(LABELS, lang)
    now = now or datetime.now(UTC)
    ins = ov.instrument
    bands = ins.bands
    keys = [p.key for p in ins.pillars]
    steps = {s.number: s.title.get(lang) for s in content.steps}

    def cell(mean: float | None) -> dict[str, str]:
        if mean is None:
            return {"text": "–", "band": "none", "band_label": "", "delta": ""}
        band = band_of(mean, bands)
        return {
            "text": report_text.format_mean(mean, lang),
            "band": band,
            "band_label": report_text.band_label(band, lang),
            "delta": "",
        }

    shown = {t.id: t.pillars for t in ov.teams if t.pillars is not None and t.in_unit_figure}
    scores = {tid: sum(v for v in p.values() if v is not None) / len(p) for tid, p in shown.items() if p}
    rank_of = ranks(scores)
    total = len(ov.teams) + len(ov.pools)
    per_page = ROWS_PER_PAGE if page is not None else max(total, 1)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page or 1), pages)
    start, end = (page - 1) * per_page, page * per_page
    rows = []
    for t in ov.teams[start:end]:
        step = team_step(t.has_rounds, t.kind)
        last = t.last_round_at
        other = t.instrument is not None and t.instrument.name != ins.name
        if t.pillars is not None and not other:
            cells = [cell(t.pillars.get(k)) for k in keys]
            if t.change is not None:
                for c, k in zip(cells, keys, strict=True):
                    c["delta"] = _delta_text(t.change.delta.get(k), t.change.n_now, t.change.n_then, lang)
            note = ""
        elif other and t.instrument is not None:
            # another scale or other pillars: its figures are in its own report, not in these columns
            cells = [cell(None) for _ in keys]
            note = ui["other_instrument"].format(name=t.instrument.title.get(lang))
        else:
            cells = [cell(None) for _ in keys]
            note = "" if t.round_id is None else ui["too_few"]
        status = ui["in_pool"] if t.pool_id and t.suppressed else ui["not_counted"] if t.suppressed else ""
        rows.append(
            {
                "name": t.name,
                "unit": ov.unit_names.get(t.unit_id, ""),
                "step": f"{step} {steps.get(step, '')}".strip(),
                "last": report_text.format_date(last.astimezone(tz), lang) if last else ui["never"],
                "stale": bool(last and now - last > STALE),
                "answered": ui["n_of"].format(n=t.responses, total=t.invited) if t.round_id else "–",
                "rate": _rate(t.responses, t.invited, lang) if t.round_id else "",
                "cells": cells,
                "note": note,
                "status": status,
                "rank": ui["rank_of"].format(rank=rank_of[t.id], count=len(rank_of)) if t.id in rank_of else "",
            }
        )
    pools = [
        {
            "name": ui["pool"].format(unit=ov.unit_names.get(p.unit_id, ""), teams=p.teams),
            "answered": ui["n_answers"].format(n=p.respondents),
            "cells": [cell(p.pillars.get(k)) for k in keys],
        }
        for p in ov.pools[max(0, start - len(ov.teams)) : max(0, end - len(ov.teams))]
    ]
    unit_pillars = [
        {
            "name": p.name.get(lang),
            **cell(ov.pillars.get(p.key) if ov.pillars else None),
            "change": _change_text(ov.change.delta.get(p.key), ov.change.n_now, ov.change.n_then, lang)
            if ov.change
            else "",
        }
        for p in ins.pillars
    ]
    reported = [t for t in ov.teams if t.round_id is not None]
    invited = sum(t.invited for t in reported)
    return {
        "lang": lang,
        "ui": ui,
        "title": f"{ui['title']} – {ov.name}",
        "lead": ui["lead"].format(unit=ov.name),
        "pillar_names": [p.name.get(lang) for p in ins.pillars],
        "rows": rows,
        "pools": pools,
        "whole": {
            "name": ui["whole"].format(unit=ov.name),
            "answered": ui["n_answers"].format(n=ov.respondents),
            "cells": [cell(ov.pillars.get(k) if ov.pillars else None) for k in keys],
        },
        "has_unit_figure": ov.pillars is not None,
        "unit_pillars": unit_pillars,
        "has_change": ov.change is not None,
        "change_note": ui["change_since"].format(teams=ov.change.teams) if ov.change else ui["no_previous"],
        "has_teams": bool(ov.teams),
        "empty": ui["empty"].format(unit=ov.name),
        "facts": [
            (ui["facts_teams"], str(len(ov.teams))),
            (ui["facts_measured"], str(sum(1 for t in ov.teams if t.pillars is not None))),
            (ui["facts_suppressed"], str(ov.teams_suppressed)),
            (ui["facts_rate"], _rate(sum(t.responses for t in reported), invited, lang) or "–"),
            (ui["facts_respondents"], str(ov.respondents)),
        ],
        "legend": ui["legend"].format(
            red=report_text.format_number(bands.red_below, lang),
            green=report_text.format_number(bands.green_from, lang),
        ),
        "privacy": ui["privacy"].format(k=ov.k, excluded=ov.excluded_respondents, rank_min=MIN_TEAMS_FOR_RANK),
        "generated": ui["generated"].format(date=report_text.format_date(now.astimezone(tz), lang)),
        "page": page,
        "pages": pages,
        "page_label": ui["page_of"].format(page=page, pages=pages),
    }


def _change_text(delta: float | None, n_now: int, n_then: int, lang: str) -> str:
    """A change against the previous measurement, flagged when the numbers of answers can explain it."""
    text = report_text.format_delta(delta, lang)
    if delta is not None and within_chance(delta, n_now, n_then):
        text += " " + translate_table({"noise": LABELS["noise"]}, lang)["noise"]
    return text


def _delta_text(delta: float | None, n_now: int, n_then: int, lang: str) -> str:
    """The short form under a team's cell: "+0,30", or "≈ +0,05" when chance can explain it."""
    if delta is None:
        return ""
    text = report_text.format_delta(delta, lang)
    return f"≈ {text}" if within_chance(delta, n_now, n_then) else text


def _rate(n: int, total: int, lang: str) -> str:
    # the one rule for a share of a count (half up), as in the team's report and on the start page, written
    # the way the overview's language writes a percentage ("13 %" / "13%")
    return report_text.format_share(n, total, lang) if total else ""


def overview_html(
    ov: Overview,
    content: Content,
    lang: str,
    tz: ZoneInfo,
    *,
    now: datetime | None = None,
    page: int | None = None,
) -> str:
    """The overview as one HTML document, laid out for print (the PDF).

    ``page``: only that page of the heatmap's rows (``overview_context``); None: every row.
    """
    context = overview_context(ov, content, lang, tz, now, page)
    css = Markup(CSS.read_text(encoding="utf-8"))
    return _environment().get_template("unit/overview.html").render(**context, for_web=False, css=css)


@dataclass(frozen=True)
class OverviewPage:
    """The unit page's parts for the web app's own page (with its navigation): title, body and stylesheet."""

    title: str
    body: Markup
    css: Markup


def overview_page(ov: Overview, content: Content, lang: str, tz: ZoneInfo, page: int = 1) -> OverviewPage:
    """The unit page of the web app: the same content as the PDF, laid out for the screen, a page of
    ``ROWS_PER_PAGE`` rows at a time, to be placed inside the app's page (``web/unit_overview.html``)."""
    context = overview_context(ov, content, lang, tz, None, page)
    body = _environment().get_template("unit/_overview_body.html").render(**context, for_web=True)
    return OverviewPage(context["title"], Markup(body), Markup(CSS.read_text(encoding="utf-8")))


def overview_pdf(
    ov: Overview, content: Content, lang: str, tz: ZoneInfo, *, timeout_s: float = 600.0
) -> tuple[bytes, int]:
    """The overview as tagged PDF bytes (PDF/UA-1) and its number of pages.

    Raises ``RenderTimeout`` past ``timeout_s``. The limit is generous because the top unit of a
    municipality (2,000 teams) is a 150-page table that WeasyPrint lays out in one to two minutes on a
    busy 2-core machine (docs/benchmarks.md); a department's overview takes a second or two.
    """
    # Here, not at the top: the web page (``overview_page``) must not pay WeasyPrint's import.
    from weasyprint import HTML

    from pipeline.render import PDF_VARIANT, ReportAssetFetcher, _bounded

    html = overview_html(ov, content, lang, tz)
    pages: list[int] = []

    def work() -> bytes:
        document = HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=ReportAssetFetcher()).render()
        pages.append(len(document.pages))
        return document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True)

    pdf = _bounded(work, timeout_s)
    return pdf, pages[0]
