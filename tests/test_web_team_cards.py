"""The start page's team cards (``survey.web.team_cards``): every text in the page's language, and a team's
name, the one text a user wrote, escaped, although the card loop writes its ready texts out as they are."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from survey.domain.teams import add_team
from tests.conftest import make_app
from tests.unit_fixtures import Seeded, add_reported_rounds, add_units
from tests.web_helpers import add_account, login

HOSTILE = '<b onclick="x()">Ærø & Co\'s</b>'


def _cards(html: str) -> dict[str, str]:
    """Team name -> the card's text, tags removed."""
    found = re.findall(r'<li class="card">(.*?)</li>', html, re.S)
    cards = {}
    for card in found:
        name = unescape(re.search(r"<h2><a [^>]*>(.*?)</a></h2>", card, re.S).group(1))  # type: ignore[union-attr]
        cards[name] = " ".join(unescape(re.sub(r"<[^>]+>", " ", card)).split())
    return cards


def test_cards_speak_the_page_language_and_escape_the_team_name(tmp_path: Path, db_url: str) -> None:
    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    seeded = Seeded()
    with rt.db.session() as s:
        add_units(s, [("Forvaltning", None)], seeded)
        add_reported_rounds(s, rt.content.instrument(), [(HOSTILE, "Forvaltning", [7])], seeded)
        add_team(s, "Ny", "ny@example.org", track="facilitated")
    add_account(app, "da@example.org", "facilitator")
    add_account(app, "en@example.org", "facilitator", lang="en")
    pages = {}
    for lang in ("da", "en"):
        client = app.test_client()
        assert login(client, f"{lang}@example.org") == 303
        pages[lang] = client.get("/").get_data(as_text=True)
    for html in pages.values():
        assert "<b onclick" not in html and "&lt;b onclick=&#34;x()&#34;&gt;Ærø &amp; Co&#39;s&lt;/b&gt;" in html
    da, en = _cards(pages["da"]), _cards(pages["en"])
    assert set(da) == set(en) == {HOSTILE, "Ny"}
    assert da[HOSTILE] == (
        f"{HOSTILE} Trin 3. Det gør vi Seneste runde Runde 1: Rapport sendt Svar 7 af 8 har svaret (88 %)"
        " Forløb Selvstyret forløb"
    )
    assert da["Ny"] == "Ny Trin 1. Fælles viden Seneste runde Ingen endnu Svar – Forløb Faciliteret forløb"
    assert en[HOSTILE] == (
        f"{HOSTILE} Step 3. What we do Latest round Round 1: Reported Answers 7 of 8 answered (88%) Track Self-guided"
    )
    assert en["Ny"] == "Ny Step 1. Shared knowledge Latest round None yet Answers – Track Facilitated"
    rt.db.dispose()
