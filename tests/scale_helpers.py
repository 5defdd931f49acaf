"""What the municipality-scale tests share: statements captured as they run, and their plans.

A statement is captured with its parameters (``before_cursor_execute``) and explained afterwards on the
same database with ``EXPLAIN`` and the same parameters, so the plan is the one PostgreSQL chose for what
the page really sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# The tables that grow with the municipality; the small ones (units, users, requests) may be read whole.
BIG_TABLES = (
    "teams",
    "participants",
    "rounds",
    "invitations",
    "responses",
    "messages",
    "round_results",
    "reports",
    "actions",
)


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent through ``engine`` meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", grab)


def seq_scans(engine: Engine, statements: list[tuple[str, Any]], *, generic: bool = False) -> list[str]:
    """The SELECTs among ``statements`` whose plan reads a big table sequentially, with that plan.

    ``generic``: the plan PostgreSQL makes once for a prepared statement, for any values of its parameters
    (``survey.data.plans``), instead of the plan for the values the page sent."""
    pattern = re.compile(r"Seq Scan on (" + "|".join(BIG_TABLES) + r")\b")
    found = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            plan = _generic_plan(cursor, statement, parameters) if generic else _plan(cursor, statement, parameters)
            if pattern.search(plan):
                found.append(f"{statement}\n{plan}")
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return found


def _plan(cursor: Any, statement: str, parameters: Any) -> str:
    cursor.execute("EXPLAIN " + statement, parameters)
    return "\n".join(row[0] for row in cursor.fetchall())


def _generic_plan(cursor: Any, statement: str, parameters: Any) -> str:
    """EXPLAIN of the generic plan: the statement prepared on the server (psycopg), then explained as an
    EXECUTE of it with ``plan_cache_mode = force_generic_plan`` (PostgreSQL 15 has no EXPLAIN GENERIC_PLAN)."""
    from psycopg import sql

    cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    cursor.execute(statement, parameters, prepare=True)
    cursor.fetchall()
    cursor.execute("SELECT name FROM pg_prepared_statements ORDER BY prepare_time DESC LIMIT 1")
    name = cursor.fetchone()[0]
    # psycopg numbers named parameters in the order they first appear ($1, $2, ...)
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    values = [parameters[n] for n in names] if isinstance(parameters, dict) else list(parameters or ())
    args = sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(v) for v in values)) if values else sql.SQL("")
    cursor.execute(sql.SQL("EXPLAIN EXECUTE {}{}").format(sql.Identifier(name), args))
    return "\n".join(row[0] for row in cursor.fetchall())


def most_parameters(statements: list[tuple[str, Any]]) -> int:
    """The largest number of bound parameters in one statement (executemany: per row)."""

    def count(parameters: Any) -> int:
        if isinstance(parameters, (list, tuple)) and parameters and isinstance(parameters[0], (dict, list, tuple)):
            return max(count(p) for p in parameters)
        return len(parameters or ())

    return max((count(p) for _s, p in statements), default=0)
