"""The web app's pages through the test client: the same domain functions as the CLI, the two tracks,
the language switch, the start page's counts and attention points."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.data.models import Participant, Team
from tests.conftest import TOKEN_IN_URL
from tests.helpers import read_outbox, submit, text_part, token_of
from tests.web_helpers import add_account, csrf_of, login, post_form


def _facilitator(app: Flask) -> FlaskClient:
    add_account(app, "fie@example.org", "facilitator")
    client = app.test_client()
    assert login(client, "fie@example.org") == 303
    return client


def _team(app: Flask, people: int = 0, leader: str = "lis@example.org") -> int:
    from survey.domain.teams import add_team, import_participants

    with app.extensions["tryghed"].db.session() as s:
        team = add_team(s, "Team Æblegården", leader, "Lis")
        if people:
            import_participants(s, team.id, "email,name\n" + "".join(f"p{i}@example.org,P{i}\n" for i in range(people)))
        return team.id


def test_participants_settings_and_rounds_from_the_team_page(app: Flask, tmp_path: Path) -> None:
    client = _facilitator(app)
    team_id = _team(app)
    page = f"/teams/{team_id}"
    added = post_form(
        client,
        page,
        f"{page}/participants",
        {"person-email": "Ny@Example.org", "person-name": "Ny", "person-lang": "en"},
    )
    assert added.status_code == 303  # type: ignore[attr-defined]
    bad = post_form(client, page, f"{page}/participants", {"person-email": "ikke en mail", "person-lang": "da"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.get_data(as_text=True)  # type: ignore[attr-defined]
    with app.extensions["tryghed"].db.session() as s:
        person = s.query(Participant).one()
        assert (person.email, person.lang, person.active) == ("ny@example.org", "en", True)
        person_id = person.id
    assert post_form(client, page, f"/participants/{person_id}/deactivate", {}).status_code == 303  # type: ignore[attr-defined]
    saved = post_form(
        client,
        page,
        f"{page}/settings",
        {
            "settings-lang": "en",
            "settings-track": "facilitated",
            "settings-instrument": "",
            "settings-trio_emails": "tr@example.org, amr@example.org",
        },
    )
    assert saved.status_code == 303  # type: ignore[attr-defined]
    with app.extensions["tryghed"].db.session() as s:
        team = s.get(Team, team_id)
        assert team is not None and (team.lang, team.track) == ("en", "facilitated")
        assert team.trio_emails == ["tr@example.org", "amr@example.org"]
        assert s.get(Participant, person_id).active is False  # type: ignore[union-attr]

    # a round whose closing time lies before its opening is refused with the field marked
    refused = post_form(
        client, page, f"{page}/rounds", {"round-opens": "2030-01-02T10:00", "round-closes": "2030-01-01T10:00"}
    )
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "runden skal lukke, efter at den åbner" in refused.get_data(as_text=True)  # type: ignore[attr-defined]
    made = post_form(
        client, page, f"{page}/rounds", {"round-opens": "2030-01-01T10:00", "round-closes": "2030-01-10T16:00"}
    )
    assert made.status_code == 303  # type: ignore[attr-defined]
    from survey.domain.rounds import list_rounds

    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        (shown,) = list_rounds(rt, s, team_id)
    assert shown["status"] == "scheduled" and shown["opens_at"] == "2030-01-01T10:00:00+01:00"  # Copenhagen time
    # the kick-off email to the leader, once
    assert post_form(client, page, f"/rounds/{shown['id']}/kickoff", {}).status_code == 303  # type: ignore[attr-defined]
    assert [m["To"] for m in read_outbox(tmp_path / "outbox")] == ["lis@example.org"]


def test_start_page_counts_and_attention(app: Flask, tmp_path: Path) -> None:
    from pipeline.tasks import send_pending
    from survey.domain.rounds import create_round, open_round

    rt = app.extensions["tryghed"]
    team_id = _team(app, 6)
    with rt.db.session() as s:
        rnd = create_round(rt, s, team_id, closes_at=rt.now() + timedelta(hours=20))
        open_round(rt, s, rnd.id)
    with app.app_context():
        send_pending.delay(rnd.id)
    client = _facilitator(app)
    html = client.get("/").get_data(as_text=True)
    assert "0 af 6 har svaret" in html and "Lukker snart med få svar" in html and "2. Tag temperaturen" in html
    items = rt.content.instrument().items
    answerer = app.test_client()
    for msg in read_outbox(tmp_path / "outbox")[:5]:  # k = 5 reached: no longer "few"
        assert submit(answerer, token_of(msg), {i.key: 3 for i in items}).status_code == 200
    html = client.get("/").get_data(as_text=True)
    assert "5 af 6 har svaret" in html and "Lukker snart" not in html
    assert "p0@example.org" not in html  # the start page names nobody


def test_tracks_request_take_plan_and_timeline(app: Flask) -> None:
    team_id = _team(app)
    add_account(app, "lis@example.org", "leader")
    leader = app.test_client()
    assert login(leader, "lis@example.org") == 303
    asked = post_form(
        leader,
        f"/teams/{team_id}",
        f"/teams/{team_id}/requests",
        {"request-kind": "debriefing", "request-note": "En formiddag"},
    )
    assert asked.status_code == 303  # type: ignore[attr-defined]
    fac = _facilitator(app)
    assert "Beder om en facilitator" in fac.get("/").get_data(as_text=True)
    assert "En formiddag" in fac.get("/requests").get_data(as_text=True)
    from survey.data.models import FacilitationRequest

    with app.extensions["tryghed"].db.session() as s:
        req_id = s.query(FacilitationRequest).one().id
    assert post_form(fac, "/requests", f"/requests/{req_id}/take", {}).status_code == 303  # type: ignore[attr-defined]
    again = post_form(fac, "/requests", f"/requests/{req_id}/take", {})
    assert again.status_code == 303  # type: ignore[attr-defined]
    assert "er allerede taget" in fac.get("/requests").get_data(as_text=True)  # the domain refusal, in Danish
    missing = post_form(fac, "/requests", f"/requests/{req_id}/plan", {f"r{req_id}-when": "2027-02-03T09:30"})
    assert missing.status_code == 400  # type: ignore[attr-defined]
    planned = post_form(
        fac,
        "/requests",
        f"/requests/{req_id}/plan",
        {f"r{req_id}-when": "2027-02-03T09:30", f"r{req_id}-place": "Mødelokale 2", f"r{req_id}-bring": "Rapporten"},
    )
    assert planned.status_code == 303  # type: ignore[attr-defined]
    team_page = leader.get(f"/teams/{team_id}").get_data(as_text=True)
    assert "Mødelokale 2" in team_page and "Rapporten" in team_page
    timeline = team_page.split('id="timeline-title"')[1].split("</section>")[0]
    assert "Debriefing" in timeline and "Mødelokale 2" in timeline
    # a leader cannot take requests
    assert leader.get("/requests").status_code == 403


def test_language_switch_is_stored_on_the_user(app: Flask) -> None:
    client = _facilitator(app)
    assert "Teams" in client.get("/").get_data(as_text=True)
    assert 'lang="da"' in client.get("/knowledge").get_data(as_text=True)
    token = csrf_of(client.get("/knowledge").get_data(as_text=True))
    switched = client.post("/account/language", data={"csrf_token": token, "ui-lang": "en", "back": "/knowledge"})
    assert switched.status_code == 303 and switched.headers["Location"] == "/knowledge"
    page = client.get("/knowledge").get_data(as_text=True)
    assert 'lang="en"' in page and "The four pillars" in page and "De fire søjler" not in page
    other = app.test_client()  # a new session of the same user keeps the choice
    assert login(other, "fie@example.org") == 303
    assert "The four pillars" in other.get("/knowledge").get_data(as_text=True)


def test_cli_action_status_and_user_errors(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    env["TRYGHED_INSTANCE_PATH"] = str(tmp_path / "instance")

    def run(*args: str, stdin: str = "", ok: bool = True) -> dict[str, object]:
        proc = subprocess.run(
            [sys.executable, "-m", "survey.cli", *args, "--json"],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
        return json.loads(proc.stdout)

    run("init")
    assert "at least 12" in str(
        run("user", "add", "a@example.org", "--role", "leader", "--password-stdin", stdin="kort\n", ok=False)["error"]
    )
    run("user", "add", "a@example.org", "--role", "leader", "--password-stdin", stdin="lang-nok-kode-1\n")
    assert "already" in str(
        run("user", "add", "A@example.org", "--role", "admin", "--password-stdin", stdin="lang-nok-kode-1\n", ok=False)[
            "error"
        ]
    )
    assert "does not exist" in str(run("actions", "status", "7", "done", ok=False)["error"])
    # the team settings and participants of the team page, from the command line
    team = run("team", "add", "Team Syd", "--leader-email", "l@example.org")
    tid = str(team["id"])
    assert run("team", "set", tid, "--track", "facilitated", "--trio-email", "tr@example.org")["track"] == "facilitated"
    person = run("participants", "add", tid, "Ny@Example.org", "--name", "Ny")
    assert person["email"] == "ny@example.org" and person["lang"] == "da" and person["active"] is True
    assert run("participants", "deactivate", str(person["id"]))["active"] is False


def test_trend_chart_leaves_a_round_below_k_as_a_gap(app: Flask, tmp_path: Path) -> None:
    """Round 1 (5 answers) is drawn; round 2 (3 answers, k = 5) is a gap, never a point."""
    from pipeline.tasks import run_pipeline, send_pending
    from survey.domain.rounds import close_round, create_round, open_round

    rt = app.extensions["tryghed"]
    team_id = _team(app, 6)
    items = rt.content.instrument().items
    used: set[str] = set()
    for answers in (5, 3):
        with rt.db.session() as s:
            rnd = create_round(rt, s, team_id)
            open_round(rt, s, rnd.id)
        with app.app_context():
            send_pending.delay(rnd.id)
        links = (TOKEN_IN_URL.search(text_part(m)) for m in read_outbox(tmp_path / "outbox"))
        fresh = [t for t in dict.fromkeys(found.group(1) for found in links if found) if t not in used]
        used.update(fresh)
        answerer = app.test_client()
        for token in fresh[:answers]:
            assert submit(answerer, token, {i.key: 4 for i in items}).status_code == 200
        with rt.db.session() as s:
            close_round(rt, s, rnd.id)
        with app.app_context():
            run_pipeline.delay(rnd.id)
    html = _facilitator(app).get(f"/teams/{team_id}").get_data(as_text=True)
    svg = html.split('<figure class="chart">')[1].split("</figure>")[0]
    assert "Runde 1" in svg and "Runde 2" in svg
    # the first pillar's markers are circles: one for round 1, one in the legend, none for round 2
    assert svg.count("<circle") == 2


def test_a_team_page_shows_the_latest_rounds_and_the_history_page_every_round(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22: the team's page costs the same at 30 rounds as at one, so it shows the latest
    ``TEAM_PAGE_ROUNDS``; every round stays one link away, on the history page, a page at a time."""
    from survey.domain.rounds import create_round
    from survey.web import pages

    client = _facilitator(app)
    team_id = _team(app, people=3)
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        ids = [create_round(rt, s, team_id).id for _ in range(pages.TEAM_PAGE_ROUNDS + 2)]
    newest, shown = len(ids), pages.TEAM_PAGE_ROUNDS

    def numbers(html: str) -> list[int]:
        return [int(n) for n in re.findall(r'<th scope="row">Runde (\d+)', html)]

    page = client.get(f"/teams/{team_id}").get_data(as_text=True)
    assert numbers(page) == list(range(newest, newest - shown, -1))
    assert f"/teams/{team_id}/history" in page and "Alle teamets runder med deres rapporter" in page
    assert page.count(f"/rounds/{ids[-1]}/delete") == 1 and f"/rounds/{ids[0]}/delete" not in page

    history = client.get(f"/teams/{team_id}/history").get_data(as_text=True)
    assert numbers(history) == list(range(newest, 0, -1))
    assert history.count("/delete") == 1  # only the newest round can be deleted, as on the team page

    monkeypatch.setattr(pages, "HISTORY_PAGE_SIZE", 3)
    seen: list[int] = []
    url: str | None = f"/teams/{team_id}/history"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += numbers(html)
        more = re.search(r'href="([^"]+)" rel="next"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert seen == list(range(newest, 0, -1))
    assert client.get(f"/teams/{team_id}/history?before={ids[3]}").status_code == 200
    assert client.get("/teams/999999/history").status_code == 404
    for edited in ("99999999999999999999", "-3", "0", "abc"):  # an edited link: the first page
        assert numbers(client.get(f"/teams/{team_id}/history?before={edited}").get_data(as_text=True))[0] == newest


def test_a_leader_sees_only_their_own_teams_history(app: Flask) -> None:
    team_id = _team(app, leader="lis@example.org")
    other = _team(app, leader="ole@example.org")
    add_account(app, "lis@example.org", "leader")
    client = app.test_client()
    assert login(client, "lis@example.org") == 303
    assert client.get(f"/teams/{team_id}/history").status_code == 200
    assert client.get(f"/teams/{other}/history").status_code == 404


def test_the_attention_list_is_for_facilitators_and_pages_on(app: Flask) -> None:
    """/attention: the whole list (here one team asking for a facilitator), with no start page card needed;
    a leader may not see it (it spans every team); an unknown or impossible ``after`` shows the first page."""
    from survey.domain.tracks import request_facilitator

    fac = _facilitator(app)
    team_id = _team(app)
    with app.extensions["tryghed"].db.session() as s:
        request_facilitator(s, team_id, "sparring")
    for url in ("/attention", "/attention?after=999999", "/attention?after=-1", "/attention?after=x"):
        page = fac.get(url)
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        assert f'href="/teams/{team_id}">Team Æblegården</a>: Beder om en facilitator' in html, url
        assert 'rel="next"' not in html
    after = fac.get(f"/attention?after={team_id}").get_data(as_text=True)  # after the last team: nothing more
    assert "Intet lige nu." in after and "Første side" in after
    add_account(app, "lis@example.org", "leader")
    leader = app.test_client()
    assert login(leader, "lis@example.org") == 303
    assert leader.get("/attention").status_code == 403
    assert 'href="/attention"' not in leader.get("/").get_data(as_text=True)
