"""The migration mechanism: one transaction, foreign keys checked before the commit, a backup before
``tryghed init`` changes a SQLite schema, a rollback by ``tryghed db downgrade`` or ``alembic -c``."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner

from survey.cli import main
from survey.data import migrate
from survey.data.db import Database, upgrade
from survey.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = ROOT / "survey" / "data" / "alembic.ini"


def at_revision(url: str, revision: str) -> None:
    with migrate.migration_connection(url) as conn:
        command.upgrade(migrate.alembic_config(conn), revision)


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def teams_with_people(path: Path) -> None:
    """Two teams with participants written straight into a 0005 schema (the 0006 rebuild drops teams)."""
    with sqlite3.connect(path) as conn:
        for team in (1, 2):
            conn.execute(
                "INSERT INTO teams (id, name, lang, trio_emails, created_at) VALUES (?, ?, 'da', '[]', '2026-01-01')",
                (team, f"Team {team}"),
            )
            for i in range(3):
                conn.execute(
                    "INSERT INTO participants (team_id, email, lang, active) VALUES (?, ?, 'da', 1)",
                    (team, f"p{i}@t{team}.test"),
                )


def test_a_rebuild_of_a_parent_table_keeps_its_children(tmp_path: Path) -> None:
    """0006 rebuilds ``teams`` (batch mode): with foreign keys on, its DROP deleted every participant."""
    db = tmp_path / "t.sqlite"
    at_revision(f"sqlite:///{db}", "0005")
    teams_with_people(db)
    done = migrate.upgrade(f"sqlite:///{db}")
    assert (done.before, done.after) == ("0005", migrate.revisions()[-1])
    assert rows(db, "SELECT count(*) FROM participants") == [(6,)]
    assert rows(db, "PRAGMA foreign_key_check") == []


def test_rows_pointing_at_nothing_fail_the_whole_run(tmp_path: Path) -> None:
    """``PRAGMA foreign_key_check`` after the last step; a violation rolls every step back."""
    db = tmp_path / "t.sqlite"
    at_revision(f"sqlite:///{db}", "0005")
    teams_with_people(db)
    with sqlite3.connect(db) as conn:  # foreign keys are off in a plain sqlite3 connection
        conn.execute("INSERT INTO participants (team_id, email, lang, active) VALUES (99, 'x@t.test', 'da', 1)")
    with pytest.raises(migrate.ForeignKeyViolation, match="participants -> teams"):
        migrate.upgrade(f"sqlite:///{db}")
    refused = CliRunner().invoke(main, ["init", "--json"], env={"TRYGHED_DATABASE_URL": f"sqlite:///{db}"})
    assert refused.exit_code == 1 and "pointing at nothing" in refused.output and "Traceback" not in refused.output
    assert rows(db, "SELECT version_num FROM alembic_version") == [("0005",)]
    assert rows(db, "SELECT name FROM sqlite_master WHERE name IN ('units', 'users')") == []  # 0006, 0007 undone
    assert rows(db, "SELECT count(*) FROM participants") == [(7,)]


def test_the_engine_of_the_app_keeps_foreign_keys_on(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 't.sqlite'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_a_failed_backup_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    at_revision(f"sqlite:///{db}", "0006")
    when = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)
    (tmp_path / "t.sqlite.0006-20261202T091500Z.backup").mkdir()  # the name is taken: the copy cannot be made
    with pytest.raises(UserError, match="could not write the backup.*nothing was changed"):
        migrate.upgrade(f"sqlite:///{db}", backup_at=when)
    assert rows(db, "SELECT version_num FROM alembic_version") == [("0006",)]


def tryghed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, *args: str, ok: bool = True) -> str:
    monkeypatch.setenv("TRYGHED_DATABASE_URL", url)
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def test_init_backs_up_an_older_sqlite_schema_first_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    db = tmp_path / "tryghed.sqlite"
    url = f"sqlite:///{db}"
    fresh = json.loads(tryghed(tmp_path, monkeypatch, url, "init", "--json"))
    assert fresh["backup"] is None and fresh["from"] is None  # nothing to keep yet
    assert json.loads(tryghed(tmp_path, monkeypatch, url, "init", "--json"))["backup"] is None  # nothing changes
    migrate.downgrade(url, "0005")
    teams_with_people(db)
    out = json.loads(tryghed(tmp_path, monkeypatch, url, "init", "--json"))
    assert (out["status"], out["from"], out["to"]) == ("ready", "0005", migrate.revisions()[-1])
    backup = Path(out["backup"])
    assert backup.parent == db.parent and backup.name.startswith("tryghed.sqlite.0005-")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    # a consistent copy of the database as it was before the upgrade
    assert rows(backup, "PRAGMA integrity_check") == [("ok",)]
    assert rows(backup, "SELECT version_num FROM alembic_version") == [("0005",)]
    assert rows(backup, "SELECT count(*) FROM participants") == [(6,)]
    migrate.downgrade(url, "0006")
    text = tryghed(tmp_path, monkeypatch, url, "init")
    assert "0006 -> " in text and "Sikkerhedskopi" in text and "backup" in text and ".0006-" in text


def test_db_downgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    import json

    upgrade(Database(db_url))
    unknown = json.loads(tryghed(tmp_path, monkeypatch, db_url, "db", "downgrade", "9999", "--json", ok=False))
    assert unknown["error"].startswith("unknown revision '9999'") and "0006" in unknown["revisions"]
    out = json.loads(tryghed(tmp_path, monkeypatch, db_url, "db", "downgrade", "0006", "--json"))
    assert (out["status"], out["from"], out["to"]) == ("downgraded", migrate.revisions()[-1], "0006")
    assert (out["backup"] is not None) == db_url.startswith("sqlite")
    later = migrate.revisions()[-1]
    newer = json.loads(tryghed(tmp_path, monkeypatch, db_url, "db", "downgrade", later, "--json", ok=False))
    assert "older than" in newer["error"] and "tryghed init" in newer["error"]
    # the other commands refuse an old schema, naming the fix
    pending = json.loads(tryghed(tmp_path, monkeypatch, db_url, "tick", "--json", ok=False))
    assert pending["schema"] == "outdated" and "tryghed init" in pending["error"]
    assert json.loads(tryghed(tmp_path, monkeypatch, db_url, "init", "--json"))["to"] == later


def test_a_schema_newer_than_the_code_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    url = f"sqlite:///{tmp_path / 't.sqlite'}"
    upgrade(Database(url))
    with sqlite3.connect(tmp_path / "t.sqlite") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9001'")
    out = json.loads(tryghed(tmp_path, monkeypatch, url, "round", "show", "1", "--json", ok=False))
    assert out["schema"] == "ahead" and "newer version" in out["error"]
    for command_line in (("db", "downgrade", "0006"), ("init",)):
        refused = json.loads(tryghed(tmp_path, monkeypatch, url, *command_line, "--json", ok=False))
        assert "does not know" in refused["error"] and refused["schema"] == "ahead", command_line


def test_the_shipped_alembic_ini_rolls_back_and_forward(tmp_path: Path) -> None:
    """``alembic -c survey/data/alembic.ini``, as an operator runs it; children survive the rebuild."""
    db = tmp_path / "t.sqlite"
    url = f"sqlite:///{db}"
    at_revision(url, "0005")
    teams_with_people(db)
    alembic = [sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), "-x", f"url={url}"]
    for args, expected in ((["upgrade", "head"], migrate.revisions()[-1]), (["downgrade", "0005"], "0005")):
        proc = subprocess.run([*alembic, *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert rows(db, "SELECT version_num FROM alembic_version") == [(expected,)]
        assert rows(db, "SELECT count(*) FROM participants") == [(6,)]
    assert "Running downgrade" in proc.stderr


def test_the_alembic_ini_is_packaged() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["survey"]
    assert any(fnmatch("data/alembic.ini", p) for p in patterns)
    assert any(fnmatch("data/migrations/versions/0001_initial_schema.py", p) for p in patterns)
