"""Storage of its own for every open round: its answer sets and answered flags, until the seal drops it.

Why tables of its own: after the seal, nothing in the database's pages may link a round's answers or tell
their order, whatever other sessions on the server do. Rows deleted or updated in a shared table leave dead
versions (with the transaction ids that tell who answered when) for as long as any snapshot on the server
may need them, and only a rewrite of the whole shared table (``CLUSTER``: exclusive locks on every round of
every team) removes them, and only if no older snapshot holds them back. A dropped table's file is removed
at the commit of ``DROP TABLE``, whatever snapshots exist, and the lock it needs is on that round's tables
only. So a round's answers and flags never enter a shared table until the seal writes them there, shuffled
and in one transaction (``survey.domain.answer_store.seal_round``).

Per round ``R`` (names made from the integer id only):

- ``round_R_answers``: answer sets. SQLite: ``answers`` fixed-width JSON, ``filled``; WITHOUT ROWID, one
  empty slot per invitation made at open (random id), filled in place (an overwrite of the same size keeps
  the cell where it is, so the file tells no order; there is no index on the empty slots either, whose
  deleted entries left an order in stale page headers). PostgreSQL: a plain heap, appended to, one small
  row per answer (the order it keeps is dropped with the table): a ``smallint`` column per item of the
  round's instrument (``i_<key>``, made at open), so an answer set is 16 small integers as in the floor
  of docs/benchmarks.md rather than 161 bytes of JSON; ``answers`` (JSON) holds a set whose items have no
  column (the instrument's items changed while the round was open, or the round was opened before the
  item columns: ``item_columns`` is then empty), ``filled`` is always true.
- ``round_R_claims``: answered flags (``invitation_id``, ``answered``). SQLite: one row per invitation made
  at open, flag 0 -> 1 in place. PostgreSQL: a row inserted when its invitation is claimed (the primary key
  makes the claim single-use).

Closing and answering never cross (PostgreSQL): an answer's statement takes ROW EXCLUSIVE on the round's
claims table before it reads the round's status, and closing takes SHARE on that table (``hold_answers``)
before it changes the status: closing waits for the answers in flight, and an answer that comes after it
waits for the close to commit and then reads "closing". A lock on the round's own table, not on its row in
``rounds``: locking that row from every answer wrote a WAL record (and a MultiXact) per answer.

``rounds.answer_storage`` says where a round's answers are: ``OWN``, ``DROPPING`` (sealed into
``responses``; the own tables wait to be dropped, ``rounds.trail_reason`` says why) or None.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from survey.data.models import Response, Round, encode_answers, random_id
from survey.data.tables import DROPPING, OWN
from survey.domain.due import pending_trails  # noqa: F401  (re-exported: the tick's read, in Core)

log = logging.getLogger(__name__)

# How long removing a round's tables waits for a reader's lock before it gives up until the next tick.
LOCK_TIMEOUT_MS = 200
# Bounds per statement: round ids in one IN list, own tables in one UNION ALL. Large enough that a page
# of a whole municipality (thousands of rounds, one open per team at most) needs one statement of each.
IDS_PER_STATEMENT = 5000
_NO_AUTOVACUUM = " WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)"
TABLES_PER_STATEMENT = 1000
# PostgreSQL: the column of an item in a round's answer table. The prefix keeps an item key apart from the
# table's own columns (an item may be called "answers" or "filled"); a key too long for a column name
# (PostgreSQL: 63 bytes) leaves its round without item columns, storing JSON instead.
ITEM_PREFIX = "i_"
_MAX_NAME = 63


def answers_table(round_id: int) -> str:
    """The name of the round's own answer table (from the integer id only: no quoting needed)."""
    return f"round_{int(round_id)}_answers"


def claims_table(round_id: int) -> str:
    """The name of the round's own table of answered flags."""
    return f"round_{int(round_id)}_claims"


def _postgres(bind: Session | Connection) -> bool:
    dialect = bind.dialect if isinstance(bind, Connection) else bind.get_bind().dialect
    return dialect.name == "postgresql"


