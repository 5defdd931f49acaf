"""Submission is atomic: one link, many simultaneous posts, exactly one stored answer set; and an accepted
answer is committed before the thank-you page leaves the server."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import make_app
from tests.helpers import Browser, LiveServer, hidden_fields, read_outbox, setup_round, stored_answers, submit, token_of

THREADS = 30


def _answers(app: Any, value: int = 4) -> dict[str, int]:
    return {item.key: value for item in app.extensions["tryghed"].content.instrument().items}


def test_thirty_concurrent_posts_of_one_link_store_one_answer(db_url: str, tmp_path: Path) -> None:
    """Acceptance 3: 30 threads post the same link at once through a real HTTP server (SQLite, PostgreSQL)."""
    app = make_app(tmp_path, db_url)
    with LiveServer(app) as live:
        app.extensions["tryghed"].config["BASE_URL"] = live.url
        _team, round_id = setup_round(app, 3)
        token = token_of(read_outbox(tmp_path / "outbox")[0])
        url = f"{live.url}/s/{token}"
        answers = _answers(app)
        # every "browser" loads the form first, then all post together
        browsers = [Browser() for _ in range(THREADS)]
        forms: list[dict[str, str]] = []
        for b in browsers:
            status, page = b.request(url)
            assert status == 200
            forms.append(hidden_fields(page))
        barrier = threading.Barrier(THREADS)
        results: list[int] = []
        lock = threading.Lock()

        def post(b: Browser, fields: dict[str, str]) -> None:
            barrier.wait()
            status, _page = b.request(url, {**fields, **answers})
            with lock:
                results.append(status)

        threads = [threading.Thread(target=post, args=(b, c)) for b, c in zip(browsers, forms, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert sorted(results) == [200] + [409] * (THREADS - 1), results
    db = app.extensions["tryghed"].db
    assert stored_answers(app, round_id) == (1, 1)
    db.dispose()


def test_answer_is_committed_before_the_thank_you_page(tmp_path: Path) -> None:
    """When the thank-you response is handed to the server, another connection already sees the answer."""
    app = make_app(tmp_path)
    _team, round_id = setup_round(app, 3)
    seen: list[int] = []
    other = create_engine(f"sqlite:///{tmp_path / 'tryghed.sqlite'}")

    @app.after_request
    def count_committed(response: Any) -> Any:
        if response.status_code == 200 and "Tak for dine svar" in response.get_data(as_text=True):
            with other.connect() as conn:  # a separate connection sees committed rows only
                seen.append(
                    conn.execute(text(f"SELECT count(*) FROM round_{round_id}_answers WHERE filled")).scalar_one()
                )
        return response

    token = token_of(read_outbox(tmp_path / "outbox")[0])
    assert submit(app.test_client(), token, _answers(app)).status_code == 200
    other.dispose()
    app.extensions["tryghed"].db.dispose()
    assert seen == [1]
