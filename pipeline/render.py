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
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from pipeline import charts, report_text
from pipeline.report_data import IGLO_LEVELS, ReportData
from survey import TEMPLATES_DIR
from survey.content import PILLAR_ORDER

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
    ui = report_text.labels(lang)
    ins = data.instrument
    if tuple(p.key for p in ins.pillars) != PILLAR_ORDER:
        # the toolkit's "the pillars build on each other" is true of its own four pillars only
        ui = {**ui, "read_pillars_text": ui["read_pillars_other"], "focus_intro": ui["focus_intro_other"]}
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

    pillars: list[dict[str, Any]] = []
    items_by_key = {i.key: i for i in result.items}
    if not suppressed:
        for p in ins.pillars:
            pr = result.pillar(p.key)
            items = []
            for item in ins.items_of(p.key):
                ir = items_by_key[item.key]
                dist = ir.distribution or ()
                items.append(
                    {
                        "text": item.text.get(lang),
                        "reverse": item.reverse,
                        "mean": report_text.format_mean(ir.mean, lang),
                        "counts": list(dist),
                        "chart": Markup(
                            charts.distribution_bar(dist, title=f"{ui['chart_dist_title']}: {item.text.get(lang)}")
                        )
                        if dist
                        else "",
                    }
                )
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
                    "change": _change_row(
                        data,
                        p.key,
                        p.name.get(lang),
                        lang,
                        [ir.distribution for ir in result.items if ir.pillar == p.key],
                    ),
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
        summary_chart = Markup(
            charts.pillar_bars(
                rows,
                **axis,
                title=ui["chart_pillars_title"],
            )
        )

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
        trend = {
            "labels": labels,
            "rows": [{"name": s.label, "values": [report_text.format_mean(v, lang) for v in s.values]} for s in series],
            "chart": Markup(
                charts.trend_chart(
                    labels,
                    series,
                    **axis,
                    title=ui["chart_trend_title"],
                )
            ),
            "has_gap": any(v is None for s in series for v in s.values),
        }

    change_by_key = {p["key"]: p["change"] for p in pillars}
    focus = (
        [
            {
                "name": pillar_name.get(k, k),
                "description": ins.pillar(k).description.get(lang),
                "change": change_by_key.get(k),
            }
            for k in data.focus_pillars
        ]
        if not suppressed
        else []
    )

    # the steps already link to their pages, and the action-plan page to the IGLO sheet (a suppressed
    # round has no action plan to make, so no IGLO link either)
    linked_elsewhere = {step.url for step in data.steps}
    if "iglo" in data.links:
        linked_elsewhere.add(data.links["iglo"])
    links = [
        {"label": ui.get(f"link_{name}", url), "url": url}
        for name, url in data.links.items()
        if url not in linked_elsewhere
    ]
    actions_by_level = {lvl: [a for a in data.previous_actions if a.level == lvl] for lvl in IGLO_LEVELS}
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
            "legend": [
                {"label": t.get(lang), "swatch": Markup(charts.legend_swatch(i, len(ins.scale_labels)))}
                for i, t in enumerate(ins.scale_labels)
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
        "links": links,
        "pillar_names": [p.name.get(lang) for p in ins.pillars],
        "summary_chart": summary_chart,
        "trend": trend,
        "noise_any": any(p["change"]["noise"] for p in pillars),
        "focus": focus,
        "hacks": [] if suppressed else data.hacks,
        "dilemmas": [] if suppressed else data.dilemmas,
        "iglo_levels": [(lvl, ui[f"iglo_{lvl}"], actions_by_level[lvl]) for lvl in IGLO_LEVELS],
        "suppressed_lead": ui["suppressed_lead"].format(n=data.responses, total=data.invited, k=data.min_responses),
    }


def _change_row(
    data: ReportData, key: str, name: str, lang: str, dists: Sequence[Sequence[int] | None]
) -> dict[str, object]:
    """Change since baseline / previous round for one pillar, with the small-numbers flag and sentences."""
    now = data.result.pillar(key).mean
    sd = report_text.pooled_sd(dists, data.instrument.scale_min)
    # The rounds the changes were measured against: the first and the latest with a figure for this
    # pillar (a suppressed round in between has none, so the builder cannot have compared with it).
    shown = [h for h in data.history if h.pillar_means.get(key) is not None]
    row: dict[str, object] = {}
    for since, delta, then in (
        ("baseline", data.change_since_baseline.get(key), shown[0] if shown else None),
        ("previous", data.change_since_previous.get(key), shown[-1] if shown else None),
    ):
        noise = (
            delta is not None
            and then is not None
            and now is not None
            and report_text.within_noise(delta, data.responses, then.responses, sd)
        )
        row[since] = {
            "text": report_text.format_delta(delta, lang),
            "known": delta is not None,
            "noise": noise,
            "sentence": report_text.change_sentence(name, delta, lang, since=since, noise=noise),
        }
    row["noise"] = any(c["noise"] for c in (row["baseline"], row["previous"]))  # type: ignore[index]
    return row


def report_html(data: ReportData, *, for_web: bool = False) -> str:
    """The report as one HTML document: print layout for WeasyPrint, or a standalone web page.

    The web page reuses the same partials and inlines the stylesheet (minus the ``@page`` rules'
    effect, which browsers ignore on screen), so it needs no static-file route.
    """
    context = report_context(data)
    css = (ASSETS_DIR / "report.css").read_text(encoding="utf-8")
    return _environment().get_template("report/report.html").render(**context, for_web=for_web, css=Markup(css))


def render_pdf(data: ReportData, *, timeout_s: float = 60.0) -> bytes:
    """The report as PDF bytes (PDF/UA-1, with ``lang`` and title metadata).

    Raises ``RenderTimeout`` when rendering takes longer than ``timeout_s`` seconds.
    """
    return _bounded(lambda: _weasyprint(report_html(data)), timeout_s)


def _weasyprint(html: str) -> bytes:
    document = HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=ReportAssetFetcher())
    return document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True)


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
