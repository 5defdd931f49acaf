"""One database session for a request: the sign-in check, the access guard and the pages that only read.

Every logged-in request reads its session and account (``auth``), often checks a team or unit (``access``),
and then the page reads what it shows. Each in a session of its own, a start page took three connections from
the pool, with a BEGIN and a COMMIT each on PostgreSQL. Here they share one session and, for the pages in
``SHARED_ENDPOINTS``, one transaction. Any other page gets the connection back before its view runs (the
guard's reads are done by then), so no request holds two connections or keeps a transaction open while a page
that writes does its work.

The session ends when the request does, as ``Database.session`` ends one: rolled back after an error,
committed on PostgreSQL when it only read (so the connection keeps its prepared statements), rolled back
otherwise.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from flask import Flask, g, request
from sqlalchemy.orm import Session

from survey.runtime import get_runtime

# The pages that read in the request's session (their views call ``request_session``)
SHARED_ENDPOINTS = frozenset({"pages.start", "attention.index"})

_KEY = "_tryghed_db"


def request_session() -> Session:
    """The request's database session, opened at its first use."""
    kept: tuple[AbstractContextManager[Session], Session] | None = g.get(_KEY)
    if kept is None:
        manager = get_runtime().db.session()
        kept = (manager, manager.__enter__())
        setattr(g, _KEY, kept)
    return kept[1]


def end_request_session(exc: BaseException | None = None) -> None:
    """End the request's session, if one was opened (rolled back when ``exc`` is given)."""
    kept: tuple[AbstractContextManager[Session], Session] | None = g.pop(_KEY, None)
    if kept is not None:
        manager, _session = kept
        if exc is None:
            manager.__exit__(None, None, None)
        else:
            manager.__exit__(type(exc), exc, exc.__traceback__)


def _release_unless_shared() -> None:
    # after the guard: a page that does not read in the request's session gets its connection back first
    if request.endpoint not in SHARED_ENDPOINTS:
        end_request_session()


def init_app(app: Flask) -> None:
    """End the session with the request; release it before every view that does not share it. Registered
    after the access guard (``survey.web.init_app`` puts the guard first)."""
    app.before_request(_release_unless_shared)

    @app.teardown_request
    def _end(exc: BaseException | None) -> Any:
        end_request_session(exc)
