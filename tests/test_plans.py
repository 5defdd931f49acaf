"""``survey.data.plans``: fixed values written into a statement's text, and plans made once per connection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import column, create_engine, select, text
from sqlalchemy.dialects import postgresql

from survey.data.plans import constant, plan_once


def test_a_constant_is_written_into_the_text() -> None:
    query = select(column("n")).where(column("status") == constant("failed"), column("n") > constant(0))
    sql = str(query.compile(dialect=postgresql.dialect()))
    assert "status = 'failed'" in sql and "n > 0" in sql and "%(" not in sql


@given(st.text())
def test_only_plain_words_and_whole_numbers_become_constants(value: str) -> None:
    if value and all(c.islower() and c.isascii() or c == "_" for c in value):
        assert str(constant(value)) == f"'{value}'"
    elif value:
        with pytest.raises(ValueError, match="plain lowercase word"):
            constant(value)


@pytest.mark.parametrize("value", [True, 1.5, None, "Failed", "a'b", "a b", "é"])
def test_anything_else_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="plain lowercase word"):
        constant(value)  # type: ignore[arg-type]


def test_planning_once_is_nothing_on_sqlite() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        plan_once(conn)  # no statement of its own: SQLite plans every statement in microseconds
        assert conn.exec_driver_sql("SELECT 2").scalar_one() == 2


@pytest.mark.postgres
def test_planning_once_lasts_for_the_transaction_only(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            plan_once(conn)
            plan_once(conn)  # asked twice in one transaction: one SET
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar_one() == "force_generic_plan"
            conn.commit()
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar_one() == "auto"
    finally:
        engine.dispose()


def test_every_flag_of_the_statuses_statement_is_looked_up_per_team_on_postgresql() -> None:
    """Each EXISTS of the start page's statement sits behind OFFSET 0 on PostgreSQL: without it the one plan
    answered two of them with a hash of every round and action in the organisation (1.3 ms of a page at
    10,000 teams, and growing with it), where a lookup per team of the page costs microseconds."""
    from survey.domain import overview

    for scope in ("all", "leader", "ids"):
        sql = str(overview._statuses_statement(scope, True, 26).compile(dialect=postgresql.dialect()))
        assert sql.count("EXISTS (SELECT") == sql.count("OFFSET 0)") == 8
