"""The seal at close (issue 16): it never blocks answering, it is retried until the open round's storage is
gone, a seal that fails halfway loses nothing, and rounds open during the upgrade keep working."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy import create_engine, inspect, text

from survey.data.db import MIGRATIONS
from tests.conftest import make_app
from tests.helpers import Browser, LiveServer, close, read_outbox, setup_round, stored_answers, submit, token_of
from tests.web_helpers import add_account, login


def _answers(app: Flask, value: int = 4) -> dict[str, int]:
    return {i.key: value for i in app.extensions["tryghed"].content.instrument().items}


def _links(tmp: Path, team: str) -> list[str]:
    return [token_of(m) for m in read_outbox(tmp / "outbox") if team in str(m["Subject"])]


def _show(app: Flask, round_id: int) -> dict[str, Any]:
    from survey.domain.rounds import show_round

    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        return show_round(rt, s, round_id)


def _own_tables(app: Flask, round_id: int) -> list[str]:
    names = inspect(app.extensions["tryghed"].db.engine).get_table_names()
    return sorted(n for n in names if n in (f"round_{round_id}_answers", f"round_{round_id}_claims"))


@pytest.mark.postgres
def test_closing_never_blocks_answering(pg_url: str, tmp_path: Path) -> None:
    """Issue 16, acceptance 2. Another application's session holds ACCESS SHARE on every table of the
    schema and a REPEATABLE READ snapshot while one team's round is closed, sealed and reported, and
    another team's 24 members answer at the same time through a real server: every answer is stored, none
    takes 2 s, and the report goes out. The closing round's own tables wait (``trail_pending``, with the
    reason, in ``round show`` and on the facilitator's team page) until the reader lets go; the next tick
    drops them."""
    from pipeline.tasks import run_pipeline, tick
    from survey.domain.rounds import close_round

    app = make_app(tmp_path, pg_url)
    rt = app.extensions["tryghed"]
    reader_engine = create_engine(pg_url, isolation_level="REPEATABLE READ")
    with LiveServer(app) as live:
        rt.config["BASE_URL"] = live.url
        closing_team, closing = setup_round(app, 6, team_name="Lukkehold")
        _other_team, other = setup_round(app, 24, team_name="Svarhold")
        for token in _links(tmp_path, "Lukkehold")[:5]:
            assert Browser().answer(f"{live.url}/s/{token}", _answers(app))[0] == 200
        links = _links(tmp_path, "Svarhold")
        reader = reader_engine.connect()
        tables = reader.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
        for table in list(tables):
            reader.execute(text(f'LOCK TABLE "{table}" IN ACCESS SHARE MODE'))
        assert reader.execute(text("SELECT count(*) FROM invitations")).scalar_one() == 30  # the snapshot
        held = reader.execute(
            text(
                "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = pg_backend_pid()"
            )
        ).scalars()
        assert {f"round_{closing}_answers", f"round_{other}_claims", "responses", "rounds"} <= set(held)

        timings: list[tuple[int, float]] = []
        lock = threading.Lock()
        started = threading.Event()

        def answer(mine: list[str]) -> None:
            for token in mine:
                t0 = time.perf_counter()
                status, _page = Browser().answer(f"{live.url}/s/{token}", _answers(app, 3))
                with lock:
                    timings.append((status, time.perf_counter() - t0))
                started.set()

        def closer() -> None:
            started.wait(30)
            with app.app_context():
                with rt.db.session() as s:
                    close_round(rt, s, closing)
                run_pipeline.delay(closing)  # seal, aggregate, render, deliver: in this thread

        threads = [threading.Thread(target=answer, args=(links[i::4],)) for i in range(4)]
        threads.append(threading.Thread(target=closer))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        shown = _show(app, closing)
        page = _team_page(app, closing_team)
        reader.rollback()
        reader.close()
    reader_engine.dispose()
    assert [s for s, _t in timings] == [200] * 24, timings
    assert max(t for _s, t in timings) < 2.0, sorted(t for _s, t in timings)[-3:]
    assert stored_answers(app, other) == (24, 24)
    assert shown["status"] == "reported" and shown["responses"] == 5, shown
    reports = [
        m
        for m in read_outbox(tmp_path / "outbox")
        if "Lukkehold" in str(m["Subject"]) and any(p.get_content_type() == "application/pdf" for p in m.walk())
    ]
    assert len(reports) == 1  # the leader's report went out while the reader held its locks
    assert shown["trail_pending"] is True and "lock" in shown["trail_reason"], shown
    assert "venter stadig på at blive fjernet" in page
    assert _own_tables(app, closing) == [f"round_{closing}_answers", f"round_{closing}_claims"]
    with app.app_context():
        done = tick.delay().get()
    assert closing in done["trails"]
    after = _show(app, closing)
    assert after["trail_pending"] is False and after["trail_reason"] is None
    assert _own_tables(app, closing) == []
    assert after["responses"] == 5
    rt.db.dispose()


def _team_page(app: Flask, team_id: int) -> str:
    add_account(app, "facilitator@example.org", "facilitator")
    client = app.test_client()
    assert login(client, "facilitator@example.org") == 303
    response = client.get(f"/teams/{team_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_seal_that_fails_halfway_loses_nothing_and_runs_again(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seal fails after it wrote its rows to ``responses`` (a fault injected into its last write, the
    deletion of reminder rows): its transaction rolls back, the answers stay complete in the round's own
    tables, its links say 410; the next run seals and reports with every answer."""
    from pipeline.tasks import tick
    from survey.domain import round_storage

    app = make_app(tmp_path, db_url)
    _team, round_id = setup_round(app, 6)
    links = _links(tmp_path, "Æblegården")
    client = app.test_client()
    for token in links[:4]:
        assert submit(client, token, _answers(app)).status_code == 200
    real = round_storage.seal_rows
    failures = iter([RuntimeError("disk full, say")])

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # the rows are written, then the seal fails
        for exc in failures:
            raise exc

    monkeypatch.setattr(round_storage, "seal_rows", failing_once)
    shown = close(app, round_id)
    assert shown["status"] == "closing" and shown["trail_pending"] is False
    assert stored_answers(app, round_id) == (4, 4)  # still in the round's own tables, complete
    assert client.get(f"/s/{links[0]}").status_code == 410
    app.extensions["tryghed"].config["STALL_SECONDS"] = 0
    with app.app_context():
        tick.delay()
    again = _show(app, round_id)
    assert again["status"] == "reported" and again["responses"] == 4, again
    assert _own_tables(app, round_id) == []
    app.extensions["tryghed"].db.dispose()


