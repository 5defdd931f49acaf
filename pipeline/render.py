"""Render a leader's report (``ReportData``) to PDF with WeasyPrint (the HTML comes from ``pipeline.report_html``).

Rendering is safe and bounded:
- the URL fetcher serves only files under ``templates/report/`` and refuses every other ``file://``
  URL and every network URL (a template or content text can never make the worker read
  ``/etc/passwd`` or call out to the network);
- the render runs under a time limit and raises ``RenderTimeout`` when it is exceeded.

No Flask import: the pipeline renders without an app. The web pages use ``pipeline.report_html`` directly,
so a web worker or a CLI command never imports WeasyPrint (about 0.6 s) unless it makes a PDF.
"""

from __future__ import annotations

import mimetypes
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pydyf
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from pipeline.report_data import ReportData
from pipeline.report_html import ASSETS_DIR, debrief_html, report_html

__all__ = ["ASSETS_DIR", "debrief_html", "render_pdf", "report_html"]

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
