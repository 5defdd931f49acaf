"""Issue 20, point 1: the organisation on the web and in the CLI. Units created, renamed, moved (never into
themselves) and deleted only when empty; a team's leader changed (the old leader loses the team at once,
the new one gains it with its history) and its unit; rounds that never opened and teams without answers
deleted after a confirmation page, and everything else refused with a reason; every change in the audit
log; and every action on a round that cannot be undone asks first, without JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from survey.data.models import AuditEvent, Round, Team, Unit, UnitPool
from tests.a11y import axe_violations, describe
from tests.conftest import make_app
from tests.helpers import LiveServer
from tests.test_cli import run
from tests.test_web_a11y import _state
from tests.web_helpers import PASSWORD, add_account, csrf_of, login, post_form


def _audit(app: Flask) -> list[tuple[str, str | None, str | None]]:
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        return [(e.action, e.actor, e.subject) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


# -- the CLI ---------------------------------------------------------------------------------------------


def test_unit_set_and_delete_from_the_command_line(tmp_path: Path) -> None:
    run(tmp_path, "init")
    top = run(tmp_path, "unit", "add", "Forvaltning")["id"]
    dept = run(tmp_path, "unit", "add", "Handicap", "--parent", str(top))["id"]
    group = run(tmp_path, "unit", "add", "Bo", "--parent", str(dept))["id"]
    other = run(tmp_path, "unit", "add", "Ældre")["id"]

    renamed = run(
        tmp_path, "unit", "set", str(dept), "--name", "Handicap og psykiatri", "--head-email", "A@Example.org"
    )
    assert renamed == {"id": dept, "name": "Handicap og psykiatri", "parent_id": top, "head_email": "a@example.org"}
    assert run(tmp_path, "unit", "set", str(dept), "--parent", str(other))["parent_id"] == other
    assert run(tmp_path, "unit", "set", str(dept), "--top")["parent_id"] is None
    assert run(tmp_path, "unit", "set", str(dept), "--head-email", "")["head_email"] is None
    # a unit cannot move into itself or below itself: a clear error, nothing changed
    for target in (dept, group):
        refused = run(tmp_path, "unit", "set", str(dept), "--parent", str(target), ok=False)
        assert "cannot be inside itself" in refused["error"], refused
    assert run(tmp_path, "unit", "set", str(dept), "--parent", "999", ok=False)["error"] == "unit 999 does not exist"
    assert "valid email" in run(tmp_path, "unit", "set", str(dept), "--head-email", "nope", ok=False)["error"]

    # delete: only an empty unit, and only with --yes
    team = run(tmp_path, "team", "add", "Bo Nord", "--leader-email", "l@example.org", "--unit", str(group))["id"]
    assert "not empty" in run(tmp_path, "unit", "delete", str(dept), "--yes", ok=False)["error"]  # holds Bo
    assert "not empty" in run(tmp_path, "unit", "delete", str(group), "--yes", ok=False)["error"]  # holds a team
    assert run(tmp_path, "team", "set", str(team), "--unit", str(other))["unit_id"] == other
    assert "--yes" in run(tmp_path, "unit", "delete", str(group), ok=False)["error"]
    assert run(tmp_path, "unit", "delete", str(group), "--yes")["deleted"] == group
    assert run(tmp_path, "unit", "show", str(group), ok=False)["error"] == f"unit {group} does not exist"
    assert run(tmp_path, "team", "set", str(team), "--no-unit")["unit_id"] is None


def test_team_set_leader_and_deletions_from_the_command_line(tmp_path: Path) -> None:
    run(tmp_path, "init")
    team = run(tmp_path, "team", "add", "Bo Nord", "--leader-email", "lis@example.org", "--leader-name", "Ole")["id"]
    changed = run(tmp_path, "team", "set", str(team), "--leader-email", "New@Example.org", "--leader-name", "Nina")
    assert changed["leader_email"] == "new@example.org" and changed["leader_name"] == "Nina"
    assert run(tmp_path, "team", "set", str(team), "--leader-name", "")["leader_name"] is None
    assert "valid email" in run(tmp_path, "team", "set", str(team), "--leader-email", "x", ok=False)["error"]
    assert "does not exist" in run(tmp_path, "team", "set", str(team), "--unit", "999", ok=False)["error"]
    assert "does not exist" in run(tmp_path, "team", "set", "999", "--leader-email", "a@b.dk", ok=False)["error"]

    first = run(tmp_path, "round", "create", str(team))["id"]
    second = run(tmp_path, "round", "create", str(team), "--opens", "2030-01-06T08:00")["id"]  # scheduled
    assert "later round" in run(tmp_path, "round", "delete", str(first), "--yes", ok=False)["error"]
    assert "--yes" in run(tmp_path, "round", "delete", str(second), ok=False)["error"]
    assert run(tmp_path, "round", "delete", str(second), "--yes") == {"deleted": second, "team_id": team, "number": 2}
    assert "does not exist" in run(tmp_path, "round", "show", str(second), ok=False)["error"]

    other = run(tmp_path, "team", "add", "Bo Syd", "--leader-email", "l@example.org")["id"]
    (tmp_path / "p.csv").write_text("email,name\na@example.org,A\nb@example.org,B\n")
    run(tmp_path, "participants", "import", str(other), str(tmp_path / "p.csv"))
    opened = run(tmp_path, "round", "create", str(other))["id"]
    run(tmp_path, "round", "open", str(opened))
    kept = run(tmp_path, "round", "delete", str(opened), "--yes", ok=False)
    assert "it is open" in kept["error"] and "answers, which are kept" in kept["error"]
    # a team whose round opened is kept, even with --yes; refused before the question of --yes
    assert "have opened" in run(tmp_path, "team", "delete", str(other), ok=False)["error"]
    assert "have opened" in run(tmp_path, "team", "delete", str(other), "--yes", ok=False)["error"]

    assert "--yes" in run(tmp_path, "team", "delete", str(team), ok=False)["error"]
    gone = run(tmp_path, "team", "delete", str(team), "--yes")
    assert gone == {"deleted": team, "name": "Bo Nord", "participants": 0, "rounds": 1}
    assert [t["id"] for t in run(tmp_path, "team", "list")["teams"]] == [other]

    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'tryghed.sqlite'}")
    events = _audit(app)
    assert ("leader_changed", "cli", f"team {team}: lis@example.org -> new@example.org") in events
    assert ("round_deleted", "cli", f"round {second}") in events and ("team_deleted", "cli", f"team {team}") in events
    assert not [e for e in events if e[0] == "team_deleted" and e[2] == f"team {other}"]  # refused: not logged
    app.extensions["tryghed"].db.dispose()


def test_deleting_a_unit_keeps_its_pools_frozen_with_its_parent(tmp_path: Path) -> None:
    """A pool anchored at a unit whose teams moved away goes to the parent: its rounds never pool anew."""
    from survey.domain.organisation import delete_unit
    from survey.errors import UserError

    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        top = Unit(name="Top")
        s.add(top)
        s.flush()
        low = Unit(name="Low", parent_id=top.id)
        lone = Unit(name="Lone")
        s.add_all([low, lone])
        s.flush()
        s.add_all([UnitPool(id="p" * 32, unit_id=low.id), UnitPool(id="q" * 32, unit_id=lone.id)])
        s.commit()
        assert delete_unit(s, low.id)["pools_moved"] == 1
        assert s.get(UnitPool, "p" * 32).unit_id == top.id  # type: ignore[union-attr]
        try:
            delete_unit(s, lone.id)
        except UserError as exc:
            assert "cannot be deleted" in exc.message
        else:
            raise AssertionError("a top unit holding pools was deleted")
        assert s.get(Unit, lone.id) is not None
    rt.db.dispose()


# -- the web: a new leader, and the old one out at once ---------------------------------------------------


def _reported_team(app: Flask) -> tuple[int, int]:
    """The web pages' test team (led by lis@example.org): a reported round with a plan; (team, round)."""
    ids = _state(app)
    return ids["team"], ids["round"]


