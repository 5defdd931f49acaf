"""Forensics: attack the stored bytes the way an administrator with the database files would.

Scope: each copy of the database is analysed ON ITS OWN, as a copy taken at rest (no request in flight)
or after the round closed. Diffing two copies taken around one answer is what a live observer with
administrator rights can do during an open round; no software can stop that (docs/privacy.md), so it is
deliberately not attacked here.

Every attack is first run on the design it is meant to catch, replayed by the test (SQLite: answer sets
appended one row per answer, and slots found through a partial index of the empty ones; PostgreSQL: slots
and flags in shared tables, sealed and rewritten with CLUSTER while other sessions hold transactions
open), where it must find the order / the links: that shows the attack works, so its failing on the real
rounds means something.
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
from sqlalchemy import create_engine, text

from survey.data.models import encode_answers, random_id
from tests.conftest import make_app
from tests.helpers import Browser, LiveServer, close, hidden_fields, read_outbox, setup_round, submit, token_of

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


def _open_round(app: Flask, tmp: Path, name: str, people: int = PEOPLE) -> tuple[int, dict[int, str]]:
    _team, round_id = setup_round(app, people, team_name=name)
    mails = {str(m["To"]): m for m in read_outbox(tmp / "outbox") if name in str(m["Subject"])}
    return round_id, {i: token_of(mails[f"p{i}@example.org"]) for i in range(people)}


# -- SQLite ---------------------------------------------------------------------------------------------

SQ_ROUNDS, SQ_PEOPLE = 9, 16  # issue 16, acceptance 6


def _copy_at_rest(db: Path, dest: Path) -> Path:
    """Copy the database file and anything next to it that SQLite keeps (-wal, -shm, -journal)."""
    dest.mkdir(parents=True)
    for f in db.parent.glob(db.name + "*"):
        shutil.copy2(f, dest / f.name)
    return dest / db.name


def _read_only(copy: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{copy}?mode=ro&immutable=1", uri=True)


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """A SQLite varint at ``at``: (value, offset after it)."""
    value = 0
    for i in range(9):
        byte = data[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    raise AssertionError("unreachable")


class Page:
    """One b-tree page of a copy, read from its bytes: its cells, and what deletions leave behind (stale
    entries past the end of the cell-pointer array, the chain of free blocks, fragmented bytes)."""

    def __init__(self, data: bytes, pageno: int, size: int) -> None:
        self.base = (pageno - 1) * size
        hdr = self.base + (100 if pageno == 1 else 0)
        self.kind = data[hdr]
        start = hdr + (8 if self.kind in (10, 13) else 12)
        n = int.from_bytes(data[hdr + 3 : hdr + 5], "big")
        content = int.from_bytes(data[hdr + 5 : hdr + 7], "big") or 65536
        self.cells = [int.from_bytes(data[start + 2 * i : start + 2 * i + 2], "big") for i in range(n)]
        tail = data[start + 2 * n : self.base + content]
        self.stale = [int.from_bytes(tail[i : i + 2], "big") for i in range(0, len(tail) - 1, 2)]
        self.stale = [v for v in self.stale if v]
        self.free = []
        at = int.from_bytes(data[hdr + 1 : hdr + 3], "big")
        while at:
            self.free.append(at)
            at = int.from_bytes(data[self.base + at : self.base + at + 2], "big")
        self.frag = data[hdr + 7]

    def remnants(self) -> int:
        return len(self.stale) + len(self.free) + self.frag


def pages_of(copy: Path, name: str) -> list[int]:
    with _read_only(copy) as conn:
        return [p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name = ? ORDER BY pageno", (name,))]


def sqlite_orders(copy: Path, round_id: int, items: Any, truth: list[int]) -> dict[str, float]:
    """Every byte-level order one copy gives of an open round, each as Kendall tau against the answering
    order: where the answer cells sit in the file and within their page, and where the answered flags sit.
    Also counts what deletions left in the round's pages (stale pointers, free blocks, fragments)."""
    data = copy.read_bytes()
    with _read_only(copy) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        sets = conn.execute(f"SELECT id, answers FROM round_{round_id}_answers WHERE filled").fetchall()
        answered = [i for (i,) in conn.execute(f"SELECT invitation_id FROM round_{round_id}_claims WHERE answered")]
        emails = dict(conn.execute("SELECT id, email FROM invitations WHERE round_id = ?", (round_id,)).fetchall())
    file_at, page_at = [], []
    for rid, answers in sets:
        at = data.find(rid.encode())
        assert at > 0
        person = person_of(json.loads(answers), items)
        file_at.append((at, person))
        page_at.append((at % size, person))
    flag_at = []  # the claim cells: (rowid = invitation id) at their offset in the file
    for pageno in pages_of(copy, f"round_{round_id}_claims"):
        page = Page(data, pageno, size)
        for cell in page.cells if page.kind == 13 else []:
            _len, after = _varint(data, page.base + cell)
            rowid, _ = _varint(data, after)
            if rowid in answered:
                flag_at.append((page.base + cell, int(emails[rowid][1:].split("@")[0])))
    rank = {person: i for i, person in enumerate(truth)}
    return {
        "file offsets": kendall_tau([rank[p] for _a, p in sorted(file_at)]),
        "page offsets": kendall_tau([rank[p] for _a, p in sorted(page_at)]),
        "flag offsets": kendall_tau([rank[p] for _a, p in sorted(flag_at)]),
        "remnants": sum(
            Page(data, n, size).remnants()
            for t in (f"round_{round_id}_answers", f"round_{round_id}_claims")
            for n in pages_of(copy, t)
        ),
    }


