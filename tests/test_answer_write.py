"""An answer's write on PostgreSQL (issue 22, point 1): small and local, and still never crossing a close.

- An answer set is a row of small integers (a ``smallint`` column per item of the round's instrument), and
  the seal reads back exactly the answers given; a set whose items have no column (the instrument's items
  changed while the round was open) is kept whole as JSON.
- Closing and answering never cross although answers no longer lock the round's row: closing waits for an
  answer in flight (which is then sealed with the others), and an answer that comes while the close is
  being committed waits for it and is refused ("closed"), storing nothing.
- Two posts of one link at the same moment: one is stored, the other is told "answered".
- Migration 0016 down: the sets in item columns become the fixed-width JSON of ``encode_answers`` again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, select, text, update

from survey.data.models import Invitation, encode_answers
from survey.domain import answer_store, round_storage
from tests.conftest import make_app
from tests.helpers import close, setup_round
from tests.test_seal import _alembic

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(pg_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on a throwaway PostgreSQL database, its pools closed after the test."""
    app = make_app(tmp_path, pg_url)
    yield app
    app.extensions["tryghed"].db.dispose()


def _round(app: Flask, people: int = 4) -> tuple[int, list[int], list[str]]:
    """An open round: its id, its invitation ids and its instrument's item keys."""
    rt = app.extensions["tryghed"]
    _team, round_id = setup_round(app, people)
    with rt.db.session() as s:
        invitations = list(
            s.scalars(select(Invitation.id).where(Invitation.round_id == round_id).order_by(Invitation.id))
        )
    return round_id, invitations, [i.key for i in rt.content.instrument().items]


def _store(app: Flask, invitation: int, round_id: int, answers: dict[str, int]) -> str:
    with app.extensions["tryghed"].db.answer_engine.connect() as conn:
        return answer_store.store_answer(conn, invitation, round_id, answers)


def _own(app: Flask, round_id: int) -> list[dict[str, int]]:
    with app.extensions["tryghed"].db.session() as s:
        return sorted(round_storage.own_answers(s, round_id), key=lambda a: sorted(a.items()))


def _in_flight(app: Flask, round_id: int, invitation: int, answers: dict[str, int]) -> Connection:
    """A connection whose transaction has claimed ``invitation`` and stored its answers, not yet committed."""
    conn = app.extensions["tryghed"].db.engine.connect()
    keys = sorted(answers)
    values = {f"a{n}": answers[k] for n, k in enumerate(keys)}
    done = conn.exec_driver_sql(
        answer_store.claim_and_store_sql(round_id, keys), {"i": invitation, "r": round_id, **values}
    ).one()
    assert tuple(done) == (1, 1, None)
    return conn


def _waiting(app: Flask, thread: threading.Thread) -> bool:
    """True once ``thread`` is blocked on a lock in PostgreSQL (and still running).

    Each poll is a transaction of its own: PostgreSQL keeps a transaction's view of pg_stat_activity until it
    ends, so polling inside one transaction never sees a wait that began after the first poll."""
    engine = app.extensions["tryghed"].db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for _ in range(200):
            waits = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waits:
                return thread.is_alive()
            time.sleep(0.05)
    return False


def _after_waiting(app: Flask, target: Callable[[], Any], release: Callable[[], None]) -> list[Any]:
    """Run ``target`` in a thread, check that it waits on a lock in PostgreSQL, then ``release`` the lock;
    returns what ``target`` returned."""
    outcome: list[Any] = []
    thread = threading.Thread(target=lambda: outcome.append(target()))
    thread.start()
    assert _waiting(app, thread)
    release()
    thread.join(timeout=30)
    return outcome


def _commit_and_close(conn: Connection) -> None:
    conn.commit()
    conn.close()


def test_an_answer_set_is_a_row_of_small_integers(app: Flask) -> None:
    round_id, invitations, keys = _round(app)
    with app.extensions["tryghed"].db.engine.connect() as conn:
        columns = dict(
            conn.execute(
                text("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = :t"),
                {"t": round_storage.answers_table(round_id)},
            ).all()
        )
    assert {c: t for c, t in columns.items() if c.startswith("i_")} == {f"i_{k}": "smallint" for k in keys}
    given = [{k: (n + i) % 5 + 1 for n, k in enumerate(keys)} for i in range(3)]
    for invitation, answers in zip(invitations, given, strict=False):
        assert _store(app, invitation, round_id, answers) == "stored"
    with app.extensions["tryghed"].db.engine.connect() as conn:
        raw = conn.execute(text(f"SELECT answers FROM {round_storage.answers_table(round_id)}")).scalars().all()
    assert raw == [None, None, None]  # no JSON: the items' columns hold the answers
    assert _own(app, round_id) == sorted(given, key=lambda a: sorted(a.items()))


