"""The schema check the CLI runs before every command."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

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