def create_storage(session: Session, round_id: int, invitation_ids: Sequence[int], item_keys: Sequence[str]) -> None:
    """Make the round's own tables (in the caller's transaction, the one that opens the round)."""
    answers, claims = answers_table(round_id), claims_table(round_id)
    if _postgres(session):
        # No index on the answers: they are only ever read all at once, by the seal. No autovacuum: its
        # ANALYZE would copy sampled values (which invitations had answered by then) into pg_statistic,
        # a catalog whose dead rows outlive the DROP; rows that are only inserted need no vacuuming.
        session.execute(text(f"CREATE TABLE {answers} ({_answer_columns(item_keys)}){_NO_AUTOVACUUM}"))
        session.execute(
            text(
                f"CREATE TABLE {claims} (invitation_id integer PRIMARY KEY, answered boolean NOT NULL){_NO_AUTOVACUUM}"
            )
        )
    else:
        session.execute(
            text(
                f"CREATE TABLE {answers} (id VARCHAR(32) NOT NULL PRIMARY KEY, answers TEXT NOT NULL,"
                " filled BOOLEAN NOT NULL) WITHOUT ROWID"
            )
        )
        session.execute(
            text(f"CREATE TABLE {claims} (invitation_id INTEGER NOT NULL PRIMARY KEY, answered BOOLEAN NOT NULL)")
        )
        empty = encode_answers(dict.fromkeys(item_keys, 0))
        if invitation_ids:
            session.execute(
                text(f"INSERT INTO {answers} (id, answers, filled) VALUES (:id, :a, 0)"),  # noqa: S608
                [{"id": random_id(), "a": empty} for _ in invitation_ids],
            )
            session.execute(
                text(f"INSERT INTO {claims} (invitation_id, answered) VALUES (:i, 0)"),  # noqa: S608
                [{"i": i} for i in invitation_ids],
            )
    session.execute(update(Round).where(Round.id == round_id).values(answer_storage=OWN, trail_reason=None))


def _answer_columns(item_keys: Sequence[str]) -> str:
    """PostgreSQL: the columns of a round's answer table, with a column per item when every key fits."""
    columns = ["answers text", "filled boolean NOT NULL DEFAULT true"]
    if all(len(ITEM_PREFIX + key) <= _MAX_NAME for key in item_keys):
        columns += [f"{item_column(key)} smallint" for key in item_keys]
    return ", ".join(columns)


def item_column(key: str) -> str:
    """The column of an item in a PostgreSQL answer table, quoted (keys are ``[a-z][a-z0-9_]*``)."""
    return f'"{ITEM_PREFIX}{key}"'


def own_answers(session: Session, round_id: int) -> list[dict[str, int]]:
    """The round's stored answer sets, from its own table (JSON, or a column per item on PostgreSQL)."""
    rows = session.execute(text(f"SELECT * FROM {answers_table(round_id)} WHERE filled"))  # noqa: S608
    sets = []
    for row in rows.mappings():
        if row["answers"] is not None:
            sets.append(json.loads(row["answers"]))
        else:
            cut = len(ITEM_PREFIX)
            sets.append({k[cut:]: int(v) for k, v in row.items() if k.startswith(ITEM_PREFIX) and v is not None})
    return sets


def hold_answers(session: Session, round_id: int) -> None:
    """Before a round's status leaves "open" (PostgreSQL, in the closing transaction): wait for the
    answers in flight to the round and make later ones wait for this transaction (see the module's
    docstring). A round whose tables are gone (closed and sealed meanwhile) has nothing to hold."""
    if not _postgres(session):
        return  # SQLite has one writer at a time, and the claim re-reads the status in its own write
    try:
        with session.begin_nested():
            session.execute(text(f"LOCK TABLE {claims_table(round_id)} IN SHARE MODE"))
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise


def answer_counts(session: Session, round_ids: Iterable[int]) -> dict[int, int]:
    """Answer sets per round, for the rounds among ``round_ids`` whose answers are in their own tables.

    One statement to find them and one per ``TABLES_PER_STATEMENT`` of them (a UNION ALL over their claim
    tables). A round sealed and dropped
    between reading its state and counting (a table gone) is counted again from ``responses``.
    """
    ids = [int(r) for r in round_ids]
    own: list[int] = []
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        part = ids[start : start + IDS_PER_STATEMENT]
        own += session.scalars(select(Round.id).where(Round.id.in_(part), Round.answer_storage == OWN)).all()
    return own_answer_counts(session, own)