def remnants(copy: Path, live_sets: int) -> int:
    """Answer bytes in the file beyond the live answer sets: deleted or overwritten cells, freed pages."""
    return len(ANSWER_VALUE.findall(copy.read_bytes())) - live_sets


def sealed_strays(copy: Path) -> list[str]:
    """Answer bytes in a sealed file other than the live rows of ``responses`` and their copies.

    SQLite's b-tree balancing moves cells between pages and rebuilds a page without clearing the space its
    cells left (``secure_delete`` clears deleted cells and freed pages, not that space): after the seal's
    inserts into ``responses`` a page may hold, in its unused space, an older copy of a sealed row that
    now lives elsewhere, often cut short where the page's live cells begin. Such a copy is the live row
    again (its new random id, its answers), placed by an insertion order that was a random shuffle:
    nothing more. Everything else is a stray, and reported: answer bytes outside the pages of
    ``responses`` (a freed page, another table, what the open round's own tables left), a set that no
    live row begins with, or a row id that no live row has or whose row holds other answers.
    """
    return [
        f"page {at // PAGE + 1}, offset {at % PAGE}: {verdict}" for at, verdict in _outside_live_rows(copy) if verdict
    ]


PAGE = 4096  # the app's page size (SQLite's default), for the messages only


def _outside_live_rows(copy: Path) -> list[tuple[int, str]]:
    """Every answer-like byte pattern outside the live cells of ``responses``: (file offset, what is wrong
    with it, or "" for a copy of a live row in the unused space of a page of ``responses``)."""
    data = copy.read_bytes()
    with _read_only(copy) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        rows = {i.encode(): a.encode() for i, a in conn.execute("SELECT id, answers FROM responses")}
    pages = set(pages_of(copy, "responses"))
    cells = []  # (start, end) in the file of every live cell of responses
    for pageno in pages:
        page = Page(data, pageno, size)
        for cell in page.cells:
            length, after = _varint(data, page.base + cell + (4 if page.kind == 2 else 0))  # interior: child first
            cells.append((page.base + cell, after + length))
    found = []
    for match in ANSWER_VALUE.finditer(data):
        at = match.start()
        if any(start <= at < end for start, end in cells):
            continue
        end = data.find(b"}", at)
        cut = min([end + 1 if end >= 0 else len(data)] + [start for start, _end in cells if start > at])
        answers = data[at:cut]  # the copy, up to where a live cell overwrote it
        row_id = re.search(rb"[0-9a-f]{32}", data[at - 40 : at])  # the row's id, unless overwritten since
        if at // size + 1 not in pages:
            found.append((at, "outside the pages of responses"))
        elif not any(live.startswith(answers) for live in rows.values()):
            found.append((at, "an answer set no live row holds"))
        elif row_id is not None and not rows.get(row_id.group(), b"").startswith(answers):
            found.append((at, "an id no live row with these answers has"))
        else:
            found.append((at, ""))
    return found


