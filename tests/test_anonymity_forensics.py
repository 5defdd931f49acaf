"""Forensics: attack the stored bytes the way an administrator with the database files would.

Scope: each copy of the database is analysed ON ITS OWN, as a copy taken at rest (no request in flight)
or after the round closed. Diffing two copies taken around one answer is what a live observer with
administrator rights can do during an open round; no software can stop that (docs/privacy.md), so it is
deliberately not attacked here.

Every attack is first run on a deliberately unsealed, old-style round (answers appended one row at a time,
which is how answer sets were stored before slots), where it must find the order / the links: that shows
the attack works, so its failing on the real rounds means something.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, delete, text

from survey.data.models import Response, encode_answers, random_id
from tests.conftest import make_app
from tests.helpers import Browser, LiveServer, close, read_outbox, setup_round, submit, token_of

PEOPLE = 7
ROUNDS = 4
# an answered item value in the stored (fixed-width) JSON; empty slots hold only zeros
ANSWER_VALUE = re.compile(rb'\{"[a-z0-9_]+": ?[1-9],"')


def kendall_tau(order: list[int]) -> float:
    """Rank correlation of ``order`` with 0..n-1: 1 = the same order, -1 = reversed, ~0 = unrelated."""
    pairs = list(combinations(range(len(order)), 2))
    return sum(1 if order[i] < order[j] else -1 for i, j in pairs) / len(pairs)


def answers_for(person: int, items: Any) -> dict[str, int]:
    """An answer set that tells its person apart (first two items encode the index)."""
    answers = {item.key: 3 for item in items}
    answers[items[0].key] = 1 + person % 5
    answers[items[1].key] = 1 + person // 5
    return answers


def person_of(answers: dict[str, int], items: Any) -> int:
    return (answers[items[0].key] - 1) + 5 * (answers[items[1].key] - 1)


class Truth:
    """What really happened: per round, who answered in which order."""

    def __init__(self) -> None:
        self.order: dict[int, list[int]] = {}  # round id -> person indexes in submission order


def _open_round(app: Flask, tmp: Path, name: str, *, old_style: bool) -> tuple[int, dict[int, str]]:
    _team, round_id = setup_round(app, PEOPLE, team_name=name)
    if old_style:  # no slots: every answer is appended as a new row, as before slots existed
        db = app.extensions["tryghed"].db
        with db.session() as s:
            s.execute(delete(Response).where(Response.round_id == round_id))
            s.commit()
        if db.engine.dialect.name == "sqlite":  # and the pages packed, as if the slots had never been
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM")
    mails = {str(m["To"]): m for m in read_outbox(tmp / "outbox") if name in str(m["Subject"])}
    return round_id, {i: token_of(mails[f"p{i}@example.org"]) for i in range(PEOPLE)}


# -- SQLite ---------------------------------------------------------------------------------------------


def _copy_at_rest(db: Path, dest: Path) -> Path:
    """Copy the database file and anything next to it that SQLite keeps (-wal, -shm, -journal)."""
    dest.mkdir(parents=True)
    for f in db.parent.glob(db.name + "*"):
        shutil.copy2(f, dest / f.name)
    return dest / db.name


def sqlite_attack(copy: Path, items: Any, round_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What one copy tells, per round: the order of the answer sets by their place in the file, and the
    best pairing of answered invitations to answer sets by place (the k-th answered invitation in the file
    with the k-th answer set), as person indexes."""
    data = copy.read_bytes()
    conn = sqlite3.connect(f"file:{copy}?mode=ro&immutable=1", uri=True)
    found: dict[int, dict[str, Any]] = {}
    for round_id in round_ids:
        sets = conn.execute("SELECT id, answers FROM responses WHERE round_id = ? AND filled", (round_id,)).fetchall()
        placed = []
        for rid, answers in sets:
            # the table cell: the id followed (after the round number) by the answers
            cell = re.search(re.escape(rid.encode()) + rb".{0,4}\{", data, re.DOTALL)
            assert cell is not None
            placed.append((cell.start(), person_of(json.loads(answers), items)))
        invs = conn.execute(
            "SELECT email, nonce FROM invitations WHERE round_id = ? AND answered", (round_id,)
        ).fetchall()
        inv_placed = sorted((data.find(nonce.encode()), int(email[1:].split("@")[0])) for email, nonce in invs)
        by_place = [p for _off, p in sorted(placed)]
        found[round_id] = {
            "order": by_place,
            "pairs": list(zip([p for _o, p in inv_placed], by_place, strict=False)),
        }
    conn.close()
    return found


