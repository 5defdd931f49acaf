"""Issue 17: ``tick`` in a large invitation wave. More pending emails than a driver may bind in one
statement (psycopg: 65,535), on PostgreSQL with a real Redis broker: the pass succeeds, binds a bounded
number of parameters per statement, enqueues a bounded batch of rounds, and reads only the rounds that
are due (no ``Round`` object at all: ids and the few columns the reminder rule needs).

No worker runs: the tasks stay in Redis, where the test counts them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from benchmarks.municipality import Shape, generate
from survey.domain.rounds import TICK_BATCH
from survey.runtime import Runtime
from tests.conftest import make_app
from tests.scale_helpers import captured, most_parameters

pytestmark = pytest.mark.postgres

# a Tuesday, 10:00 in Copenhagen: working time, so reminders that are due by time go out
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# 2,000 teams of 34 in an invitation wave: 68,000 pending invitations, above the 65,535 parameters
WAVE = Shape(teams=2000, people=34, rounds=2, kept=0)


def test_tick_in_a_wave_of_68000_pending_emails(
    tmp_path: Path, pg_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    counts = generate(pg_url, WAVE, now=NOW)
    assert counts["pending"] == 68_000 > 65_535
    monkeypatch.setattr(Runtime, "now", lambda self: NOW)
    app = make_app(tmp_path, pg_url, BROKER_URL=redis_url)
    rt = app.extensions["tryghed"]
    with rt.db.engine.begin() as conn:
        # every tenth team's round opened four days ago: its first reminder is due (interval 3 days)
        due = conn.execute(
            text(
                "UPDATE rounds SET opened_at = opened_at - interval '3 days'"
                " WHERE status = 'open' AND team_id % 10 = 0 RETURNING id"
            )
        ).scalars()
        reminder_due = sorted(due)
    assert len(reminder_due) == 200

    loaded: list[object] = []

    def count(_session: Session, instance: object) -> None:
        loaded.append(instance)

    from pipeline.tasks import tick

    event.listen(Session, "loaded_as_persistent", count)
    try:
        with app.app_context(), captured(rt.db.engine) as statements:
            result = tick.run()
    finally:
        event.remove(Session, "loaded_as_persistent", count)
        rt.db.dispose()

    assert sorted(result["reminded"]) == reminder_due
    assert result["opened"] == result["closed"] == result["redriven"] == []
    # every open round has mail due; one pass takes a bounded batch, the next pass the rest. Mail of no
    # round (the nudges this tick queued about the generated facilitation requests) takes one place in it.
    with rt.db.engine.connect() as conn:
        no_round = conn.scalar(text("SELECT count(*) FROM messages WHERE round_id IS NULL AND status = 'pending'"))
    assert len(result["mail_rounds"]) == TICK_BATCH - (1 if no_round else 0)
    assert loaded == []  # not one ORM object: ids and columns only
    assert most_parameters(statements) <= 1000
    queue = redis.Redis.from_url(redis_url)
    assert queue.llen("celery") == TICK_BATCH + len(reminder_due)
