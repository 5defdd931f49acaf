"""The report's history (every earlier reported round of the team) is read in one query and is right for a
team with 30 earlier rounds: each point's means are those of its own answer sets, rounds below k are gaps,
and the report and ``round show`` cost as many statements at 30 earlier rounds as at one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from pipeline.report_builder import build_report_data
from survey.data.models import Response, Round
from survey.domain.rounds import show_round
from tests.conftest import make_app
from tests.helpers import expected_means
from tests.unit_fixtures import Seeded, add_reported_rounds, add_units

K = 5


@contextmanager
def counted(engine: Any) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block."""
    seen: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def test_thirty_earlier_rounds_in_one_query_with_their_own_figures(tmp_path: Path, db_url: str) -> None:
    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    ins = rt.content.instrument()
    rng = random.Random(30)
    # 30 earlier rounds, some below k (gaps), then the newest one above k
    counts = [rng.choice([2, 4, 5, 6, 8, 11]) for _ in range(30)] + [9]
    assert any(n < K for n in counts) and any(n >= K for n in counts[:-1])
    seeded = Seeded()
    with rt.db.session() as s:
        add_units(s, [("Forvaltning", None)], seeded)
        add_reported_rounds(s, ins, [("Lang historie", "Forvaltning", counts), ("Kort", "Forvaltning", [7, 8])], seeded)
        long_rounds = s.execute(
            select(Round.id, Round.number).where(Round.team_id == seeded.teams["Lang historie"]).order_by(Round.number)
        ).all()
        answers = {
            rid: [r.answers for r in s.scalars(select(Response).where(Response.round_id == rid))]
            for rid, _ in long_rounds
        }
    newest = seeded.rounds["Lang historie"]
    earlier = [rid for rid, _ in long_rounds if rid != newest]
    assert len(earlier) == 30

    with rt.db.session() as s, counted(rt.db.engine) as long_statements:
        data = build_report_data(s, newest, rt.content, rt.tz)
    with rt.db.session() as s, counted(rt.db.engine) as short_statements:
        build_report_data(s, seeded.rounds["Kort"], rt.content, rt.tz)
    assert len(long_statements) == len(short_statements), (long_statements, short_statements)

    assert [h.round_id for h in data.history] == earlier
    assert [h.closes_at for h in data.history] == sorted(h.closes_at for h in data.history)
    for point in data.history:
        given = answers[point.round_id]
        assert point.responses == len(given)
        assert point.suppressed == (len(given) < K)
        if point.suppressed:
            assert all(v is None for v in point.pillar_means.values())
        else:
            assert point.pillar_means == expected_means(given, ins.items)
    # compared with every earlier round that reached k, newest first; never with one below k
    reached = [rid for rid in earlier if len(answers[rid]) >= K]
    assert [c.since_round_id for c in data.changes] == list(reversed(reached))

    with app.app_context():
        with rt.db.session() as s, counted(rt.db.engine) as long_show:
            shown = show_round(rt, s, newest)
        with rt.db.session() as s, counted(rt.db.engine) as short_show:
            show_round(rt, s, seeded.rounds["Kort"])
    assert len(long_show) == len(short_show), (long_show, short_show)
    assert [c["since_round_id"] for c in shown["changes"]] == list(reversed(reached))
    rt.db.dispose()
