"""Where answer sets live, and how a round's answers are sealed when it closes.

The rule to keep: nothing at rest may tell who gave which answer set, or in which order people answered,
and after the seal nothing in the database's pages may, whatever other sessions on the server do.

- **While open**, a round's answer sets and answered flags are in tables of its own
  (``survey.domain.round_storage``). Looking a link up is one statement, storing an answer is one more
  (PostgreSQL: one round trip each, on an autocommit connection).
- **Seal** (``seal_round``, at close, before the aggregate, in the transaction that claims that step): the
  answer sets are written to ``responses`` in a random order with new random ids, in one transaction (one
  transaction id for all). After that transaction commits, ``round_storage.remove_trail`` drops the
  round's own tables, with their flags, the order of their rows and every dead row version in them. If a
  reader holds a lock on them, the drop gives up after a short lock timeout and the tick retries it;
  the answers are complete in ``responses`` meanwhile, so the report is not held back. Answers to other
  rounds never wait for a seal: it locks the closing round's own tables only.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from survey.data.db import affected
from survey.data.models import (
    FixedWidthAnswers,
    Invitation,
    Message,
    Response,
    Round,
    UTCDateTime,
    encode_answers,
    random_id,
)
from survey.domain import round_storage
from survey.domain.round_storage import DROPPING, OWN, answers_table, claims_table

log = logging.getLogger(__name__)
_RANDOM = random.SystemRandom()  # slot choice and sealed order must not be predictable from a seed


@dataclass(frozen=True)
class Link:
    """What the respondent's page needs to know about a link: its invitation and round, one row.

    ``answered`` is None when the lookup did not ask (``find_link(..., flag=False)``): a POST learns it from
    the store itself, which refuses a link used already."""

    invitation_id: int
    lang: str
    answered: bool | None
    round_id: int
    status: str
    instrument: str
    min_responses: int
    closes_at: datetime | None


_LINK_COLUMNS = (
    Invitation.id,
    Invitation.lang,
    Round.id,
    Round.status,
    Round.instrument,
    Round.min_responses,
    Round.closes_at,
)
_BY_HASH = Invitation.token_hash == bindparam("token_hash")
_LINK_SQLITE = select(*_LINK_COLUMNS).join(Round, Round.id == Invitation.round_id).where(_BY_HASH)
# PostgreSQL: the answered flag comes from the round's own table through ``tryghed_answered`` (a function
# made by migration 0008: a table name cannot be a parameter), so the lookup stays one round trip. It is
# asked only of an open round; NULL means the table is gone (sealed since the status was read). The
# function plans its query at every call, so a POST does not ask (the store refuses a used link itself).
_LINK_PG = (
    "SELECT i.id, i.lang, r.id, r.status, r.instrument, r.min_responses, r.closes_at, {answered}"
    " FROM invitations i JOIN rounds r ON r.id = i.round_id WHERE i.token_hash = %(token_hash)s"
)
_LINK_PG_FLAG = _LINK_PG.format(answered="CASE WHEN r.status = 'open' THEN tryghed_answered(r.id, i.id) ELSE false END")
_LINK_PG_NO_FLAG = _LINK_PG.format(answered="false")
_UTC = UTCDateTime()


def _driver(conn: Connection, sql: str, params: dict[str, object]) -> tuple[Any, ...] | None:
    """PostgreSQL: run one statement on the driver's own connection and return its first row.

    The respondent's path runs three statements per submission; through SQLAlchemy's execution layer each
    cost about twice the CPU of the driver's own call (docs/benchmarks.md), and on two shared cores the
    throughput follows the CPU. Errors are raised as SQLAlchemy's, as ``Connection.execute`` would (a
    connection the server dropped is invalidated, and the caller retries), without their parameters.
    """
    raw = conn.connection.dbapi_connection
    assert raw is not None  # a checked-out connection
    dbapi = conn.dialect.loaded_dbapi
    cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchone()  # type: ignore[no-any-return]
    except dbapi.Error as exc:
        gone = conn.dialect.is_disconnect(exc, raw, cursor)
        if gone:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql, None, exc, dbapi.Error, hide_parameters=True, dialect=conn.dialect, connection_invalidated=gone
        ) from exc
    finally:
        cursor.close()


def find_link(conn: Connection, token_hash: str, *, flag: bool = True) -> Link | None:
    """The invitation and round of a token's hash, and whether it was answered; None when unknown.

    ``flag=False``: PostgreSQL does not ask whether it was answered (``Link.answered`` is None then)."""
    if conn.dialect.name == "postgresql":
        row = _driver(conn, _LINK_PG_FLAG if flag else _LINK_PG_NO_FLAG, {"token_hash": token_hash})
        if row is None:
            return None
        inv_id, lang, round_id, status, instrument, k, closes_at, answered = row
        closes_at = _UTC.process_result_value(closes_at, conn.dialect)
        if flag and answered is None:  # the round was sealed between reading its status and its flags
            status = "closing" if status == "open" else status
        answered = bool(answered) if flag else None
        return Link(inv_id, lang, answered, round_id, status, instrument, k, closes_at)
    found = conn.execute(_LINK_SQLITE, {"token_hash": token_hash}).first()
    if found is None:
        return None
    inv_id, lang, round_id, status, instrument, k, closes_at = found
    answered = False
    if status == "open":
        flag_sql = text(f"SELECT answered FROM {claims_table(round_id)} WHERE invitation_id = :i")  # noqa: S608
        try:
            answered = bool(conn.scalar(flag_sql, {"i": inv_id}))
        except DBAPIError as exc:  # the table is gone: sealed since the status was read
            if exc.connection_invalidated:
                raise
            status = "closing"
    return Link(inv_id, lang, answered, round_id, status, instrument, k, closes_at)


def was_answered(conn: Connection, link: Link) -> bool | None:
    """Whether a link found with ``flag=False`` was answered; None when its round's tables are gone (it
    was sealed meanwhile). For the pages other than a stored answer, which tell "answered" first."""
    if link.answered is not None or link.status != "open":
        return link.answered
    row = _driver(conn, "SELECT tryghed_answered(%(r)s, %(i)s)", {"r": link.round_id, "i": link.invitation_id})
    return None if row is None or row[0] is None else bool(row[0])


# Where the claim's invitation comes from. By invitation: the caller looked the link up already, and the
# round must still be open. By token: the respondent's POST in one statement, the link looked up by its
# token's hash in the round and instrument its form was made for (``submit``); no row when the token is
# not that round's, the round is no longer open or its instrument is another.
_BY_INVITATION = (
    "SELECT %(i)s::integer AS id, NULL::text AS lang"
    " WHERE EXISTS (SELECT 1 FROM rounds WHERE id = %(r)s AND status = 'open')"
)
_BY_TOKEN = (
    "SELECT i.id, i.lang FROM invitations i JOIN rounds r ON r.id = i.round_id"
    " WHERE i.token_hash = %(h)s AND r.id = %(r)s AND r.status = 'open' AND r.instrument = %(n)s"
)


def claim_and_store_sql(round_id: int, item_keys: Sequence[str] | None, *, by_token: bool = False) -> str:
    """PostgreSQL: claim the invitation and store its answer set in ONE statement (its own transaction on
    an autocommit connection: no BEGIN or COMMIT round trip, and still all-or-nothing). It returns one
    row: (claimed, stored, the link's language or NULL). Driver parameters: ``%(r)s`` the round,
    ``%(i)s`` the invitation (or, ``by_token``, ``%(h)s`` the token's hash and ``%(n)s`` the instrument
    the answers were checked against), and ``%(a0)s``, ``%(a1)s``, ... the answers to ``item_keys`` in
    that order, or ``%(answers)s`` the answer set as JSON when ``item_keys`` is None.

    The claim is an INSERT into the round's claims table, made only if the round is open and the link
    has no claim yet (its primary key keeps a link single-use against a concurrent second post: that one
    waits for the first and then fails). The answer set is appended to the round's answer table only if
    the claim returned a row: two small writes on the last pages of two small tables. The statement writes
    to the claims table, so it waits for a close that holds it (``round_storage.hold_answers``) before it
    reads the round's status; no lock on the round's row (a WAL record and a MultiXact per answer).
    """
    claims = claims_table(round_id)
    if item_keys is None:
        columns, values = "answers, filled", "%(answers)s, true"
    else:
        columns = ", ".join(["filled", *(round_storage.item_column(k) for k in item_keys)])
        values = ", ".join(["true", *(f"%(a{n})s" for n in range(len(item_keys)))])
    return (
        f"WITH link AS ({_BY_TOKEN if by_token else _BY_INVITATION}),"
        f" claimed AS (INSERT INTO {claims} (invitation_id, answered) SELECT link.id, true FROM link"  # noqa: S608
        f" WHERE NOT EXISTS (SELECT 1 FROM {claims} c WHERE c.invitation_id = link.id) RETURNING 1),"
        f" stored AS (INSERT INTO {answers_table(round_id)} ({columns})"
        f" SELECT {values} WHERE EXISTS (SELECT 1 FROM claimed) RETURNING 1)"
        " SELECT (SELECT count(*) FROM claimed), (SELECT count(*) FROM stored), (SELECT lang FROM link)"
    )


# The statement text per (round, items, by token), built once per process: the same text each time also
# lets the driver prepare it on a connection after a few uses (psycopg's prepare_threshold).
_SQL_CACHE: dict[tuple[int, tuple[str, ...] | None, bool], str] = {}
# PostgreSQL rounds whose answer table takes the given items as JSON (no columns for them: the round was
# opened before item columns, or its instrument's items changed since), learnt from the first refusal.
_JSON_ROUNDS: set[tuple[int, tuple[str, ...]]] = set()
_CACHE_LIMIT = 4096
_UNDEFINED_COLUMN = "42703"
_UNIQUE_VIOLATION = "23505"


def _statement(round_id: int, keys: tuple[str, ...] | None, by_token: bool = False) -> str:
    sql = _SQL_CACHE.get((round_id, keys, by_token))
    if sql is None:
        if len(_SQL_CACHE) >= _CACHE_LIMIT:
            _SQL_CACHE.clear()  # a bound, not an LRU: a few entries per open round and instrument
        sql = _SQL_CACHE[(round_id, keys, by_token)] = claim_and_store_sql(round_id, keys, by_token=by_token)
    return sql


def _claim_and_store(
    conn: Connection, round_id: int, answers: dict[str, int], params: dict[str, object], *, by_token: bool = False
) -> tuple[Any, ...]:
    """The row of ``claim_and_store_sql``: the answers in the item columns if the table has them, else as
    JSON (learnt from the first refusal, then remembered for the round and items)."""
    keys = tuple(sorted(answers))
    if (round_id, keys) not in _JSON_ROUNDS:
        values = {f"a{n}": answers[k] for n, k in enumerate(keys)}
        try:
            return _row(_driver(conn, _statement(round_id, keys, by_token), params | values))
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != _UNDEFINED_COLUMN:
                raise
            if len(_JSON_ROUNDS) >= _CACHE_LIMIT:
                _JSON_ROUNDS.clear()
            _JSON_ROUNDS.add((round_id, keys))
    return _row(_driver(conn, _statement(round_id, None, by_token), params | {"answers": encode_answers(answers)}))


def _row(row: tuple[Any, ...] | None) -> tuple[Any, ...]:
    assert row is not None  # the statement's SELECT always returns one row
    return row


def _stored(row: tuple[Any, ...]) -> bool:
    """Whether ``claim_and_store_sql``'s row says the answers were stored (it claimed the invitation)."""
    claimed, stored = int(row[0]), int(row[1])
    if claimed == 1 and stored != 1:  # cannot happen: ``stored`` inserts whenever ``claimed`` returned a row
        raise RuntimeError("an invitation was claimed without storing its answers")
    return claimed == 1


def submit(conn: Connection, token_hash: str, round_id: int, instrument: str, answers: dict[str, int]) -> str | None:
    """PostgreSQL: a respondent's whole POST in one statement, the link looked up by its token's hash in
    the round its form named (``claim_and_store_sql(..., by_token=True)``). Returns the link's language
    when the answers were stored (committed), None when nothing was stored for any reason: a token that is
    not that round's, a round no longer open or sealed, another instrument, a link used already. The
    caller then takes the long way (``find_link``, ``store_answer``), which tells which. ``answers`` must
    have been checked against ``instrument``: the statement stores them only if that is the round's.
    """
    params: dict[str, object] = {"h": token_hash, "r": int(round_id), "n": instrument}
    try:
        row = _claim_and_store(conn, int(round_id), answers, params, by_token=True)
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise
        return None  # no such table (sealed, or not a round), a concurrent claim of the same link
    if not _stored(row):
        return None
    conn.commit()  # nothing to send in autocommit mode
    return str(row[2])


def _fill_slot_sqlite(round_id: int) -> str:
    """SQLite: fill an empty slot drawn uniformly from the empty ones (``:pick`` is a large random number;
    its remainder by the number of empty slots is the offset). Not "the first empty slot after a random
    id": that favours the slot after a wide gap, and each fill widens the gap of the slot after it, so
    the slots filled in a row tended to follow each other and the file told the answering order. No index
    on the empty slots (its deleted entries left an order in the page headers); a round's slots are few,
    and the scan is in the primary key's order."""
    table = answers_table(round_id)
    empty = f"SELECT id FROM {table} WHERE filled = 0"  # noqa: S608 - integer id only
    offset = f"(:pick % max(1, (SELECT count(*) FROM {table} WHERE filled = 0)))"  # noqa: S608
    return (
        f"UPDATE {table} SET answers = :answers, filled = 1 WHERE id = ("  # noqa: S608
        f"{empty} ORDER BY id LIMIT 1 OFFSET {offset})"
    )


Outcome = Literal["stored", "answered", "closed"]


def store_answer(conn: Connection, invitation_id: int, round_id: int, answers: dict[str, int]) -> Outcome:
    """Claim the invitation and store its answer set, all or nothing: "stored", else why not.

    "answered": the link was used already (by a concurrent post too: the claim is single-use);
    "closed": the round is no longer open (or was sealed since the link was looked up). Answers and
    closing never cross: PostgreSQL, one statement (``claim_and_store_sql``) that writes to the round's
    claims table, which closing holds in SHARE mode while it changes the status (answers do not wait
    for each other; closing waits for the answers in flight, and an answer after it sees the new
    status). SQLite (one writer at a time): the claim re-checks that the round is open, then the slot is
    filled, then the commit. Committed on return.
    """
    try:
        if conn.dialect.name == "postgresql":
            if _stored(_claim_and_store(conn, round_id, answers, {"i": invitation_id, "r": round_id})):
                conn.commit()  # nothing to send in autocommit mode; the commit otherwise
                return "stored"
        else:
            claim = text(
                f"UPDATE {claims_table(round_id)} SET answered = 1 WHERE invitation_id = :i AND answered = 0"  # noqa: S608
                " AND EXISTS (SELECT 1 FROM rounds WHERE id = :r AND status = 'open')"
            )
            if affected(conn.execute(claim, {"i": invitation_id, "r": round_id})) == 1:
                fill = text(_fill_slot_sqlite(round_id)).bindparams(bindparam("answers", type_=FixedWidthAnswers()))
                if affected(conn.execute(fill, {"answers": answers, "pick": _RANDOM.getrandbits(62)})) != 1:
                    # more claims than slots cannot happen (one slot per invitation); never lose an answer
                    conn.execute(
                        text(f"INSERT INTO {answers_table(round_id)} (id, answers, filled) VALUES (:id, :a, 1)"),  # noqa: S608
                        {"id": random_id(), "a": encode_answers(answers)},
                    )
                conn.commit()  # committed before the thank-you page is sent
                return "stored"
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise
        conn.rollback()
        status = conn.scalar(select(Round.status).where(Round.id == round_id))
        conn.rollback()
        if status != "open":
            return "closed"  # the round's tables were dropped: it closed and was sealed meanwhile
        if getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION:
            return "answered"  # a concurrent post of the same link claimed it first
        raise
    status = conn.scalar(select(Round.status).where(Round.id == round_id))  # a fresh read, after the wait
    conn.rollback()
    return "closed" if status != "open" else "answered"


def answer_count(session: Session, round_id: int) -> int:
    """How many answer sets the round holds (in its own storage while open, else in ``responses``)."""
    return answer_counts(session, [round_id]).get(round_id, 0)


def answer_counts(session: Session, round_ids: Iterable[int]) -> dict[int, int]:
    """How many answer sets each of the rounds holds (rounds without any may be left out)."""
    ids = list(round_ids)
    counts = round_storage.answer_counts(session, ids)
    rest = [r for r in ids if r not in counts]
    for start in range(0, len(rest), round_storage.IDS_PER_STATEMENT):
        part = rest[start : start + round_storage.IDS_PER_STATEMENT]
        query = select(Response.round_id, func.count()).where(Response.round_id.in_(part)).group_by(Response.round_id)
        counts.update({int(r): int(n) for r, n in session.execute(query)})
    return counts


def filled_answers(session: Session, round_id: int) -> list[dict[str, int]]:
    """The round's sealed answer sets (from ``responses``)."""
    return list(session.scalars(select(Response.answers).where(Response.round_id == round_id)))


def seal_round(session: Session, round_id: int) -> int:
    """Seal a closed round's answers (in the caller's transaction); returns the number of answer sets.

    Claims the seal first (``answer_storage`` own -> dropping, a conditional UPDATE on a round that is no
    longer open: a second run waits for the first and then finds nothing to seal), then writes the
    round's answer sets to ``responses``, shuffled, with new random ids, and deletes the round's reminder
    outbox rows (their recipients were those who had not answered). A round sealed already is left as it
    is. If the caller's transaction rolls back, nothing happened: the answers stay complete in the
    round's own tables, and the seal can run again. The own tables are dropped after the commit
    (``round_storage.remove_trail``).
    """
    claimed = affected(
        session.execute(
            update(Round)
            .where(Round.id == round_id, Round.answer_storage == OWN, Round.status != "open")
            .values(answer_storage=DROPPING, trail_reason=None)
        )
    )
    if claimed == 1:
        rows = round_storage.own_answers(session, round_id)
        _RANDOM.shuffle(rows)
        round_storage.seal_rows(session, round_id, rows)
        session.execute(delete(Message).where(Message.round_id == round_id, Message.kind == "reminder"))
    return answer_count(session, round_id)