def test_an_answer_set_whose_items_have_no_column_is_kept_whole(app: Flask) -> None:
    """The instrument's items changed while the round was open: an item without a column sends the whole
    set to JSON (on every later answer too), and an item left out is simply not in the set."""
    round_id, invitations, keys = _round(app)
    renamed = {**dict.fromkeys(keys[1:], 2), "nyt_spoergsmaal": 5}
    fewer = dict.fromkeys(keys[:-1], 3)
    assert _store(app, invitations[0], round_id, renamed) == "stored"
    assert _store(app, invitations[1], round_id, renamed | {"nyt_spoergsmaal": 1}) == "stored"
    assert _store(app, invitations[2], round_id, fewer) == "stored"
    assert _own(app, round_id) == sorted(
        [renamed, renamed | {"nyt_spoergsmaal": 1}, fewer], key=lambda a: sorted(a.items())
    )


def test_closing_waits_for_an_answer_in_flight_and_seals_it(app: Flask) -> None:
    from survey.domain.rounds import close_round

    rt = app.extensions["tryghed"]
    round_id, invitations, keys = _round(app)
    answer = _in_flight(app, round_id, invitations[0], dict.fromkeys(keys, 4))

    def closer() -> str:
        time.sleep(0.5)
        with app.app_context(), rt.db.session() as s:
            return close_round(rt, s, round_id).status

    # the close waits for the answer's transaction
    assert _after_waiting(app, closer, lambda: _commit_and_close(answer)) == ["closing"]
    with rt.db.session() as s:
        assert answer_store.seal_round(s, round_id) == 1
        s.commit()


def test_an_answer_during_the_close_waits_and_is_refused(app: Flask) -> None:
    from survey.data.models import Round

    rt = app.extensions["tryghed"]
    round_id, invitations, keys = _round(app)
    with rt.db.session() as s:
        round_storage.hold_answers(s, round_id)  # what close_round does first
        s.execute(update(Round).where(Round.id == round_id).values(status="closing"))
        # the answer waits for the close, and then reads its status
        outcome = _after_waiting(app, lambda: _store(app, invitations[0], round_id, dict.fromkeys(keys, 4)), s.commit)
    assert outcome == ["closed"]
    assert _own(app, round_id) == []


def test_two_posts_of_one_link_at_once_store_one_answer(app: Flask) -> None:
    round_id, invitations, keys = _round(app)
    first = _in_flight(app, round_id, invitations[0], dict.fromkeys(keys, 2))
    # the second waits for the first's claim, and then finds the link used
    second = _after_waiting(
        app, lambda: _store(app, invitations[0], round_id, dict.fromkeys(keys, 5)), lambda: _commit_and_close(first)
    )
    assert second == ["answered"]
    assert _own(app, round_id) == [dict.fromkeys(keys, 2)]


def test_migration_0016_down_writes_the_answer_sets_back_as_json(app: Flask) -> None:
    rt = app.extensions["tryghed"]
    round_id, invitations, keys = _round(app, 5)
    given = [{k: (n * 3 + i) % 11 for n, k in enumerate(keys)} for i in range(3)]  # 0..10: one and two digits
    given.append({k: 7 for k in keys[:-2]})  # two items left out
    for invitation, answers in zip(invitations, given, strict=False):
        assert _store(app, invitation, round_id, answers) == "stored"
    _alembic(app, "downgrade", "0015")
    table = round_storage.answers_table(round_id)
    with rt.db.engine.connect() as conn:
        stored: list[Any] = conn.execute(text(f"SELECT answers FROM {table} WHERE filled")).scalars().all()
        columns = conn.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"), {"t": table}
        ).scalars()
        assert sorted(columns) == ["answers", "filled"]  # the layout of 0015
    assert sorted(stored) == sorted(encode_answers(a) for a in given)
    _alembic(app, "upgrade", "head")
    rt.db.dispose()
    assert _store(app, invitations[4], round_id, dict.fromkeys(keys, 1)) == "stored"  # into item columns again
    assert _own(app, round_id) == sorted([*given, dict.fromkeys(keys, 1)], key=lambda a: sorted(a.items()))


