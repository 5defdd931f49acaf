"""Issue 19, the whole follow-up cycle through the web app in Chromium: the report's debrief nudge arrives
on a real SMTP server, the leader holds the debrief (focus, a plan with a hack and a due date), the due-date
nudge arrives, the follow-up round carries the live action over, its focus field remembers the team's
choice, and the follow-up report lists the hack apart instead of recommending it again."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_app
from tests.helpers import LiveServer, SMTPSink, pdf_attachment, pdf_text, submit, text_part, token_of
from tests.web_helpers import PASSWORD, add_account

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _login(page: Any, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log ind").click()


def test_a_whole_follow_up_cycle_in_the_browser(tmp_path: Path, browser: Any, smtp: SMTPSink) -> None:
    from pipeline.tasks import send_pending, tick
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team, import_participants
    from tests.helpers import close

    app = make_app(tmp_path, **smtp.config())
    rt = app.extensions["tryghed"]
    items = rt.content.instrument().items
    used: set[str] = set()
    answers = app.test_client()

    def answer_all(values: list[int]) -> None:
        fresh = [token_of(m) for m in smtp.messages if "/s/" in text_part(m) and token_of(m) not in used]
        for token, value in zip(fresh, values, strict=False):
            used.add(token)
            assert submit(answers, token, {i.key: value for i in items}).status_code == 200

    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "Team Lyng", "lis@example.org", "Lis Leder")
        import_participants(s, team.id, "email,name\n" + "".join(f"p{i}@example.org,P{i}\n" for i in range(5)))
        first = create_round(rt, s, team.id)
        open_round(rt, s, first.id)
        team_id, first_id = team.id, first.id
    with app.app_context():
        send_pending.delay(first_id)
    answer_all([2, 2, 3, 2, 2])
    shown = close(app, first_id)
    focus = shown["focus_pillars"][0]
    hack = next(h for h in rt.content.hacks if h.pillar == focus)
    add_account(app, "lis@example.org", "leader")
    add_account(app, "fie@example.org", "facilitator")

    with LiveServer(app) as live:
        rt.config["BASE_URL"] = live.url
        with app.app_context():
            tick.run()
        [nudge] = smtp.by_subject("Næste skridt for Team Lyng")
        guide = re.search(r"(http\S+/r/\S+/debrief)", text_part(nudge))
        assert nudge["To"] == "lis@example.org" and guide
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False, locale="da-DK")
        lp = ctx.new_page()
        assert lp.goto(guide.group(1)).status == 200  # type: ignore[union-attr]
        assert "Guide til teammødet" in lp.content()

        # the debrief: the team's focus and a plan with a hack and a real due date
        _login(lp, live.url, "lis@example.org")
        lp.goto(f"{live.url}/rounds/{first_id}/debrief")
        lp.get_by_label("Det fokus, teamet valgte").select_option(focus)
        lp.get_by_role("button", name="Gem fokus").click()
        due = (rt.now().astimezone(rt.tz) + timedelta(days=2)).date().isoformat()
        for what, hack_key in (("Vi prøver hacket hver uge", hack.key), ("Lederen spørger først", "")):
            lp.get_by_label("Niveau").select_option("gruppe")
            lp.get_by_label("Hvad gøres der").fill(what)
            lp.get_by_label("Hvem gør det").fill("Teamet")
            lp.get_by_label("Frist").fill(due)
            lp.get_by_label("Det hack, handlingen omsætter (valgfri)").select_option(hack_key)
            lp.get_by_role("button", name="Føj til planen").click()
        rows = lp.locator("table.plan tbody tr")
        assert rows.count() == 2, lp.locator("main").inner_text()[:1500]
        assert hack.title.da in rows.nth(0).inner_text()
        lp.get_by_label("Status for: Vi prøver hacket hver uge").select_option("ongoing")
        rows.nth(0).get_by_role("button", name="Gem").click()
        lp.get_by_label("Status for: Lederen spørger først").select_option("done")
        lp.locator("table.plan tbody tr").nth(1).get_by_role("button", name="Gem").click()

        # the due date comes near: the leader (no owner named) hears of it
        with app.app_context():
            tick.run()
        [soon] = smtp.by_subject("Snart frist: Vi prøver hacket")
        assert soon["To"] == "lis@example.org"

        # the facilitator runs the follow-up round in the browser
        fctx = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False, locale="da-DK")
        fp = fctx.new_page()
        _login(fp, live.url, "fie@example.org")
        fp.goto(f"{live.url}/teams/{team_id}")
        fp.get_by_role("button", name="Opret runde").click()
        fp.get_by_role("link", name="Åbn runde 2 nu").click()  # a page that says what happens
        fp.get_by_role("button", name="Ja, åbn runde 2 nu").click()
        answer_all([2, 3, 2, 2, 2])
        fp.goto(f"{live.url}/teams/{team_id}")
        fp.get_by_role("link", name="Luk runde 2 nu").click()  # a page that says what happens
        fp.get_by_role("button", name="Ja, luk runde 2 nu").click()

        # round 2's plan: the ongoing action carried over, the done one not; the focus field remembers
        lp.goto(f"{live.url}/teams/{team_id}")
        lp.get_by_role("link", name="Tilbagemelding og handleplan for runde 2").click()
        plan = lp.locator("table.plan tbody tr")
        assert plan.count() == 1 and "Videreført" in plan.first.inner_text()
        assert "Vi prøver hacket hver uge" in plan.first.inner_text()
        assert lp.get_by_label("Det fokus, teamet valgte").input_value() == focus
        # the follow-up report lists the hack as already in the plan, never as new
        lp.goto(f"{live.url}/teams/{team_id}")
        lp.get_by_role("link", name="Rapport for runde 2 på nettet").click()
        focus_page = lp.locator("#focus").inner_text()
        assert "Allerede i jeres handleplan" in focus_page and hack.title.da in focus_page
        assert hack.title.da not in focus_page.split("Nye hacks at prøve")[1]
        ctx.close()
        fctx.close()
    reports = smtp.by_subject("Rapport: psykologisk tryghed i Team Lyng")
    text = " ".join(pdf_text(pdf_attachment(reports[-1]), tmp_path).split())
    new_part = text[text.index("Nye hacks at prøve") :].split("Dilemmaer til dialogen")[0]
    assert "Allerede i jeres handleplan" in text and hack.title.da not in new_part
    rt.db.dispose()
