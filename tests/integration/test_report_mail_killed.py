"""Issue 11, acceptance 2: the worker is killed (SIGKILL) while the leader's report email is inside the
SMTP transaction. With the stall setting at a few seconds and the tick run repeatedly, the leader gets
exactly one report within a minute, with the Message-ID of the outbox row."""

from __future__ import annotations

import asyncio
import email
import threading
import time
from collections.abc import Iterator
from email import policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from pipeline.tasks import run_pipeline
from survey.domain.rounds import close_round
from tests.helpers import SMTPSink, _Handler
from tests.integration.conftest import Stack, new_round, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

STALL = 4


class _StallOnFirstReport(_Handler):
    """Accepts mail like the sink, but hangs (never answers) the DATA of the first email with a PDF."""

    def __init__(self, sink: StallingSink) -> None:
        super().__init__(sink)
        self.stalling = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        msg = email.message_from_bytes(raw, policy=policy.default)
        if msg.get_content_type() == "multipart/mixed" and not self.stalling.in_data.is_set():
            self.stalling.in_data.set()
            await asyncio.sleep(600)  # the client is killed meanwhile; this message is never accepted
            return "451 4.3.0 timed out"
        return await super().handle_DATA(server, session, envelope)


class StallingSink(SMTPSink):
    def __init__(self) -> None:
        super().__init__()
        self.in_data = threading.Event()
        self.controller = Controller(_StallOnFirstReport(self), hostname="127.0.0.1", port=self.port)


@pytest.fixture
def smtp() -> Iterator[SMTPSink]:
    sink = StallingSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    # workers read the stall period (and so the claim lease) from their environment
    return {"STALL_SECONDS": STALL}


def test_worker_killed_inside_the_report_smtp_transaction_reports_once(stack: Stack) -> None:
    sink = stack.smtp
    assert isinstance(sink, StallingSink)
    first = stack.start_worker("first")
    _team_id, round_id = new_round(stack, 6, team_name="Team Havnefronten")
    wait_for(lambda: stack.settled(round_id), 30, "the invitations to be sent")

    with stack.app.app_context(), stack.session() as s:
        close_round(stack.rt, s, round_id)
        run_pipeline.delay(round_id)
    wait_for(sink.in_data.is_set, 60, "the report email to reach DATA at the SMTP server")
    stack.kill(first)  # SIGKILL to the worker and its pool child, mid-transaction
    killed_at = time.monotonic()
    (report_row,) = [m for m in stack.messages(round_id) if m.kind == "report"]
    assert report_row.status == "pending" and report_row.claimed_at is not None
    assert stack.round(round_id).status == "closing"

    stack.start_worker("fresh")

    def reported() -> bool:
        stack.tick()
        return stack.round(round_id).status == "reported"

    wait_for(reported, 60, "the tick to bring the report out after the stall period", interval=1)
    assert time.monotonic() - killed_at < 60

    reports = [m for m in sink.to("leder@example.org") if m.get_content_type() == "multipart/mixed"]
    assert len(reports) == 1
    assert str(reports[0]["Message-ID"]) == report_row.message_id  # a resend keeps its Message-ID

    # more ticks and a duplicate pipeline task change nothing
    with stack.app.app_context():
        run_pipeline.delay(round_id)
    for _ in range(3):
        stack.tick()
        time.sleep(0.5)
    assert len([m for m in sink.to("leder@example.org") if m.get_content_type() == "multipart/mixed"]) == 1
