"""Acceptance 2: a worker killed with SIGKILL mid-render; the tick re-drives the round on a new worker,
and the leader gets exactly one report with a whole PDF."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline.tasks import run_pipeline
from survey.domain.rounds import close_round
from tests.helpers import pdf_attachment, pdf_text
from tests.integration.conftest import Stack, answer, by_kind, new_round, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

STALL = 3


def test_worker_killed_mid_render_reports_once(stack: Stack, tmp_path: Path) -> None:
    stack.rt.config["STALL_SECONDS"] = STALL  # the tick runs in this process
    slow = stack.start_worker("slow", render_delay=60)
    _team_id, round_id = new_round(stack, 6, team_name="Team Nattevagt")
    answer(stack, round_id, 5)

    with stack.app.app_context(), stack.session() as s:
        close_round(stack.rt, s, round_id)
        run_pipeline.delay(round_id)
    wait_for(lambda: stack.round(round_id).pipeline_step == "render", 30, "the pipeline to reach render")
    time.sleep(1)  # well inside the (slowed) render
    stack.kill(slow)  # SIGKILL to the whole worker: no chance to ack, reject or clean up
    assert stack.round(round_id).status == "closing"
    assert stack.round(round_id).pipeline_step == "render"

    # The killed worker's task is not redelivered (Redis holds it until the visibility timeout);
    # the stall detector in the tick is what brings the round back.
    stack.start_worker("fresh")
    started = time.monotonic()

    def reported() -> bool:
        stack.tick()
        return stack.round(round_id).status == "reported"

    wait_for(reported, 60, "the tick to re-drive the round to reported", interval=1)
    assert time.monotonic() - started >= STALL - 1  # it waited for the stall, not a redelivery

    reports = stack.smtp.reports_to("leder@example.org")
    assert len(reports) == 1
    pdf = pdf_attachment(reports[0])
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1
    assert "Team Nattevagt" in pdf_text(pdf, tmp_path)
    assert set(by_kind(stack, round_id).values()) == {1}

    # later ticks (and a late duplicate of the pipeline task) change nothing
    with stack.app.app_context():
        run_pipeline.delay(round_id)
    for _ in range(3):
        stack.tick()
    time.sleep(2)
    assert len(stack.smtp.reports_to("leder@example.org")) == 1
    assert stack.round(round_id).pipeline_attempts == 0
