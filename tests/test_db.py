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
