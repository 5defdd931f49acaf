"""The schema check the CLI runs before every command, and the settings of connections and sessions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

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


def test_a_session_that_only_read_keeps_the_prepared_statements_and_one_that_wrote_stores_nothing(
    pg_url: str,
) -> None:
    """``Database.session`` on PostgreSQL: a transaction that only read ends with COMMIT, which keeps the
    statements psycopg has prepared on the connection (a ROLLBACK drops them all); one that sent anything
    else, or raised, or left ORM changes unflushed, is rolled back as before and stores nothing."""
    from survey.data.models import Team

    db = Database(pg_url)
    try:
        upgrade(db)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE probe (n integer)")
        db.engine.dispose()  # one pooled connection from here on

        def prepared() -> int:
            with db.engine.connect() as conn:
                return conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT count(*) FROM teams%%'"
                ).scalar_one()

        def count() -> None:
            with db.session() as session:
                session.execute(text("SELECT count(*) FROM teams")).scalar_one()

        for _ in range(6):  # psycopg prepares a statement at its fifth run on a connection
            count()
        assert prepared() == 1
        with db.session() as session:  # wrote, and did not commit
            session.execute(text("INSERT INTO probe VALUES (1)"))
        assert prepared() == 0  # rolled back: psycopg has forgotten them
        with pytest.raises(RuntimeError), db.session() as session:
            session.execute(text("SELECT 1")).scalar_one()
            raise RuntimeError("a failing page")
        with db.session() as session:
            session.execute(text("SELECT 1")).scalar_one()
            session.add(Team(name="B", leader_email="b@x.org", lang="da"))  # not flushed
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM probe").scalar_one() == 0
            assert conn.exec_driver_sql("SELECT count(*) FROM teams").scalar_one() == 0
    finally:
        db.dispose()


def test_a_pooled_connection_is_pinged_only_after_being_idle(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ping for a connection used a moment ago (``pool_pre_ping`` cost a round trip per session, two per
    page); one idle for longer is pinged, and replaced when the server has dropped it meanwhile."""
    import psycopg

    from survey.data import db as db_module

    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.2)
    db = Database(pg_url)
    pings: list[int] = []
    ping = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: pings.append(1) or ping(conn))
    try:

        def backend() -> int:
            with db.session() as session:
                return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())

        first = backend()
        assert backend() == first and pings == []  # fresh, then used a moment ago: no ping
        with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (first,))
        time.sleep(0.3)
        assert backend() != first  # pinged, found gone, replaced: the session never saw it
        assert pings == [1]
    finally:
        db.dispose()
