"""A municipality on one PostgreSQL (issue 17): the generator, and the start page, a team page and
``round list`` read through indexes, checked with EXPLAIN on generated data.

The database is built once for the module by ``benchmarks/municipality.py`` (bulk SQL) at a fifth of a
municipality, which is enough for PostgreSQL's planner to prefer a sequential scan wherever no index
serves a query (it does at this size: before the indexes of migration 0010, the leader's start page read
``teams`` whole). Only the big tables count; units, accounts and requests are small by nature.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from benchmarks.municipality import BENCH_PASSWORD, FACILITATOR, LEADER, Shape, generate
from survey.web.pages import PAGE_SIZE
from tests.conftest import PG_ADMIN_URL, _pg_available, make_app
from tests.helpers import throwaway_database
from tests.scale_helpers import captured, most_parameters, seq_scans
from tests.web_helpers import login

pytestmark = pytest.mark.postgres

SHAPE = Shape(teams=2000)


@pytest.fixture(scope="module")
def municipality(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, dict[str, int]]]:
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (CI must start it)")
        pytest.skip("PostgreSQL is not reachable")
    tmp: Path = tmp_path_factory.mktemp("municipality")
    with throwaway_database(PG_ADMIN_URL, "tryghed_test") as url:
        counts = generate(url, SHAPE)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("TRYGHED_INSTANCE_PATH", str(tmp / "instance"))
            app = make_app(tmp, url)
            yield app, counts
            app.extensions["tryghed"].db.dispose()


def test_the_generator_builds_the_shape_asked_for(municipality: tuple[Flask, dict[str, int]]) -> None:
    _app, counts = municipality
    teams = SHAPE.teams
    assert counts["teams"] == teams
    assert counts["participants"] == teams * SHAPE.people
    assert counts["rounds"] == teams * SHAPE.rounds
    # the last three reported rounds and the open one keep their invitations and emails
    assert counts["invitations"] == counts["messages"] == teams * SHAPE.people * (SHAPE.kept + 1)
    assert counts["pending"] == teams * SHAPE.people
    # 4-10 sealed answer sets per reported round (7 on average); the open round's are in its own tables
    assert 0.95 * teams * 70 < counts["responses"] < 1.05 * teams * 70
    assert counts["units"] == 1 + teams // 500 + teams // 50


def _page_statements(app: Flask, email: str, path: str) -> tuple[int, list[tuple[str, Any]]]:
    client = app.test_client()
    assert login(client, email, BENCH_PASSWORD) == 303
    with captured(app.extensions["tryghed"].db.engine) as statements:
        response = client.get(path)
    return response.status_code, statements


# the pages read in a READ ONLY transaction with the plans PostgreSQL makes once (survey.data.plans)
PLANNED_ONCE = [
    (FACILITATOR, "/"),
    (FACILITATOR, "/?page=60"),
    (FACILITATOR, "/attention"),
    (FACILITATOR, "/attention?after=1500"),
    (LEADER, "/"),
]


@pytest.mark.parametrize(("who", "path"), [*PLANNED_ONCE, (FACILITATOR, "/teams/1234"), (LEADER, "/teams/1")])
def test_pages_read_big_tables_through_indexes(municipality: tuple[Flask, dict[str, int]], who: str, path: str) -> None:
    app, _counts = municipality
    status, statements = _page_statements(app, who, path)
    assert status == 200
    assert statements
    assert seq_scans(app.extensions["tryghed"].db.engine, statements) == []
    assert most_parameters(statements) <= 1000


@pytest.mark.parametrize(("who", "path"), PLANNED_ONCE)
def test_pages_planned_once_read_big_tables_through_indexes(
    municipality: tuple[Flask, dict[str, int]], who: str, path: str
) -> None:
    """The start page and /attention run with PostgreSQL's generic plans (``survey.data.plans``): made once for
    any page, cursor or point in time, they must still go through the indexes."""
    app, _counts = municipality
    status, statements = _page_statements(app, who, path)
    assert status == 200
    assert seq_scans(app.extensions["tryghed"].db.engine, statements, generic=True) == []


def test_the_start_page_is_planned_once_per_connection(municipality: tuple[Flask, dict[str, int]]) -> None:
    """After a few pages, the start page's two big statements are prepared on the connection and run with
    their one plan: no page that only reads ends with a ROLLBACK, which would make psycopg forget them
    (``Database.session``)."""
    app, _counts = municipality
    engine = app.extensions["tryghed"].db.engine
    engine.dispose()  # one connection from here on: the test client asks for one page at a time
    client = app.test_client()
    assert login(client, FACILITATOR, BENCH_PASSWORD) == 303
    for page in range(1, 9):
        assert client.get(f"/?page={page}").status_code == 200
    with engine.connect() as conn:  # that one connection
        plans = conn.exec_driver_sql(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'SELECT page.id%%' OR statement LIKE 'SELECT anon_1.kind%%'"
        ).all()
    assert len(plans) == 2
    assert all(generic > 0 and custom == 0 for generic, custom in plans), plans


def test_start_page_shows_one_page_of_teams_and_the_way_on(municipality: tuple[Flask, dict[str, int]]) -> None:
    app, _counts = municipality
    client = app.test_client()
    assert login(client, FACILITATOR, BENCH_PASSWORD) == 303
    html = client.get("/?page=2").get_data(as_text=True)
    assert html.count('class="card"') == PAGE_SIZE
    assert "?page=3" in html and "?page=1" in html
    # a page past the end (an old link) shows the first page, not an error or an empty list
    past = client.get("/?page=99999")
    assert past.status_code == 200 and past.get_data(as_text=True).count('class="card"') == PAGE_SIZE


@pytest.mark.parametrize("team_id", [None, 777])
def test_round_list_reads_through_indexes(municipality: tuple[Flask, dict[str, int]], team_id: int | None) -> None:
    from survey.domain.rounds import LIST_LIMIT, list_rounds

    app, _counts = municipality
    rt = app.extensions["tryghed"]
    with captured(rt.db.engine) as statements, rt.db.session() as session:
        listed = list_rounds(rt, session, team_id)
    assert len(listed) == (LIST_LIMIT if team_id is None else SHAPE.rounds)
    assert seq_scans(rt.db.engine, statements) == []
    if team_id is not None:
        # the open round counts its filled slots only: team t has t % 6 answers
        assert listed[0]["status"] == "open" and listed[0]["responses"] == team_id % 6


def test_round_list_pages_on_with_next_before(municipality: tuple[Flask, dict[str, int]]) -> None:
    import json

    from click.testing import CliRunner

    from survey.cli import main

    app, _counts = municipality
    config = app.extensions["tryghed"].config
    env = {"TRYGHED_DATABASE_URL": config["DATABASE_URL"], "TRYGHED_SECRET_KEY": config["SECRET_KEY"]}

    def listed(*args: str) -> dict[str, Any]:
        result = CliRunner().invoke(main, ["round", "list", *args, "--json"], env=env)
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.output))

    first = listed("--limit", "5")
    ids = [r["id"] for r in first["rounds"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 5 and first["next_before"] == ids[-1]
    second = listed("--limit", "5", "--before", str(first["next_before"]))
    assert [r["id"] for r in second["rounds"]] == list(range(ids[-1] - 1, ids[-1] - 6, -1))
    # one team's rounds all fit: nothing further
    assert listed("42")["next_before"] is None and len(listed("42")["rounds"]) == SHAPE.rounds
    refused = CliRunner().invoke(main, ["round", "list", "--limit", "0", "--json"], env=env)
    assert refused.exit_code != 0


def test_the_top_units_page_is_a_page_of_rows_well_under_500_kb(municipality: tuple[Flask, dict[str, int]]) -> None:
    app, _counts = municipality
    client = app.test_client()
    assert login(client, FACILITATOR, BENCH_PASSWORD) == 303
    first = client.get("/units/1")  # the top unit: every one of the 2,000 teams below it
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert len(first.data) < 500_000 / 2  # 250 rows; the whole table in one page was 5.6 MB at 10,000 teams
    assert "Side 1 af " in html and 'rel="next"' in html
