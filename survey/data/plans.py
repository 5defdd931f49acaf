"""Statements that PostgreSQL plans once per connection instead of once per run.

psycopg prepares a statement on the server after its fifth run on a connection, but PostgreSQL then still
plans it again at every run ("custom plans") whenever it estimates that a plan for the given values beats
one for any values. For the start page's two big statements that estimate is wrong: planning them took
as long as running them or longer (about 0.4 and 0.6 ms of planning at 2,000 teams for 0.7 and 0.4 ms of
work; docs/benchmarks.md). A transaction that runs them asks for the plan made once (``SET LOCAL
plan_cache_mode``), which ends with the transaction and so never reaches other statements. psycopg forgets
what it prepared at a ROLLBACK, so a session that only read ends with COMMIT (``survey.data.db``).

A generic plan knows nothing of the bound values, so these statements write their fixed values (a status,
a kind) into the SQL text with ``constant``: the planner sees ``status = 'failed'`` and picks the index of a
rare state, as it would for a custom plan. So are the page sizes. Only what varies per request (a page's
offset, a point in time, a cursor) stays a parameter. ``tests/test_scale.py`` checks the generic plans at 2,000 teams.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Integer, String, literal_column
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

_PLAIN = re.compile(r"[a-z_]*")
_MARK = "tryghed.generic_plans"  # in ``Connection.info``: the transaction that asked already


def constant(value: str | int) -> ColumnElement[Any]:
    """A fixed word (a status, a kind) or whole number written into the statement's text instead of bound."""
    if isinstance(value, int) and not isinstance(value, bool):
        return literal_column(str(int(value)), Integer)
    if not isinstance(value, str) or not _PLAIN.fullmatch(value):
        raise ValueError(f"not a plain lowercase word or a whole number: {value!r}")
    return literal_column(f"'{value}'", String)


def plan_once(connection: Connection) -> None:
    """Use PostgreSQL's one plan per prepared statement for the rest of ``connection``'s transaction (one
    ``SET LOCAL`` per transaction; nothing on SQLite, which plans every statement in microseconds)."""
    if connection.dialect.name != "postgresql":
        return
    transaction: Any = connection.get_transaction()
    if transaction is None or connection.info.get(_MARK) is transaction:
        return
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    connection.info[_MARK] = transaction
