"""Acceptance 1 (and the TRIO notice): a round closed on the worker setup reports exactly once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import pdf_attachment, pdf_text, text_part
from tests.integration.conftest import Stack, answer, by_kind, new_round, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def test_round_closed_on_worker_delivers_one_report(stack: Stack, tmp_path: Path) -> None:
    stack.start_worker(concurrency=2)
    trio = ("tr@example.org", "amr@example.org")
    _team_id, round_id = new_round(stack, 6, team_name="Team Havbrise", trio=trio)
    answer(stack, round_id, 5)

    shown = stack.cli("round", "close", str(round_id), "--wait", "--timeout", "90")
    assert shown["status"] == "reported", shown
    wait_for(lambda: stack.settled(round_id), 30, "the TRIO notices to be sent")

    reports = stack.smtp.reports_to("leder@example.org")
    assert len(reports) == 1
    pdf = pdf_attachment(reports[0])
    assert "Team Havbrise" in pdf_text(pdf, tmp_path)
    # each outbox row reached the server exactly once: invitations, report, TRIO notices
    counts = by_kind(stack, round_id)
    assert set(counts.values()) == {1}, counts
    assert sorted(k[1] for k in counts) == ["invitation"] * 6 + ["report"] + ["trio"] * 2

    # TRIO: aggregate pillar figures only, no report, no item figures
    means = {p["key"]: p["mean"] for p in shown["pillars"]}
    for address in trio:
        (notice,) = stack.smtp.to(address)
        assert not list(notice.iter_attachments())
        body = text_part(notice)
        for mean in means.values():
            assert f"{mean:.2f}".replace(".", ",") in body
        items = stack.rt.content.instrument().items
        assert not any(item.text.da in body for item in items)


def test_trio_notice_below_threshold_has_no_figures(stack: Stack) -> None:
    stack.start_worker()
    _team_id, round_id = new_round(stack, 6, team_name="Team Lavvande", trio=("tr@example.org",))
    answer(stack, round_id, 2)  # below k = 5

    shown = stack.cli("round", "close", str(round_id), "--wait", "--timeout", "90")
    assert shown["status"] == "reported" and shown["suppressed"], shown
    wait_for(lambda: stack.settled(round_id), 30, "the TRIO notice to be sent")
    (notice,) = stack.smtp.to("tr@example.org")
    body = text_part(notice)
    assert "2 af 6" in body  # "n of N answered" only
    assert not re.search(r"\d,\d\d", body), body
