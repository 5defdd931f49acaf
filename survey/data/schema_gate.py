"""Whether this code may serve the database it points at, known without a query per request.

Between a deploy and ``tryghed init`` the new code meets the old schema: every query naming a new column
fails, and the respondent's answers would hit an error (and, through it, a log). The web app, the workers
and ``/healthz`` ask this gate first. It reads ``alembic_version`` once, then again only after an
interval: often while the schema is wrong (so service resumes within seconds of ``init``), rarely while
it is right (a rollback under a running app is also caught by the error handler, see
``survey.web.upgrade_pending``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from survey.data.db import SCHEMA_PROBLEMS, Database, schema_state

# Seconds between checks while the schema is current, and while it is not (or could not be read).
RECHECK_CURRENT_S = 60.0
RECHECK_PENDING_S = 3.0


class SchemaGate:
    """The schema's state for this process, re-read at most once per interval."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.clock = clock
        self._state = "unknown"
        self._next_check = 0.0
        self._lock = threading.Lock()

    def state(self) -> str:
        """``current``, ``missing``, ``outdated``, ``ahead``, or ``unknown`` (the database did not answer:
        the caller's own error handling decides; the gate only stops code that *knows* it is wrong)."""
        if self.clock() < self._next_check:
            return self._state
        with self._lock:  # one thread re-reads; the others keep the last answer meanwhile
            if self.clock() >= self._next_check:
                self.recheck()
        return self._state

    def recheck(self) -> str:
        """Read the schema's state now."""
        try:
            state = schema_state(self.db)
        except Exception:  # a database that is down is /healthz's to report, not a schema problem
            state = "unknown"
        self._state = state
        self._next_check = self.clock() + (RECHECK_CURRENT_S if state == "current" else RECHECK_PENDING_S)
        return state

    def blocks(self) -> bool:
        """True when the schema is known to be one this code cannot use."""
        return self.state() in SCHEMA_PROBLEMS

    def problem(self) -> str | None:
        """What is wrong, in the words of the CLI (names the command that fixes it), or None."""
        return SCHEMA_PROBLEMS.get(self.state())
