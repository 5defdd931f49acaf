"""Step 1: the leader's kick-off email carries the shared knowledge, once per round."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from pipeline.tasks import send_pending
from survey.domain.kickoff import queue_kickoff
from survey.domain.rounds import create_round
from survey.domain.teams import add_team
from survey.errors import UserError
from tests.helpers import html_part, read_outbox, text_part


@pytest.mark.parametrize(("lang", "phrase"), [("da", "Roller og ansvar"), ("en", "Roles and responsibility")])
def test_kickoff_email_once(app: Flask, tmp_path: Path, lang: str, phrase: str) -> None:
    rt = app.extensions["tryghed"]
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "Team Kilden", "leder@example.org", "Lis", lang)
        rnd = create_round(rt, s, team.id)
        assert queue_kickoff(s, rnd.id) == "leder@example.org"
        with pytest.raises(UserError, match="already been sent"):
            queue_kickoff(s, rnd.id)
        send_pending.delay(rnd.id)
    mails = read_outbox(tmp_path / "outbox")
    assert len(mails) == 1 and mails[0]["To"] == "leder@example.org"
    text, html = text_part(mails[0]), html_part(mails[0])
    for content in (text, html):
        assert phrase in content and "skab-psykologisk-tryghed.dk/faelles-viden/" in content
    assert all(p.name.get(lang) in text for p in rt.content.instrument().pillars)
