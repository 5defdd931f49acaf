"""Small web routes: health check."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from survey.runtime import get_runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """200 when the app can reach its database (the survey works without the broker)."""
    rt = get_runtime()
    try:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the load balancer needs an answer, not a traceback
        return {"status": "error", "database": type(exc).__name__}, 503
    return {"status": "ok"}, 200
