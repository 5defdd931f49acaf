"""A real ``celery worker`` with ``TRYGHED_LOG_FORMAT=json`` logs one JSON object per line, with the task's
id and name (issue 17, acceptance 4). Celery's start-up banner is not a log record and stays text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Stack, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    return {"LOG_FORMAT": "json"}


def test_worker_logs_json(stack: Stack) -> None:
    from pipeline.tasks import tick

    stack.start_worker()
    with stack.app.app_context():
        tick.delay()
    log = next(stack.tmp.glob("worker-w1-*.log"))

    def records() -> list[dict[str, Any]]:
        lines = log.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def tick_done() -> list[dict[str, Any]]:
        return [r for r in records() if r.get("task") == "pipeline.tasks.tick" and "succeeded" in r["message"]]

    (done,) = wait_for(tick_done, 60, "the tick's success in the worker's JSON log")
    assert done["level"] == "INFO" and done["task_id"] and done["time"]
    text = log.read_text(errors="replace")
    assert not [line for line in text.splitlines() if line.startswith("[20")], "a log line in text format"
    assert any(r["message"].startswith("celery@") or "ready" in r["message"] for r in records())
