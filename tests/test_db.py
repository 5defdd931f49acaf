"""The schema check the CLI runs before every command, and the settings of connections and sessions."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from survey.data.db import MIGRATIONS, SCHEMA_HEAD, Database, schema_state, upgrade


def test_schema_head_constant_is_alembics_head() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_heads() == [SCHEMA_HEAD]


def test_schema_state_missing_current_outdated(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert schema_state(db) == "missing"
    upgrade(db)
    assert schema_state(db) == "current"
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    assert schema_state(db) == "outdated"
    db.dispose()


def test_postgresql_connections_plan_without_jit(pg_url: str) -> None:
    """Every pooled connection has JIT off (``make_engine``): our statements are short index lookups, and on
    tables without statistics yet their estimated cost passed jit_above_cost, so the start page's statuses
    statement spent 20-25 ms compiling for 2 ms of work (docs/benchmarks.md)."""
    db = Database(pg_url)
    try:
        with db.engine.connect() as first, db.engine.connect() as second:
            for conn in (first, second):
                assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
        with db.engine.connect() as again:  # a connection back from the pool keeps it
            assert again.exec_driver_sql("SHOW jit").scalar() == "off"
    finally:
        db.dispose()


def test_a_read_session_on_postgresql_cannot_write_and_keeps_prepared_statements(pg_url: str) -> None:
    """``Database.read``: its transaction is READ ONLY, so ending it with COMMIT (which keeps psycopg's
    prepared statements, where the ROLLBACK that ends ``session`` drops them) can never store anything."""
    db = Database(pg_url)
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE read_probe (n integer)")
        with pytest.raises(DBAPIError, match="read-only transaction"), db.read() as session:
            session.execute(text("INSERT INTO read_probe VALUES (1)"))
        db.engine.dispose()  # one pooled connection from here on

        def prepared() -> int:
            with db.engine.connect() as conn:
                return conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_prepared_statements"
                    " WHERE statement LIKE 'SELECT count(*) FROM read_probe%%'"
                ).scalar_one()

        for _ in range(6):  # psycopg prepares a statement at its fifth run on a connection
            with db.read() as session:
                session.execute(text("SELECT count(*) FROM read_probe")).scalar_one()
        assert prepared() == 1
        with db.session() as session:
            session.execute(text("SELECT 1")).scalar_one()  # ended with a ROLLBACK
        assert prepared() == 0
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM read_probe").scalar_one() == 0
    finally:
        db.dispose()
