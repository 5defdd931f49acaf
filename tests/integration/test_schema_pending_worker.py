"""A worker meeting a schema it does not know (deployed before ``tryghed init``) runs nothing against it:
each task is put back on the real broker for later, the tick is left to beat, and the log says why."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from survey.data import migrate
from tests.conftest import make_app


def test_tasks_wait_for_the_upgrade(tmp_path: Path, redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    import redis

    from pipeline.tasks import close_round, tick

    url = f"sqlite:///{tmp_path / 't.sqlite'}"
    app = make_app(tmp_path, url, BROKER_URL=redis_url)
    broker = redis.Redis.from_url(redis_url)
    migrate.downgrade(url, migrate.revisions()[-2])
    app.extensions["tryghed"].schema_gate.recheck()
    caplog.set_level(logging.ERROR)

    assert close_round(1) is None  # as a worker runs it: through the task class, not eagerly
    assert broker.llen("celery") == 1  # put back, to run once `tryghed init` has been
    assert tick() is None
    assert broker.llen("celery") == 1  # beat sends the next tick; re-sending would pile them up
    assert "pipeline.tasks.close_round not run" in caplog.text and "tryghed init" in caplog.text
    assert "sent again in 60 s" in caplog.text

    migrate.upgrade(url)
    app.extensions["tryghed"].schema_gate.recheck()
    assert close_round(1) == "skipped"  # runs now (round 1 does not exist: nothing to close)
    app.extensions["tryghed"].db.dispose()
