"""True to the toolkit (issue 20): a facilitated team sees the toolkit's own process (pre-meeting, briefing,
screening, debriefing) on its page, its timeline and its report, each session planned by a facilitator;
the knowledge page, the kick-off and the survey page name the product's own instrument, link the toolkit's
barometer, list Edmondson's four measures and say which trap is the toolkit's and which are ours."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from survey.data.models import FacilitationRequest, Team
from tests.helpers import (
    close,
    html_part,
    pdf_attachment,
    pdf_text,
    read_outbox,
    setup_round,
    submit,
    text_part,
    token_of,
)
from tests.web_helpers import add_account, csrf_of, login, post_form

BAROMETER = "https://skab-psykologisk-tryghed.dk/wp-content/uploads/Tryghedsbarometer3.pdf"
CPH = ZoneInfo("Europe/Copenhagen")
MEASURES = {
    "da": ["Villighed til at hjælpe", "Holdning til risiko og fejl", "Inklusion og diversitet", "Åbne samtaler"],
    "en": ["Willingness to help", "Attitude to risk and mistakes", "Inclusion and diversity", "Open conversations"],
}


def _facilitated_team(app: Flask, lang: str = "da") -> int:
    from survey.domain.teams import add_team

    with app.extensions["tryghed"].db.session() as s:
        team = add_team(s, "Team Kilden", "lis@example.org", "Lis", lang)
        team.track = "facilitated"
        s.commit()
        return team.id


def _client(app: Flask, email: str, role: str) -> object:
    add_account(app, email, role)
    client = app.test_client()
    assert login(client, email) == 303
    return client


def _english(client: object) -> None:
    token = csrf_of(client.get("/knowledge").get_data(as_text=True))  # type: ignore[attr-defined]
    switched = client.post("/account/language", data={"csrf_token": token, "ui-lang": "en", "back": "/"})  # type: ignore[attr-defined]
    assert switched.status_code == 303


def test_a_facilitator_plans_the_toolkits_sessions_from_the_team_page(app: Flask) -> None:
    team_id = _facilitated_team(app)
    leader = _client(app, "lis@example.org", "leader")
    # the leader asks for the debriefing; planning it from the team page takes that request
    asked = post_form(leader, f"/teams/{team_id}", f"/teams/{team_id}/requests", {"request-kind": "debriefing"})
    assert asked.status_code == 303  # type: ignore[attr-defined]
    fac = _client(app, "fie@example.org", "facilitator")
    page = fac.get(f"/teams/{team_id}").get_data(as_text=True)  # type: ignore[attr-defined]
    process = page.split('id="process-title"')[1].split("</section>")[0]
    titles = ["Formøde (leder og facilitator)", "Briefing af medarbejderne", "Screeningen", "Debriefing"]
    assert [t for t in titles if t in process] == titles
    assert process.count("Ikke planlagt endnu.") == 3 and "Bedt om, venter på en facilitator." in process
    assert "1,5-4 timer hver" in process  # the toolkit's length, no split of our own
    timeline = page.split('id="timeline-title"')[1].split("</section>")[0]
    assert "Formøde (leder og facilitator): ikke planlagt endnu" in timeline

    base = f"/teams/{team_id}/sessions"
    fields = {"s-briefing-when": "2027-02-03T09:30", "s-briefing-place": "Mødelokale 2"}
    too_early = post_form(fac, f"/teams/{team_id}", f"{base}/briefing", {**fields, "s-briefing-ends": "08:00"})
    assert too_early.status_code == 400  # type: ignore[attr-defined]
    bad = too_early.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "Sessionen skal slutte efter, at den begynder, og samme dag." in bad
    assert 'aria-invalid="true"' in bad and "<details open>" in bad
    planned = post_form(fac, f"/teams/{team_id}", f"{base}/briefing", {**fields, "s-briefing-ends": "12:30"})
    assert planned.status_code == 303  # type: ignore[attr-defined]
    debrief = {"s-debriefing-when": "2027-03-01T13:00", "s-debriefing-place": "Salen"}
    assert post_form(fac, f"/teams/{team_id}", f"{base}/debriefing", debrief).status_code == 303  # type: ignore[attr-defined]
    # only the sessions of the team's own process, and only by a facilitator
    assert post_form(fac, f"/teams/{team_id}", f"{base}/kaffe", fields).status_code == 404  # type: ignore[attr-defined]
    assert post_form(leader, f"/teams/{team_id}", f"{base}/briefing", fields).status_code == 403  # type: ignore[attr-defined]

    with app.extensions["tryghed"].db.session() as s:
        rows = {r.kind: r for r in s.query(FacilitationRequest).all()}
        assert set(rows) == {"briefing", "debriefing"}  # the leader's request was planned, not duplicated
        briefing = rows["briefing"]
        assert briefing.status == "planned" and briefing.place == "Mødelokale 2"
        assert briefing.session_at is not None and briefing.ends_at is not None
        assert briefing.ends_at.astimezone(CPH) == datetime(2027, 2, 3, 12, 30, tzinfo=CPH)
        assert rows["debriefing"].status == "planned" and rows["debriefing"].facilitator_id is not None
        assert rows["debriefing"].ends_at is None
        s.get(Team, team_id).track = "selfguided"  # type: ignore[union-attr]
        s.commit()
    page = leader.get(f"/teams/{team_id}").get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'id="process-title"' not in page  # the self-guided track keeps its agenda, no process
    assert post_form(fac, f"/teams/{team_id}", f"{base}/briefing", fields).status_code == 404  # type: ignore[attr-defined]


def test_the_sessions_show_on_the_team_page_and_timeline_in_english(app: Flask) -> None:
    from survey.domain.tracks import plan_team_session

    team_id = _facilitated_team(app, "en")
    with app.extensions["tryghed"].db.session() as s:
        starts = datetime(2027, 2, 3, 9, 30, tzinfo=CPH)
        plan_team_session(s, team_id, "premeeting", None, starts, "Room 4", "", datetime(2027, 2, 3, 11, tzinfo=CPH))
    fac = _client(app, "fie@example.org", "facilitator")
    _english(fac)
    page = fac.get(f"/teams/{team_id}").get_data(as_text=True)  # type: ignore[attr-defined]
    process = page.split('id="process-title"')[1].split("</section>")[0]
    assert "Pre-meeting (leader and facilitator)" in process and "Room 4" in process and "until 11:00" in process
    timeline = page.split('id="timeline-title"')[1].split("</section>")[0]
    # the page's own date format (the `when` filter), then the end's time of day
    assert re.search(r"Pre-meeting \(leader and facilitator\): [^<]*2027[^<]*–11:00[^<]*, Room 4", timeline)
    assert "The screening: not planned yet" in timeline


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_facilitated_report_shows_the_process_and_labels_whose_texts(app: Flask, tmp_path: Path, lang: str) -> None:
    """The PDF (read back by pdftotext) and the web report of a facilitated team: the toolkit's process with
    what is planned, in place of the self-run agenda; the instrument's own name and the official link;
    the trap that is the toolkit's, and those that are ours."""
    from pipeline.report_builder import build_report_data
    from pipeline.report_html import report_html
    from survey.domain.tracks import plan_team_session

    team_id, round_id = setup_round(app, 5, lang=lang)
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        s.get(Team, team_id).track = "facilitated"  # type: ignore[union-attr]
        s.commit()
        starts = datetime(2027, 2, 3, 9, 30, tzinfo=CPH)
        plan_team_session(s, team_id, "debriefing", None, starts, "Salen", "", datetime(2027, 2, 3, 12, tzinfo=CPH))
    answerer = app.test_client()
    items = rt.content.instrument().items
    for msg in read_outbox(tmp_path / "outbox"):
        assert submit(answerer, token_of(msg), {i.key: 4 for i in items}).status_code == 200
    assert close(app, round_id)["status"] == "reported"
    report = next(m for m in read_outbox(tmp_path / "outbox") if m.get_content_type() == "multipart/mixed")
    text = " ".join(pdf_text(pdf_attachment(report), tmp_path).split())
    with rt.db.session() as s:
        data = build_report_data(s, round_id, rt.content, rt.tz)
        page = report_html(data, for_web=True)
    web = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    if lang == "da":
        expected = [
            "Faciliteret forløb",
            "Formøde (leder og facilitator)",
            "Screeningen",
            "Planlagt: 3. februar 2027 09.30–12.00, Salen",
            "Ikke planlagt endnu",
            "Tryghed-barometeret",
            "Et tema fra værktøjskassen",
            "Tryghed-programmets egen tilføjelse",
        ]
        agenda = "Afsæt"
    else:
        expected = [
            "Facilitated track",
            "Pre-meeting (leader and facilitator)",
            "The screening",
            "Planned: 3 February 2027 09:30–12:00, Salen",
            "Not planned yet",
            "the Tryghed barometer",
            "A theme from the toolkit",
            "The Tryghed programme's own addition",
        ]
        agenda = "set aside"
    for shown in (text, web):
        assert [e for e in expected if e not in shown] == []
        assert agenda not in shown  # no self-run agenda with its minutes for a facilitated team
        assert BAROMETER in shown.replace(" ", "") or BAROMETER in shown
    # one label per labelled text: the traps (one the toolkit's), and the hacks and dilemmas shown (all ours)
    ours = len(rt.content.traps) - 1 + len(data.hacks) + len(data.plan_hacks) + len(data.dilemmas)
    assert text.count(expected[6]) == 1 and text.count(expected[7]) == ours


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_self_run_agendas_times_are_marked_as_our_suggestion(app: Flask, lang: str) -> None:
    """The minutes of the self-run meeting are the product's, not the toolkit's: the web report and the
    debrief deck, which both show them, say so beside them."""
    from tests.test_present import card_round

    ids = card_round(app, 5, lang=lang)
    client = _client(app, "fie@example.org", "facilitator")
    said = "Tryghed-programmets eget forslag" if lang == "da" else "Tryghed programme's own suggestion"
    for url in (f"/rounds/{ids['round']}/report", f"/rounds/{ids['round']}/present"):
        page = client.get(url).get_data(as_text=True)  # type: ignore[attr-defined]
        flat = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
        assert re.search(r"\d+ min", flat) and said in flat, url


