"""Where answer sets live, and how a round's answers are sealed when it closes.

The rule to keep: nothing at rest may tell who gave which answer set, or in which order people answered.

- **Slots.** When a round opens, it gets one empty answer set per invitation ("slot"): a random id and a
  payload of fixed size (``models.encode_answers``), all written in one transaction. Answering claims the
  invitation and fills a randomly chosen empty slot with answers of the same size. SQLite then overwrites
  the slot's cell where it is (a row inserted later would be placed at a byte offset that follows the
  order of insertion, even with a random key), and the invitation's ``answered`` flag 0 -> 1 is an
  overwrite in place too. Finding an empty slot is one lookup in a partial index, so an answer costs the
  same in a round of 10 and of 5,000.
- **Seal** (``seal_round``, at close, before the aggregate): the filled answer sets are written afresh in a
  random order with new ids and one transaction id, the empty slots go, every ``answered`` flag of the
  round is cleared (the counts stay on the round and in the answer sets), and the reminder outbox rows go
  (their recipients are those who had not answered by then). ``compact_after_seal`` then rewrites the
  touched PostgreSQL tables (``CLUSTER``): a plain ``VACUUM`` leaves the bytes of dead row versions, their
  transaction ids included, in the pages' free space. SQLite needs no such step: ``secure_delete`` zeroes
  what is deleted, and there is no write-ahead log (``survey.data.db``).
"""

from __future__ import annotations

import logging
import random
import time
from typing import Literal

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from survey.data.db import affected
from survey.data.models import EMPTY_SLOT, FixedWidthAnswers, Invitation, Message, Response, Round, random_id

log = logging.getLogger(__name__)
_RANDOM = random.SystemRandom()  # slot choice and sealed order must not be predictable from a seed

# The tables a seal rewrites, each with the index its rows are put in order of. Both orders carry nothing:
# random answer-set ids; invitations in the order they were created when the round opened (participant
# order), not the order in which they were answered; outbox rows in the order they were queued.
SEALED_TABLES = (("responses", "pk_responses"), ("invitations", "pk_invitations"), ("messages", "pk_messages"))


def add_slots(session: Session, round_id: int, item_keys: list[str], count: int) -> None:
    """``count`` empty answer slots for the round (in the caller's transaction)."""
    if count <= 0:
        return
    empty = dict.fromkeys(item_keys, 0)
    session.execute(
        insert(Response),
        [{"id": random_id(), "round_id": round_id, "answers": empty, "filled": False} for _ in range(count)],
    )


def fill_slot(session: Session | Connection, round_id: int, answers: dict[str, int]) -> None:
    """Store one answer set: fill an empty slot picked at random (in the caller's transaction).

    One statement: the first empty slot at or after a random id, or the first one at all (wrap-around;
    ``COALESCE`` evaluates the second only when the first finds none). PostgreSQL: ``SKIP LOCKED`` lets
    answers in flight each take a different slot without waiting. A round that opened before slots
    existed (or an invitation added without one) gets a new row instead.
    """
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    postgres = dialect.name == "postgresql"
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    pick = f"SELECT id FROM responses WHERE round_id = :r AND {EMPTY_SLOT}"  # noqa: S608 - constant text
    filled = session.execute(
        text(
            f"UPDATE responses SET answers = :answers, filled = true WHERE id = COALESCE("  # noqa: S608
            f"({pick} AND id >= :start ORDER BY id LIMIT 1{lock}), ({pick} ORDER BY id LIMIT 1{lock}))"
        ).bindparams(bindparam("answers", type_=FixedWidthAnswers())),
        {"r": round_id, "start": random_id(), "answers": answers},
    )
    if affected(filled) == 0:
        session.execute(insert(Response).values(id=random_id(), round_id=round_id, answers=answers, filled=True))


# PostgreSQL: claim the invitation and fill a slot in ONE statement, so that on an autocommit connection it is
# its own transaction (no BEGIN, no COMMIT round trip) and still all-or-nothing. The sub-statements of a WITH
# share one snapshot and see each other's work only through RETURNING, so the slot is filled only if the
# claim returned a row, and a new row is inserted only if the claim worked but no empty slot was left (a
# round opened before slots existed). The claim holds the round row FOR SHARE until the statement's
# transaction ends: closing (an UPDATE of that row) waits for it, and a claim that waited for a close to
# commit re-reads the row and finds it closed. Slots: as in ``fill_slot``.
_PICK = f"SELECT id FROM responses WHERE round_id = :r AND {EMPTY_SLOT}"  # noqa: S608 - constant text
_CLAIM_AND_FILL = text(
    "WITH claimed AS ("
    " UPDATE invitations SET answered = true WHERE id = :i AND answered = false"
    " AND EXISTS (SELECT 1 FROM rounds WHERE id = :r AND status = 'open' FOR SHARE) RETURNING id),"
    " filled AS ("
    " UPDATE responses SET answers = :answers, filled = true WHERE EXISTS (SELECT 1 FROM claimed) AND id = COALESCE("
    f"({_PICK} AND id >= :start ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED),"
    f" ({_PICK} ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)) RETURNING id),"
    " added AS ("
    " INSERT INTO responses (id, round_id, answers, filled) SELECT :new_id, :r, :answers, true"
    " WHERE EXISTS (SELECT 1 FROM claimed) AND NOT EXISTS (SELECT 1 FROM filled) RETURNING id)"
    " SELECT (SELECT count(*) FROM claimed), (SELECT count(*) FROM filled) + (SELECT count(*) FROM added)"
).bindparams(bindparam("answers", type_=FixedWidthAnswers()))

