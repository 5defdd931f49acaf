"""A leader's report (``ReportData``) as HTML: the print layout WeasyPrint lays out (``pipeline.render``),
or the same content as a standalone web page (``/r/<link>``, the web report, the debrief guide).

Kept apart from ``pipeline.render`` so that serving the page never imports WeasyPrint.
"""

from __future__ import annotations

from functools import lru_cache

import jinja2
from markupsafe import Markup

from pipeline import report_text
from pipeline.report_context import report_context
from pipeline.report_data import ReportData
from survey.paths import TEMPLATES_DIR

ASSETS_DIR = TEMPLATES_DIR / "report"


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


def report_html(data: ReportData, *, for_web: bool = False, debrief_url: str | None = None) -> str:
    """The report as one HTML document: print layout for WeasyPrint, or a standalone web page.

    The web page reuses the same partials and inlines the stylesheet (minus the ``@page`` rules'
    effect, which browsers ignore on screen), so it needs no static-file route.
    """
    return _render("report/report.html", data, for_web=for_web, debrief_url=debrief_url)


def debrief_html(data: ReportData) -> str:
    """The debrief guide alone, as a printable web page (``/r/<token>/debrief``)."""
    return _render("report/debrief.html", data, for_web=True, debrief_url=None)


def _render(template: str, data: ReportData, *, for_web: bool, debrief_url: str | None) -> str:
    css = (ASSETS_DIR / "report.css").read_text(encoding="utf-8")
    return (
        _environment()
        .get_template(template)
        .render(**report_context(data), for_web=for_web, css=Markup(css), debrief_url=debrief_url)
    )
