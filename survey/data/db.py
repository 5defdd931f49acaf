"""Database engine, sessions and migrations (Alembic), for SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Column, Table, case, create_engine, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.exc import DisconnectionError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Connections of the respondent's engine are replaced after this many seconds (instead of a ping per use).
RECYCLE_S = 300


def make_engine(url: str, *, foreign_keys: bool = True) -> Engine:
    """An engine with the settings Tryghed relies on (foreign keys and a busy timeout on SQLite).

    ``foreign_keys=False`` is for migrations only (``survey.data.migrate``): SQLite's table rebuilds
    would otherwise cascade deletes into every child table.

    ``hide_parameters``: a failed statement's exception (and so every log and traceback that shows it)
    carries the SQL text but not its parameters, which would be invitation ids, answer sets, emails and
    token hashes (issue 16).
    """
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
    if url.startswith("sqlite"):
        if ":///" in url and not url.endswith(":memory:"):
            _owner_only_file(Path(url.split(":///", 1)[1]))
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling is kept on purpose: it begins a transaction at the
            # first write, not at a read. Reads then never hold a lock, and every state change here is
            # a conditional UPDATE that re-checks the state itself, so it needs no read in its
            # transaction. (BEGIN IMMEDIATE everywhere would make any open read block every writer.)
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cur.execute("PRAGMA busy_timeout=30000")
            # No commit history in the files: the rollback journal is deleted at each commit (a write-ahead
            # log would keep every commit, in order, until a checkpoint; PERSIST would leave the journal's
            # content behind), and whatever is deleted or overwritten is zeroed, freed pages included.
            cur.execute("PRAGMA journal_mode=DELETE")
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

    else:

        @event.listens_for(engine, "connect")
        def _postgresql_settings(dbapi_conn: Any, _record: Any) -> None:
            # No JIT for our statements: they are short, indexed lookups, but on tables without statistics
            # yet (a fresh import, before autovacuum's ANALYZE) their estimated cost passes jit_above_cost and
            # compiling them took 20-25 ms of a start page whose statements run in 2 ms (docs/benchmarks.md).
            # A SET per new connection rather than a startup option, which PgBouncer refuses.
            cur = dbapi_conn.cursor()
            cur.execute("SET jit = off")
            cur.close()
            dbapi_conn.commit()

        _note_writes(engine)
        _ping_when_idle(engine)
    return engine


# In a DBAPI connection's ``info``: its current transaction has sent a statement that may have written.
_WROTE = "tryghed.wrote"
# Statements that write nothing: reads, savepoints around reads (a read of a table that may be dropped
# meanwhile, survey.domain.round_storage), and the plan setting of survey.data.plans. Anything else counts as
# a write, whether it wrote or not (an UPDATE that matched no row, DDL, a call): the rule errs on the side
# of a ROLLBACK, which is what every transaction got before.
_READS = re.compile(r"\s*(SELECT|SHOW|SAVEPOINT|RELEASE SAVEPOINT|SET LOCAL plan_cache_mode)\b", re.IGNORECASE)


def _note_writes(engine: Engine) -> None:
    """Keep, per connection, whether its transaction has sent anything but reads (``only_read``)."""

    @event.listens_for(engine, "begin")
    def _begun(conn: Any) -> None:
        conn.info.pop(_WROTE, None)

    @event.listens_for(engine, "before_cursor_execute")
    def _sent(conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not _READS.match(statement):
            conn.info[_WROTE] = True


# A pooled PostgreSQL connection idle for longer than this is pinged before use.
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "tryghed.idle_since"  # in a pool record's ``info``: when the connection went back to the pool


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has been idle for ``PING_AFTER_IDLE_S``.

    ``pool_pre_ping`` pings at every checkout: a round trip per session, two per page. A connection used a
    moment ago is alive; one left idle may have been closed by the server, a restart, a proxy's or a
    firewall's idle timeout. A failed ping makes the pool replace the connection (DisconnectionError), as
    pool_pre_ping does. A server lost within the second after a connection's last use fails that
    connection's next statement, as one lost between a ping and the statement always could.
    """

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _back(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) <= PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)  # in autocommit: no transaction, nothing for psycopg to forget
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"a pooled connection idle for more than {PING_AFTER_IDLE_S:g} s is gone") from exc


def _remember_connection(session: Session, _transaction: Any, connection: Any) -> None:
    session.info["tryghed.connection"] = connection


def only_read(session: Session) -> bool:
    """Whether the session's transaction is open and has sent nothing but reads (PostgreSQL engines of
    ``make_engine``; anything the ORM has not flushed yet counts as a write)."""
    connection = session.info.get("tryghed.connection")
    return (
        connection is not None
        and not connection.closed
        and connection.in_transaction()
        and not connection.info.get(_WROTE)
        and not (session.new or session.dirty or session.deleted)
    )


def _owner_only_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (mode 0600), or make an existing one so.

    SQLite gives its journal files the mode of the database file, so they follow. Created here, before
    SQLite opens it, because SQLite would create it with the process umask (usually world-readable).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


