"""Issue 11, acceptance 3: a worker's memory stays bounded over many report renders, because Celery
replaces its pool child after ``TRYGHED_WORKER_MAX_TASKS_PER_CHILD`` tasks (``survey.celery_init``).

Kept short: a limit of 3 tasks per child and 9 rounds, each closed with no answers (a suppressed report,
rendered by WeasyPrint like any other). The pool children of the real worker are sampled from /proc
while it works."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import pytest

from pipeline.tasks import run_pipeline
from survey.domain.rounds import close_round
from tests.integration.conftest import Stack, new_round, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

PER_CHILD = 3
ROUNDS = 9
RSS_BOUND_MB = 400  # a fresh child with WeasyPrint loaded is ~150 MB; one that never restarts grows on


@pytest.fixture
def stack_settings() -> dict[str, Any]:
    return {"WORKER_MAX_TASKS_PER_CHILD": PER_CHILD}


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (the worker's pool), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # a thread or the process may end while we read
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def test_pool_child_is_replaced_and_memory_stays_bounded(stack: Stack) -> None:
    worker = stack.start_worker("recycled")
    seen: dict[int, float] = {}  # child pid -> highest RSS seen (MB)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for child in children(worker.pid):
                seen[child] = max(seen.get(child, 0.0), rss_mb(child))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        rounds = [new_round(stack, 1, team_name=f"Team Genbrug {i}")[1] for i in range(ROUNDS)]
        with stack.app.app_context():
            for round_id in rounds:
                with stack.session() as s:
                    close_round(stack.rt, s, round_id)  # no answers: a suppressed report
                run_pipeline.delay(round_id)
        wait_for(
            lambda: all(stack.round(r).status == "reported" for r in rounds),
            180,
            f"{ROUNDS} rounds to be rendered and reported",
            interval=0.5,
        )
    finally:
        done.set()
        sampler.join(timeout=5)

    print(f"pool children (pid: highest RSS in MB): { {pid: round(mb) for pid, mb in seen.items()} }")
    assert len(stack.smtp.reports_to("leder@example.org")) == ROUNDS
    # at least ROUNDS pipeline tasks (plus the invitations' send tasks) at PER_CHILD tasks per child
    assert len(seen) >= ROUNDS // PER_CHILD, seen
    assert max(seen.values()) < RSS_BOUND_MB, seen
