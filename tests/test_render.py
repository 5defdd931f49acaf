"""The leader's report rendered for real and read back: figures, pages, order, anonymity, safety."""

from __future__ import annotations

import http.server
import re
import signal
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline import charts, report_text
from pipeline.render import (
    ASSETS_DIR,
    FetchRefused,
    RenderTimeout,
    ReportAssetFetcher,
    _weasyprint,
    render_pdf,
    report_html,
)
from pipeline.report_text import format_mean, labels, section_labels
from tests.report_fixtures import pdf_pages, sample_content, sample_report, unsuppressed_twin

CASES = [(kind, lang) for kind in ("baseline", "followup") for lang in ("da", "en")]


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, str, bool], bytes]:
    """Every report variant rendered once for the module (WeasyPrint takes about a second each)."""
    out = {}
    for kind, lang in CASES:
        out[(kind, lang, False)] = render_pdf(sample_report(kind, lang))
    for lang in ("da", "en"):
        out[("baseline", lang, True)] = render_pdf(sample_report("baseline", lang, suppressed=True))
        out[("followup", lang, True)] = render_pdf(sample_report("followup", lang, suppressed=True))
    return out


def _expected_headings(kind: str, lang: str, content=None) -> list[str]:
    data = sample_report(kind, lang, content=content)
    ui = section_labels(lang)
    focus_name = data.instrument.pillar(data.focus_pillars[0]).name.get(lang)
    headings = [ui["report_title"], ui["summary"]]
    if kind == "followup":
        headings.append(ui["change_heading"])
    headings.append(ui["how_to_read"])
    headings += [f"{ui['pillar']}: {p.name.get(lang)}" for p in data.instrument.pillars]
    if data.followed_focus:
        followed = data.instrument.pillar(data.followed_focus).name.get(lang)
        headings.append(ui["followed_heading"].format(pillar=followed))
    else:
        headings.append(ui["suggestion_heading"].format(pillar=focus_name))
    headings += [ui["dilemmas"], ui["debrief_heading"]]
    if kind == "followup":
        headings.append(ui["review_heading"])
    headings += [ui["iglo_heading"], ui["next_steps"], ui["traps_heading"], ui["roles_heading"]]
    return headings


def _sections_in_order(pages: list[str], headings: list[str]) -> None:
    """Every section starts on a new page, in the expected order (a long section may take two pages)."""
    starts = []
    for heading in headings:
        found = [i for i, page in enumerate(pages) if heading in page and (not starts or i >= starts[-1])]
        assert found, heading
        starts.append(found[0])
    assert starts == sorted(starts) and len(set(starts)) == len(starts), starts


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_pages_start_with_their_section_headings_in_order(rendered, tmp_path, kind, lang):
    pages = pdf_pages(rendered[(kind, lang, False)], tmp_path)
    _sections_in_order(pages, _expected_headings(kind, lang))


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_figures_match_the_aggregates(rendered, tmp_path, kind, lang):
    data = sample_report(kind, lang)
    pages = pdf_pages(rendered[(kind, lang, False)], tmp_path)
    text = "\n".join(pages)
    assert labels(lang)["answered"].format(n=data.responses, total=data.invited) in pages[0]
    summary = pages[1]
    for pillar in data.result.pillars:
        assert pillar.mean is not None
        assert format_mean(pillar.mean, lang) in summary
    for pillar in data.instrument.pillars:
        page = next(p for p in pages if f"{labels(lang)['pillar']}: {pillar.name.get(lang)}" in p)
        assert format_mean(data.result.pillar(pillar.key).mean, lang) in page
        for item in data.instrument.items_of(pillar.key):
            result = next(r for r in data.result.items if r.key == item.key)
            assert format_mean(result.mean, lang) in page
            # grouped shares, in words beside the bar: never a count per scale point
            group = charts.group_answers(result.distribution)
            share = report_text.format_percent(group.agree, lang)  # "78 %" / "78%"
            assert f"{data.instrument.answer_groups(lang)[2]} {share}" in page
    decimal = "," if lang == "da" else "."
    other = "." if lang == "da" else ","
    mean = format_mean(data.result.pillars[0].mean, lang)
    assert decimal in mean and other not in mean
    for hack in data.hacks:
        assert hack.title.get(lang) in text