def test_the_seal_check_tells_copies_of_live_rows_from_strays(tmp_path: Path) -> None:
    """``sealed_strays`` is not a check that cannot fail: on a ``responses`` table filled as seals fill it
    (batches of 16 rows with random ids), SQLite's balancing leaves a copy of a live row in a page's unused
    space, which it accepts; the same copy with another id or other answers, and an answer set in a page
    of another table, it reports."""
    path = tmp_path / "sealed.sqlite"
    copy_at = -1
    for seed in range(2000):  # about one batch sequence in a hundred leaves such a copy with its id intact
        _fill_as_seals_do(path, seed)
        copies = [at for at, verdict in _outside_live_rows(path) if not verdict]
        data = path.read_bytes()
        intact = [at for at in copies if re.search(rb"[0-9a-f]{32}", data[at - 40 : at])]
        if intact:
            copy_at = intact[0]
            break
    assert copy_at > 0, "no sequence of seals left a copy of a live row (SQLite's balancing changed?)"
    assert remnants(path, SQ_ROUNDS * SQ_PEOPLE) > 0 and sealed_strays(path) == []
    original = path.read_bytes()

    def planted(offset: int, new: bytes) -> list[str]:
        path.write_bytes(original[:offset] + new + original[offset + len(new) :])
        return sealed_strays(path)

    id_at = copy_at - 40 + re.search(rb"[0-9a-f]{32}", original[copy_at - 40 : copy_at]).start()  # type: ignore[union-attr]
    assert [s.split(": ")[1] for s in planted(id_at, b"f" * 32)] == ["an id no live row with these answers has"]
    digit = copy_at + original[copy_at:].index(b": ") + 2
    assert [s.split(": ")[1] for s in planted(digit, b"9")] == ["an answer set no live row holds"]
    path.write_bytes(original)  # then a page of another table, its unused space holding an answer set
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE other (t TEXT)")
    conn.execute("INSERT INTO other VALUES ('x')")
    conn.close()
    other = pages_of(path, "other")[0]
    assert [s.split(": ")[1] for s in planted((other - 1) * PAGE + 1000, original[copy_at : copy_at + 40])] == [
        "outside the pages of responses"
    ]


def _fill_as_seals_do(path: Path, seed: int) -> None:
    """A ``responses`` table (the app's layout) filled by SQ_ROUNDS seals of SQ_PEOPLE rows, random ids."""
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    keys = sorted(f"{pillar}{n}" for pillar in ("bid", "ink", "lae", "udf") for n in range(1, 5))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute(
        "CREATE TABLE responses (id VARCHAR(32) NOT NULL PRIMARY KEY, round_id INTEGER NOT NULL,"
        " answers TEXT NOT NULL, filled BOOLEAN NOT NULL) WITHOUT ROWID"
    )
    for r in range(SQ_ROUNDS):
        rows = [
            (f"{rng.getrandbits(128):032x}", r, encode_answers({k: rng.randint(1, 5) for k in keys}))
            for _ in range(SQ_PEOPLE)
        ]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO responses VALUES (?, ?, ?, 1)", rows)
        conn.execute("COMMIT")
    conn.close()


