"""What facilitators watch: teams and rounds with response rates, never a figure or a person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask

from survey.cli import main
from tests.conftest import make_app
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


def test_team_list_pages_on_with_next_before_and_answers_as_before_without_options(db_url: str, tmp_path: Path) -> None:
    """``team list`` without options: every team, oldest first, the same object as before. With ``--limit``
    or ``--before``: a page, newest first, each team counted as in the whole list, and ``next_before``
    where the next page starts (null on the last)."""
    from survey.domain.teams import add_team, import_participants

    app = make_app(tmp_path, db_url)
    rt = app.extensions["tryghed"]
    with rt.db.session() as s:
        ids = []
        for n in range(5):
            team = add_team(s, f"Hold {n}", f"leder{n}@example.org", "Lis Leder", "da")
            rows = "\n".join(f"p{n}-{i}@example.org,Person {i}" for i in range(n))
            if n:
                import_participants(s, team.id, f"email,name\n{rows}\n")
            ids.append(team.id)
        s.commit()
    setup_round(app, 2, team_name="Hold med runde")
    everything = cli(app, "team", "list")
    assert set(everything) == {"exit", "teams"}
    whole = everything["teams"]
    assert [t["id"] for t in whole] == sorted(t["id"] for t in whole) and len(whole) == 6
    assert [(t["participants"], t["rounds"]) for t in whole] == [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (2, 1)]
    by_id = {t["id"]: t for t in whole}

    first = cli(app, "team", "list", "--limit", "4")
    assert [t["id"] for t in first["teams"]] == sorted(by_id, reverse=True)[:4]
    assert first["teams"] == [by_id[t["id"]] for t in first["teams"]]  # counted as in the whole list
    assert first["next_before"] == first["teams"][-1]["id"]
    second = cli(app, "team", "list", "--limit", "4", "--before", str(first["next_before"]))
    assert [t["id"] for t in second["teams"]] == ids[:2][::-1] and second["next_before"] is None
    assert second["teams"] == [by_id[i] for i in ids[:2][::-1]]
    before = cli(app, "team", "list", "--before", str(ids[3]))
    assert [t["id"] for t in before["teams"]] == ids[:3][::-1] and before["next_before"] is None
    assert cli(app, "team", "list", "--before", str(ids[0]))["teams"] == []
    refused = CliRunner().invoke(main, ["team", "list", "--limit", "0", "--json"])
    assert refused.exit_code != 0
    rt.db.dispose()