@pytest.mark.parametrize("lang", ["da", "en"])
def test_kickoff_lists_edmondsons_measures_and_the_trap_origins(app: Flask, tmp_path: Path, lang: str) -> None:
    from pipeline.tasks import send_pending
    from survey.domain.kickoff import queue_kickoff
    from survey.domain.rounds import create_round
    from survey.domain.teams import add_team

    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "Team Kilden", "leder@example.org", "Lis", lang)
        rnd = create_round(rt, s, team.id)
        queue_kickoff(s, rnd.id)
        send_pending.delay(rnd.id)
    mail = read_outbox(tmp_path / "outbox")[0]
    for part in (text_part(mail), html_part(mail)):
        flat = " ".join(part.split())
        assert all(m in flat for m in MEASURES[lang])
        assert ("Edmondson" in flat) and (("licensbelagt" in flat) if lang == "da" else ("licensed" in flat))
        assert BAROMETER in flat
        origin = "Et tema fra værktøjskassen" if lang == "da" else "A theme from the toolkit"
        assert flat.count(origin) == 1
        # the sessions carry no hours of our own; the toolkit's length is in the track's text
        assert not re.search(r"\(\d[,.]?\d?-\d[,.]?\d? (timer|hours)\)", flat)
        assert ("1,5-4 timer hver" if lang == "da" else "1.5-4 hours each") in flat


