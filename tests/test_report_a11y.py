"""Accessibility of the report, judged by outside tools (issue 9, acceptance 3).

- The PDF, read back with pikepdf and poppler's ``pdffonts``: every ``/Figure`` structure element has
  ``/Alt`` (or the drawing is an artifact, outside the structure tree), every ``/TH`` carries ``/Scope``,
  every font is embedded.
- The ``/r/`` page, served by the real app over HTTP and opened in Chromium: axe-core finds no violation
  (baseline, follow-up, suppressed; Danish and English; 390 and 1280 px wide), and at 320 px no page is
  wider than the screen. The debrief guide's own page too.
"""

from __future__ import annotations

import io
import random
import re
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from flask import Flask

from pipeline.render import render_pdf
from pipeline.sample_report import sample_report
from tests.a11y import axe_violations, describe
from tests.conftest import make_app
from tests.helpers import LiveServer, read_outbox, setup_round, submit, text_part, token_of

VARIANTS = [("baseline", False), ("followup", False), ("baseline", True)]


def _structure(pdf: bytes) -> tuple[pikepdf.Pdf, list[pikepdf.Dictionary]]:
    """The open PDF and every structure element of its tag tree (the elements live as long as the PDF)."""
    doc = pikepdf.open(io.BytesIO(pdf))
    found: list[pikepdf.Dictionary] = []
    stack = [doc.Root.StructTreeRoot]
    seen: set[tuple[int, int]] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Array):
            stack.extend(node)
            continue
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        if node.get("/Type") == "/StructElem":
            found.append(node)
        kids = node.get("/K")
        if kids is not None:
            stack.append(kids)
    return doc, found


@pytest.fixture(scope="module")
def pdfs() -> dict[tuple[str, bool, str], bytes]:
    return {
        (kind, sup, lang): render_pdf(sample_report(kind, lang, suppressed=sup))
        for kind, sup in VARIANTS
        for lang in ("da", "en")
    }


def test_every_figure_has_alternative_text(pdfs: dict[tuple[str, bool, str], bytes]) -> None:
    for key, pdf in pdfs.items():
        _doc, elements = _structure(pdf)
        figures = [e for e in elements if e.get("/S") == "/Figure"]
        missing = [f for f in figures if not str(f.get("/Alt", "")).strip()]
        assert not missing, f"{key}: {len(missing)} of {len(figures)} figures without /Alt"
        if key[1]:  # suppressed: no chart at all
            assert not figures, key
        else:
            assert figures, key  # the charts are tagged as figures, each with its text


def test_every_table_header_has_a_scope(pdfs: dict[tuple[str, bool, str], bytes]) -> None:
    followup = pdfs[("followup", False, "da")]
    _doc, elements = _structure(followup)
    headers = [e for e in elements if e.get("/S") == "/TH"]
    assert headers, "the follow-up has tables (change, trend, review)"
    scopes = [str(e.get("/A", {}).get("/Scope", "")) for e in headers]
    assert all(s in ("/Row", "/Column") for s in scopes), scopes
    assert "/Row" in scopes and "/Column" in scopes
    # column headers are the table heads' cells, row headers the first cell of body rows
    for e in headers:
        group = e.P.P
        expected = "/Column" if group.get("/S") == "/THead" else "/Row"
        assert str(e.A.Scope) == expected


def test_fonts_are_embedded(pdfs: dict[tuple[str, bool, str], bytes], tmp_path: Path) -> None:
    for (kind, sup, lang), pdf in pdfs.items():
        path = tmp_path / f"{kind}-{sup}-{lang}.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True, timeout=60).stdout
        rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
        assert rows and all(row[-5] == "yes" for row in rows), out


# -- the /r/ page in a real browser -------------------------------------------------------------------------


def _answer(app: Flask, outbox: Path, count: int, rng: random.Random) -> None:
    items = app.extensions["tryghed"].content.instrument().items
    client = app.test_client()
    for msg in read_outbox(outbox)[:count]:
        assert submit(client, token_of(msg), {i.key: rng.randint(1, 5) for i in items}).status_code == 200


def _close(app: Flask, round_id: int) -> None:
    from pipeline.tasks import run_pipeline
    from survey.domain.rounds import close_round

    rt = app.extensions["tryghed"]
    with app.app_context():
        with rt.db.session() as s:
            close_round(rt, s, round_id)
        run_pipeline.delay(round_id)


def _report_path(outbox: Path) -> str:
    mail = next(m for m in read_outbox(outbox) if m["To"] == "leder@example.org")
    found = re.search(r"https?://[^/\s]+(/r/\S+)", text_part(mail))
    assert found
    return found.group(1)


def _reports(app: Flask, tmp_path: Path, lang: str) -> dict[str, str]:
    """Real rounds of one language: a baseline, its follow-up (focus chosen, an action agreed), a suppressed one."""
    from pipeline.tasks import send_pending
    from survey.domain.actions import add_action
    from survey.domain.focus import record_focus
    from survey.domain.rounds import create_round, open_round

    rt = app.extensions["tryghed"]
    outbox = tmp_path / "outbox"
    rng = random.Random(3)
    paths: dict[str, str] = {}

    def fresh() -> None:
        for p in outbox.glob("*.eml"):
            p.unlink()

    fresh()
    team_id, first = setup_round(app, 8, lang=lang, team_name=f"Team Lys {lang}")
    _answer(app, outbox, 6, rng)
    _close(app, first)
    paths["baseline"] = _report_path(outbox)
    with app.app_context(), rt.db.session() as s:
        record_focus(s, rt.content, first, "laere")
        add_action(s, first, "gruppe", "Månedens læring", "Alle", "2026-06-01", hack_key="lae_maanedens_laering")
        fresh()
        second = create_round(rt, s, team_id).id
        open_round(rt, s, second)
        send_pending.delay(second)
    _answer(app, outbox, 7, rng)
    _close(app, second)
    paths["followup"] = _report_path(outbox)

    fresh()
    _team, small = setup_round(app, 8, lang=lang, team_name=f"Team Lille {lang}")
    _answer(app, outbox, 2, rng)
    _close(app, small)
    paths["suppressed"] = _report_path(outbox)
    return paths


@pytest.fixture(scope="module")
def live_reports(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp_path = tmp_path_factory.mktemp("a11y")
    app = make_app(tmp_path)
    with LiveServer(app) as live:
        app.extensions["tryghed"].config["BASE_URL"] = live.url
        yield live.url, {lang: _reports(app, tmp_path, lang) for lang in ("da", "en")}
    app.extensions["tryghed"].db.dispose()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("kind", ["baseline", "followup", "suppressed"])
def test_report_page_has_no_axe_violations_and_fits_a_small_phone(browser, live_reports, kind: str, lang: str) -> None:
    base, paths = live_reports
    urls = [base + paths[lang][kind], base + paths[lang][kind] + "/debrief"]
    for width in (390, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=True)
        page = context.new_page()
        for url in urls:
            response = page.goto(url)
            assert response is not None and response.status == 200, url
            violations = axe_violations(page)
            assert not violations, f"{kind} {lang} {width}px {url}:\n{describe(violations)}"
        context.close()
    context = browser.new_context(viewport={"width": 320, "height": 700}, java_script_enabled=False)
    page = context.new_page()
    for url in urls:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{kind} {lang}: {url} is {width} px wide on a 320 px screen"
    context.close()