def affected(result: Result[Any]) -> int:
    """The number of rows an ``update(...)``/``delete(...)`` matched.

    ``Session.execute`` is typed to return a ``Result``, but for a DML statement it is a ``CursorResult``,
    which is where ``rowcount`` lives.
    """
    return cast("CursorResult[Any]", result).rowcount


def count_in_window(
    session: Session, key: Column[str], value: str, now: datetime, window: timedelta
) -> tuple[int, datetime]:
    """Count one event for ``value`` in a fixed window (not committed): one atomic upsert on SQLite and
    PostgreSQL alike, so concurrent requests count right. ``key`` is the primary key column of a table
    with ``window_start`` and ``count``; a window that has run out starts again at ``now``.

    Returns the count and the start of the window it belongs to.
    """
    from sqlalchemy.dialects import postgresql, sqlite  # the one in use is loaded already

    table = cast(Table, key.table)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    cutoff = now - window
    stmt = (
        insert(table)
        .values({key.name: value, "window_start": now, "count": 1})
        .on_conflict_do_update(
            index_elements=[key],
            set_={
                "count": case((table.c.window_start < cutoff, 1), else_=table.c.count + 1),
                "window_start": case((table.c.window_start < cutoff, now), else_=table.c.window_start),
            },
        )
        .returning(table.c.count, table.c.window_start)
    )
    count, started = session.execute(stmt).one()
    return int(count), started


class Database:
    """One engine and its session factory (made at the first session: a command that reads with Core alone,
    on ``engine.connect()``, never imports the ORM; docs/benchmarks.md, "Starting a command")."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        if self.engine.dialect.name == "postgresql":
            from survey.data.tables import postgresql_conditions

            postgresql_conditions()

    @cached_property
    def sessionmaker(self) -> sessionmaker[Session]:
        from sqlalchemy.orm import sessionmaker

        factory = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(factory, "after_begin", _remember_connection)
        return factory

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that rolls back on error and is always closed.

        On PostgreSQL a transaction that only read is ended with COMMIT rather than ROLLBACK (the same for
        the database): psycopg forgets every statement it has prepared on the connection at a ROLLBACK, and
        deallocates them on the server, so pages that end that way would be planned afresh every time,
        whichever page used the connection before (``survey.data.plans``). Whatever wrote and was not
        committed is still rolled back (``only_read``)."""
        session = self.sessionmaker()
        try:
            yield session
            if self.engine.dialect.name == "postgresql" and only_read(session):
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @cached_property
    def answer_engine(self) -> Engine:
        """The engine of the respondent's page ``/s/``, the one path that must be fast.

        PostgreSQL: a second pool on the same database, in autocommit mode (each statement is its own
        transaction: no BEGIN and COMMIT round trips; the path writes in single statements) and without
        the ping before each use that ``engine`` makes (one more round trip per request). Connections are
        recycled after ``RECYCLE_S``; one the server dropped in between fails its first statement, which the
        caller retries once (``survey.web.respond.answer``). SQLite: ``engine`` itself (no round trips to save).
        """
        if self.engine.dialect.name != "postgresql":
            return self.engine
        return create_engine(self.url, isolation_level="AUTOCOMMIT", pool_recycle=RECYCLE_S, hide_parameters=True)

    def dispose(self) -> None:
        self.engine.dispose()
        if "answer_engine" in self.__dict__ and self.answer_engine is not self.engine:
            self.answer_engine.dispose()


def upgrade(db: Database) -> None:
    """Create or upgrade the schema to the newest migration (``survey.data.migrate``: one transaction,
    foreign keys off during SQLite's table rebuilds and checked after)."""
    from survey.data import migrate

    migrate.upgrade(db.url)


# The newest migration in survey/data/migrations/versions; tests/test_db.py fails if it falls behind Alembic's
# own head, so the check below can read one row instead of loading Alembic on every command.
SCHEMA_HEAD = "0018"


def schema_state(db: Database) -> str:
    """ "current", "missing" (never initialised), "outdated" (an older migration than this code: upgrade
    pending) or "ahead" (a migration this code does not know: a newer version upgraded it)."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import DBAPIError

    from survey.data.migrate import revisions

    with db.engine.connect() as conn:
        try:  # one statement when all is well (the web app's gate asks this)
            heads = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except DBAPIError:
            conn.rollback()
            if inspect(conn).has_table("alembic_version"):
                raise  # the table is there: the database itself failed
            return "missing"
    if not heads:
        return "missing"
    if heads == {SCHEMA_HEAD}:
        return "current"
    return "outdated" if heads <= set(revisions()) else "ahead"


SCHEMA_PROBLEMS = {
    "missing": "the database has no tables yet; run `tryghed init` first",
    "outdated": "the database is from an older version (upgrade pending); run `tryghed init` first",
    "ahead": (
        "the database was upgraded by a newer version of Tryghed than this one; run that version, "
        "or roll back with its `tryghed db downgrade`"
    ),
}
