"""Running the Alembic migrations so that an upgrade or a rollback never loses a row.

On SQLite Alembic's batch mode changes a table by copying it: create a new table, copy the rows, DROP the
old one, rename. With foreign keys on, that DROP deletes every child row (``ON DELETE CASCADE``): the
upgrade to 0006 once emptied every table below ``teams``. So, as Alembic's documentation advises,
migrations run on a connection of their own with ``PRAGMA foreign_keys=OFF`` (set outside any
transaction, where SQLite honours it), and ``PRAGMA foreign_key_check`` runs after the last step: any
row it reports fails the whole run.

The whole run is one transaction on both databases, so a failure leaves the schema as it was:
PostgreSQL has transactional DDL, and on SQLite the driver's own transaction handling (which would commit
around each DDL statement) is switched off for this connection and ``BEGIN IMMEDIATE`` issued instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Connection

from survey.data.db import MIGRATIONS, make_engine
from survey.errors import UserError

if TYPE_CHECKING:
    from alembic.config import Config


class ForeignKeyViolation(UserError):
    """A migration left rows that point at nothing; the run was rolled back (the CLI says so, cleanly)."""


@contextmanager
def migration_connection(url: str) -> Iterator[Connection]:
    """A connection in one transaction for migrations; committed only when the foreign keys hold.

    SQLite: foreign keys off for the connection's lifetime, ``BEGIN IMMEDIATE`` (the write lock is taken
    at once, so no writer can slip between the checks and the changes), ``PRAGMA foreign_key_check``
    before the commit. PostgreSQL: an ordinary transaction (its foreign keys are never dropped by a
    migration; every ALTER keeps them checked).
    """
    engine = make_engine(url, foreign_keys=False)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _driver_transactions_off(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # pysqlite would COMMIT before each DDL statement

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.begin() as conn:
            yield conn
            if engine.dialect.name == "sqlite":
                check_foreign_keys(conn)
    finally:
        engine.dispose()


def check_foreign_keys(conn: Connection) -> None:
    """Raise ``ForeignKeyViolation`` naming the tables when ``PRAGMA foreign_key_check`` reports rows."""
    rows = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if rows:
        where = sorted({f"{row[0]} -> {row[2]}" for row in rows})
        raise ForeignKeyViolation(
            f"the migration would leave {len(rows)} row(s) pointing at nothing ({', '.join(where)}); "
            "nothing was changed (the database as it is, or a migration, is at fault: keep the backup and "
            "report it)",
            violations=where,
        )


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for Tryghed's migrations, bound to ``connection`` when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_DOWN = re.compile(r"""^down_revision(?:\s*:[^=]*)?=\s*["']([^"']+)["']""", re.MULTILINE)


@cache
def revisions() -> tuple[str, ...]:
    """Every revision id, oldest first, read from the migration files without loading Alembic.

    Cheap enough for a process to call once (the web app's schema check and the CLI use it); the test
    suite checks it against Alembic's own history.
    """
    parent: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        rev = _REVISION.search(text)
        if rev:
            down = _DOWN.search(text)
            parent[rev.group(1)] = down.group(1) if down else None
    children: dict[str | None, str] = {p: r for r, p in parent.items()}
    chain: list[str] = []
    at = children.get(None)
    while at is not None:
        chain.append(at)
        at = children.get(at)
    return tuple(chain)


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at, or None when it has never been initialised."""
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def backup_sqlite(path: Path, label: str, now: datetime) -> Path:
    """A consistent copy of the SQLite database at ``path``, next to it, readable by its owner only.

    SQLite's online backup API (``sqlite3.Connection.backup``) copies the pages under a read lock, so the
    copy is a committed state even while the web app writes. The name says what it was taken before and
    when: ``tryghed.sqlite.0006-20261202T091500Z.backup``. A failed copy leaves no file behind.
    """
    import os
    import sqlite3

    target = path.with_name(f"{path.name}.{label}-{now.strftime('%Y%m%dT%H%M%SZ')}.backup")
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # 0600 before a byte is in it
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


_NEWER = (
    "the database is at revision {before!r}, which this version of Tryghed does not know: a newer version "
    "upgraded it. Run that version, or roll back with its `tryghed db downgrade`"
)


@dataclass(frozen=True)
class Migration:
    """What a run did: the revision before and after, and the backup written first (SQLite), if any."""

    before: str | None
    after: str | None
    backup: Path | None = None


def _backup(conn: Connection, url: str, label: str, now: datetime | None) -> Path | None:
    """The backup before a change, taken inside the run's transaction (SQLite: after ``BEGIN IMMEDIATE``,
    so no write can fall between the copy and the change). None on PostgreSQL or when not asked for.

    Raises ``UserError`` when the copy cannot be written; the run then changes nothing.
    """
    import sqlite3

    path = sqlite_path(url)
    if now is None or path is None:
        return None
    try:
        return backup_sqlite(path, label, now)
    except (OSError, sqlite3.Error) as exc:
        raise UserError(
            f"could not write the backup next to {path} ({exc}); nothing was changed. "
            "Free some space (the backup needs as much as the database) and run the command again"
        ) from exc


def upgrade(url: str, *, backup_at: datetime | None = None) -> Migration:
    """Upgrade the database at ``url`` to the newest revision.

    ``backup_at``: on SQLite, first copy a database that holds an older schema (``backup_sqlite``).
    """
    from alembic import command

    with migration_connection(url) as conn:
        before = current_revision(conn)
        head = revisions()[-1]
        if before is not None and before not in revisions():
            raise UserError(_NEWER.format(before=before), schema="ahead")
        backup = _backup(conn, url, before, backup_at) if before is not None and before != head else None
        command.upgrade(alembic_config(conn), "head")
        return Migration(before, current_revision(conn), backup)


def check_target(target: str) -> tuple[str, ...]:
    """The known revisions; ``UserError`` listing them when ``target`` is none of them (nor ``base``)."""
    known = revisions()
    if target != "base" and target not in known:
        raise UserError(f"unknown revision {target!r}; known: {', '.join(known)} (or base)", revisions=list(known))
    return known


def downgrade(url: str, target: str, *, backup_at: datetime | None = None) -> Migration:
    """Take the schema back to revision ``target`` (``base`` removes it all).

    What the newer revisions stored in their own tables and columns is dropped with them: that is why
    ``backup_at`` asks for a copy first on SQLite, and the documentation for a pg_dump on PostgreSQL.
    """
    from alembic import command

    known = check_target(target)
    with migration_connection(url) as conn:
        before = current_revision(conn)
        if before is None:
            raise UserError("the database has no schema yet; there is nothing to roll back")
        if before not in known:
            raise UserError(_NEWER.format(before=before), schema="ahead")
        if target != "base" and known.index(target) > known.index(before):
            raise UserError(f"the database is at {before}, older than {target}; use `tryghed init` to upgrade")
        backup = _backup(conn, url, before, backup_at) if before != target else None
        command.downgrade(alembic_config(conn), target)
        return Migration(before, current_revision(conn), backup)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None (PostgreSQL, or an in-memory database)."""
    if not url.startswith("sqlite") or ":///" not in url or url.endswith(":memory:"):
        return None
    return Path(url.split(":///", 1)[1])
