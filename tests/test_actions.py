"""IGLO actions: recorded after a round, reviewed in the follow-up round's report."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.data.models import Report
from survey.domain.actions import add_action, list_actions
from survey.errors import UserError
from tests.helpers import close, pdf_text, read_outbox, setup_round, submit, text_part, token_of


def answer_new_invitations(client: FlaskClient, outbox: Path, seen: set[str], value: int) -> None:
    """Answer every invitation in the outbox not answered before, all with ``value``."""
    from survey.content import load_content

    items = load_content().instrument().items
    for msg in read_outbox(outbox):
        if msg.get_filename() or "/s/" not in text_part(msg):
            continue  # the leader's report email
        token = token_of(msg)
        if token not in seen:
            seen.add(token)
            assert submit(client, token, {i.key: value for i in items}).status_code == 200


def test_actions_are_reviewed_in_the_followup_report(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    from survey.domain.rounds import create_round, open_round

    rt = app.extensions["tryghed"]
    team_id, first = setup_round(app, 5)
    seen: set[str] = set()
    answer_new_invitations(client, tmp_path / "outbox", seen, 3)
    with rt.db.session() as s, pytest.raises(UserError, match="after its results are out"):
        add_action(s, first, "gruppe", "x", "y", "z")
    assert close(app, first)["status"] == "reported"
    with rt.db.session() as s:
        with pytest.raises(UserError, match="level must be one of"):
            add_action(s, first, "team", "x", "y", "z")
        add_action(s, first, "Gruppe", "Runde ved hvert teammøde: hvad lærte vi i ugen?", "Hele teamet", "marts")
        add_action(s, first, "ledelse", "Lederen beder om modsigelse før beslutninger", "Lis", "løbende")
        assert [a["level"] for a in list_actions(s, first)] == ["gruppe", "ledelse"]
        second = create_round(rt, s, team_id)
        assert second.kind == "followup" and second.previous_round_id == first
        with app.app_context():
            open_round(rt, s, second.id)
        second_id = second.id
    from pipeline.tasks import send_pending

    with app.app_context():
        send_pending.delay(second_id)
    answer_new_invitations(client, tmp_path / "outbox", seen, 4)
    shown = close(app, second_id)
    assert shown["status"] == "reported" and shown["kind"] == "followup"
    with rt.db.session() as s:
        pdf = s.get(Report, second_id).pdf
    text = " ".join(pdf_text(pdf, tmp_path).split())
    assert "Runde ved hvert teammøde" in text and "Lederen beder om modsigelse" in text