@pytest.mark.parametrize("lang", ["da", "en"])
def test_followup_shows_change_trend_gap_and_advice(rendered, tmp_path, lang):
    data = sample_report("followup", lang)
    pages = pdf_pages(rendered[("followup", lang, False)], tmp_path)
    end = next(i for i, page in enumerate(pages) if labels(lang)["how_to_read"] in page)
    change = " ".join(pages[2:end])  # the section may take two pages with several earlier rounds
    # every earlier round that reached k (March with 7 answers, September with 8; not June with 3)
    assert [c.since_responses for c in data.changes] == [8, 7]
    for c in data.changes:
        for p in c.pillars:
            cell = f"{report_text.format_delta(p.change, lang)} {report_text.format_interval(p.low, p.high, lang)}"
            assert cell in change, p
    for point in data.history:
        assert point.label in change
    assert labels(lang)["trend_gap"][:40] in " ".join(change.split())
    text = "\n".join(pages)
    for advice in data.advice:
        assert advice.title.get(lang) in text
    for action in data.previous_actions:
        assert action.what in text


@pytest.mark.parametrize("kind", ["baseline", "followup"])
def test_real_content_fits_one_section_per_page(tmp_path, kind):
    """The shipped TOML content (longer texts than the sample) must not spill a section over a page."""
    content_module = pytest.importorskip("survey.content")
    content = content_module.get_content()
    for lang in ("da", "en"):
        pages = pdf_pages(render_pdf(sample_report(kind, lang, content=content)), tmp_path)
        _sections_in_order(pages, _expected_headings(kind, lang, content))


def test_format_mean_and_delta():
    assert format_mean(3.75, "da") == "3,75"
    assert format_mean(3.75, "en") == "3.75"
    assert format_mean(4, "en") == "4.00"
    assert format_mean(None, "da") == "–"
    assert report_text.format_delta(-0.1, "da") == "−0,10"
    assert report_text.format_delta(0.25, "en") == "+0.25"


@pytest.mark.parametrize("kind", ["baseline", "followup"])
@pytest.mark.parametrize("lang", ["da", "en"])
def test_suppressed_report_shows_no_figure(rendered, tmp_path, kind, lang):
    data = sample_report(kind, lang, suppressed=True)
    assert data.suppressed and not data.focus_pillars and not data.hacks
    pages = pdf_pages(rendered[(kind, lang, True)], tmp_path)
    text = "\n".join(pages)
    flat = " ".join(text.split())
    twin = unsuppressed_twin(data)
    leaked = [format_mean(v, lang) for v in (*[p.mean for p in twin.pillars], *[i.mean for i in twin.items])]
    assert not [v for v in leaked if v in text]
    ui = section_labels(lang)
    focus_words = [
        ui["followed_heading"].split("{")[0],
        ui["suggestion_heading"].split("{")[0],
        ui["how_to_start"],
        ui["extremes_heading"],
    ]
    assert not [w for w in focus_words if w.lower() in flat.lower()]
    content = sample_content()
    assert not [h.title.get(lang) for h in content.hacks if h.title.get(lang) in flat]
    # dilemmas hold no figures: one per pillar, in stage order, so none points at a weak pillar
    shown = [d for d in content.dilemmas if d.title.get(lang) in flat]
    assert [d.pillar for d in shown] == [p.key for p in data.instrument.pillars]
    for pillar in data.instrument.pillars:  # the pillars explained, without a figure
        assert pillar.description.get(lang) in flat
    assert ui["debrief_heading"] in flat
    for band in ("band_red", "band_yellow", "band_green"):
        # a band as a figure ("zone: grøn"); the shipped traps may speak of green results in general
        assert f"{labels(lang)['band'].lower()}: {labels(lang)[band]}" not in flat.lower()
    assert ui["answered"].format(n=data.responses, total=data.invited) in pages[0]
    assert ui["suppressed_lead"].format(n=data.responses, total=data.invited, k=data.min_responses) in flat
    assert ui["suppressed_heading"] in text
    for trap in data.traps:
        assert trap.title.get(lang) in text
    for step in data.steps:
        assert step.url in text
    _sections_in_order(
        pages,
        [ui["suppressed_heading"], ui["suppressed_pillars_heading"], ui["dilemmas"], ui["debrief_heading"]]
        + [ui["process_heading"], ui["traps_heading"], ui["roles_heading"]],
    )
    html = report_html(data, for_web=True)
    assert "<svg" not in html  # no chart at all, not even an empty one


