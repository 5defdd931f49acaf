"""The tick's view of a closing round (issue 17, acceptance 3): a pipeline whose beat stopped is re-driven
long before the stall period, a live one (fresh beat) and one queued but not started (no beat) are not,
and a close the broker refused is flagged for the first tick."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from pipeline import heartbeat
from pipeline.tasks import start_pipeline
from survey.data.models import Round
from survey.domain.rounds import create_round, due_rounds
from survey.domain.teams import add_team
from tests.conftest import make_app
from tests.helpers import setup_round


def _closing(app: object, round_id: int, **values: object) -> None:
    rt = app.extensions["tryghed"]  # type: ignore[attr-defined]
    with rt.db.session() as s:
        s.execute(
            update(Round).where(Round.id == round_id).values(status="closing", pipeline_step="aggregate", **values)
        )
        s.commit()


def test_stopped_beat_is_stalled_long_before_the_stall_period(tmp_path: Path, db_url: str) -> None:
    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    now = rt.now()
    timeout = heartbeat.beat_timeout(rt.config)
    assert timeout == timedelta(seconds=30)  # six beats of 5 s: about a minute with the tick's period
    stall = timedelta(seconds=600)
    ids = [setup_round(app, 1, team_name=f"Team {i}")[1] for i in range(3)]
    _closing(app, ids[0], pipeline_touched_at=now, pipeline_beat_at=now - timeout - timedelta(seconds=1))
    _closing(app, ids[1], pipeline_touched_at=now, pipeline_beat_at=now - timedelta(seconds=2))  # alive
    _closing(app, ids[2], pipeline_touched_at=now, pipeline_beat_at=None)  # queued, not started yet
    with rt.db.session() as s:
        assert due_rounds(s, now, stall, timeout)["stalled"] == [ids[0]]
        assert due_rounds(s, now + stall + timedelta(seconds=1), stall, timeout)["stalled"] == ids


def test_a_close_the_broker_refused_is_overdue_at_once(tmp_path: Path) -> None:
    from kombu.exceptions import OperationalError

    app = make_app(tmp_path, BROKER_URL="redis://127.0.0.1:1/0")  # nothing listens there
    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "Team Uden Kø", "leder@example.org", "Lis", "da")
        round_id = create_round(rt, s, team.id).id
    _closing(app, round_id, pipeline_touched_at=rt.now())
    with app.app_context(), pytest.raises(OperationalError):
        start_pipeline(round_id)
    with rt.db.session() as s:
        now = rt.now()
        assert due_rounds(s, now, timedelta(seconds=600), heartbeat.beat_timeout(rt.config))["stalled"] == [round_id]
