"""Every page costs the same number of SQL statements whatever the size of the organisation.

Each page is requested at a small and at a larger size (more teams, more rounds, more earlier rounds,
more actions, more units and teams in a unit) and the statements are counted with SQLAlchemy's
``before_cursor_execute`` event: an N+1 (a query per team, per round, per unit) makes the counts differ.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from survey.domain import actions as plan
from survey.domain.report_links import report_link
from tests.conftest import make_app
from tests.unit_fixtures import Seeded, add_reported_rounds, add_units
from tests.web_helpers import add_account, login


class Org:
    """An app with a facilitator logged in, and a way to grow its organisation between two requests."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self.rt = app.extensions["tryghed"]
        self.seeded = Seeded()
        self.rng = random.Random(3)
        with self.rt.db.session() as s:
            tree = [("Forvaltning", None), ("Lille afdeling", "Forvaltning"), ("Stor afdeling", "Forvaltning")]
            add_units(s, tree, self.seeded)

    def teams(self, unit: str, rounds: dict[str, int]) -> None:
        """Teams (name -> number of reported rounds, all above k) in ``unit``; an action on each round."""
        rows = [(name, unit, [self.rng.randint(5, 9) for _ in range(n)]) for name, n in rounds.items()]
        with self.rt.db.session() as s:
            add_reported_rounds(s, self.rt.content.instrument(), rows, self.seeded)
            for name in rounds:
                plan.add_action(s, self.seeded.rounds[name], "gruppe", f"Tiltag for {name}", "Teamet", "næste måned")

    def statements(self, url: str) -> int:
        """The statements one GET of ``url`` runs (after a warm-up request, so caches are the same)."""
        assert self.client.get(url).status_code == 200, url
        seen: list[str] = []

        def keep(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        engine = self.rt.db.engine
        event.listen(engine, "before_cursor_execute", keep)
        try:
            response = self.client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", keep)
        assert response.status_code == 200, url
        return len(seen)

    def statements_as(self, client: FlaskClient, url: str) -> int:
        """``statements`` for another logged-in account."""
        own, self.client = self.client, client
        try:
            return self.statements(url)
        finally:
            self.client = own


@pytest.fixture
def org(tmp_path: Path, db_url: str) -> Iterator[Org]:
    app = make_app(tmp_path, db_url)
    add_account(app, "facilitator@example.org", "facilitator")
    client = app.test_client()
    assert login(client, "facilitator@example.org") == 303
    yield Org(app, client)
    app.extensions["tryghed"].db.dispose()


def same_at_two_sizes(org: Org, url: Callable[[], str], grow: Callable[[], None]) -> tuple[int, int]:
    small = org.statements(url())
    grow()
    large = org.statements(url())
    return small, large


def test_start_page_and_unit_list_do_not_grow_with_teams_and_units(org: Org) -> None:
    org.teams("Lille afdeling", {"A1": 1, "A2": 2})

    def grow() -> None:
        org.teams("Stor afdeling", {f"B{i}": 1 + i % 4 for i in range(25)})
        with org.rt.db.session() as s:
            add_units(s, [(f"Gruppe {i}", "Stor afdeling") for i in range(12)], org.seeded)

    small = {"/": org.statements("/"), "/units": org.statements("/units")}
    grow()
    large = {"/": org.statements("/"), "/units": org.statements("/units")}
    assert large == small


def test_team_page_does_not_grow_with_rounds(org: Org) -> None:
    org.teams("Lille afdeling", {"Kort": 1, "Lang": 8})
    one = org.statements(f"/teams/{org.seeded.teams['Kort']}")
    eight = org.statements(f"/teams/{org.seeded.teams['Lang']}")
    assert eight == one


def test_reports_do_not_grow_with_earlier_rounds(org: Org) -> None:
    # one earlier round against seven (none at all skips the plan's query: fewer, not more)
    org.teams("Lille afdeling", {"Kort": 2, "Lang": 8})
    counts = {}
    for team in ("Kort", "Lang"):
        rid = org.seeded.rounds[team]
        token = report_link(org.rt, rid).rsplit("/", 1)[1]
        counts[team] = [
            org.statements(f"/rounds/{rid}/report"),
            org.statements(f"/r/{token}"),
            org.statements(f"/r/{token}/debrief"),
            org.statements(f"/rounds/{rid}/debrief"),
        ]
    assert counts["Lang"] == counts["Kort"]


def test_debrief_does_not_grow_with_actions(org: Org) -> None:
    org.teams("Lille afdeling", {"Kort": 2})
    rid = org.seeded.rounds["Kort"]

    def grow() -> None:
        with org.rt.db.session() as s:
            for i in range(9):
                plan.add_action(s, rid, ("individ", "ledelse")[i % 2], f"Tiltag {i}", "Lederen", "i morgen")

    small, large = same_at_two_sizes(org, lambda: f"/rounds/{rid}/debrief", grow)
    assert large == small


def test_unit_page_does_not_grow_with_teams_and_units(org: Org) -> None:
    org.teams("Lille afdeling", {"A1": 1, "A2": 2})
    org.teams("Stor afdeling", {f"B{i}": 1 + i % 3 for i in range(20)})
    with org.rt.db.session() as s:
        add_units(s, [(f"Gruppe {i}", "Stor afdeling") for i in range(6)], org.seeded)
    org.teams("Gruppe 1", {f"C{i}": 2 for i in range(6)})
    small = org.statements(f"/units/{org.seeded.units['Lille afdeling']}")
    large = org.statements(f"/units/{org.seeded.units['Stor afdeling']}")
    top = org.statements(f"/units/{org.seeded.units['Forvaltning']}")
    assert small == large == top


def test_requests_and_accounts_do_not_grow(org: Org) -> None:
    """The facilitators' request list (1 request against 12, on as many teams) and the admin's accounts
    (2 against 12)."""
    from survey.domain import tracks

    org.teams("Lille afdeling", {f"T{i}": 1 for i in range(12)})
    add_account(org.app, "admin@example.org", "admin")
    admin = org.app.test_client()
    assert login(admin, "admin@example.org") == 303

    with org.rt.db.session() as s:
        tracks.request_facilitator(s, org.seeded.teams["T0"], "briefing", "Hjælp")
    small = (org.statements("/requests"), org.statements_as(admin, "/admin/users"))
    with org.rt.db.session() as s:
        for i in range(1, 12):
            tracks.request_facilitator(s, org.seeded.teams[f"T{i}"], "measurement", f"Hjælp {i}")
    for i in range(10):
        add_account(org.app, f"leder{i}@example.org", "leader")
    assert (org.statements("/requests"), org.statements_as(admin, "/admin/users")) == small


def test_a_unit_heads_start_page_does_not_grow_with_their_units(org: Org) -> None:
    """The start page of a head (their units, and the teams they lead) at 1 unit and 1 team against 13 and 9."""
    from survey.data.models import Team, Unit

    add_account(org.app, "hanne@example.org", "leader")
    head = org.app.test_client()
    assert login(head, "hanne@example.org") == 303
    org.teams("Lille afdeling", {"A1": 1, "A2": 2})

    def make_head(units: list[str], teams: list[str]) -> None:
        with org.rt.db.session() as s:
            for name in units:
                unit = s.get(Unit, org.seeded.units[name])
                assert unit is not None
                unit.head_email = "hanne@example.org"
            for name in teams:
                team = s.get(Team, org.seeded.teams[name])
                assert team is not None
                team.leader_email = "hanne@example.org"
            s.commit()

    make_head(["Lille afdeling"], ["A1"])
    small = org.statements_as(head, "/")
    with org.rt.db.session() as s:
        add_units(s, [(f"Gruppe {i}", "Stor afdeling") for i in range(12)], org.seeded)
    org.teams("Stor afdeling", {f"B{i}": 1 + i % 3 for i in range(8)})
    make_head([f"Gruppe {i}" for i in range(12)], ["A2", *(f"B{i}" for i in range(8))])
    html = head.get("/").get_data(as_text=True)
    assert html.count('class="card"') == 10 and html.count('href="/units/') >= 13
    assert org.statements_as(head, "/") == small


def test_needs_attention_covers_every_team_in_bounded_statements(org: Org) -> None:
    """The list covers the teams beyond the shown page: the start page shows the first by name and leads to
    /attention, which lists every team a page at a time; neither grows in statements with the list."""
    from survey.domain.overview import ATTENTION_PAGE_SIZE, ATTENTION_PREVIEW
    from survey.web.pages import PAGE_SIZE

    # every team here has an agreed plan and no follow-up round: each one needs attention
    org.teams("Lille afdeling", {f"T{i:03d}": 1 for i in range(ATTENTION_PREVIEW)})
    html = org.client.get("/").get_data(as_text=True)
    assert ">T009</a>: " in html and 'href="/attention"' not in html  # all of them, no more to see
    small = {"/": org.statements("/"), "/attention": org.statements("/attention")}
    org.teams("Stor afdeling", {f"U{i:03d}": 1 for i in range(PAGE_SIZE + ATTENTION_PAGE_SIZE)})
    html = org.client.get("/").get_data(as_text=True)
    assert html.count('class="card"') == PAGE_SIZE
    attention = html.split('id="attention-title"')[1].split("</section>")[0]
    assert attention.count("<li>") == ATTENTION_PREVIEW and 'href="/attention"' in attention
    assert {"/": org.statements("/"), "/attention": org.statements("/attention")} == small
    # page after page, every team once, by name, the last (on the start page's second page) among them
    seen: list[str] = []
    url = "/attention"
    while url:
        page = org.client.get(url).get_data(as_text=True)
        seen += re.findall(r'<li><a href="/teams/\d+">([^<]+)</a>: ', page)
        found = re.search(r'href="(/attention\?after=\d+)" rel="next"', page)
        url = found.group(1) if found else ""
        if url:  # a later page reads the team it follows, and nothing more
            assert org.statements(url) == small["/attention"] + 1
    expected = [f"T{i:03d}" for i in range(ATTENTION_PREVIEW)] + [
        f"U{i:03d}" for i in range(PAGE_SIZE + ATTENTION_PAGE_SIZE)
    ]
    assert seen == expected


def test_a_teams_history_page_does_not_grow_with_rounds(org: Org) -> None:
    org.teams("Lille afdeling", {"Kort": 1, "Lang": 12})
    one = org.statements(f"/teams/{org.seeded.teams['Kort']}/history")
    twelve = org.statements(f"/teams/{org.seeded.teams['Lang']}/history")
    assert twelve == one