def test_a_new_leader_gains_the_team_and_the_old_one_loses_it_at_once(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    team_id, round_id = _reported_team(app)
    for email, role in (("lis@example.org", "leader"), ("new@example.org", "leader"), ("fie@example.org", "admin")):
        add_account(app, email, role)
    pages = (f"/teams/{team_id}", f"/rounds/{round_id}/report", f"/rounds/{round_id}/report.pdf")
    pages += (f"/rounds/{round_id}/debrief",)
    old, new, fie = app.test_client(), app.test_client(), app.test_client()
    for client, email in ((old, "lis@example.org"), (new, "new@example.org"), (fie, "fie@example.org")):
        assert login(client, email) == 303
    assert [old.get(p).status_code for p in pages] == [200] * 4
    assert [new.get(p).status_code for p in pages] == [404] * 4
    # a leader cannot change leaders
    page = old.get(f"/teams/{team_id}").get_data(as_text=True)
    assert f"/teams/{team_id}/leader" not in page
    refused = old.post(f"/teams/{team_id}/leader", data={"csrf_token": csrf_of(page), "leader-leader_email": "o@x.dk"})
    assert refused.status_code == 403

    # the form says what the change does before it is made, including what cannot be undone
    hint = fie.get(f"/teams/{team_id}").get_data(as_text=True)
    assert "rapportlinks, der er mailet til den tidligere leder, holder op med at virke" in hint
    # a bad address: the form again with the error, nothing changed
    bad: Any = post_form(fie, f"/teams/{team_id}", f"/teams/{team_id}/leader", {"leader-leader_email": "nope"})
    assert bad.status_code == 400 and "error-summary" in bad.get_data(as_text=True)
    done: Any = post_form(
        fie,
        f"/teams/{team_id}",
        f"/teams/{team_id}/leader",
        {"leader-leader_email": "New@Example.org", "leader-leader_name": "Nina", "leader-unit": ""},
    )
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/teams/{team_id}#organisation")
    # the same sessions, no new login: the old leader is out everywhere, the new one has the history
    assert [old.get(p).status_code for p in pages] == [404] * 4
    assert "Æblegården" not in old.get("/").get_data(as_text=True)
    assert [new.get(p).status_code for p in pages] == [200] * 4
    assert "Æblegården" in new.get("/").get_data(as_text=True)
    assert "Runde om fejl på mødet" in new.get(f"/rounds/{round_id}/debrief").get_data(as_text=True)
    assert ("leader_changed", "fie@example.org", f"team {team_id}: lis@example.org -> new@example.org") in _audit(app)
    app.extensions["tryghed"].db.dispose()


# -- the web: units ----------------------------------------------------------------------------------------


def test_units_are_made_moved_and_deleted_on_the_web(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    add_account(app, "fie@example.org", "facilitator")
    add_account(app, "lis@example.org", "leader")
    fie = app.test_client()
    assert login(fie, "fie@example.org") == 303
    assert 'href="/units/new"' in fie.get("/units").get_data(as_text=True)

    made: Any = post_form(fie, "/units/new", "/units/new", {"name": "Forvaltning", "parent": "", "head_email": ""})
    assert made.status_code == 303
    top = int(re.search(r"/units/(\d+)/edit", made.headers["Location"]).group(1))  # type: ignore[union-attr]
    made = post_form(fie, "/units/new", "/units/new", {"name": "Bo", "parent": str(top), "head_email": "H@x.dk"})
    low = int(re.search(r"/units/(\d+)/edit", made.headers["Location"]).group(1))  # type: ignore[union-attr]
    with rt.db.session() as s:
        unit = s.get(Unit, low)
        assert unit is not None and (unit.name, unit.parent_id, unit.head_email) == ("Bo", top, "h@x.dk")
    empty: Any = post_form(fie, "/units/new", "/units/new", {"name": "", "parent": ""})
    assert empty.status_code == 400 and "error-summary" in empty.get_data(as_text=True)

    # a unit under its own child: refused with the reason, nothing changed
    edit = f"/units/{top}/edit"
    assert f'<option value="{low}"' not in fie.get(edit).get_data(as_text=True)  # not even offered
    cycle: Any = post_form(fie, edit, edit, {"name": "Forvaltning", "parent": str(low), "head_email": ""})
    assert cycle.status_code == 400 and "error-summary" in cycle.get_data(as_text=True)
    with rt.db.session() as s:
        assert s.get(Unit, top).parent_id is None  # type: ignore[union-attr]
    renamed: Any = post_form(
        fie, f"/units/{low}/edit", f"/units/{low}/edit", {"name": "Bo og Ophold", "parent": "", "head_email": ""}
    )
    assert renamed.status_code == 303
    with rt.db.session() as s:
        unit = s.get(Unit, low)
        assert unit is not None and (unit.name, unit.parent_id, unit.head_email) == ("Bo og Ophold", None, None)

    # a team placed in the unit: the unit cannot be deleted, the confirmation page says why
    from survey.domain.teams import add_team

    with rt.db.session() as s:
        team_id = add_team(s, "Bo Nord", "lis@example.org").id
    placed: Any = post_form(
        fie,
        f"/teams/{team_id}",
        f"/teams/{team_id}/leader",
        {"leader-leader_email": "lis@example.org", "leader-unit": str(low)},
    )
    assert placed.status_code == 303
    confirm = fie.get(f"/units/{low}/delete").get_data(as_text=True)
    assert "1 teams" in confirm or "1 team" in confirm
    assert f'action="/units/{low}/delete"' not in confirm  # no button to press
    refused: Any = post_form(fie, f"/units/{low}/edit", f"/units/{low}/delete", {})
    assert refused.status_code == 303
    with rt.db.session() as s:
        assert s.get(Unit, low) is not None
        s.get(Team, team_id).unit_id = None  # type: ignore[union-attr]
        s.commit()
    confirm = fie.get(f"/units/{low}/delete").get_data(as_text=True)
    assert f'action="/units/{low}/delete"' in confirm
    assert fie.post(f"/units/{low}/delete").status_code == 400  # no CSRF token: nothing deleted
    gone: Any = post_form(fie, f"/units/{low}/delete", f"/units/{low}/delete", {})
    assert gone.status_code == 303
    with rt.db.session() as s:
        assert s.get(Unit, low) is None
    # a leader reaches none of it
    lis = app.test_client()
    assert login(lis, "lis@example.org") == 303
    for url in ("/units/new", f"/units/{top}/edit", f"/units/{top}/delete", f"/teams/{team_id}/delete"):
        assert lis.get(url).status_code == 403, url
    events = [e[:2] for e in _audit(app)]
    for action in ("unit_created", "unit_changed", "team_changed", "unit_deleted"):
        assert (action, "fie@example.org") in events, action
    rt.db.dispose()


# -- the web: deleting what was made by mistake, and asking before anything that cannot be undone ---------


def test_rounds_and_teams_are_deleted_only_when_nothing_was_answered(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    team_id, round_id = _reported_team(app)
    add_account(app, "fie@example.org", "facilitator")
    fie = app.test_client()
    assert login(fie, "fie@example.org") == 303
    from survey.domain.rounds import create_round
    from survey.domain.teams import add_team

    with rt.db.session() as s:
        draft = create_round(rt, s, team_id).id
        empty_team = add_team(s, "Forkert team", "lis@example.org").id
        create_round(rt, s, empty_team)

    # the reported round, and the team with answers, are kept: the pages say why and offer no button
    for url in (f"/rounds/{round_id}/delete", f"/teams/{team_id}/delete"):
        page = fie.get(url).get_data(as_text=True)
        assert 'class="flash error"' in page and f'action="{url}"' not in page, url
        post_form(fie, url, url, {})
    with rt.db.session() as s:
        assert s.get(Round, round_id) is not None and s.get(Team, team_id) is not None

    team_page = fie.get(f"/teams/{team_id}").get_data(as_text=True)
    assert f'href="/rounds/{draft}/delete"' in team_page and f'href="/rounds/{round_id}/delete"' not in team_page
    confirm = fie.get(f"/rounds/{draft}/delete").get_data(as_text=True)
    assert f'action="/rounds/{draft}/delete"' in confirm
    assert post_form(fie, f"/rounds/{draft}/delete", f"/rounds/{draft}/delete", {}).status_code == 303  # type: ignore[attr-defined]
    confirm = fie.get(f"/teams/{empty_team}/delete").get_data(as_text=True)
    assert f'action="/teams/{empty_team}/delete"' in confirm
    assert post_form(fie, f"/teams/{empty_team}/delete", f"/teams/{empty_team}/delete", {}).status_code == 303  # type: ignore[attr-defined]
    with rt.db.session() as s:
        assert s.get(Round, draft) is None and s.get(Team, empty_team) is None
        assert s.get(Round, round_id) is not None
    assert fie.get(f"/teams/{empty_team}").status_code == 404
    events = [e[0] for e in _audit(app)]
    assert events.count("round_deleted") == 1 and events.count("team_deleted") == 1
    rt.db.dispose()


@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_deletion_refused_after_its_confirmation_says_why_in_the_pages_language(tmp_path: Path, lang: str) -> None:
    """A refusal that comes from the domain when the form is posted (the page was stale, or the button was
    pressed anyway) is shown in the account's language, never the command line's English sentence."""
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    team_id, round_id = _reported_team(app)
    with rt.db.session() as s:
        unit = Unit(name="Afdeling")
        s.add(unit)
        s.flush()
        s.get(Team, team_id).unit_id = unit.id  # type: ignore[union-attr]
        s.commit()
        unit_id = unit.id
    add_account(app, "fie@example.org", "facilitator", lang=lang)
    fie = app.test_client()
    assert login(fie, "fie@example.org") == 303
    said = {
        "da": ("Runden kan ikke slettes", "Teamet kan ikke slettes: runde 1, 2 har været åben", "Enheden er ikke tom"),
        "en": ("round ", "team ", "unit "),
    }[lang]
    for url, text in zip(
        (f"/rounds/{round_id}/delete", f"/teams/{team_id}/delete", f"/units/{unit_id}/delete"), said, strict=True
    ):
        refused: Any = post_form(fie, url, url, {})
        assert refused.status_code == 303, url
        flashed = re.findall(
            r'<p class="flash error">(.*?)</p>', fie.get(refused.headers["Location"]).get_data(as_text=True)
        )
        assert flashed and flashed[0].startswith(text), (url, flashed)
        if lang == "da":
            assert not [f for f in flashed if "cannot" in f or "deleted" in f], flashed
    rt.db.dispose()


def test_every_round_action_that_cannot_be_undone_asks_first(tmp_path: Path) -> None:
    """The team page offers links to confirmation pages, never a one-click POST that sends or closes."""
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team, import_participants

    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    add_account(app, "fie@example.org", "facilitator")
    with rt.db.session() as s:
        team_id = add_team(s, "Bo", "lis@example.org").id
        import_participants(s, team_id, "email,name\na@example.org,A\nb@example.org,B\n")
        opened = create_round(rt, s, team_id, closes_at=rt.now() + timedelta(days=3)).id
        open_round(rt, s, opened)
    fie = app.test_client()
    assert login(fie, "fie@example.org") == 303
    with rt.db.session() as s:
        draft = create_round(rt, s, team_id).id
    page = fie.get(f"/teams/{team_id}").get_data(as_text=True)
    posts = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page)
    posts += re.findall(r'<form[^>]*action="([^"]+)"[^>]*method="post"', page)
    for action in ("open", "close", "remind", "kickoff", "mail/retry", "delete"):
        assert not [p for p in posts if p.endswith("/" + action)], (action, posts)
    for url, button in (
        (f"/rounds/{draft}/open", "Ja, åbn runde 2 nu"),
        (f"/rounds/{draft}/kickoff", "Ja, send kick-off-mailen"),
        (f"/rounds/{opened}/remind", "Ja, send påmindelsen"),
        (f"/rounds/{opened}/close", "Ja, luk runde 1 nu"),
        (f"/rounds/{opened}/mail/retry", "Ja, send dem igen"),
    ):
        assert f'href="{url}"' in page or url.endswith("retry"), url
        confirm = fie.get(url)
        text = confirm.get_data(as_text=True)
        assert confirm.status_code == 200 and button in text and f'action="{url}"' in text, url
    # the confirmation page's button does it
    closed: Any = post_form(fie, f"/rounds/{opened}/close", f"/rounds/{opened}/close", {})
    assert closed.status_code == 303
    with rt.db.session() as s:
        assert s.get(Round, opened).status in ("closing", "reported")  # type: ignore[union-attr]
    rt.db.dispose()


# -- every page added or touched: axe at 390 and 1280 px, Danish and English; the overview never overflows -


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["da", "en"])
def test_organisation_pages_have_no_axe_violations(tmp_path: Path, browser: Any, lang: str) -> None:
    from survey.domain.rounds import create_round
    from survey.domain.teams import add_team
    from tests.test_units import TEAMS, UNITS
    from tests.unit_fixtures import Seeded, add_reported_rounds, add_units

    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    team_id, round_id = _reported_team(app)
    seeded = Seeded()
    with rt.db.session() as s:
        add_units(s, [*UNITS, ("Tom", None)], seeded)
        add_reported_rounds(s, rt.content.instrument(), TEAMS, seeded, k=5, seed=7)
        # the running follow-up (an emailed round): "close now" asks first
        follow = s.scalars(select(Round.id).where(Round.team_id == team_id, Round.status == "open")).one()
        draft = create_round(rt, s, team_id).id
        empty_team = add_team(s, "Forkert team", "lis@example.org").id
    add_account(app, "fie@example.org", "admin", lang=lang)
    failures: list[str] = []
    top, afd = seeded.units["Forvaltning"], seeded.units["Afd A"]
    with LiveServer(app) as live:
        context = browser.new_context(locale="da-DK" if lang == "da" else "en-GB")
        page = context.new_page()
        _browser_login(page, live.url, "fie@example.org")
        for url in (
            "/units",
            f"/units/{top}",
            f"/units/{seeded.units['Tom']}",
            "/units/new",
            f"/units/{afd}/edit",
            f"/units/{afd}/delete",  # refused: it holds teams
            f"/units/{seeded.units['Tom']}/delete",
            f"/teams/{team_id}",
            f"/teams/{team_id}/delete",  # refused: it has answers
            f"/teams/{empty_team}/delete",
            f"/rounds/{draft}/delete",
            f"/rounds/{round_id}/delete",  # refused
            f"/rounds/{draft}/open",
            f"/rounds/{draft}/kickoff",
            f"/rounds/{round_id}/remind",
            f"/rounds/{round_id}/mail/retry",
            f"/rounds/{follow}/close",  # close now: what happens, and that it gives no figures below k
            f"/rounds/{round_id}/close",  # nothing to close any more
            f"/rounds/{round_id}/report",  # the web report, with the app's navigation above it
        ):
            response = page.goto(live.url + url)
            assert response is not None and response.status == 200, url
            _checked(page, url, failures)
        page.goto(live.url + "/units/new")
        page.locator("main form button[type=submit]").click()
        assert page.locator(".error-summary").count() == 1
        _checked(page, "new unit with errors", failures)
        page.goto(f"{live.url}/teams/{team_id}")
        page.fill("#leader-leader_email", "nope")
        page.locator("#organisation button[type=submit]").click()
        assert page.locator(".error-summary").count() == 1
        _checked(page, "team with leader errors", failures)

        # the heatmap scrolls in its own labelled region, reachable by keyboard; the page itself never does
        page.goto(f"{live.url}/units/{top}")
        page.set_viewport_size({"width": 390, "height": 900})
        region = page.locator("div.scroll[role=region]").last
        assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-label")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert region.evaluate("el => el.scrollWidth > el.clientWidth")
        assert page.locator("header.top nav").count() == 1  # the app's navigation
        page.goto(f"{live.url}/rounds/{round_id}/report")
        assert page.locator("header.top nav").count() == 1 and page.locator("main#main").count() == 1
        context.close()
    assert not failures, "\n\n".join(failures)


def _browser_login(page: Any, url: str, email: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _checked(page: Any, label: str, failures: list[str]) -> None:
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        found = axe_violations(page)
        if found:
            failures.append(f"{label} at {width}px:\n{describe(found)}")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        if overflow > width:
            failures.append(f"{label}: the page is {overflow}px wide at {width}px")
