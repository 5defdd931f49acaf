"""Acceptance 5: with Redis stopped, employees can still answer (the web app needs no broker); when
Redis is back, the scheduled work runs (on a private redis-server: the shared one is never stopped)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from kombu.exceptions import OperationalError
from sqlalchemy import update

from survey.data.models import Round
from tests.helpers import SMTPSink
from tests.integration.conftest import OwnRedis, Stack, answer, new_round, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def outage_stack(tmp_path: Path, pg_url: str, own_redis: OwnRedis, smtp: SMTPSink) -> Iterator[Stack]:
    st = Stack(tmp_path, pg_url, own_redis.url, smtp)
    try:
        yield st
    finally:
        st.stop_all()
        st.rt.db.dispose()


def test_answers_without_redis_and_work_resumes(outage_stack: Stack, own_redis: OwnRedis) -> None:
    stack = outage_stack
    stack.start_worker()
    _team_id, round_id = new_round(stack, 6, team_name="Team Strømsvigt")
    wait_for(lambda: len(stack.smtp.messages) == 6 and stack.settled(), 30, "the invitations")

    own_redis.stop()
    client = stack.app.test_client()
    assert client.get("/healthz").status_code == 200
    answer(stack, round_id, 5)  # GET form + POST answers, 200 each, with the broker down
    with stack.session() as s:  # the round is due to close while Redis is down
        s.execute(update(Round).where(Round.id == round_id).values(closes_at=stack.rt.now() - timedelta(seconds=1)))
        s.commit()
    with pytest.raises(OperationalError):  # the tick cannot enqueue: it fails loudly, changes nothing
        stack.tick()
    assert stack.round(round_id).status == "open"

    own_redis.start()  # same port; the running worker reconnects on its own

    def reported() -> bool:
        stack.tick()
        return stack.round(round_id).status == "reported"

    wait_for(reported, 60, "the round to be closed and reported once Redis is back", interval=1)
    assert len(stack.smtp.reports_to("leder@example.org")) == 1
    shown = stack.cli("round", "show", str(round_id))
    assert shown["responses"] == 5 and not shown["suppressed"]