def remnants(copy: Path, live_sets: int) -> int:
    """Answer bytes in the file beyond the live answer sets: deleted or overwritten cells, freed pages."""
    return len(ANSWER_VALUE.findall(copy.read_bytes())) - live_sets


@contextmanager
def _serving(app: Flask) -> Iterator[str]:
    with LiveServer(app) as live:
        yield live.url


def _answer_in_order(url: str, tokens: dict[int, str], order: list[int], items: Any, after: Any) -> None:
    for person in order:
        status, _page = Browser().answer(f"{url}/s/{tokens[person]}", answers_for(person, items))
        assert status == 200
        after(person)


def test_sqlite_files_at_rest_link_nothing_and_keep_no_order(tmp_path: Path) -> None:
    """Answer links in a known random order through the running web app, copy the files after each answer
    and after close; each copy: no journal or WAL, owner-only file, rollback-journal header, no answer
    bytes beyond the live ones, and neither the order nor the person-answer link recoverable from where
    the cells sit. The same attack finds both on an old-style (appending) round."""
    db_file = tmp_path / "tryghed.sqlite"
    app = make_app(tmp_path)
    items = app.extensions["tryghed"].content.instrument().items
    rng = random.Random(12)
    truth = Truth()
    copies: list[Path] = []
    control_copies: list[Path] = []
    with _serving(app) as url:
        app.extensions["tryghed"].config["BASE_URL"] = url
        for n in range(ROUNDS + 1):
            old_style = n == 0  # the first round is the negative control
            round_id, tokens = _open_round(app, tmp_path, f"Forensik {n}", old_style=old_style)
            order = list(range(PEOPLE))
            rng.shuffle(order)
            truth.order[round_id] = order
            target = control_copies if old_style else copies

            def snap(_person: int, target: list[Path] = target) -> None:
                target.append(_copy_at_rest(db_file, tmp_path / f"copy{len(copies) + len(control_copies)}"))

            _answer_in_order(url, tokens, order, items, snap)
    control_round, *real_rounds = list(truth.order)

    for copy in copies + control_copies:
        leftovers = sorted(p.name for p in copy.parent.iterdir() if p != copy)
        assert leftovers == [], f"journal/WAL files at rest: {leftovers}"
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        head = copy.read_bytes()[:100]
        assert head[18:20] == b"\x01\x01", "the file is in WAL mode (commit history kept in the -wal file)"
        with sqlite3.connect(f"file:{copy}?mode=ro&immutable=1", uri=True) as conn:
            live = conn.execute("SELECT count(*) FROM responses WHERE filled").fetchone()[0]
        assert remnants(copy, live) == 0, f"{copy}: answer bytes left in deleted cells or freed pages"

    # Negative control: the old-style round, read from the copy after its last answer, gives itself away.
    control = sqlite_attack(control_copies[-1], items, [control_round])[control_round]
    assert abs(kendall_tau([truth.order[control_round].index(p) for p in control["order"]])) == 1.0

    # The real rounds, each copy on its own: order and links as good as a guess.
    final = copies[-1]
    found = sqlite_attack(final, items, real_rounds)
    taus = [kendall_tau([truth.order[r].index(p) for p in found[r]["order"]]) for r in real_rounds]
    # random orders of 7: tau has sd 0.31, the mean of 4 sd 0.16; 0.75 is > 4.5 sd (the control gives 1.0)
    assert abs(sum(taus) / len(taus)) < 0.75, taus
    linked = sum(inv == ans for r in real_rounds for inv, ans in found[r]["pairs"])
    # a random pairing links 1 of 7 per round on average (4 of 28 here); the old style would link by order
    assert linked <= 12, (linked, found)
    # every intermediate copy, on its own: the answer sets so far, read by their place in the file, are
    # no more often in the order they came (or its reverse) than chance allows (2/k! for k >= 3 sets)
    exact, cases = 0, 0
    for copy in copies:
        for r, seen in sqlite_attack(copy, items, real_rounds).items():
            if len(seen["order"]) >= 3:
                came = [p for p in truth.order[r] if p in seen["order"]]
                cases += 1
                exact += seen["order"] in (came, came[::-1])
    assert exact <= cases // 4, (exact, cases)
    control_exact = 0
    for copy in control_copies[2:]:
        seen = sqlite_attack(copy, items, [control_round])[control_round]
        came = [p for p in truth.order[control_round] if p in seen["order"]]
        control_exact += seen["order"] in (came, came[::-1])
    assert control_exact == len(control_copies) - 2  # the same reading finds the order of the old style

    # After close: the seal leaves no answered flag and no answer bytes beyond the live ones
    for round_id in real_rounds:
        close(app, round_id)
    app.extensions["tryghed"].db.dispose()
    sealed = _copy_at_rest(db_file, tmp_path / "sealed")
    assert sorted(p.name for p in sealed.parent.iterdir()) == [db_file.name]
    with sqlite3.connect(f"file:{sealed}?mode=ro&immutable=1", uri=True) as conn:
        sealed_flags = conn.execute(
            "SELECT count(*) FROM invitations WHERE answered AND round_id <> ?", (control_round,)
        ).fetchone()[0]
        assert sealed_flags == 0
        assert conn.execute("SELECT count(*) FROM messages WHERE kind = 'reminder'").fetchone()[0] == 0
        live = conn.execute("SELECT count(*) FROM responses WHERE filled").fetchone()[0]
    assert remnants(sealed, live) == 0