@pytest.mark.parametrize("lang", ["da", "en"])
def test_knowledge_page_and_survey_page_name_the_instrument(app: Flask, lang: str) -> None:
    client = _client(app, "fie@example.org", "facilitator")
    if lang == "en":
        _english(client)
    page = client.get("/knowledge").get_data(as_text=True)  # type: ignore[attr-defined]
    flat = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    name = "Tryghed-barometeret" if lang == "da" else "The Tryghed barometer"
    assert name in flat and f'href="{BAROMETER}"' in page
    assert all(m in flat for m in MEASURES[lang])
    # both tracks, the facilitated one with the toolkit's process and length in the toolkit's terms
    assert ("1,5-4 timer hver" if lang == "da" else "1.5-4 hours each") in flat
    assert ("Briefing af medarbejderne" if lang == "da" else "Briefing of the staff") in flat
    assert flat.count("Et tema fra værktøjskassen" if lang == "da" else "A theme from the toolkit") == 1
    own = "Tryghed-programmets egen tilføjelse" if lang == "da" else "The Tryghed programme's own addition"
    assert flat.count(own) == len(app.extensions["tryghed"].content.traps) - 1


@pytest.mark.parametrize("lang", ["da", "en"])
def test_survey_page_says_the_wording_is_ours_and_links_the_toolkits(app: Flask, tmp_path: Path, lang: str) -> None:
    setup_round(app, 3, lang=lang)
    token = token_of(read_outbox(tmp_path / "outbox")[0])
    page = app.test_client().get(f"/s/{token}").get_data(as_text=True)
    ours = "Tryghed-programmets egen ordlyd" if lang == "da" else "the Tryghed programme&#39;s own wording"
    assert ours in page and f'href="{BAROMETER}"' in page


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["da", "en"])
def test_touched_respondent_and_report_pages_have_no_axe_violations(tmp_path: Path, browser: object, lang: str) -> None:
    """The survey page (its note on whose wording it is, with the toolkit's link) and the web report of a
    facilitated team (the process in place of the agenda; the origins of traps, hacks and dilemmas), and the
    page that refuses the old leader's link after a change of leader, at 390 and 1280 px, and nothing wider
    than a 320 px screen."""
    from tests.a11y import axe_violations, describe
    from tests.conftest import make_app
    from tests.helpers import LiveServer

    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    team_id, round_id = setup_round(app, 6, lang=lang)
    with rt.db.session() as s:
        s.get(Team, team_id).track = "facilitated"  # type: ignore[union-attr]
        s.commit()
    tokens = [token_of(m) for m in read_outbox(tmp_path / "outbox")]
    failures: list[str] = []

    def check(name: str, url: str, status: int = 200) -> None:
        for width in (390, 1280):
            context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
            page = context.new_page()
            response = page.goto(url)
            assert response is not None and response.status == status, url
            found = axe_violations(page)
            if found:
                failures.append(f"{name} {lang} {width}px:\n{describe(found)}")
            context.close()
        context = browser.new_context(viewport={"width": 320, "height": 700}, java_script_enabled=False)  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(url)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > 320:
            failures.append(f"{name} {lang}: {wide}px wide on a 320 px screen")
        context.close()

    with LiveServer(app) as live:
        rt.config["BASE_URL"] = live.url
        check("survey", f"{live.url}/s/{tokens[5]}")  # while the round is open
        answerer = app.test_client()
        for token in tokens[:5]:
            submit(answerer, token, {i.key: 4 for i in rt.content.instrument().items})
        close(app, round_id)
        report = next(m for m in read_outbox(tmp_path / "outbox") if m.get_content_type() == "multipart/mixed")
        link = re.search(r"/r/\S+", text_part(report))
        assert link is not None
        check("report", live.url + link.group(0).rstrip("."))
        # the same link after a change of leader: the styled refusal in the team's language (issue 20)
        from survey.domain.organisation import set_leader

        with rt.db.session() as s:
            set_leader(s, team_id, "ny-leder@example.org", now=rt.now())
        check("report link of the old leader", live.url + link.group(0).rstrip("."), 410)
    rt.db.dispose()
    assert not failures, "\n\n".join(failures)
