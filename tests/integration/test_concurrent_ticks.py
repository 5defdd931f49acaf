"""Acceptance 4: two ticks at the same time send no duplicate email and open/close nothing twice."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from survey.data.models import Round
from tests.integration.conftest import VENV_BIN, Stack, answer, by_kind, new_round, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    # reminders allowed at any hour of any day (the test must not depend on when it runs), one day apart
    return {"REMINDER_DAYS": "1-7", "REMINDER_HOURS": "0-24", "REMINDER_INTERVAL_DAYS": 1, "REMINDER_MAX": 2}


def ticks_at_once(stack: Stack, n: int = 2) -> list[dict[str, Any]]:
    """``n`` ``tryghed tick`` processes started together."""
    procs = [
        subprocess.Popen(
            [str(VENV_BIN / "tryghed"), "tick", "--json"],
            cwd=stack.tmp,
            env=stack.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _set(stack: Stack, round_id: int, **values: Any) -> None:
    with stack.session() as s:
        s.execute(update(Round).where(Round.id == round_id).values(**values))
        s.commit()


def test_two_ticks_at_once_do_everything_once(stack: Stack) -> None:
    stack.start_worker(concurrency=2)
    now = stack.rt.now()
    # due to open
    _, to_open = new_round(
        stack, 4, team_name="Team Åbner", opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=7), open_now=False,
    )  # fmt: skip
    # open for two days, 2 of 5 answered: the first reminder is due
    _, to_remind = new_round(stack, 5, team_name="Team Påmindelse", closes_at=now + timedelta(days=7))
    answered = set(answer(stack, to_remind, 2))
    _set(stack, to_remind, opened_at=now - timedelta(days=2))
    # due to close, 5 of 6 answered
    _, to_close = new_round(stack, 6, team_name="Team Lukker", closes_at=now + timedelta(days=7))
    answer(stack, to_close, 5)
    _set(stack, to_close, closes_at=now - timedelta(minutes=1))
    wait_for(stack.settled, 30, "the first invitations to be sent")

    results = ticks_at_once(stack)
    # both ticks may see the same due work (they only enqueue); the claims make it happen once
    assert any(to_open in r["opened"] for r in results), results
    assert any(to_close in r["closed"] for r in results), results
    assert any(to_remind in r["reminded"] for r in results), results

    def done() -> bool:
        rounds = {rid: stack.round(rid) for rid in (to_open, to_remind, to_close)}
        return (
            rounds[to_open].status == "open"
            and rounds[to_remind].reminders_sent >= 1
            and rounds[to_close].status == "reported"
            and stack.settled()
        )

    wait_for(done, 60, "the round to open, the reminder to go out and the round to be reported")
    time.sleep(2)  # let any duplicate task finish
    ticks_at_once(stack)  # and nothing is due any more
    time.sleep(2)

    counts = by_kind(stack)
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
    kinds = sorted((rid, kind) for rid, kind, _r, _s in counts)
    assert kinds.count((to_open, "invitation")) == 4
    assert kinds.count((to_close, "report")) == 1
    reminded = {r for rid, kind, r, _s in counts if rid == to_remind and kind == "reminder"}
    invited = {r for rid, kind, r, _s in counts if rid == to_remind and kind == "invitation"}
    assert reminded == invited - answered and len(reminded) == 3  # non-respondents only, once
    assert stack.round(to_remind).reminders_sent == 1  # not 2: the duplicate task claimed nothing
    assert stack.round(to_open).status_reason is None  # a duplicate open is not an error to show
    assert len(stack.smtp.messages) == len(counts)