# -- PostgreSQL -----------------------------------------------------------------------------------------


def heap_tuples(conn: Any, table: str) -> list[tuple[int, bytes]]:
    """Every tuple with data in the raw pages of ``table`` (dead versions included): (xmin, data)."""
    pages = conn.execute(text(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")).scalar()
    found = []
    for block in range(int(pages)):
        found += conn.execute(
            text(
                f"SELECT t_xmin::text::bigint, t_data FROM heap_page_items(get_raw_page('{table}', {block}))"
                " WHERE t_data IS NOT NULL"
            )
        ).all()
    return [(int(x), bytes(d)) for x, d in found]


def answer_sets_in(data: bytes, items: Any) -> list[int]:
    """The persons whose answer sets (fixed-width JSON) are in a tuple's bytes."""
    return [
        person_of(json.loads(m.group()), items)
        for m in re.finditer(rb'\{"[^{}]*\}', data)
        if ANSWER_VALUE.match(m.group())
    ]


def user_tables(conn: Any) -> list[str]:
    return list(
        conn.execute(
            text("SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace")
        ).scalars()
    )


@contextmanager
def held_transactions(pg_url: str) -> Iterator[None]:
    """What other applications on the server do across the close: another role holds a REPEATABLE READ
    snapshot in this database, and a session in another database holds a transaction with an id."""
    from tests.conftest import PG_ADMIN_URL
    from tests.helpers import throwaway_database

    role = f"report_tool_{random.randrange(16**8):08x}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    other_role = create_engine(pg_url.replace("postgres@", f"{role}@"))
    try:
        with throwaway_database(PG_ADMIN_URL, "tryghed_other") as other_url:
            other_db = create_engine(other_url)
            with other_role.connect() as reader, other_db.connect() as elsewhere:
                reader.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                reader.exec_driver_sql("SELECT 1").scalar()  # the snapshot is taken here
                elsewhere.exec_driver_sql("SELECT txid_current()").scalar()
                yield
                reader.rollback()
                elsewhere.rollback()
            other_db.dispose()
    finally:
        other_role.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def old_design_round(engine: Any, round_id: int, invitation_ids: list[int], order: list[int], items: Any) -> None:
    """The design before the own storage, replayed on copies of its shared tables (``legacy_responses`` as
    ``responses`` was, ``legacy_flags`` as the flags on ``invitations``): slots filled one transaction per
    answer; at close the seal rewrites both, then ``CLUSTER`` rewrites the tables (without the wait, which a
    role that cannot see other roles' sessions could not do anyway)."""
    empty = encode_answers({item.key: 0 for item in items})
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE legacy_flags (invitation_id integer PRIMARY KEY, answered boolean NOT NULL)"))
        conn.execute(
            text(
                "CREATE TABLE legacy_responses (id varchar(32) PRIMARY KEY, round_id integer NOT NULL,"
                " answers text NOT NULL, filled boolean NOT NULL)"
            )
        )
        conn.execute(text("INSERT INTO legacy_flags VALUES (:i, false)"), [{"i": i} for i in invitation_ids])
        conn.execute(
            text("INSERT INTO legacy_responses (id, round_id, answers, filled) VALUES (:id, :r, :a, false)"),
            [{"id": random_id(), "r": round_id, "a": empty} for _ in invitation_ids],
        )
    for person in order:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE legacy_flags SET answered = true WHERE invitation_id = :i"), {"i": invitation_ids[person]}
            )
            conn.execute(
                text(
                    "UPDATE legacy_responses SET answers = :a, filled = true WHERE id = (SELECT id"
                    " FROM legacy_responses WHERE round_id = :r AND NOT filled ORDER BY random() LIMIT 1)"
                ),
                {"a": encode_answers(answers_for(person, items)), "r": round_id},
            )
    with engine.begin() as conn:
        sets = list(
            conn.execute(text("SELECT answers FROM legacy_responses WHERE round_id = :r AND filled"), {"r": round_id})
        )
        random.shuffle(sets)
        conn.execute(text("DELETE FROM legacy_responses WHERE round_id = :r"), {"r": round_id})
        conn.execute(
            text("INSERT INTO legacy_responses (id, round_id, answers, filled) VALUES (:id, :r, :a, true)"),
            [{"id": random_id(), "r": round_id, "a": a} for (a,) in sets],
        )
        conn.execute(text("UPDATE legacy_flags SET answered = false"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("CLUSTER legacy_responses USING legacy_responses_pkey")
        conn.exec_driver_sql("CLUSTER legacy_flags USING legacy_flags_pkey")


@pytest.mark.postgres
def test_postgres_after_the_seal_nothing_links_whatever_other_sessions_hold(pg_url: str, tmp_path: Path) -> None:
    """Another role holds a REPEATABLE READ snapshot in this database, and a session in another database a
    transaction, from before the first answer until after the close. The old design (slots and flags in
    shared tables, seal, CLUSTER) then keeps every answer's dead row versions: pageinspect links each
    person to their answer set through ``xmin`` and gives the exact order. The real rounds, closed under
    the same sessions: the round's own tables are gone, no tuple anywhere holds answer bytes but the live
    sealed sets (one ``xmin`` per round), invitations have no dead versions, and the ``ctid`` order is
    as good as a guess."""
    app = make_app(tmp_path, pg_url)
    items = app.extensions["tryghed"].content.instrument().items
    client = app.test_client()
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        conn.commit()
    rng = random.Random(7)
    truth = Truth()
    rounds = {}
    for n in range(ROUNDS + 1):
        rounds[n] = _open_round(app, tmp_path, f"PG Forensik {n}", old_style=False)
    with held_transactions(pg_url):
        # the old design, on the last round's invitations
        control_round, _tokens = rounds[ROUNDS]
        with engine.connect() as conn:
            invitation_ids = list(
                conn.execute(
                    text("SELECT id FROM invitations WHERE round_id = :r ORDER BY id"), {"r": control_round}
                ).scalars()
            )
        control_order = list(range(PEOPLE))
        rng.shuffle(control_order)
        old_design_round(engine, control_round, invitation_ids, control_order, items)
        with engine.connect() as conn:
            flags = [(x, int.from_bytes(d[:4], "little")) for x, d in heap_tuples(conn, "legacy_flags") if d[4] == 1]
            sets = {x: answer_sets_in(d, items) for x, d in heap_tuples(conn, "legacy_responses")}
            links = [(invitation_ids.index(inv), sets[x][0]) for x, inv in flags if len(sets.get(x, [])) == 1]
            assert sorted(links) == [(p, p) for p in range(PEOPLE)]  # every person linked to their answers
            assert [invitation_ids.index(inv) for _x, inv in sorted(flags)] == control_order  # and the order
            conn.execute(text("DROP TABLE legacy_flags, legacy_responses"))
            conn.commit()
        # the real rounds, answered and closed while the same sessions stay open
        for n in range(ROUNDS):
            round_id, tokens = rounds[n]
            order = list(range(PEOPLE))
            rng.shuffle(order)
            truth.order[round_id] = order
            for person in order:
                assert submit(client, tokens[person], answers_for(person, items)).status_code == 200
        for round_id in truth.order:
            shown = close(app, round_id)
            assert shown["responses"] == PEOPLE and shown["trail_pending"] is False, shown
        with engine.connect() as conn:
            answer_bearing = {
                table: [(x, p) for x, d in heap_tuples(conn, table) for p in answer_sets_in(d, items)]
                for table in user_tables(conn)
            }
            assert {t for t, found in answer_bearing.items() if found} == {"responses"}
            live = conn.execute(text("SELECT count(*) FROM responses")).scalar_one()
            assert len(answer_bearing["responses"]) == live == ROUNDS * PEOPLE  # no dead or stray copies
            taus = []
            for round_id in truth.order:
                assert conn.execute(text(f"SELECT to_regclass('round_{round_id}_answers')")).scalar() is None
                assert conn.execute(text(f"SELECT to_regclass('round_{round_id}_claims')")).scalar() is None
                seen = pg_attack(conn, round_id, items)
                assert seen["links"] == [] and seen["xmins"] == 1, seen
                taus.append(kendall_tau([truth.order[round_id].index(p) for p in seen["ctid_order"]]))
            assert abs(sum(taus) / len(taus)) < 0.75, taus
            stored, rows = len(heap_tuples(conn, "invitations")), conn.execute(text("SELECT count(*) FROM invitations"))
            assert stored == rows.scalar_one(), "dead invitation versions readable with pageinspect"
    engine.dispose()
    app.extensions["tryghed"].db.dispose()


def pg_attack(conn: Any, round_id: int, items: Any) -> dict[str, Any]:
    """What an administrator reads after the fact: xmin of answer sets and invitations, and ctid order."""
    sets = conn.execute(
        text("SELECT xmin::text::bigint, ctid::text, answers FROM responses WHERE round_id = :r"), {"r": round_id}
    ).all()
    invs = conn.execute(
        text("SELECT xmin::text::bigint, email FROM invitations WHERE round_id = :r"), {"r": round_id}
    ).all()
    by_xmin_set: dict[int, list[int]] = {}
    for xmin, _ctid, answers in sets:
        by_xmin_set.setdefault(xmin, []).append(person_of(json.loads(answers), items))
    # a link: an invitation whose row version was written in the same transaction as exactly one answer set
    links = []
    for xmin, email in invs:
        hit = by_xmin_set.get(xmin, [])
        if len(hit) == 1:
            links.append((int(email[1:].split("@")[0]), hit[0]))

    def ctid_key(ctid: str) -> tuple[int, int]:
        page, item = ctid.strip("()").split(",")
        return int(page), int(item)

    ctid_order = [person_of(json.loads(a), items) for _x, c, a in sorted(sets, key=lambda s: ctid_key(s[1]))]
    return {"links": links, "ctid_order": ctid_order, "xmins": len(by_xmin_set)}