def own_answer_counts(session: Session, own: Sequence[int]) -> dict[int, int]:
    """Answer sets per round for rounds the caller read as ``OWN`` (in the same transaction): one statement
    per ``TABLES_PER_STATEMENT`` of them, and a round sealed meanwhile is counted from ``responses``."""
    own = [int(r) for r in own]  # the ids go into the SQL text: integers only
    counts: dict[int, int] = {}
    for start in range(0, len(own), TABLES_PER_STATEMENT):
        part = own[start : start + TABLES_PER_STATEMENT]
        union = " UNION ALL ".join(
            f"SELECT {rid} AS r, count(*) AS n FROM {claims_table(rid)} WHERE answered"  # noqa: S608
            for rid in part
        )
        if not _postgres(session):  # one writer at a time: nothing drops a table between the two reads
            counts.update({int(r): int(n) for r, n in session.execute(text(union))})
            continue
        try:
            with session.begin_nested():
                counts.update({int(r): int(n) for r, n in session.execute(text(union))})
        except DBAPIError:
            counts.update({rid: _sealed_count(session, rid) for rid in part})
    return counts


def _sealed_count(session: Session, round_id: int) -> int:
    from sqlalchemy import func

    query = select(func.count()).select_from(Response).where(Response.round_id == round_id)
    return session.scalar(query) or 0


def not_answered_clause(round_id: int) -> str:
    """SQL condition on ``invitations``: the invitation has not been answered (reminders)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM {claims_table(round_id)} c"  # noqa: S608 - integer id only
        " WHERE c.invitation_id = invitations.id AND c.answered)"
    )


def remove_trail(engine: Engine, round_id: int, lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> bool:
    """Drop a sealed round's own tables; True when they are gone (or were never there).

    Waits at most ``lock_timeout_ms`` for a session that holds a lock on them (a reader, a report tool, a
    backup), then gives up: the reason goes to ``rounds.trail_reason``, and the next tick tries again
    (``pipeline.tasks.tick``). Nothing else waits for this: the answers are sealed in ``responses`` already.
    """
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        try:
            if postgres:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(lock_timeout_ms)}ms'")
            else:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(lock_timeout_ms)}")
            state = conn.scalar(select(Round.answer_storage).where(Round.id == round_id))
            if state != DROPPING:
                conn.rollback()
                return state is None
            for table in (answers_table(round_id), claims_table(round_id)):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            conn.execute(
                update(Round)
                .where(Round.id == round_id, Round.answer_storage == DROPPING)
                .values(answer_storage=None, trail_reason=None)
            )
            conn.commit()
            log.info("round %s: the open round's storage is dropped", round_id)
            return True
        except DBAPIError as exc:
            conn.rollback()
            if exc.connection_invalidated:
                raise
            reason = _blocked_reason(conn, round_id, postgres, exc)
            conn.execute(
                update(Round).where(Round.id == round_id, Round.answer_storage == DROPPING).values(trail_reason=reason)
            )
            conn.commit()
            log.warning("round %s: the open round's storage is not dropped yet: %s", round_id, reason)
            return False
        finally:
            if not postgres:
                conn.exec_driver_sql("PRAGMA busy_timeout = 30000")


def _blocked_reason(conn: Connection, round_id: int, postgres: bool, exc: DBAPIError) -> str:
    """Why the drop gave up, naming the sessions that hold a lock on the round's tables where visible."""
    if not postgres:
        return "another connection holds the SQLite database; retried at the next tick"
    holders = conn.execute(
        text(
            "SELECT DISTINCT l.pid, coalesce(a.usename, '?'), coalesce(a.application_name, '') FROM pg_locks l"
            " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.granted AND l.pid <> pg_backend_pid() AND l.relation IN"
            " (to_regclass(:a), to_regclass(:c)) ORDER BY 1 LIMIT 5"
        ),
        {"a": answers_table(round_id), "c": claims_table(round_id)},
    ).all()
    conn.rollback()
    who = ", ".join(f"pid {pid} ({user}{' ' + app if app else ''})" for pid, user, app in holders)
    first = (str(exc.orig).splitlines() or ["locked"])[0]
    return f"{first}; held by: {who or 'a session no longer visible'}; retried at the next tick"


def seal_rows(session: Session, round_id: int, answer_sets: list[dict[str, int]]) -> None:
    """Write sealed answer sets to ``responses`` (new random ids, in the order given; one transaction)."""
    if answer_sets:
        session.execute(
            insert(Response),
            [{"id": random_id(), "round_id": round_id, "answers": a, "filled": True} for a in answer_sets],
        )