def _alembic(app: Flask, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with app.extensions["tryghed"].db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def test_rounds_open_during_the_upgrade_keep_every_answer(db_url: str, tmp_path: Path) -> None:
    """Migration 0008 both ways with an open round that holds answers: down to 0007 the answers go back to
    slots and flags (nothing lost), up again they move to the round's own tables; then links answered
    before still get 409, the others can answer, and the report counts every answer."""
    app = make_app(tmp_path, db_url)
    _team, round_id = setup_round(app, 6)
    links = _links(tmp_path, "Æblegården")
    client = app.test_client()
    for value, token in zip((1, 2, 3), links[:3], strict=True):
        assert submit(client, token, _answers(app, value)).status_code == 200
    db = app.extensions["tryghed"].db
    _alembic(app, "downgrade", "0007")
    with db.engine.connect() as conn:
        filled = conn.execute(text("SELECT answers FROM responses WHERE round_id = :r AND filled"), {"r": round_id})
        assert len(filled.all()) == 3
        flags = conn.execute(text("SELECT count(*) FROM invitations WHERE answered")).scalar_one()
        assert flags == 3
        assert not [t for t in inspect(conn).get_table_names() if t.startswith(f"round_{round_id}_")]
    _alembic(app, "upgrade", "head")
    db.dispose()
    assert stored_answers(app, round_id) == (3, 3)
    assert submit(client, links[0], _answers(app)).status_code == 409
    assert client.get(f"/s/{links[1]}").status_code == 409
    assert submit(client, links[3], _answers(app, 5)).status_code == 200
    shown = close(app, round_id)
    assert shown["responses"] == 4 and shown["status"] == "reported" and not shown["trail_pending"], shown
    with db.engine.connect() as conn:
        stored = sorted(
            conn.execute(text("SELECT answers FROM responses WHERE round_id = :r"), {"r": round_id}).scalars()
        )
    assert sorted(min(json.loads(a).values()) for a in stored) == [1, 2, 3, 5]
    db.dispose()


def test_a_round_the_pipeline_gave_up_on_is_still_sealed(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seal fails on every attempt until the pipeline gives up (``failed``); once it can run again, the
    next tick seals the round and drops its own tables anyway: a failed round keeps no trail either."""
    from pipeline.tasks import tick
    from survey.domain import round_storage

    app = make_app(tmp_path, db_url)
    _team, round_id = setup_round(app, 5)
    client = app.test_client()
    for token in _links(tmp_path, "Æblegården")[:3]:
        assert submit(client, token, _answers(app)).status_code == 200
    real = round_storage.seal_rows
    broken = {"yes": True}

    def failing(*args: Any, **kwargs: Any) -> None:
        if broken["yes"]:
            raise RuntimeError("the database refuses writes, say")
        real(*args, **kwargs)

    monkeypatch.setattr(round_storage, "seal_rows", failing)
    app.extensions["tryghed"].config["STALL_SECONDS"] = 0
    close(app, round_id)
    with app.app_context():
        for _ in range(2):  # attempts 2 and 3: then the pipeline gives up
            tick.delay()
    assert _show(app, round_id)["status"] == "failed"
    assert _own_tables(app, round_id) and stored_answers(app, round_id) == (3, 3)
    broken["yes"] = False
    with app.app_context():
        assert round_id in tick.delay().get()["trails"]
    assert _own_tables(app, round_id) == []
    assert stored_answers(app, round_id) == (3, 0)  # sealed into responses; no flags left anywhere
    app.extensions["tryghed"].db.dispose()


def test_the_tick_drops_trails_a_batch_at_a_time_and_a_refused_drop_waits_behind_the_others(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tick reads at most a batch of rounds whose own tables wait to be dropped, the rest on the next
    pass; a round whose drop a lock refused before (with its reason) comes after those never tried."""
    from sqlalchemy import update

    from pipeline.tick import plan
    from survey.data.models import Round
    from survey.domain import due, round_storage

    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    ids = [setup_round(app, 3, team_name=f"Hold {n}")[1] for n in range(3)]
    with rt.db.session() as s:  # sealed (into responses) and reported; their own tables still there
        s.execute(update(Round).where(Round.id.in_(ids)).values(status="reported", answer_storage="dropping"))
        s.execute(update(Round).where(Round.id == ids[0]).values(trail_reason="lock timeout; held by: pid 1"))
        s.commit()
    monkeypatch.setattr(due, "TICK_BATCH", 2)
    first = plan(rt, rt.now(), idle=True).trails
    assert first == ids[1:]
    for rid in first:
        assert round_storage.remove_trail(rt.db.engine, rid)
    assert plan(rt, rt.now(), idle=True).trails == ids[:1]
    assert round_storage.remove_trail(rt.db.engine, ids[0])
    assert plan(rt, rt.now(), idle=True).trails == []
    assert all(_own_tables(app, rid) == [] for rid in ids)
    rt.db.dispose()
