"""``python -m tests.integration.slow_worker -A celery_app worker ...``: a Celery worker whose report
rendering takes ``TEST_RENDER_DELAY`` extra seconds, so a test can kill it mid-render.

A test-only wrapper rather than a hook in the product: the patch is applied before Celery forks its
pool, so every pool process inherits it.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def _patch() -> None:
    import pipeline.render

    delay = float(os.environ.get("TEST_RENDER_DELAY", "0"))
    original = pipeline.render.render_pdf

    def slow_render_pdf(*args: Any, **kwargs: Any) -> bytes:
        time.sleep(delay)
        return original(*args, **kwargs)

    pipeline.render.render_pdf = slow_render_pdf  # type: ignore[assignment]


if __name__ == "__main__":
    _patch()
    from celery.__main__ import main

    sys.argv[0] = "celery"
    sys.exit(main())