def _old_designs(path: Path, orders: list[list[int]], items: Any) -> Path:
    """The two designs before the round's own storage, replayed with the app's pragmas on a file of their
    own: answer sets appended one row per answer, and slots in a shared table found through a partial
    index of the empty ones (filled at random, as ``fill_slot`` did)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("CREATE TABLE appended (round_id INTEGER, answers TEXT)")
    conn.execute(
        "CREATE TABLE slots (id VARCHAR(32) PRIMARY KEY, round_id INTEGER, answers TEXT, filled BOOLEAN) WITHOUT ROWID"
    )
    conn.execute("CREATE INDEX ix_slots_empty ON slots (round_id, id) WHERE filled = 0")
    empty = encode_answers({item.key: 0 for item in items})
    for r, _order in enumerate(orders):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO slots VALUES (?, ?, ?, 0)", [(random_id(), r, empty) for _ in range(SQ_PEOPLE)])
        conn.execute("COMMIT")
    pick = "SELECT id FROM slots WHERE round_id = :r AND filled = 0"
    for r, order in enumerate(orders):
        for person in order:
            answers = encode_answers(answers_for(person, items))
            conn.execute("BEGIN")
            conn.execute("INSERT INTO appended VALUES (?, ?)", (r, answers))
            conn.execute(
                f"UPDATE slots SET answers = :a, filled = 1 WHERE id = COALESCE(({pick} AND id >= :s ORDER BY id"
                f" LIMIT 1), ({pick} ORDER BY id LIMIT 1))",
                {"a": answers, "r": r, "s": random_id()},
            )
            conn.execute("COMMIT")
    conn.close()
    return path


@contextmanager
def _serving(app: Flask) -> Iterator[str]:
    with LiveServer(app) as live:
        yield live.url


def test_sqlite_files_at_rest_link_nothing_and_keep_no_order(tmp_path: Path) -> None:
    """Issue 16, acceptance 6. 9 rounds of 16 answers through the running web app, each in a known random
    order, all still open; a copy of the files after each answer. In every copy: no journal or WAL,
    owner-only file, rollback-journal header, no answer bytes beyond the live ones. In the last copy, for
    every round: the order of the answer cells by file offset and by offset within their page, and of the
    answered flags by offset, averaged over the 9 rounds, is within +-0.3 of chance (Kendall tau); the
    round's pages hold no stale cell pointer, free block or fragment, and no index. The same readings on
    the old designs: appended rows give the order (mean tau above 0.6; 1.0 where no page split), and the
    partial index of empty slots leaves deletion remnants (stale pointers, free blocks) in its pages.
    After close, no flag, no own table and no stray answer bytes (``sealed_strays``: the only answer bytes
    outside live rows are copies of live sealed rows that SQLite's page balancing leaves in a page's
    unused space)."""
    db_file = tmp_path / "tryghed.sqlite"
    app = make_app(tmp_path)
    items = app.extensions["tryghed"].content.instrument().items
    rng = random.Random(12)
    truth = Truth()
    copies: list[Path] = []
    with _serving(app) as url:
        app.extensions["tryghed"].config["BASE_URL"] = url
        for n in range(SQ_ROUNDS):
            round_id, tokens = _open_round(app, tmp_path, f"Forensik {n}", SQ_PEOPLE)
            order = list(range(SQ_PEOPLE))
            rng.shuffle(order)
            truth.order[round_id] = order
            for person in order:
                status, _page = Browser().answer(f"{url}/s/{tokens[person]}", answers_for(person, items))
                assert status == 200
                copies.append(_copy_at_rest(db_file, tmp_path / f"copy{len(copies)}"))
    for copy in copies[:: SQ_PEOPLE // 2] + copies[-1:]:
        leftovers = sorted(p.name for p in copy.parent.iterdir() if p != copy)
        assert leftovers == [], f"journal/WAL files at rest: {leftovers}"
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert copy.read_bytes()[18:20] == b"\x01\x01", "the file is in WAL mode (commit history kept)"
        with _read_only(copy) as conn:
            live = sum(
                conn.execute(f"SELECT count(*) FROM {t} WHERE filled").fetchone()[0]  # noqa: S608
                for (t,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE name LIKE 'round^_%^_answers' ESCAPE '^'"
                )
            )
        assert remnants(copy, live) == 0, f"{copy}: answer bytes left in deleted cells or freed pages"

    final = copies[-1]
    seen = {r: sqlite_orders(final, r, items, order) for r, order in truth.order.items()}
    for kind in ("file offsets", "page offsets", "flag offsets"):
        mean = sum(s[kind] for s in seen.values()) / SQ_ROUNDS
        # chance: sd of one round's tau ~0.19, of the mean of 9 ~0.06; the bound is 5 sd
        assert abs(mean) <= 0.3, (kind, mean, [round(s[kind], 2) for s in seen.values()])
    assert [s["remnants"] for s in seen.values()] == [0] * SQ_ROUNDS
    with _read_only(final) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name GLOB 'round_[0-9]*'"
            ).fetchone()[0]
            == 0
        )
    # The old designs, read the same way
    old = _old_designs(tmp_path / "old.sqlite", list(truth.order.values()), items)
    data = old.read_bytes()
    with _read_only(old) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        rows = {
            rowid: (r, answers) for rowid, r, answers in conn.execute("SELECT rowid, round_id, answers FROM appended")
        }
    placed: dict[int, list[tuple[tuple[int, int], int]]] = {}
    for pageno in pages_of(old, "appended"):
        page = Page(data, pageno, size)
        for cell in page.cells if page.kind == 13 else []:
            _len, after = _varint(data, page.base + cell)
            r, answers = rows[_varint(data, after)[0]]
            # a page's cells are written from its end downwards, one page after another
            placed.setdefault(r, []).append(((pageno, -cell), person_of(json.loads(answers), items)))
    taus = []
    for r, order in enumerate(truth.order.values()):
        rank = {p: i for i, p in enumerate(order)}
        taus.append(kendall_tau([rank[p] for _a, p in sorted(placed[r])]))
    # appended rows: the order, up to the pages that split (far outside the +-0.3 the real rounds keep)
    assert sum(taus) / len(taus) > 0.6, taus
    index_remnants = sum(Page(data, n, size).remnants() for n in pages_of(old, "ix_slots_empty"))
    assert index_remnants > 0  # the partial index: what its deleted entries left in its pages

    # After close: no flag, no own table, no stray answer bytes
    for round_id in truth.order:
        shown = close(app, round_id)
        assert shown["responses"] == SQ_PEOPLE and not shown["trail_pending"], shown
    app.extensions["tryghed"].db.dispose()
    sealed = _copy_at_rest(db_file, tmp_path / "sealed")
    assert sorted(p.name for p in sealed.parent.iterdir()) == [db_file.name]
    with _read_only(sealed) as conn:
        own = conn.execute("SELECT count(*) FROM sqlite_master WHERE name GLOB 'round_[0-9]*'").fetchone()[0]
        assert own == 0
        assert conn.execute("SELECT count(*) FROM messages WHERE kind = 'reminder'").fetchone()[0] == 0
        live = conn.execute("SELECT count(*) FROM responses").fetchone()[0]
    assert live == SQ_ROUNDS * SQ_PEOPLE
    assert sealed_strays(sealed) == []


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
        rounds[n] = _open_round(app, tmp_path, f"PG Forensik {n}")
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
        with engine.connect() as conn:  # no ANALYZE copies samples (who answered) into pg_statistic
            for round_id in truth.order:
                options = conn.execute(
                    text(f"SELECT reloptions FROM pg_class WHERE relname = 'round_{round_id}_claims'")
                )
                assert "autovacuum_enabled=false" in options.scalar_one()
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


# -- Answer cards (issue 21) ----------------------------------------------------------------------------


def test_a_card_round_stores_no_code_and_links_no_card(tmp_path: Path) -> None:
    """A card round through the real form, 6 of 8 cards used (the sixth a paper form typed in by a
    facilitator with a spare card). While open, in a copy at rest: every answered flag names a card row
    with no participant and no email (nothing to join to a person), the typist's audit event names the
    round only, and no card's code is anywhere in the files, in clear or behind a plain SHA-256 (only the
    keyed hash is stored). After close: the flags and the round's own tables are gone, the answers are in
    ``responses`` with random ids, and still no code in the files."""
    import hashlib

    from survey.domain.cards import round_cards
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team

    db_file = tmp_path / "tryghed.sqlite"
    app = make_app(tmp_path)
    rt = app.extensions["tryghed"]
    items = rt.content.instrument().items
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "Team Kort", "leder@example.org", "Lis", "da")
        rid = create_round(rt, s, team.id, channel="cards", cards=8, min_responses=3).id
        open_round(rt, s, rid)
        codes = [c.url.rsplit("/", 1)[1] for c in round_cards(rt, s, rid)[1]]
    client = app.test_client()
    for person, code in enumerate(codes[:5]):
        page = client.get(f"/k/{code}")
        hidden = hidden_fields(page.get_data(as_text=True))
        answered = client.post(f"/k/{code}", data={**hidden, **answers_for(person, items)})
        assert answered.status_code == 200
    # the sixth is a paper form, typed in by a facilitator with a spare card (survey/web/paper_entry.py)
    from tests.web_helpers import add_account, login, post_form

    add_account(app, "fie@example.org", "facilitator")
    typist = app.test_client()
    assert login(typist, "fie@example.org") == 303
    entry = f"/rounds/{rid}/paper"
    typed = post_form(typist, entry, entry, {"code": codes[5], **answers_for(5, items)})
    assert typed.status_code == 303  # type: ignore[attr-defined]

    def no_code_in(copy: Path) -> None:
        files = b"".join(f.read_bytes() for f in copy.parent.iterdir())
        for code in codes:
            plain = hashlib.sha256(code.encode())
            assert code.encode() not in files
            assert plain.hexdigest().encode() not in files and plain.digest() not in files

    open_copy = _copy_at_rest(db_file, tmp_path / "open")
    no_code_in(open_copy)
    conn = _read_only(open_copy)
    flagged = conn.execute(
        f"SELECT i.participant_id, i.email FROM round_{rid}_claims c JOIN invitations i ON i.id = c.invitation_id"  # noqa: S608
        " WHERE c.answered"
    ).fetchall()
    assert len(flagged) == 6 and set(flagged) == {(None, "")}  # a flag names a card, and a card names no one
    assert conn.execute("SELECT count(*) FROM participants").fetchone() == (0,)
    # the typist is in the audit log (accountable for how many forms), with the round only: no card, no answer
    typed_in = conn.execute("SELECT actor, subject FROM audit_events WHERE action = 'paper_form_entered'").fetchall()
    assert typed_in == [("fie@example.org", f"round {rid}")]
    conn.close()

    close(app, rid)
    closed_copy = _copy_at_rest(db_file, tmp_path / "closed")
    no_code_in(closed_copy)
    conn = _read_only(closed_copy)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not {t for t in tables if t.startswith(f"round_{rid}_")}
    stored = [json.loads(a) for (a,) in conn.execute("SELECT answers FROM responses WHERE round_id = ?", (rid,))]
    assert sorted(person_of(a, items) for a in stored) == list(range(6))
    columns = {r[1] for r in conn.execute("PRAGMA table_info(responses)")}
    assert columns == {"id", "round_id", "answers", "filled"}  # nothing that could name a card
    conn.close()


@pytest.mark.postgres
def test_postgres_card_round_after_the_seal_keeps_no_link_or_order(pg_url: str, tmp_path: Path) -> None:
    """The same card round on PostgreSQL, answered (by phone and one typed-in paper form) and closed while
    another role holds a snapshot: the round's own tables are gone, no tuple but the live sealed sets holds
    answer bytes, all of them written by one transaction, the cards' rows have no dead versions, and no
    table holds a card's code."""
    from survey.domain.cards import round_cards
    from survey.domain.rounds import create_round, open_round
    from survey.domain.teams import add_team
    from tests.web_helpers import add_account, login, post_form

    app = make_app(tmp_path, pg_url)
    rt = app.extensions["tryghed"]
    items = rt.content.instrument().items
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        conn.commit()
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "PG Kort", "leder@example.org", "Lis", "da")
        rid = create_round(rt, s, team.id, channel="cards", cards=8, min_responses=3).id
        open_round(rt, s, rid)
        codes = [c.url.rsplit("/", 1)[1] for c in round_cards(rt, s, rid)[1]]
    add_account(app, "fie@example.org", "facilitator")
    phone, typist = app.test_client(), app.test_client()
    assert login(typist, "fie@example.org") == 303
    order = list(range(6))
    random.Random(21).shuffle(order)
    with held_transactions(pg_url):
        for person in order:
            if person == 5:
                entry = f"/rounds/{rid}/paper"
                typed = post_form(typist, entry, entry, {"code": codes[5], **answers_for(5, items)})
                assert typed.status_code == 303  # type: ignore[attr-defined]
            else:
                assert phone.post(f"/k/{codes[person]}", data=answers_for(person, items)).status_code == 200
        shown = close(app, rid)
        assert shown["responses"] == 6 and shown["trail_pending"] is False, shown
        with engine.connect() as conn:
            assert conn.execute(text(f"SELECT to_regclass('round_{rid}_claims')")).scalar() is None
            answer_bearing = {
                table: [p for _x, d in heap_tuples(conn, table) for p in answer_sets_in(d, items)]
                for table in user_tables(conn)
            }
            assert {t for t, found in answer_bearing.items() if found} == {"responses"}
            assert sorted(answer_bearing["responses"]) == list(range(6))  # no dead or stray copies
            xmins = conn.execute(text("SELECT DISTINCT xmin::text FROM responses WHERE round_id = :r"), {"r": rid})
            assert len(xmins.all()) == 1  # one transaction wrote them all: no order, no time per answer
            stored, rows = len(heap_tuples(conn, "invitations")), conn.execute(text("SELECT count(*) FROM invitations"))
            assert stored == rows.scalar_one(), "dead invitation versions readable with pageinspect"
            for table in user_tables(conn):
                raw = b"".join(d for _x, d in heap_tuples(conn, table))
                assert not any(code.encode() in raw for code in codes), table
    engine.dispose()
    rt.db.dispose()
