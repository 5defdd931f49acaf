"""Small web routes: health check."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, request
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from survey.celery_init import broker_problem
from survey.data.models import Heartbeat
from survey.runtime import Runtime, get_runtime

bp = Blueprint("health", __name__)


def write_heartbeat(rt: Runtime) -> None:
    """Upsert the one heartbeat row and commit: raises if the database cannot take a write."""
    table = cast(Table, Heartbeat.__table__)
    with rt.db.session() as session:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        now = rt.now()
        stmt = insert(table).values(id=1, beat_at=now)
        session.execute(stmt.on_conflict_do_update(index_elements=[table.c.id], set_={"beat_at": now}))
        session.commit()


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """200 when the schema is this code's, the database accepts a write and the content is loaded; 503
    with the reason otherwise.

    With a broker configured it is checked too and named in the answer. A broker that is down makes the
    answer ``"status": "degraded"`` but keeps it 200: respondents can still answer (the web app needs no
    broker), so a load balancer must not take the web app out for it. ``/healthz?require=broker`` answers
    503 instead, for monitoring and for the container health checks of workers and beat.
    """
    rt = get_runtime()
    pending = rt.schema_gate.problem()
    if pending is not None:  # code and schema do not match: say so, before a write that would fail
        return {"status": "error", "schema": rt.schema_gate.state(), "reason": pending}, 503
    try:
        rt.load_content()  # validated at start; a failure here means the app was built around it
    except ValueError as exc:
        return {"status": "error", "content": str(exc)}, 503
    try:
        write_heartbeat(rt)
    except Exception as exc:  # the load balancer needs an answer, not a traceback
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        return {"status": "error", "database": f"{type(exc).__name__}: {reason}"}, 503
    body = {"status": "ok", "database": "writable", "content": "loaded"}
    broker = rt.config.get("BROKER_URL")
    if not broker:
        return {**body, "broker": "none (tasks run in-process)"}, 200
    problem = broker_problem(str(broker))
    if problem is None:
        return {**body, "broker": "reachable"}, 200
    body = {**body, "status": "degraded", "broker": f"unreachable: {problem}"}
    return body, 503 if request.args.get("require") == "broker" else 200
