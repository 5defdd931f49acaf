"""The start page's statuses and its attention list, read in one statement each, against a hand-built
organisation with every case in it: an open round whose answers are in its own tables, a failed email, an
open request, a plan without a follow-up, a plan on an earlier round only, a draft round, a team without
rounds, and a leader's own teams. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, update

from survey.data.models import Message, Round
from survey.domain import actions as plan
from survey.domain import overview
from survey.domain.rounds import create_round
from survey.domain.teams import add_team
from survey.domain.tracks import request_facilitator
from tests.conftest import make_app
from tests.helpers import read_outbox, setup_round, submit, token_of
from tests.unit_fixtures import Seeded, add_reported_rounds, add_units


@pytest.fixture
def org(tmp_path: Path, db_url: str) -> Iterator[tuple[Flask, dict[str, int]]]:
    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    # "Åben": an open round of 6 closing tomorrow, 2 answers through the respondent's form (own tables)
    open_team, open_round = setup_round(app, 6, team_name="Åben")
    client = app.test_client()
    tokens = [token_of(m) for m in read_outbox(tmp_path / "outbox")]  # the six invitations
    ins = rt.content.instrument()
    for token in tokens[:2]:
        assert submit(client, token, {item.key: "4" for item in ins.items}).status_code == 200
    seeded = Seeded()
    with rt.db.session() as s:
        s.execute(update(Round).where(Round.id == open_round).values(closes_at=rt.now() + timedelta(days=1)))
        add_units(s, [("Forvaltning", None)], seeded)
        spec = [("Plan", [7]), ("Tidligere plan", [6, 8]), ("Fejlet mail", [5, 9])]
        add_reported_rounds(s, ins, [(name, "Forvaltning", sizes) for name, sizes in spec], seeded)
        plan.add_action(s, seeded.rounds["Plan"], "gruppe", "Et tiltag", "Teamet", "snart")
        earlier = s.scalar(
            Round.__table__.select()
            .with_only_columns(Round.id)
            .where(Round.team_id == seeded.teams["Tidligere plan"], Round.number == 1)
        )
        plan.add_action(s, earlier, "gruppe", "Et gammelt tiltag", "Teamet", "snart")
        failed_round = seeded.rounds["Fejlet mail"]
        s.execute(
            insert(Message),
            [
                {"round_id": failed_round, "kind": "report", "recipient": "x@example.org", "message_id": "<a@x>"},
                # a failed reminder is no attention point (it would tell who has not answered)
                {"round_id": earlier, "kind": "reminder", "recipient": "y@example.org", "message_id": "<b@x>"},
            ],
        )
        s.execute(update(Message).where(Message.message_id.in_(["<a@x>", "<b@x>"])).values(status="failed"))
        asking = add_team(s, "Spørger", "lis@example.org", "Lis", "da")
        request_facilitator(s, asking.id, "sparring")
        draft = add_team(s, "Kladde", "lis@example.org", "Lis", "da")
        create_round(rt, s, draft.id)
        s.flush()
        ids = {"Åben": open_team, "Spørger": asking.id, "Kladde": draft.id, **seeded.teams}
        s.commit()
    yield app, ids
    rt.db.dispose()


# team -> (step, latest round number, invited, answered, attention); a second round of the fixtures is a
# follow-up, and they invite more than answer
EXPECTED: dict[str, tuple[str, int | None, int, int, list[str]]] = {
    "Fejlet mail": ("vi_holder_fast", 2, 12, 9, ["failed_mail"]),
    "Kladde": ("faelles_viden", 1, 0, 0, []),
    "Plan": ("det_goer_vi", 1, 8, 7, ["plan_no_followup"]),
    "Spørger": ("faelles_viden", None, 0, 0, ["request"]),
    "Tidligere plan": ("vi_holder_fast", 2, 10, 8, []),  # the plan and a failed reminder are on round 1
    "Åben": ("tag_temperaturen", 1, 6, 2, ["closing_low"]),
}


def _seen(statuses: list[overview.TeamStatus]) -> dict[str, tuple[Any, ...]]:
    return {
        s.team.name: (s.step, s.latest.number if s.latest else None, s.invited, s.responses, s.attention)
        for s in statuses
    }


def test_statuses_and_attention_read_every_case(org: tuple[Flask, dict[str, int]]) -> None:
    app, ids = org
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        now = rt.now()
        page = overview.page_statuses(s, "facilitator", "f@example.org", now, limit=25)
        assert [st.team.name for st in page] == sorted(EXPECTED)  # by name
        assert _seen(page) == EXPECTED
        assert page[-1].rate == pytest.approx(0.33)  # 2 of 6, whole per cents
        # pages: the same teams, a page at a time, in order, none twice
        paged = [
            st.team.name
            for o in range(0, 6, 4)
            for st in overview.page_statuses(s, "admin", "", now, limit=4, offset=o)
        ]
        assert paged == sorted(EXPECTED)
        # a leader sees their own teams only, whatever the case of their email
        mine = overview.page_statuses(s, "leader", "Lis@Example.org", now, limit=25)
        assert [st.team.name for st in mine] == ["Kladde", "Spørger"]
        # given teams keep the object given, in the order given
        given = [overview.TeamRow(ids[name], name, "selfguided", None) for name in reversed(sorted(EXPECTED))]
        statuses = overview.team_statuses(s, given, now)
        assert [st.team for st in statuses] == given and _seen(statuses) == EXPECTED
        attention = overview.needs_attention(s, now)
        expected = sorted((name, key) for name, (*_, keys) in EXPECTED.items() for key in keys)
        assert [(team.name, key) for team, key in attention.entries] == expected and not attention.more
        assert all(team.id == ids[team.name] for team, _ in attention.entries)
        for limit in (1, 2, 3):  # cut short, the list is the first teams by name of every kind together
            cut = overview.needs_attention(s, now, limit=limit)
            assert [(team.name, key) for team, key in cut.entries] == expected[:limit] and cut.more
            # page after page (after the last team shown), every team once, in order, and then no more
            pages, after, more = [], None, True
            while more:
                part = overview.needs_attention(s, now, after=after, limit=limit)
                pages += [(team.name, key) for team, key in part.entries]
                after, more = part.entries[-1][0], part.more
            assert pages == expected