def test_pdf_metadata_and_tags(rendered):
    import io

    for (kind, lang, suppressed), pdf in rendered.items():
        reader = PdfReader(io.BytesIO(pdf))
        data = sample_report(kind, lang, suppressed=suppressed)
        assert data.team_name in reader.metadata.title
        root = reader.trailer["/Root"]
        assert root["/Lang"] == lang
        assert "/StructTreeRoot" in root  # tagged (PDF/UA-1)


def test_fonts_are_embedded_and_carry_danish_letters(rendered, tmp_path):
    pdf = tmp_path / "baseline.pdf"
    pdf.write_bytes(rendered[("baseline", "da", False)])
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True, timeout=60).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows, fonts
    assert all(row[-5] == "yes" for row in rows), fonts  # the "emb" column: every font is embedded
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60).stdout
    assert all(letter in text for letter in "æøå"), "Danish letters must come back out as text"


def test_pages_render_to_png(rendered, tmp_path):
    pdf = tmp_path / "followup.pdf"
    pdf.write_bytes(rendered[("followup", "da", False)])
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == len(PdfReader(pdf).pages)
    assert all(p.stat().st_size > 1000 for p in pngs)


def test_web_html_reuses_the_content():
    data = sample_report("followup", "en")
    page = report_html(data, for_web=True)
    assert page.startswith("<!doctype html>") and '<html lang="en">' in page
    assert 'rel="stylesheet"' not in page and "<style>" in page  # standalone: no static route needed
    for pillar in data.result.pillars:
        assert format_mean(pillar.mean, "en") in page
    assert "<script" not in page


def test_text_is_escaped():
    data = sample_report("baseline", "da")
    evil = data.__class__(**{**data.__dict__, "team_name": '<img src="http://evil.test/x">'})
    assert '<img src="http://evil.test/x">' not in report_html(evil)


# --- safety: fetcher and time limit -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        f"{ASSETS_DIR.as_uri()}/../../pyproject.toml",
        f"{ASSETS_DIR.as_uri()}/partials/../../../pyproject.toml",
        "http://127.0.0.1/x.png",
        "https://example.com/x.css",
        "ftp://example.com/x",
        "data:text/plain,hello",
        "file://otherhost/etc/passwd",
    ],
)
def test_fetcher_refuses_everything_but_report_assets(url):
    with pytest.raises(FetchRefused):
        ReportAssetFetcher().fetch(url)


def test_fetcher_serves_the_stylesheet():
    response = ReportAssetFetcher().fetch(f"{ASSETS_DIR.as_uri()}/report.css")
    try:
        assert response.content_type == "text/css"
        assert b"@page" in response.read()
    finally:
        response.close()


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802 - http.server's naming
        type(self).hits += 1
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_render_never_reaches_the_network_or_local_files(caplog):
    server = http.server.HTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/pixel.png"
        html = (
            f'<html><head><link rel="stylesheet" href="{url}"></head><body>'
            f'<img src="{url}"><img src="file:///etc/passwd"><p>ok</p></body></html>'
        )
        pdf = _weasyprint(html)
    finally:
        server.shutdown()
        server.server_close()
    assert pdf.startswith(b"%PDF")
    assert _CountingHandler.hits == 0
    assert any("FetchRefused" in r.getMessage() for r in caplog.records)


