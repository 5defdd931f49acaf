"""gunicorn settings read from the working directory (``./gunicorn.conf.py``, gunicorn's default).

Command-line options (bind, workers) still come from the command that starts it; this file only adds a
worker hook.
"""

from __future__ import annotations

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    """Move everything the app loaded (Flask, SQLAlchemy, WTForms, the content, compiled templates) out of
    the garbage collector's reach once the worker has built it.

    A full collection otherwise walks those ~140,000 long-lived objects again and again: 60-120 ms each
    time on the shared 2-core machine, which is where the slowest 1 % of respondent requests went
    (docs/benchmarks.md, "Storing an answer"). Collected first, so that no garbage is frozen with them.
    """
    gc.collect()
    gc.freeze()
