"""What facilitators watch: teams and rounds with response rates, never a figure or a person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask

from survey.cli import main
from tests.helpers import read_outbox, setup_round, submit, token_of


def cli(app: Flask, *args: str) -> dict[str, Any]:
    config = app.extensions["tryghed"].config
    result = CliRunner().invoke(
        main,
        [*args, "--json"],
        env={"TRYGHED_DATABASE_URL": config["DATABASE_URL"], "TRYGHED_SECRET_KEY": config["SECRET_KEY"]},
    )
    assert result.exit_code in (0, 1), result.output
    return {"exit": result.exit_code, **json.loads(result.output)}


def test_team_and_round_lists(app: Flask, tmp_path: Path) -> None:
    from survey.content import load_content

    team_id, round_id = setup_round(app, 6)
    client = app.test_client()
    items = load_content().instrument().items
    for msg in read_outbox(tmp_path / "outbox")[:2]:
        assert submit(client, token_of(msg), {i.key: 5 for i in items}).status_code == 200

    teams = cli(app, "team", "list")["teams"]
    assert teams == [
        {
            "id": team_id,
            "name": "Team Æblegården",
            "leader_email": "leder@example.org",
            "lang": "da",
            "participants": 6,
            "rounds": 1,
        }
    ]
    listed = cli(app, "round", "list", str(team_id))["rounds"]
    assert [(r["id"], r["status"], r["invited"], r["responses"]) for r in listed] == [(round_id, "open", 6, 2)]
    assert not any(key in listed[0] for key in ("pillars", "items", "mean", "answered"))
    assert cli(app, "round", "list")["rounds"] == listed
    missing = cli(app, "round", "list", "999")
    assert missing["exit"] == 1 and "does not exist" in missing["error"]
