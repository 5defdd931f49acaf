"""Follow-up rounds: by hand (``round followup``) and decided at close (``round close --followup-after``),
scheduled once, opened by the tick with the team's participants as they are then."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from pipeline.tasks import run_pipeline, tick
from survey.cli import main
from survey.domain.teams import import_participants
from survey.runtime import Runtime
from tests.conftest import make_app
from tests.helpers import read_outbox, setup_round, submit, token_of

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
CPH = ZoneInfo("Europe/Copenhagen")
# 90 days after NOW is Sunday 30 August: the follow-up opens the next weekday at the whole local hour
# (TRYGHED_ROUND_OPENS_AT, 08:00) and closes 14 days later at TRYGHED_ROUND_CLOSES_AT (16:00), issue 19
OPENS = datetime(2026, 8, 31, 8, 0, tzinfo=CPH)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The same installation for the CLI (environment) and the test (an app on the same database)."""
    clock = {"now": NOW}
    monkeypatch.setattr(Runtime, "now", lambda self: clock["now"])
    app = make_app(tmp_path)
    for key in ("DATABASE_URL", "SECRET_KEY", "OUTBOX_DIR", "BASE_URL"):
        monkeypatch.setenv(f"TRYGHED_{key}", str(app.config[key]))
    return {"app": app, "clock": clock}


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, [*args, "--json"])
    return result.exit_code, json.loads(result.output.strip().splitlines()[-1])


def test_followup_by_hand(env: dict[str, Any]) -> None:
    team_id, round_id = setup_round(env["app"], 5)
    code, shown = cli("round", "followup", str(round_id), "--after", "90d", "--duration", "2w")
    assert code == 0, shown
    assert shown["status"] == "scheduled" and shown["kind"] == "followup" and shown["team_id"] == team_id
    assert shown["previous_round_id"] == round_id and shown["number"] == 2
    opens = datetime.fromisoformat(shown["opens_at"])
    assert opens == OPENS
    assert datetime.fromisoformat(shown["closes_at"]) == datetime(2026, 9, 14, 16, 0, tzinfo=CPH)

    code, again = cli("round", "followup", str(round_id), "--after", "90d")
    assert code == 1 and "already has a later round" in again["error"]
    code, bad = cli("round", "followup", str(shown["id"]), "--after", "soon")
    assert code == 1 and "--after" in bad["error"]


def test_followup_decided_at_close_is_scheduled_once_and_opens_with_current_participants(
    env: dict[str, Any],
) -> None:
    app, clock = env["app"], env["clock"]
    rt = app.extensions["tryghed"]
    team_id, round_id = setup_round(app, 5)
    client = app.test_client()
    answers = {item.key: 3 for item in rt.content.instrument().items}
    for mail in read_outbox(rt.config["OUTBOX_DIR"]):
        assert submit(client, token_of(mail), answers).status_code == 200

    code, bad = cli("round", "close", str(round_id), "--followup-after", "36h")
    assert code == 1 and "whole days" in bad["error"]
    assert cli("round", "show", str(round_id))[1]["status"] == "open"  # a refused option closes nothing

    code, closed = cli("round", "close", str(round_id), "--followup-after", "90d")
    assert code == 0 and closed["status"] == "reported", closed
    with app.app_context():
        run_pipeline.delay(round_id)  # a late duplicate of the pipeline task
        tick.run()
    followup_id = round_id + 1
    code, nxt = cli("round", "show", str(followup_id))
    assert code == 0 and nxt["status"] == "scheduled" and nxt["kind"] == "followup"
    assert datetime.fromisoformat(nxt["opens_at"]) == OPENS
    assert cli("round", "show", str(followup_id + 1))[0] == 1  # no second follow-up

    # a new colleague joins; the tick opens the follow-up when it is due and invites the team as it is then
    with app.app_context(), rt.db.session() as s:
        import_participants(s, team_id, "email,name\nny@example.org,Ny Kollega\n")
    clock["now"] = OPENS.astimezone(UTC) + timedelta(minutes=1)
    with app.app_context():
        assert followup_id in tick.run()["opened"]
    code, opened = cli("round", "show", str(followup_id))
    assert opened["status"] == "open" and opened["invited"] == 6