def test_time_limit_on_main_thread_stops_the_render():
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(RenderTimeout):
        render_pdf(sample_report("baseline", "da"), timeout_s=0.05)
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limit_off_main_thread():
    errors: list[BaseException] = []

    def run():
        try:
            render_pdf(sample_report("baseline", "en"), timeout_s=0.05)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    assert len(errors) == 1 and isinstance(errors[0], RenderTimeout)


# --- charts ---------------------------------------------------------------------------------------


def test_charts_are_well_formed_svg_with_gaps():
    svg = charts.trend_chart(
        ["a", "b", "c", "d"],
        [charts.Series("Inkludere", [4.0, None, 4.2, 4.3]), charts.Series("Lære & co", [3.0, 3.1, 3.2, 3.3])],
        scale_min=1,
        scale_max=5,
        red_below=3.0,
        green_from=4.0,
        title="trend <title>",
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    polylines = root.findall(f"{ns}polyline")
    assert len(polylines) == 2  # the first series is broken by its gap; a lone point gets no line
    assert "Lære &amp; co" in svg and "trend &lt;title&gt;" in svg
    bars = charts.pillar_bars(
        [charts.BarRow("A", 2.5, "2,50"), charts.BarRow("B", None, "–")],
        scale_min=1,
        scale_max=5,
        red_below=3,
        green_from=4,
        title="x",
    )
    ET.fromstring(bars)
    ET.fromstring(charts.grouped_bar(charts.group_answers((0, 1, 2, 3, 4)), reverse=True, labels="abc", title="d"))


def test_sample_cli_writes_pdfs_and_pngs(tmp_path: Path):
    subprocess.run(
        [".venv/bin/python", "-m", "pipeline.render_sample", str(tmp_path), "--lang", "da", "--dpi", "30"],
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=300,
    )
    for name in ("baseline", "followup", "suppressed"):
        assert (tmp_path / f"{name}-da.pdf").stat().st_size > 5000
        assert list(tmp_path.glob(f"{name}-da-*.png"))


# --- the debrief guide ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["da", "en"])
def test_debrief_guide_is_built_from_this_teams_results(lang):
    from pipeline.render import debrief_html
    from pipeline.report_context import report_context

    data = sample_report("followup", lang)
    context = report_context(data)
    agenda = context["agenda"]
    assert all(part.minutes > 0 and part.text for part in agenda)
    assert context["agenda_minutes"] == sum(p.minutes for p in agenda)
    assert "IGLO" in agenda[-1].title  # it ends with the team's actions
    text = " ".join(f"{p.title} {p.text} {' '.join(p.questions)}" for p in agenda)
    assert context["extremes"]["strongest"][0]["text"] in text and context["extremes"]["weakest"][0]["text"] in text
    assert all(d.title.get(lang) in text for d in data.dilemmas)
    followed = data.instrument.pillar(data.followed_focus).name.get(lang)
    assert followed in text
    page = debrief_html(data)
    assert page.startswith("<!doctype html>") and section_labels(lang)["debrief_heading"] in page
    assert all(part.title in page for part in agenda)
    # the suppressed guide: no statement, no figure, but the meeting still has an agenda and an end
    suppressed = report_context(sample_report("baseline", lang, suppressed=True))
    quiet = " ".join(f"{p.text} {' '.join(p.questions)}" for p in suppressed["agenda"])
    assert not re.search(r"\d[,.]\d\d", quiet)
    assert not [i for i in data.instrument.items if i.text.get(lang) in quiet]
    assert "IGLO" in suppressed["agenda"][-1].title
