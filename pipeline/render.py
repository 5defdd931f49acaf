"""Render a leader's report (``ReportData``) to HTML and to PDF with WeasyPrint.

Rendering is safe and bounded:
- the URL fetcher serves only files under ``templates/report/`` and refuses every other ``file://``
  URL and every network URL (a template or content text can never make the worker read
  ``/etc/passwd`` or call out to the network);
- the render runs under a time limit and raises ``RenderTimeout`` when it is exceeded.

No Flask import: the pipeline renders without an app, and the web app calls ``report_html(...,
for_web=True)`` for the same content as a page.
"""

from __future__ import annotations

import mimetypes
import signal
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import pydyf
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from pipeline import charts, report_text
from pipeline.debrief import debrief_agenda
from pipeline.recommend import focus_reason
from pipeline.report_data import IGLO_LEVELS, ReportData
from pipeline.trend import PillarChange, RoundChange
from survey import TEMPLATES_DIR

ASSETS_DIR = TEMPLATES_DIR / "report"
PDF_VARIANT = "pdf/ua-1"  # tagged PDF for screen readers; WeasyPrint >= 63 supports it


class RenderTimeout(RuntimeError):
    """The PDF render took longer than its time limit."""


class FetchRefused(ValueError):
    """The report tried to load a resource outside its own folder, or from the network."""


class ReportAssetFetcher(URLFetcher):
    """Serves only files under ``templates/report/``; refuses everything else.

    WeasyPrint catches fetcher errors and skips the resource (with a logged warning), so a refused
    ``<img src="file:///etc/passwd">`` renders as nothing instead of failing the report.
    """

    def __init__(self, root: Path = ASSETS_DIR) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.root = root.resolve()

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Return the asset at ``url`` or raise ``FetchRefused``."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise FetchRefused(f"network and non-file URLs are not fetched: {url}")
        # resolve() follows symlinks and "..", so the check is on the real location.
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise FetchRefused(f"only the report's own assets are fetched: {url}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # WeasyPrint checks the type: a stylesheet served as text/plain is ignored.
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers={"Content-Type": mime})


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the test, not the leader's PDF
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mean"] = report_text.format_mean
    env.filters["delta"] = report_text.format_delta
    return env