Outcome = Literal["stored", "answered", "closed"]


def store_answer(conn: Connection, invitation_id: int, round_id: int, answers: dict[str, int]) -> Outcome:
    """Claim the invitation and store its answer set, all or nothing: "stored", else why not.

    "answered": the link was used already (by a concurrent post too: the claim is a conditional UPDATE);
    "closed": the round is no longer open. Answers and closing never cross: the claim holds the round row
    in share mode while it checks that the round is open (answers do not wait for each other), and closing
    updates that row, so it waits for the answers in flight, and an answer that comes after it sees the
    new status. PostgreSQL: one statement (``_CLAIM_AND_FILL``); with ``conn`` in autocommit mode that is
    the whole transaction. SQLite (which ignores the lock and serialises writers): the claim re-checks
    that the round is open, then ``fill_slot``, then the commit. Either way it is committed on return.
    """
    if conn.dialect.name == "postgresql":
        params = {"i": invitation_id, "r": round_id, "answers": answers, "start": random_id(), "new_id": random_id()}
        claimed, stored = conn.execute(_CLAIM_AND_FILL, params).one()
        if claimed == 1:
            if stored != 1:  # cannot happen: ``added`` inserts whenever ``filled`` found no slot
                raise RuntimeError("an invitation was claimed without storing its answers")
            conn.commit()  # nothing to send in autocommit mode; the commit otherwise
            return "stored"
    else:
        still_open = (
            select(Round.id).where(Round.id == round_id, Round.status == "open").with_for_update(read=True).exists()
        )
        claim = (
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.answered.is_(False), still_open)
            .values(answered=True)
        )
        if affected(conn.execute(claim)) == 1:
            fill_slot(conn, round_id, answers)
            conn.commit()  # committed before the thank-you page is sent
            return "stored"
    status = conn.scalar(select(Round.status).where(Round.id == round_id))  # a fresh read, after the wait
    conn.rollback()
    return "closed" if status != "open" else "answered"


def answer_count(session: Session, round_id: int) -> int:
    """How many answer sets the round holds (filled slots; after the seal, every row)."""
    query = select(func.count()).select_from(Response).where(Response.round_id == round_id, Response.filled)
    return session.scalar(query) or 0


def filled_answers(session: Session, round_id: int) -> list[dict[str, int]]:
    """The round's answer sets (never the empty slots)."""
    return list(session.scalars(select(Response.answers).where(Response.round_id == round_id, Response.filled)))


def seal_round(session: Session, round_id: int) -> int:
    """Seal a closed round's answers (in the caller's transaction); returns the number of answer sets.

    Idempotent: sealing a sealed round writes the same answer sets again in another random order.
    """
    rows = filled_answers(session, round_id)
    _RANDOM.shuffle(rows)
    session.execute(delete(Response).where(Response.round_id == round_id))
    if rows:
        session.execute(
            insert(Response),
            [{"id": random_id(), "round_id": round_id, "answers": row, "filled": True} for row in rows],
        )
    # every invitation of the round, answered or not, so that all get the same new row version
    session.execute(update(Invitation).where(Invitation.round_id == round_id).values(answered=False))
    session.execute(delete(Message).where(Message.round_id == round_id, Message.kind == "reminder"))
    return len(rows)


# A transaction that began before the seal committed may still see the old row versions, and CLUSTER keeps
# whatever some snapshot may still need. That holds for transactions in EVERY database of the server: a
# snapshot's horizon is the oldest transaction still running anywhere, so a long transaction in another
# database makes CLUSTER keep this one's dead versions too. Wait this long for them to end.
SNAPSHOT_WAIT_S = 30.0
_OLDER_SNAPSHOTS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
    "AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL) AND xact_start < :since"
)


def compact_after_seal(engine: Engine, wait_s: float = SNAPSHOT_WAIT_S) -> float:
    """PostgreSQL: rewrite the sealed tables so that no dead row version is left; returns the seconds spent.

    ``CLUSTER`` (like ``VACUUM FULL``, which it is plus an order) writes each table afresh and drops the old
    files; it cannot run inside a transaction block, so it runs on an autocommit connection. It keeps row
    versions that a transaction still open since before the seal may see (in any database of the server),
    so it first waits (up to ``wait_s``) for such transactions to end; if one outlasts that, the versions
    stay until the next seal's rewrite (logged). It holds an exclusive lock on each table while it copies it: answers to
    other rounds wait that long (measured in docs/benchmarks.md). SQLite: nothing to do
    (``secure_delete`` zeroed what the seal freed).
    """
    if engine.dialect.name != "postgresql":
        return 0.0
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        since = conn.exec_driver_sql("SELECT now()").scalar()
        deadline = time.monotonic() + wait_s
        while conn.execute(_OLDER_SNAPSHOTS, {"since": since}).scalar():
            if time.monotonic() > deadline:
                log.warning("a transaction older than the seal is still open; old row versions may remain")
                break
            time.sleep(0.05)
        for table, index in SEALED_TABLES:
            conn.exec_driver_sql(f"CLUSTER {table} USING {index}")
    spent = time.perf_counter() - started
    log.info("sealed tables rewritten in %.3f s", spent)
    return spent
