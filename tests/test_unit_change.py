"""Issue 20, point 2: the unit overview's change compares each team with its own previous measurement (its
previous reported round that reached its k), whatever anyone viewed or downloaded and when; the figures
behind it obey the unit rule (a team whose latest round is below k shows no change, and adds to none)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pipeline.scoring import round_half_up
from survey.domain.rounds import show_round
from survey.domain.units import show_unit, unit_page, unit_report
from tests.conftest import make_app
from tests.unit_fixtures import Seeded, add_reported_rounds, add_units

K = 5
# A: measured twice with figures. B: its middle round was below k, so it compares with its first.
# C: its latest round is below k: no figure, no change. D: measured once: nothing to compare with.
TEAMS = [("A", "Afd", [8, 7]), ("B", "Afd", [8, 3, 6]), ("C", "Afd", [7, 3]), ("D", "Afd", [9])]


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[tuple[Flask, Seeded]]:
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    seeded = Seeded()
    with rt.db.session() as s:
        add_units(s, [("Afd", None), ("Tom", None)], seeded)
        add_reported_rounds(s, rt.content.instrument(), TEAMS, seeded, k=K, seed=11)
    yield app, seeded
    rt.db.dispose()


def _means(app: Flask, round_id: int) -> dict[str, float]:
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        return {p["key"]: p["mean"] for p in show_round(rt, s, round_id)["pillars"]}


def _round_ids(app: Flask, team_id: int) -> list[int]:
    from sqlalchemy import select

    from survey.data.models import Round

    with app.extensions["tryghed"].db.session() as s:
        return list(s.scalars(select(Round.id).where(Round.team_id == team_id).order_by(Round.number)))


def test_each_team_is_compared_with_its_own_previous_measurement(unit: tuple[Flask, Seeded]) -> None:
    app, seeded = unit
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        shown = show_unit(rt.content, s, seeded.units["Afd"], K)
    teams = {t["name"]: t for t in shown["teams"]}
    a, b = _round_ids(app, seeded.teams["A"]), _round_ids(app, seeded.teams["B"])
    for name, now, then in (("A", a[1], a[0]), ("B", b[2], b[0])):
        change = teams[name]["change"]
        assert change["since"] == then, name
        expected = {k: round_half_up(_means(app, now)[k] - v) for k, v in _means(app, then).items()}
        assert {p["key"]: p["delta"] for p in change["pillars"]} == expected, name
    assert teams["C"]["change"] is None and teams["C"]["pillars"] is None  # below k now: nothing at all
    assert teams["D"]["change"] is None  # nothing to compare with
    # the unit's change: A and B only (C adds to no figure), their latest against their previous rounds
    assert shown["change"]["teams"] == 2
    assert (shown["change"]["n_now"], shown["change"]["n_then"]) == (7 + 6, 8 + 8)


def test_an_overview_downloaded_ten_times_shows_the_change_of_one_never_downloaded(
    unit: tuple[Flask, Seeded],
) -> None:
    app, seeded = unit
    rt = app.extensions["tryghed"]
    unit_id = seeded.units["Afd"]

    def seen() -> tuple[dict[str, Any], str]:
        with rt.db.session() as s:
            body = str(unit_page(rt, s, unit_id, "da").body)
            # the page says when it was made; everything else must be the same
            return show_unit(rt.content, s, unit_id, K), re.sub(r"Lavet [^<]+", "", body)

    before = seen()
    assert re.search(r'class="delta">(≈ )?[+−]', before[1]) and "±0,00" not in before[1]
    with app.app_context(), rt.db.session() as s:
        for _ in range(10):
            pdf, _pages = unit_report(rt, s, unit_id, "da")
            assert pdf.startswith(b"%PDF")
    assert seen() == before


def test_an_empty_unit_says_so(unit: tuple[Flask, Seeded]) -> None:
    app, seeded = unit
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        body = str(unit_page(rt, s, seeded.units["Tom"], "da").body)
        english = str(unit_page(rt, s, seeded.units["Tom"], "en").body)
    assert "Der er endnu ingen teams i Tom" in body and '<table class="heatmap">' not in body
    assert "There are no teams in Tom" in english
