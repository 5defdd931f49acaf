"""Closing while answers are in flight: every accepted answer is in the aggregate, and none is accepted after.

Answers write to the round's claims table (they do not wait for each other); closing holds that table in
SHARE mode while it changes the status, so it waits for the answers in flight, and later answers see
"closing" (PostgreSQL; SQLite has one writer at a time).
"""

from __future__ import annotations

import threading
from pathlib import Path

from survey.data.models import RoundResultRow
from tests.conftest import make_app
from tests.helpers import Browser, LiveServer, hidden_fields, read_outbox, setup_round, token_of

PEOPLE = 30


def test_close_during_answers_loses_and_admits_nothing(db_url: str, tmp_path: Path) -> None:
    """30 people post at once through a real server; the round is closed and aggregated after the 8th is
    accepted. The answers accepted (200) are exactly the answer sets aggregated; the others got 410."""
    from pipeline.tasks import run_pipeline
    from survey.domain.rounds import close_round

    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    items = rt.content.instrument().items
    with LiveServer(app) as live:
        rt.config["BASE_URL"] = live.url
        _team, round_id = setup_round(app, PEOPLE)
        links = [f"{live.url}/s/{token_of(m)}" for m in read_outbox(tmp_path / "outbox")]
        assert len(links) == PEOPLE
        browsers = [Browser() for _ in links]
        fields: list[dict[str, str]] = []
        for b, url in zip(browsers, links, strict=True):
            status, page = b.request(url)
            assert status == 200
            fields.append(hidden_fields(page))
        statuses: list[int] = []
        lock = threading.Lock()
        enough = threading.Event()
        barrier = threading.Barrier(PEOPLE + 1)

        def answer(i: int) -> None:
            barrier.wait()
            status, _page = browsers[i].request(links[i], {**fields[i], **{it.key: 4 for it in items}})
            with lock:
                statuses.append(status)
                if statuses.count(200) >= 8:
                    enough.set()

        def closer() -> None:
            barrier.wait()
            enough.wait(timeout=60)
            with app.app_context():
                with rt.db.session() as s:
                    close_round(rt, s, round_id)
                run_pipeline.delay(round_id)  # seal and aggregate while the other answers are still coming

        threads = [threading.Thread(target=answer, args=(i,)) for i in range(PEOPLE)]
        threads.append(threading.Thread(target=closer))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert set(statuses) <= {200, 410}, statuses
    accepted = statuses.count(200)
    assert accepted >= 8
    with rt.db.session() as s:
        stored = s.get(RoundResultRow, round_id)
        assert stored is not None
        assert stored.responses == accepted, (stored.responses, statuses)
    rt.db.dispose()
