"""A whole card round in a real browser (issue 21): the facilitator makes the round on the team page and
downloads the cards from the round page; the codes are read back from the PDF (pdftotext, and the QR codes
with zbar from a rendered page); people answer on a phone's viewport, by scanning and by typing a code; the
facilitator refreshes the live count, closes with the confirmation, and runs the debrief on the room's
screen with the keyboard, records the team's focus there, and prints the deck (one screen a page)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from survey.data.models import Round
from tests.conftest import make_app
from tests.helpers import LiveServer
from tests.test_answer_cards import GROUPED, decoded_qr_codes
from tests.test_web_browser import _login
from tests.web_helpers import add_account

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _answer_on_phone(page: Any, values: list[int]) -> None:
    """Tick one answer per statement as a thumb would (the visible label), then send."""
    groups = page.locator("form fieldset")
    assert groups.count() == len(values)
    for i, value in enumerate(values):
        groups.nth(i).locator("label").nth(value - 1).click()
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Tak for dine svar"


def test_a_card_round_from_the_printed_cards_to_the_debrief_on_the_screen(tmp_path: Path, browser: Any) -> None:
    from survey.domain.teams import add_team, import_participants

    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        team = add_team(s, "Team Æblegården", "lis@example.org", "Lis Leder")
        import_participants(s, team.id, "email,name\n" + "".join(f"p{i}@example.org,P{i}\n" for i in range(4)))
        team_id = team.id
    add_account(app, "fie@example.org", "facilitator")
    n_items = len(rt.content.instrument().items)

    with LiveServer(app) as live:
        rt.config["BASE_URL"] = live.url
        fac = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True, locale="da-DK")
        page = fac.new_page()
        _login(page, live.url, "fie@example.org")

        # the round form on the team page: answer cards, default count (4 participants + 2 spares)
        page.goto(f"{live.url}/teams/{team_id}")
        page.get_by_label("Sådan svarer man").select_option("cards")
        page.get_by_role("button", name="Opret runde").click()
        page.get_by_role("link", name="Åbn runde 1 nu").click()  # the page that says what happens
        page.get_by_role("button", name="Ja, åbn runde 1 nu").click()
        assert re.search(r"/rounds/\d+$", page.url), page.url
        rid = int(page.url.rsplit("/", 1)[1])
        assert "0 af 6 kort brugt" in page.content()
        with page.expect_download() as download:
            page.get_by_role("link", name="Hent de 6 svarkort (PDF, 8 på et A4-ark)").click()
        pdf = tmp_path / "cards.pdf"
        download.value.save_as(pdf)

        # read back as a person does: the typed codes, and the QR codes through a real decoder
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        codes = [g.replace("-", "") for g in GROUPED.findall(text)]
        assert len(codes) == 6 == len(set(codes))
        scanned = decoded_qr_codes(pdf, tmp_path)
        assert sorted(scanned) == sorted(f"{live.url}/k/{c}" for c in codes)
        with pikepdf.open(pdf) as doc:
            assert len(doc.pages) == 1

        # five people answer on a phone: four scan their card, one types the code read aloud
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="da-DK"
        )
        mobile = phone.new_page()
        for n, url in enumerate(scanned[:4]):
            mobile.goto(url)
            _answer_on_phone(mobile, [1 + (j + n) % 5 for j in range(n_items)])
        mobile.goto(f"{live.url}/k/")
        code = next(c for c in codes if f"{live.url}/k/{c}" == scanned[4])
        mobile.get_by_role("textbox").fill(" ".join(re.findall("....", code.lower())))
        with mobile.expect_navigation():
            mobile.locator("form button[type=submit]").click()
        _answer_on_phone(mobile, [4] * n_items)
        assert mobile.goto(scanned[0]).status == 409  # type: ignore[union-attr]
        phone.close()

        # the live count with a plain refresh; then close with the confirmation
        page.get_by_role("link", name="Opdatér antallet").click()
        assert "5 af 6 kort brugt" in page.content()
        page.get_by_role("link", name="Luk runde 1 nu").click()
        with page.expect_navigation():
            page.get_by_role("button", name="Ja, luk runde 1 nu").click()
        with rt.db.session() as s:
            assert s.get(Round, rid).status == "reported"  # embedded default: the pipeline ran in the request

        # the debrief on the room's screen: keyboard and links, the team's focus recorded there
        page.get_by_role("link", name="Tilbagemelding for runde 1 på mødelokalets skærm").click()
        heading = page.get_by_role("heading", level=1)
        assert heading.inner_text() == "Guide til teammødet"
        with page.expect_navigation():
            page.keyboard.press("ArrowRight")
        assert page.url.endswith("slide=2#slide-title") and heading.inner_text() == "Overblik"
        with page.expect_navigation():
            page.keyboard.press("PageDown")
        assert heading.inner_text() == "Stærkeste og svageste udsagn"
        with page.expect_navigation():
            page.keyboard.press("ArrowLeft")
        assert heading.inner_text() == "Overblik"
        page.get_by_role("link", name=re.compile("^Næste")).click()
        assert heading.inner_text() == "Stærkeste og svageste udsagn"
        screens = int(page.locator(".deck-pos").inner_text().rsplit(" ", 1)[1])
        page.goto(f"{live.url}/rounds/{rid}/present?slide={screens - 1}")
        assert heading.inner_text() == "Jeres fokus"
        page.get_by_label("Det fokus, teamet valgte").select_option("udfordre")
        with page.expect_navigation():
            page.get_by_role("button", name="Gem fokus").click()
        assert "Teamet valgte: Udfordre" in page.locator("section.current").inner_text()
        with rt.db.session() as s:
            assert s.get(Round, rid).chosen_focus == "udfordre"

        # printed: every screen, each on its own page, without the navigation
        page.emulate_media(media="print")
        assert page.locator("section.slide:visible").count() == screens
        assert not page.locator("nav.deck-nav").is_visible()
        printed = tmp_path / "deck.pdf"
        printed.write_bytes(page.pdf(prefer_css_page_size=True))
        with pikepdf.open(printed) as doc:
            assert len(doc.pages) >= screens
        flat = " ".join(subprocess.run(["pdftotext", str(printed), "-"], capture_output=True, text=True).stdout.split())
        assert "Overblik" in flat and "Jeres første IGLO-handlinger" in flat
        fac.close()
    rt.db.dispose()
