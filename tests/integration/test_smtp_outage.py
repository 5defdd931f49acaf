"""Acceptance 3: the SMTP server is down while invitations go out. When it is back every participant
has exactly one invitation; a rejected recipient is recorded, shown in ``round show``, not retried."""

from __future__ import annotations

import time

import pytest
from aiosmtpd.controller import Controller

from tests.helpers import _Handler
from tests.integration.conftest import Stack, by_kind, new_round, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

REJECTED = "p3.1@example.org"  # participant 3 of the first team: the server refuses this mailbox


def test_smtp_outage_then_exactly_one_invitation_each(stack: Stack) -> None:
    stack.start_worker()
    stack.smtp.stop()  # the mail server is down before anything is sent

    try:
        _team_id, round_id = new_round(stack, 7, team_name="Team Uvejr")
        wait_for(
            lambda: all(m.attempts >= 1 for m in stack.messages(round_id)[:1]),
            20,
            "the worker to try the first invitation",
        )
        time.sleep(2)  # a few retries (backoff 1 s) against the dead server
        messages = stack.messages(round_id)
        assert all(m.status == "pending" for m in messages), [(m.recipient, m.status) for m in messages]
        assert "cannot reach SMTP server" in (messages[0].last_error or "")
        # the batch fails alike (one connection attempt, the same count for all), so it keeps together;
        # the snapshot may fall in the middle of a retry, hence one apart at most
        attempts = [m.attempts for m in messages]
        assert min(attempts) >= 1 and max(attempts) - min(attempts) <= 1, attempts
    finally:
        stack.smtp.reject.add(REJECTED)
        # back up on the same port (an aiosmtpd controller cannot restart: a fresh one, same sink)
        stack.smtp.controller = Controller(_Handler(stack.smtp), hostname="127.0.0.1", port=stack.smtp.port)
        stack.smtp.start()
    # no tick here: the worker's own countdown retry must bring the mail out
    wait_for(lambda: stack.settled(round_id), 30, "every invitation to be sent or failed after the outage")
    counts = by_kind(stack, round_id)
    assert {r: n for (_rid, _kind, r, _seq), n in counts.items()} == {
        m.recipient: (0 if m.recipient == REJECTED else 1) for m in stack.messages(round_id)
    }

    shown = stack.cli("round", "show", str(round_id))
    (failed,) = shown["failed_messages"]
    assert failed["kind"] == "invitation" and failed["recipient"] == REJECTED
    assert "550" in failed["error"]
    rejected = next(m for m in stack.messages(round_id) if m.recipient == REJECTED)
    # permanent: failed at its first attempt after the outage, not retried up to the cap (20)
    assert rejected.status == "failed" and rejected.attempts < 10 and "550" in (rejected.last_error or "")

    # the tick (cron / beat) does not pick the failed message up again, nor resend the others
    for _ in range(3):
        stack.tick()
    time.sleep(1.5)
    assert by_kind(stack, round_id) == counts
    assert next(m for m in stack.messages(round_id) if m.recipient == REJECTED).attempts == rejected.attempts
