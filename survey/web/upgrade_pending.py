"""Code newer (or older) than the database's schema refuses to serve: 503 "upgrade pending", never a 500.

A ``before_request`` hook, first of all hooks, asks the runtime's ``SchemaGate`` (no query on the hot
path: the gate re-reads ``alembic_version`` once per interval). While the schema does not match, every
page but ``/healthz`` (which says why, in JSON) and static files answers 503 with a page in Danish and
English and ``Retry-After``. The request body is never read and no view runs, so a respondent's answers
reach neither the database nor a log; the person is asked to send them again in a few minutes.

Should the schema change under a running process between two checks (a rollback), the query that fails
makes the gate look again at once, and the request gets the same 503 instead of a 500.
"""

from __future__ import annotations

from flask import Flask, Response, g, render_template, request
from sqlalchemy.exc import DBAPIError

from survey.runtime import get_runtime

RETRY_AFTER_S = 30
ALWAYS_SERVED = frozenset({"health.healthz", "static"})


def init_app(app: Flask) -> None:
    """Put the check in front of every other hook (the login guard and CSRF check read the database)."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_while_pending)
    app.register_error_handler(DBAPIError, _database_error)


def refuse_while_pending() -> Response | None:
    if request.endpoint in ALWAYS_SERVED or not get_runtime().schema_gate.blocks():
        return None
    return pending_page()


def pending_page() -> Response:
    """The 503 page, both languages (the person's language is in the database this code cannot read)."""
    g.lang = "da"
    response = Response(render_template("survey/upgrade_pending.html"), status=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    response.headers["Cache-Control"] = "no-store"
    return response


def _database_error(exc: DBAPIError) -> Response:
    gate = get_runtime().schema_gate
    gate.recheck()
    if gate.blocks():
        return pending_page()
    raise exc  # any other database failure takes Flask's ordinary path (logged, 500 page)
