"""``survey.web.request_db``: the sign-in check, the guard and the start page read in one session and one
connection; any other page gets the guard's connection back before its view runs, so no request holds two."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event

from tests.conftest import make_app
from tests.helpers import setup_round
from tests.web_helpers import add_account, login


@contextmanager
def _checkouts(app: Flask) -> Iterator[dict[str, int]]:
    """Connections taken from the pool meanwhile, and the most held at once."""
    engine = app.extensions["tryghed"].db.engine
    seen = {"taken": 0, "held": 0, "most": 0}

    def out(*_args: Any) -> None:
        seen["taken"] += 1
        seen["held"] += 1
        seen["most"] = max(seen["most"], seen["held"])

    def back(*_args: Any) -> None:
        seen["held"] -= 1

    event.listen(engine, "checkout", out)
    event.listen(engine, "checkin", back)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", out)
        event.remove(engine, "checkin", back)


def test_a_page_reads_in_one_connection_and_hands_it_back(tmp_path: Path, db_url: str) -> None:
    app = make_app(tmp_path, db_url)
    team_id, _round_id = setup_round(app, 3)
    add_account(app, "f@example.org", "facilitator")
    client = app.test_client()
    assert login(client, "f@example.org") == 303
    for path in ("/", "/attention"):  # the sign-in check and the page in one session
        with _checkouts(app) as seen:
            assert client.get(path).status_code == 200
        assert seen == {"taken": 1, "held": 0, "most": 1}, path
    with _checkouts(app) as seen:  # the guard checks the team, then the page reads in a session of its own
        assert client.get(f"/teams/{team_id}").status_code == 200
    assert seen["most"] == 1 and seen["held"] == 0 and seen["taken"] >= 2
    with _checkouts(app) as seen:  # a refused page: the guard's connection is back too
        assert client.get("/teams/999999").status_code == 404
    assert seen["held"] == 0
    app.extensions["tryghed"].db.dispose()
