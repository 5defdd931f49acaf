"""The web app in a real browser (headless system Chromium, no JavaScript): a facilitator runs a round
from team to report, a leader records the debrief, and the follow-up report reviews the plan."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TOKEN_IN_URL, make_app
from tests.helpers import LiveServer, pdf_text, read_outbox, submit, text_part
from tests.web_helpers import PASSWORD, add_account

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _new_tokens(outbox: Path, used: set[str]) -> list[str]:
    """Survey links in the outbox not used yet (invitations of the round just opened)."""
    found = []
    for msg in read_outbox(outbox):
        match = TOKEN_IN_URL.search(text_part(msg))
        if match and match.group(1) not in used:
            found.append(match.group(1))
    return list(dict.fromkeys(found))


def _login(page: Any, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log ind").click()
    assert page.url == f"{url}/", page.url


def _rate(page: Any) -> str:
    return page.locator("#rounds tbody tr").first.locator("td.rate").inner_text().strip()


def test_facilitator_and_leader_run_the_toolkit(tmp_path: Path, browser: Any) -> None:
    app = make_app(tmp_path)
    outbox = tmp_path / "outbox"
    answers_client = app.test_client()  # the participants answer through the real survey form
    items = app.extensions["tryghed"].content.instrument().items
    used: set[str] = set()

    def answer(tokens: list[str], value: int) -> None:
        for token in tokens:
            assert submit(answers_client, token, {i.key: value for i in items}).status_code == 200
            used.add(token)

    from survey.domain.teams import add_team

    with app.extensions["tryghed"].db.session() as s:
        other_team = add_team(s, "Naboteamet", "anden@example.org").id
    add_account(app, "fie@example.org", "facilitator")
    add_account(app, "lis@example.org", "leader")

    with LiveServer(app) as live:
        app.extensions["tryghed"].config["BASE_URL"] = live.url
        fac = browser.new_context(
            viewport={"width": 1280, "height": 900}, java_script_enabled=False, accept_downloads=True, locale="da-DK"
        )
        page = fac.new_page()
        _login(page, live.url, "fie@example.org")

        # a new team
        page.get_by_role("link", name="Nyt team").click()
        page.get_by_label("Teamets navn").fill("Team Bøgely")
        page.get_by_label("Lederens e-mail").fill("lis@example.org")
        page.get_by_label("Lederens navn").fill("Lis Leder")
        page.get_by_role("button", name="Opret team").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Team Bøgely"
        team_url = page.url.split("#")[0]

        # a CSV with an error: the row is named, nothing is imported
        bad = "email,name\nanna@example.org,Anna\nikke-en-mail,Bo\nanna@example.org,Anna igen\n"
        page.get_by_label("CSV-fil").set_input_files(
            {"name": "hold.csv", "mimeType": "text/csv", "buffer": bad.encode()}
        )
        with page.expect_navigation() as posted:  # the page with the errors, loaded, not only its response
            page.get_by_role("button", name="Upload").click()
        assert posted.value is not None and posted.value.status == 400
        errors = page.locator("#csv-errors tbody tr")
        assert errors.count() == 2
        assert errors.nth(0).locator("th").inner_text() == "3" and errors.nth(1).locator("th").inner_text() == "4"
        assert page.get_by_role("alert").is_visible()
        assert "0 aktive deltagere" in page.content()

        good = "email,name,lang\n" + "".join(
            f"p{i}@example.org,Person {i},{'en' if i == 0 else 'da'}\n" for i in range(6)
        )
        page.get_by_label("CSV-fil").set_input_files(
            {"name": "hold.csv", "mimeType": "text/csv", "buffer": good.encode()}
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Upload").click()
        assert "6 aktive deltagere" in page.content()

        # a round that closes in a week (Copenhagen time), opened now
        closes = (datetime.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
        page.get_by_label("Lukker (dansk tid)").fill(closes)
        page.get_by_role("button", name="Opret runde").click()
        page.get_by_role("link", name="Åbn runde 1 nu").click()  # a page that says what happens
        page.get_by_role("button", name="Ja, åbn runde 1 nu").click()
        assert _rate(page) == "0 af 6 har svaret"
        tokens = _new_tokens(outbox, used)
        assert len(tokens) == 6
        used.update(tokens)  # round 1's links, answered or not, are not the follow-up's

        # the response count follows the answers; never who
        answer(tokens[:2], 4)
        page.goto(team_url)
        assert _rate(page) == "2 af 6 har svaret"
        answer(tokens[2:5], 3)
        page.reload()
        assert _rate(page) == "5 af 6 har svaret"
        assert "p0@example.org" in page.content()  # the participant list, but nothing ties anyone to an answer

        page.get_by_role("link", name="Luk runde 1 nu").click()  # a page that says what happens
        page.get_by_role("button", name="Ja, luk runde 1 nu").click()
        with page.expect_download() as download:
            page.get_by_role("link", name="Rapport for runde 1 (PDF)").click()
        pdf = Path(download.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF") and "Team Bøgely" in pdf_text(pdf, tmp_path)

        page.get_by_label("Åbn opfølgningen om (dage)").fill("90")
        page.get_by_role("button", name="Planlæg opfølgningen").click()
        row2 = page.locator("#rounds tbody tr").first
        assert "Runde 2" in row2.inner_text() and "Planlagt" in row2.inner_text()

        # the leader: only their own team, another team's URL is not found
        lead = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False, locale="da-DK")
        lp = lead.new_page()
        _login(lp, live.url, "lis@example.org")
        cards = lp.locator(".card h2")
        assert cards.all_inner_texts() == ["Team Bøgely"]
        for url in (f"/teams/{other_team}", f"/teams/{other_team + 100}"):
            response = lp.goto(live.url + url)
            assert response is not None and response.status in (403, 404)
        lp.goto(team_url)
        lp.get_by_role("link", name="Tilbagemelding og handleplan for runde 1").click()
        debrief_url = lp.url
        other_round = re.sub(r"/rounds/\d+/", "/rounds/999/", debrief_url)
        assert lp.goto(other_round).status == 404  # type: ignore[union-attr]
        lp.goto(debrief_url)
        lp.get_by_label("Det fokus, teamet valgte").select_option("laere")
        lp.get_by_role("button", name="Gem fokus").click()
        assert "Teamet valgte: Lære" in lp.content()
        plan = [
            ("individ", "Hver især siger det højt, når vi er i tvivl", "Alle"),
            ("gruppe", "Fem minutters runde om fejl på personalemødet", "Teamet"),
            ("ledelse", "Lederen deler egne fejl først", "Lis"),
        ]
        for level, what, who in plan:
            lp.get_by_label("Niveau").select_option(level)
            lp.get_by_label("Hvad gøres der").fill(what)
            lp.get_by_label("Hvem gør det").fill(who)
            lp.get_by_label("Frist").fill("2027-03-01")
            lp.get_by_role("button", name="Føj til planen").click()
        rows = lp.locator("table.plan tbody tr")
        assert rows.count() == 3
        lp.get_by_label(f"Status for: {plan[1][1]}").select_option("done")
        rows.nth(1).get_by_role("button", name="Gem").click()
        assert lp.get_by_label(f"Status for: {plan[1][1]}").input_value() == "done"

        # the follow-up round runs; its report reviews the plan with the status
        page.goto(team_url)
        page.get_by_role("link", name="Åbn runde 2 nu").click()  # a page that says what happens
        page.get_by_role("button", name="Ja, åbn runde 2 nu").click()
        answer(_new_tokens(outbox, used)[:5], 4)
        page.reload()
        page.get_by_role("link", name="Luk runde 2 nu").click()  # a page that says what happens
        page.get_by_role("button", name="Ja, luk runde 2 nu").click()
        lp.goto(team_url)
        lp.get_by_role("link", name="Rapport for runde 2 på nettet").click()
        review = lp.locator("#review")
        assert plan[1][1] in review.inner_text()
        done_row = review.locator("tr", has_text=plan[1][1])
        assert "Gjort" in done_row.inner_text()
        other_row = review.locator("tr", has_text=plan[0][1])
        assert "Gjort" not in other_row.inner_text()
        fac.close()
        lead.close()