def report_context(data: ReportData) -> dict[str, object]:
    """Everything the templates need, derived from ``data`` (figures formatted, charts drawn)."""
    lang = data.lang if data.lang in ("da", "en") else "da"
    ui = report_text.section_labels(lang)
    ins = data.instrument
    bands = ins.bands
    result = data.result
    suppressed = data.suppressed or result.suppressed
    pillar_name = {p.key: p.name.get(lang) for p in ins.pillars}
    # the scale and band zones every chart is drawn on, with tick labels in the report's number format
    axis: dict[str, Any] = {
        "scale_min": ins.scale_min,
        "scale_max": ins.scale_max,
        "red_below": bands.red_below,
        "green_from": bands.green_from,
        "tick_text": lambda v: report_text.format_number(v, lang),
    }
    group_labels = (ui["group_disagree"], ui["group_neutral"], ui["group_agree"])
    # the round every "since" sentence is about: the newest earlier round with figures
    labels_by_round = {h.round_id: h.label for h in data.history}
    latest = data.changes[0] if data.changes and not suppressed else None

    pillars: list[dict[str, Any]] = []
    statements: list[dict[str, Any]] = []
    items_by_key = {i.key: i for i in result.items}
    if not suppressed:
        for p in ins.pillars:
            pr = result.pillar(p.key)
            items = []
            for item in ins.items_of(p.key):
                ir = items_by_key[item.key]
                entry = _statement(item.text.get(lang), item.reverse, ir.mean, ir.distribution, group_labels, lang, ui)
                items.append(entry)
                statements.append(entry)
            pillars.append(
                {
                    "key": p.key,
                    "name": p.name.get(lang),
                    "description": p.description.get(lang),
                    "mean": report_text.format_mean(pr.mean, lang),
                    "band": pr.band,
                    "band_label": report_text.band_label(pr.band, lang),
                    "focus": p.key in data.focus_pillars,
                    "sentence": report_text.pillar_sentence(
                        p.name.get(lang), pr.mean, pr.band, lang, focus=p.key in data.focus_pillars
                    ),
                    "items": items,
                    "change": _change_sentence(latest, p.key, labels_by_round, lang, ui),
                }
            )

    summary_chart = ""
    if not suppressed:
        rows = [
            charts.BarRow(
                p.name.get(lang),
                result.pillar(p.key).mean,
                report_text.format_mean(result.pillar(p.key).mean, lang),
                p.key in data.focus_pillars,
            )
            for p in ins.pillars
        ]
        summary_chart = Markup(charts.pillar_bars(rows, **axis, title=_pillar_bars_alt(rows, ui)))

    trend = None
    if data.kind == "followup" and not suppressed:
        labels = [h.label for h in data.history] + [ui["this_round"]]
        series = [
            charts.Series(
                p.name.get(lang),
                [h.pillar_means.get(p.key) for h in data.history] + [result.pillar(p.key).mean],
            )
            for p in ins.pillars
        ]
        rows_text = [{"name": s.label, "values": [report_text.format_mean(v, lang) for v in s.values]} for s in series]
        trend = {
            "labels": labels,
            "rows": rows_text,
            "chart": Markup(
                charts.trend_chart(
                    labels,
                    series,
                    **axis,
                    # the chart's alternative text points to the table of the same figures right below it
                    title=f"{ui['chart_trend_title']} ({', '.join(labels)})",
                )
            ),
            "has_gap": any(v is None for s in series for v in s.values),
        }

    changes = [] if suppressed else [_change_table(c, labels_by_round, pillar_name, lang, ui) for c in data.changes]
    focus = [] if suppressed else _focus_context(data, latest, labels_by_round, pillar_name, lang, ui)
    ranked = sorted(statements, key=lambda s: s["raw_mean"], reverse=True)
    size = min(3, len(ranked) // 2)
    extremes = {"strongest": ranked[:size], "weakest": list(reversed(ranked[-size:])) if size else []}

    step_urls = {step.url for step in data.steps}
    links = [
        {"label": ui.get(f"link_{name}", url), "url": url}
        for name, url in data.links.items()
        if url not in step_urls  # the steps already link to their pages
    ]
    actions_by_level = {lvl: [a for a in data.previous_actions if a.level == lvl] for lvl in IGLO_LEVELS}
    # A suppressed report names no pillar as weak: it offers the first dilemma of every pillar, in order.
    dilemmas = (
        [
            next(d for d in data.all_dilemmas if d.pillar == p.key)
            for p in ins.pillars
            if any(d.pillar == p.key for d in data.all_dilemmas)
        ]
        if suppressed
        else data.dilemmas
    )
    agenda = debrief_agenda(
        lang,
        suppressed=suppressed,
        followup=data.kind == "followup",
        strongest=extremes["strongest"][0]["text"] if extremes["strongest"] else None,
        weakest=extremes["weakest"][0]["text"] if extremes["weakest"] else None,
        focus=pillar_name.get(data.focus_pillars[0]) if data.focus_pillars and not suppressed else None,
        followed=pillar_name.get(data.followed_focus) if data.followed_focus else None,
        dilemmas=[d.title.get(lang) for d in dilemmas],
        has_previous_actions=bool(data.previous_actions),
    )
    title = f"{ui['report_title']} – {data.team_name}"
    return {
        "lang": lang,
        "ui": ui,
        "title": title,
        "data": data,
        "suppressed": suppressed,
        "followup": data.kind == "followup",
        "period": report_text.format_period(data.opens_at, data.closes_at, lang),
        "generated": report_text.format_date(data.generated_at, lang),
        "answered": ui["answered"].format(n=data.responses, total=data.invited),
        "scale": {
            "min": ins.scale_min,
            "max": ins.scale_max,
            "labels": [t.get(lang) for t in ins.scale_labels],
            # the three groups every distribution is drawn in, coloured by what they mean for safety
            "legend": [
                {"label": ui["legend_unsafe"], "class": "swatch-unsafe"},
                {"label": ui["legend_neutral"], "class": "swatch-neutral"},
                {"label": ui["legend_safe"], "class": "swatch-safe"},
            ],
        },
        "read": {
            "scale": ui["read_scale_text"].format(
                min=ins.scale_min,
                max=ins.scale_max,
                min_label=ins.scale_labels[0].get(lang),
                max_label=ins.scale_labels[-1].get(lang),
                max_fmt=report_text.format_mean(ins.scale_max, lang),
            ),
            "reverse": ui["read_reverse_text"].format(sum=ins.scale_min + ins.scale_max),
            "bands": ui["read_bands_text"].format(
                red=report_text.format_number(bands.red_below, lang),
                green=report_text.format_number(bands.green_from, lang),
            ),
            "anonymity": ui["read_anonymity_text"].format(k=data.min_responses),
            "small": ui["read_small_text"].format(n=data.responses),
        },
        "pillars": pillars,
        "pillars_explained": [{"name": p.name.get(lang), "description": p.description.get(lang)} for p in ins.pillars],
        "links": links,
        "pillar_names": [p.name.get(lang) for p in ins.pillars],
        "pillar_name": pillar_name,
        "summary_chart": summary_chart,
        "trend": trend,
        "changes": changes,
        "extremes": extremes,
        "focus": focus,
        "hacks": [] if suppressed else data.hacks,
        "plan_hacks": [] if suppressed else data.plan_hacks,
        "dilemmas": dilemmas,
        "agenda": agenda,
        "agenda_minutes": sum(part.minutes for part in agenda),
        "iglo_levels": [(lvl, ui[f"iglo_{lvl}"], actions_by_level[lvl]) for lvl in IGLO_LEVELS],
        "suppressed_lead": ui["suppressed_lead"].format(n=data.responses, total=data.invited, k=data.min_responses),
    }


def _statement(
    text: str,
    reverse: bool,
    mean: float | None,
    dist: Sequence[int] | None,
    group_labels: tuple[str, str, str],
    lang: str,
    ui: dict[str, str],
) -> dict[str, Any]:
    """One statement's figures: mean, grouped shares (never counts) and the bar with its text alternative."""
    group = charts.group_answers(dist or ())
    shares = [(group_labels[0], group.disagree)]
    if group.has_neutral:
        shares.append((group_labels[1], group.neutral))
    shares.append((group_labels[2], group.agree))
    shares_text = " · ".join(f"{label} {share} %" for label, share in shares)
    return {
        "text": text,
        "reverse": reverse,
        "mean": report_text.format_mean(mean, lang),
        "raw_mean": mean if mean is not None else 0.0,
        "agree": ui["agree_share"].format(share=group.agree),
        "shares_text": shares_text,
        "chart": Markup(charts.grouped_bar(group, reverse=reverse, labels=group_labels, title=f"{text}: {shares_text}"))
        if dist
        else "",
    }


def _pillar_bars_alt(rows: Sequence[charts.BarRow], ui: dict[str, str]) -> str:
    """The summary chart's alternative text: its title and every pillar's mean, as the chart shows them."""
    return f"{ui['chart_pillars_title']}: " + ", ".join(f"{r.label} {r.value_text}" for r in rows)


def _reading(change: PillarChange, ui: dict[str, str]) -> str:
    if change.unchanged:
        return ui["reading_unchanged"]
    return ui["reading_up"] if change.change > 0 else ui["reading_down"]


def _change_sentence(
    latest: RoundChange | None, key: str, labels_by_round: dict[int, str], lang: str, ui: dict[str, str]
) -> str:
    """The summary's sentence on how a pillar moved since the newest earlier round with figures."""
    change = latest.pillar(key) if latest else None
    if latest is None or change is None:
        return ""
    return ui["summary_change"].format(
        label=labels_by_round.get(latest.since_round_id, ""),
        delta=report_text.format_delta(change.change, lang),
        interval=report_text.format_interval(change.low, change.high, lang),
        reading=_reading(change, ui),
    )


def _change_table(
    change: RoundChange, labels_by_round: dict[int, str], names: dict[str, str], lang: str, ui: dict[str, str]
) -> dict[str, Any]:
    """One earlier round's comparison: every pillar then, now, the change, its interval and how to read it."""
    return {
        "heading": ui["change_since"].format(
            label=labels_by_round.get(change.since_round_id, ""), n=change.since_responses
        ),
        "rows": [
            {
                "name": names.get(p.key, p.key),
                "before": report_text.format_mean(p.before, lang),
                "after": report_text.format_mean(p.after, lang),
                "change": report_text.format_delta(p.change, lang),
                "interval": report_text.format_interval(p.low, p.high, lang),
                "reading": _reading(p, ui),
                "unchanged": p.unchanged,
            }
            for p in change.pillars
        ],
    }


def _focus_context(
    data: ReportData,
    latest: RoundChange | None,
    labels_by_round: dict[int, str],
    names: dict[str, str],
    lang: str,
    ui: dict[str, str],
) -> dict[str, Any]:
    """The focus page: the team's own choice and how it moved (follow-up), then the suggestion and why."""
    order = [p.key for p in data.instrument.pillars]
    followed = None
    if data.followed_focus:
        name = names.get(data.followed_focus, data.followed_focus)
        change = latest.pillar(data.followed_focus) if latest else None
        sentence = (
            ui["followed_moved"].format(
                pillar=name,
                label=labels_by_round.get(latest.since_round_id, "") if latest else "",
                delta=report_text.format_delta(change.change, lang),
                interval=report_text.format_interval(change.low, change.high, lang),
                reading=_reading(change, ui),
            )
            if change is not None
            else ui["followed_no_change"].format(pillar=name)
        )
        followed = {"key": data.followed_focus, "name": name, "sentence": sentence}
    reason = focus_reason(data.result, order)
    suggestion = None
    if reason is not None:
        name = names.get(reason.suggested, reason.suggested)
        text = ui[f"reason_{reason.rule}"].format(pillar=name, order=", ".join(names[k] for k in order))
        if reason.lowest != reason.suggested:
            lowest_mean = data.result.pillar(reason.lowest).mean
            text += " " + ui["reason_lowest_differs"].format(
                lowest=names.get(reason.lowest, reason.lowest),
                mean=report_text.format_mean(lowest_mean, lang),
                pillar=name,
            )
        suggestion = {
            "key": reason.suggested,
            "name": name,
            "description": data.instrument.pillar(reason.suggested).description.get(lang),
            "reason": text,
            "same_as_followed": followed is not None and followed["key"] == reason.suggested,
        }
    return {"followed": followed, "suggestion": suggestion}


def report_html(data: ReportData, *, for_web: bool = False, debrief_url: str | None = None) -> str:
    """The report as one HTML document: print layout for WeasyPrint, or a standalone web page.

    The web page reuses the same partials and inlines the stylesheet (minus the ``@page`` rules'
    effect, which browsers ignore on screen), so it needs no static-file route.
    """
    context = report_context(data)
    css = (ASSETS_DIR / "report.css").read_text(encoding="utf-8")
    return _environment().get_template("report/report.html").render(
        **context, for_web=for_web, css=Markup(css), debrief_url=debrief_url
    )


def debrief_html(data: ReportData) -> str:
    """The debrief guide alone, as a printable web page (``/r/<token>/debrief``)."""
    context = report_context(data)
    css = (ASSETS_DIR / "report.css").read_text(encoding="utf-8")
    return _environment().get_template("report/debrief.html").render(
        **context, for_web=True, css=Markup(css), debrief_url=None
    )


def render_pdf(data: ReportData, *, timeout_s: float = 60.0) -> bytes:
    """The report as PDF bytes (PDF/UA-1, with ``lang`` and title metadata).

    Raises ``RenderTimeout`` when rendering takes longer than ``timeout_s`` seconds.
    """
    return _bounded(lambda: _weasyprint(report_html(data)), timeout_s)


def _weasyprint(html: str) -> bytes:
    document = HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=ReportAssetFetcher())
    return document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True, finisher=_scope_table_headers)


