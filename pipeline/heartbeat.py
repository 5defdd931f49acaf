"""Signs of life from a running pipeline task, so that a dead one is re-driven in about a minute.

A worker killed outright (main process and pool child alike) cannot reject its task, and Redis gives the
unacknowledged message back only after the visibility timeout, which must outlast every countdown (hours).
The stall period (``TRYGHED_STALL_SECONDS``, 10 minutes) is the coarse net for rounds whose task never
started (a queue backlog must not be re-enqueued every minute). In between, a running pipeline writes
``rounds.pipeline_beat_at`` every ``TRYGHED_PIPELINE_BEAT_SECONDS``; the tick re-drives a closing round
whose beat is older than :func:`beat_timeout`. Every step is a claim, so a re-drive that races a live but
slow task does no step twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import update

from survey.data.tables import rounds
from survey.runtime import Runtime

log = logging.getLogger(__name__)

# Beats a live task may miss (a GC pause, a busy database) before it counts as dead.
MISSED_BEATS = 6


def beat_timeout(config: dict[str, Any]) -> timedelta:
    """How old a beat may be before the tick takes the round over."""
    return timedelta(seconds=MISSED_BEATS * max(1, int(config["PIPELINE_BEAT_SECONDS"])))


def mark(rt: Runtime, round_id: int, at: datetime | None) -> bool:
    """Set the round's beat (None: no task is running); False when the database could not take it.

    Best effort by design: it runs where the database may be the very thing that is down, and a beat that
    is not written only means the tick may re-drive the round, which the step claims make harmless.
    """
    try:
        with rt.db.session() as session:
            session.execute(
                update(rounds).where(rounds.c.id == round_id, rounds.c.status == "closing").values(pipeline_beat_at=at)
            )
            session.commit()
        return True
    except Exception as exc:  # a down database: the caller carries on, the tick covers for the beat
        log.warning("round %s: pipeline heartbeat not written: %s", round_id, type(exc).__name__)
        return False


class Beating:
    """``with Beating(rt, round_id):`` beats in a background thread while the block runs.

    On leaving, the beat is cleared (``resume_in=None``) or, when the task hands over to a retry, set to
    when that retry is due, so that the tick takes over if the retry never comes (its worker died too).
    """

    def __init__(self, rt: Runtime, round_id: int) -> None:
        self.rt, self.round_id = rt, round_id
        self.interval = max(1, int(rt.config["PIPELINE_BEAT_SECONDS"]))
        self.resume_in: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"pipeline-beat-{round_id}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            mark(self.rt, self.round_id, self.rt.now())

    def __enter__(self) -> Beating:
        # In-process (no broker) there is no worker to die apart from the command itself, and a beat
        # thread would only contend with it for SQLite's write lock; the stall period covers that case.
        if not self.rt.eager:
            mark(self.rt, self.round_id, self.rt.now())
            self._thread.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self.rt.eager:
            return
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)
        resume = None if self.resume_in is None else self.rt.now() + timedelta(seconds=self.resume_in)
        mark(self.rt, self.round_id, resume)