# -- The POST in one statement (``answer_store.submit``): the link looked up in the round its form names ----


def _links(app: Flask, tmp_path: Path, team: str) -> tuple[int, list[str]]:
    """An open round of three for ``team`` and its links (tokens), from the outbox."""
    from tests.helpers import read_outbox, token_of

    _team, round_id = setup_round(app, 3, team_name=team)
    mails = [m for m in read_outbox(tmp_path / "outbox") if team in str(m["Subject"])]
    return round_id, [token_of(m) for m in mails]


def _submit(app: Flask, token: str, round_id: int, instrument: str, answers: dict[str, int]) -> str | None:
    from survey.domain.tokens import hash_token

    with app.extensions["tryghed"].db.answer_engine.connect() as conn:
        return answer_store.submit(conn, hash_token(token), round_id, instrument, answers)


def test_a_post_in_one_statement_stores_only_in_the_links_own_open_round(app: Flask, tmp_path: Path) -> None:
    """``submit`` stores a link's answers only in its own round, only while it is open, only for the
    round's instrument and only once; anything else stores nothing and returns None (the view then takes
    the long way, which says why)."""
    from tests.helpers import stored_answers

    name = app.extensions["tryghed"].content.default_instrument
    round_a, links_a = _links(app, tmp_path, "Team A")
    round_b, _links_b = _links(app, tmp_path, "Team B")
    keys = [i.key for i in app.extensions["tryghed"].content.instrument().items]
    answers = dict.fromkeys(keys, 3)
    assert _submit(app, links_a[0], round_b, name, answers) is None  # the link is not round B's
    assert _submit(app, links_a[0], round_a, "another-instrument", answers) is None
    assert _submit(app, links_a[0], 10**8, name, answers) is None  # no such round (no such table)
    assert stored_answers(app) == (0, 0)
    assert _submit(app, links_a[0], round_a, name, answers) == "da"
    assert _submit(app, links_a[0], round_a, name, dict.fromkeys(keys, 5)) is None  # used already
    assert (stored_answers(app, round_a), stored_answers(app, round_b)) == ((1, 1), (0, 0))
    assert _own(app, round_a) == [answers]
    close(app, round_a)
    assert _submit(app, links_a[1], round_a, name, answers) is None  # closed and sealed: its tables are gone
    assert stored_answers(app, round_a) == (1, 0)  # the one sealed answer set; the flags went with the tables


def test_a_post_in_one_statement_waits_for_a_close_and_is_refused(app: Flask, tmp_path: Path) -> None:
    from survey.data.models import Round

    rt = app.extensions["tryghed"]
    round_id, links = _links(app, tmp_path, "Team C")
    keys = [i.key for i in rt.content.instrument().items]
    with rt.db.session() as s:
        round_storage.hold_answers(s, round_id)  # what close_round does first
        s.execute(update(Round).where(Round.id == round_id).values(status="closing"))
        waited = _after_waiting(
            app,
            lambda: _submit(app, links[0], round_id, rt.content.default_instrument, dict.fromkeys(keys, 4)),
            s.commit,
        )
    assert waited == [None]
    assert _own(app, round_id) == []


def test_the_form_names_its_round_and_a_post_naming_another_stores_in_its_own(app: Flask, tmp_path: Path) -> None:
    """Through the web: the form's hidden fields name the link's round; a post that names another round
    (or none, or junk) is still stored once, in the link's own round."""
    from tests.helpers import hidden_fields, stored_answers

    round_a, links_a = _links(app, tmp_path, "Team D")
    round_b, links_b = _links(app, tmp_path, "Team E")
    client = app.test_client()
    keys = [i.key for i in app.extensions["tryghed"].content.instrument().items]
    served = hidden_fields(client.get(f"/s/{links_a[0]}").text)
    assert served == {"_round": str(round_a), "_instrument": app.extensions["tryghed"].content.default_instrument}
    assert hidden_fields(client.get(f"/s/{links_b[0]}").text)["_round"] == str(round_b)
    other = {**served, "_round": str(round_b)}
    for token, fields in ((links_a[0], other), (links_a[1], {**served, "_round": "-1"}), (links_a[2], {})):
        assert client.post(f"/s/{token}", data={**fields, **dict.fromkeys(keys, 2)}).status_code == 200
        assert client.post(f"/s/{token}", data={**served, **dict.fromkeys(keys, 2)}).status_code == 409
    assert (stored_answers(app, round_a), stored_answers(app, round_b)) == ((3, 3), (0, 0))