def _scope_table_headers(document: Any, pdf: Any) -> None:
    """Give every ``/TH`` structure element the ``/Scope`` PDF/UA asks for (WeasyPrint 70 writes none).

    WeasyPrint keeps the table structure (``/THead``, ``/TBody``, ``/TR``) but not the HTML ``scope``
    attribute, so the scope is read from the structure, as our templates write it: a header cell in
    the table head heads its column, a header cell in a body row heads its row. Runs as WeasyPrint's
    finisher, on the PDF objects just before they are written.
    """
    by_reference = {obj.reference: obj for obj in pdf.objects if hasattr(obj, "reference") and hasattr(obj, "get")}
    for obj in by_reference.values():
        if obj.get("Type") != "/StructElem" or obj.get("S") != "/TH":
            continue
        row = by_reference.get(obj.get("P"))
        group = by_reference.get(row.get("P")) if row is not None else None
        scope = "/Column" if group is not None and group.get("S") == "/THead" else "/Row"
        attributes = obj.get("A")
        if attributes is None:
            attributes = pydyf.Dictionary({"O": "/Table"})
            obj["A"] = attributes
        attributes["Scope"] = scope


def _bounded(work: Callable[[], bytes], timeout_s: float) -> bytes:
    """Run ``work`` with a time limit.

    Layout is CPU-bound Python with no cancellation hook, and a thread cannot be killed. So:
    - on the main thread with no timer already armed (a Celery prefork worker runs tasks there; so do
      the CLI and pytest) an ``ITIMER_REAL`` alarm raises ``RenderTimeout`` *inside* the render and
      really stops it;
    - elsewhere (a web server thread) signals are unavailable, so the render runs in a daemon thread
      and the caller stops waiting after ``timeout_s``; the orphaned render finishes in the background
      and its result is dropped. That bounds the caller's latency, not the CPU spent.
    A subprocess would bound both, but costs a WeasyPrint import per report and forking a threaded
    worker is unsafe.
    """
    if timeout_s <= 0:
        raise RenderTimeout(f"render time limit must be positive, got {timeout_s}")
    on_main = threading.current_thread() is threading.main_thread()
    if on_main and hasattr(signal, "setitimer") and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0):
        return _with_alarm(work, timeout_s)
    return _with_thread(work, timeout_s)


class _Expired(BaseException):
    """Raised by the alarm inside WeasyPrint. A BaseException, like KeyboardInterrupt, so that the
    ``except Exception`` blocks WeasyPrint uses around fetching and image loading cannot swallow it."""


def _with_alarm(work: Callable[[], bytes], timeout_s: float) -> bytes:
    def on_alarm(signum: int, frame: object) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
        try:
            return work()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Expired:
        raise RenderTimeout(f"report render exceeded {timeout_s:g} s") from None
    finally:
        signal.signal(signal.SIGALRM, previous)


def _with_thread(work: Callable[[], bytes], timeout_s: float) -> bytes:
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["pdf"] = work()
        except BaseException as exc:  # handed to the caller below, never swallowed
            box["error"] = exc

    worker = threading.Thread(target=run, name="report-render", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise RenderTimeout(f"report render exceeded {timeout_s:g} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["pdf"]  # type: ignore[return-value]
