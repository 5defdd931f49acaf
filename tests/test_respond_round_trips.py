"""What one submission costs the database, counted on the wire (issue 12, acceptance point 3).

libpq's own protocol trace of every connection the app opens records each message the app sends; a round
trip ends with a ``Query`` (simple protocol) or a ``Sync`` (extended protocol). The floor of
``benchmarks/bench_answer.py`` needs one (an autocommit INSERT); the respondent path needs two: no ping
before each use, no BEGIN/COMMIT/ROLLBACK of its own, one statement for the GET to look the link up, and
one for the POST to look it up in the round its form names and claim the invitation and store the answers
(issue 22). A POST from a form that names no round (a page loaded before an upgrade) takes the long way:
one statement to look the link up and one to store. The throughput this buys is measured in
docs/benchmarks.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool

from tests.conftest import make_app
from tests.helpers import read_outbox, setup_round, stored_answers, submit, token_of

pytestmark = pytest.mark.postgres


def round_trips(trace: Path) -> list[str]:
    """The message that ended each round trip the client started: 'Query <sql>' or 'Sync'."""
    ends = []
    for line in trace.read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) > 3 and parts[1] == "F" and parts[3] in ("Query", "Sync"):
            ends.append(" ".join(parts[3:5]))
    return ends


def _traced(app: Any, tmp_path: Path, name: str, requests: Callable[[], None]) -> list[str]:
    """The round trips of what ``requests`` does, on connections opened for it (their trace in ``name``)."""
    db = app.extensions["tryghed"].db
    trace = tmp_path / name
    with trace.open("w") as out:

        def traced(dbapi_conn: Any, _record: Any, _proxy: Any = None) -> None:
            dbapi_conn.pgconn.trace(out.fileno())

        db.dispose()  # every connection from here on is a new, traced one
        event.listen(Pool, "connect", traced)
        try:
            requests()
        finally:
            event.remove(Pool, "connect", traced)
            db.dispose()  # closes the traced connections before the file
    sent = round_trips(trace)
    assert not [m for m in sent if m.split(" ")[-1].upper() in ("BEGIN", "COMMIT", "ROLLBACK", "SELECT 1")]
    return sent


def test_a_submission_makes_two_round_trips(pg_url: str, tmp_path: Path) -> None:
    app = make_app(tmp_path, pg_url)
    db = app.extensions["tryghed"].db
    try:
        setup_round(app, 3)
        links = [token_of(m) for m in read_outbox(tmp_path / "outbox")]
        assert submit(app.test_client(), links[0], _answers()).status_code == 200  # warm: pools, caches

        def one() -> None:
            assert submit(app.test_client(), links[1], _answers()).status_code == 200

        def old_form() -> None:  # the form as it was before it named its round: no hidden fields
            client = app.test_client()
            assert client.get(f"/s/{links[2]}").status_code == 200
            assert client.post(f"/s/{links[2]}", data=_answers()).status_code == 200

        assert len(_traced(app, tmp_path, "one.trace", one)) == 2
        assert stored_answers(app) == (2, 2)
        assert len(_traced(app, tmp_path, "old.trace", old_form)) == 3
        assert stored_answers(app) == (3, 3)
    finally:
        db.dispose()


def _answers() -> dict[str, int]:
    from survey.content import load_content

    return {i.key: 3 for i in load_content().instrument().items}


def test_a_connection_the_server_dropped_costs_the_respondent_nothing(pg_url: str, tmp_path: Path) -> None:
    """Without a ping before each use, a pooled connection may be dead (database restarted, idle timeout):
    the request is run once more on a fresh connection, and the answer is stored once."""
    app = make_app(tmp_path, pg_url)
    db = app.extensions["tryghed"].db
    try:
        setup_round(app, 3)
        link = token_of(read_outbox(tmp_path / "outbox")[0])
        client = app.test_client()
        assert client.get(f"/s/{link}").status_code == 200  # the answer engine's pool now holds a connection
        kill = (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql(kill).scalars().all()  # at least the respondent's connection
        assert submit(client, link, _answers()).status_code == 200
        assert stored_answers(app) == (1, 1)
    finally:
        db.dispose()
