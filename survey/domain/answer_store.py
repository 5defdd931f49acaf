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
from typing import Literal

from sqlalchemy import bindparam, case, delete, false, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from survey.data.db import affected
from survey.data.models import FixedWidthAnswers, Invitation, Message, Response, Round, encode_answers, random_id
from survey.domain import round_storage
from survey.domain.round_storage import DROPPING, OWN, answers_table, claims_table

log = logging.getLogger(__name__)
_RANDOM = random.SystemRandom()  # slot choice and sealed order must not be predictable from a seed


@dataclass(frozen=True)
class Link:
    """What the respondent's page needs to know about a link: its invitation and round, one row."""

    invitation_id: int
    lang: str
    answered: bool
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
# PostgreSQL: the answered flag comes from the round's own table through ``tryghed_answered`` (a function
# made by migration 0008: a table name cannot be a parameter), so the lookup stays one round trip. It is
# asked only of an open round; NULL means the table is gone (sealed since the status was read).
_LINK_PG = (
    select(
        *_LINK_COLUMNS,
        case((Round.status == "open", func.tryghed_answered(Round.id, Invitation.id)), else_=false()),
    )
    .join(Round, Round.id == Invitation.round_id)
    .where(_BY_HASH)
)
_LINK_SQLITE = select(*_LINK_COLUMNS).join(Round, Round.id == Invitation.round_id).where(_BY_HASH)


def find_link(conn: Connection, token_hash: str) -> Link | None:
    """The invitation and round of a token's hash, and whether it was answered; None when unknown."""
    if conn.dialect.name == "postgresql":
        row = conn.execute(_LINK_PG, {"token_hash": token_hash}).first()
        if row is None:
            return None
        inv_id, lang, round_id, status, instrument, k, closes_at, answered = row
        if answered is None:  # the round was sealed between reading its status and its flags
            status = "closing" if status == "open" else status
    else:
        found = conn.execute(_LINK_SQLITE, {"token_hash": token_hash}).first()
        if found is None:
            return None
        inv_id, lang, round_id, status, instrument, k, closes_at = found
        answered = False
        if status == "open":
            flag = text(f"SELECT answered FROM {claims_table(round_id)} WHERE invitation_id = :i")  # noqa: S608
            try:
                answered = bool(conn.scalar(flag, {"i": inv_id}))
            except DBAPIError as exc:  # the table is gone: sealed since the status was read
                if exc.connection_invalidated:
                    raise
                status = "closing"
    return Link(inv_id, lang, bool(answered), round_id, status, instrument, k, closes_at)


def claim_and_store_sql(round_id: int, item_keys: Sequence[str] | None) -> str:
    """PostgreSQL: claim the invitation and store its answer set in ONE statement (its own transaction on
    an autocommit connection: no BEGIN or COMMIT round trip, and still all-or-nothing).

    The claim is an INSERT into the round's claims table (its primary key makes a link single-use: a
    concurrent second post of the link waits for the first and then fails), and the answer set is appended
    to the round's answer table only if the claim returned a row: two small writes on the last pages of two
    small tables. With ``item_keys`` the answers go to the item columns (``:a0``, ``:a1``, ... in that
    order), else as JSON (``:answers``). The statement writes to the claims table, so it waits for a close
    that holds it (``round_storage.hold_answers``) before it reads the round's status; no lock on the
    round's row (a WAL record and a MultiXact per answer).
    """
    if item_keys is None:
        columns, values = "answers, filled", ":answers, true"
    else:
        columns = ", ".join(["filled", *(round_storage.item_column(k) for k in item_keys)])
        values = ", ".join(["true", *(f":a{n}" for n in range(len(item_keys)))])
    return (
        f"WITH claimed AS (INSERT INTO {claims_table(round_id)} (invitation_id, answered)"  # noqa: S608
        " SELECT :i, true WHERE EXISTS (SELECT 1 FROM rounds WHERE id = :r AND status = 'open') RETURNING 1),"
        f" stored AS (INSERT INTO {answers_table(round_id)} ({columns})"
        f" SELECT {values} WHERE EXISTS (SELECT 1 FROM claimed) RETURNING 1)"
        " SELECT (SELECT count(*) FROM claimed), (SELECT count(*) FROM stored)"
    )


# PostgreSQL rounds whose answer table takes the given items as JSON (no columns for them: the round was
# opened before item columns, or its instrument's items changed since), learnt from the first refusal.
_JSON_ROUNDS: set[tuple[int, tuple[str, ...]]] = set()
_JSON_ROUNDS_LIMIT = 4096
_UNDEFINED_COLUMN = "42703"
_UNIQUE_VIOLATION = "23505"


def _store_pg(conn: Connection, invitation_id: int, round_id: int, answers: dict[str, int]) -> tuple[int, int]:
    """(claimed, stored) of ``claim_and_store_sql``: in the item columns if the table has them, else JSON."""
    keys = tuple(sorted(answers))
    params: dict[str, object] = {"i": invitation_id, "r": round_id}
    if (round_id, keys) not in _JSON_ROUNDS:
        values = {f"a{n}": answers[k] for n, k in enumerate(keys)}
        try:
            return tuple(conn.execute(text(claim_and_store_sql(round_id, keys)), {**params, **values}).one())  # type: ignore[return-value]
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != _UNDEFINED_COLUMN:
                raise
            conn.rollback()
            if len(_JSON_ROUNDS) >= _JSON_ROUNDS_LIMIT:
                _JSON_ROUNDS.clear()
            _JSON_ROUNDS.add((round_id, keys))
    statement = text(claim_and_store_sql(round_id, None)).bindparams(bindparam("answers", type_=FixedWidthAnswers()))
    return tuple(conn.execute(statement, {**params, "answers": answers}).one())  # type: ignore[return-value]


def _fill_slot_sqlite(round_id: int) -> str:
    """SQLite: fill an empty slot picked at random: the first empty one at or after a random id, else the
    first at all (``COALESCE`` evaluates the second only when the first finds none). No index on the empty
    slots (its deleted entries left an order in the page headers): the primary key is scanned from a random
    place, past filled slots, which costs about ln(n) rows per answer on average over a round."""
    table = answers_table(round_id)
    pick = f"SELECT id FROM {table} WHERE filled = 0"  # noqa: S608 - integer id only
    return (
        f"UPDATE {table} SET answers = :answers, filled = 1 WHERE id = COALESCE("  # noqa: S608
        f"({pick} AND id >= :start ORDER BY id LIMIT 1), ({pick} ORDER BY id LIMIT 1))"
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
            claimed, stored = _store_pg(conn, invitation_id, round_id, answers)
            if claimed == 1:
                if stored != 1:  # cannot happen: ``stored`` inserts whenever ``claimed`` returned a row
                    raise RuntimeError("an invitation was claimed without storing its answers")
                conn.commit()  # nothing to send in autocommit mode; the commit otherwise
                return "stored"
        else:
            claim = text(
                f"UPDATE {claims_table(round_id)} SET answered = 1 WHERE invitation_id = :i AND answered = 0"  # noqa: S608
                " AND EXISTS (SELECT 1 FROM rounds WHERE id = :r AND status = 'open')"
            )
            if affected(conn.execute(claim, {"i": invitation_id, "r": round_id})) == 1:
                fill = text(_fill_slot_sqlite(round_id)).bindparams(bindparam("answers", type_=FixedWidthAnswers()))
                if affected(conn.execute(fill, {"answers": answers, "start": random_id()})) != 1:
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


def trail_state(rnd: Round) -> dict[str, object]:
    """``round show``'s ``trail_pending`` and ``trail_reason``: whether the open round's storage is still
    waiting to be dropped after the seal, and why."""
    pending = rnd.answer_storage == DROPPING
    return {"trail_pending": pending, "trail_reason": rnd.trail_reason if pending else None}
