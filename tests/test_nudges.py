"""Issue 19, nudges: the tick sends them through the outbox to a real SMTP server, once each, in the
recipient's language, and can be switched off; the leader's start page lists the same items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import make_app
from tests.helpers import SMTPSink, close, setup_round, submit, text_part, token_of
from tests.web_helpers import add_account, login


@pytest.fixture
def mail_app(tmp_path: Path, db_url: str, smtp: SMTPSink) -> Iterator[Flask]:
    app = make_app(tmp_path, db_url, **smtp.config())
    yield app
    app.extensions["tryghed"].db.dispose()


def answer_by_mail(app: Flask, smtp: SMTPSink, values: list[int]) -> None:
    """Answer invitations received by the SMTP server, one per value."""
    rt = app.extensions["tryghed"]
    items = rt.content.instrument().items
    client = app.test_client()
    invitations = [m for m in smtp.messages if "/s/" in text_part(m)]
    for msg, value in zip(invitations, values, strict=False):
        assert submit(client, token_of(msg), {i.key: value for i in items}).status_code == 200


def tick(app: Flask) -> dict:
    from pipeline.tasks import tick as tick_task

    with app.app_context():
        return tick_task.run()


def test_nudges_arrive_once_each_in_the_recipients_language(
    mail_app: Flask, smtp: SMTPSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from icalendar import Calendar

    from survey.domain import actions, tracks

    app = mail_app
    rt = app.extensions["tryghed"]
    add_account(app, "leder@example.org", "leader", lang="en")  # the team is Danish, its leader reads English
    fac = add_account(app, "fac@example.org", "facilitator", lang="da")
    team_id, rid = setup_round(app, 5)
    answer_by_mail(app, smtp, [2, 3, 3, 4, 2])
    assert close(app, rid)["status"] == "reported"

    # the report has arrived -> the debrief nudge, in English, with the guide's link; once only
    assert tick(app)["nudged"]["debrief"] == 1
    tick(app)
    [debrief] = smtp.by_subject("hold the meeting about the results")
    assert debrief["To"] == "leder@example.org" and "/debrief" in text_part(debrief) and "/r/" in text_part(debrief)

    today = rt.now().astimezone(rt.tz).date()
    with app.app_context(), rt.db.session() as s:
        actions.add_action(
            s,
            rid,
            "gruppe",
            "Tjek ind hver mandag",
            "Bo",
            due=today + timedelta(days=2),
            owner_email="ejer@example.org",
        )
        actions.add_action(s, rid, "ledelse", "Spørg om modsigelse", "Lis", due=today - timedelta(days=3))
        actions.add_action(s, rid, "individ", "Langt ude", "Al", due=today + timedelta(days=30))
        dropped = actions.add_action(s, rid, "organisation", "Droppet", "HR", due=today - timedelta(days=1))
        actions.set_action_status(s, dropped.id, "dropped")
        req = tracks.request_facilitator(s, team_id, "debriefing", "En formiddag")
        req_id = req.id
    counts = tick(app)["nudged"]
    assert (counts["action_due"], counts["action_overdue"], counts["request_new"]) == (1, 1, 1)
    tick(app)
    [due] = smtp.by_subject("Snart frist")  # the owner has no account: the team's language
    assert due["To"] == "ejer@example.org" and "Tjek ind hver mandag" in text_part(due)
    [overdue] = smtp.by_subject("Overdue")
    assert overdue["To"] == "leder@example.org" and "Spørg om modsigelse" in text_part(overdue)
    [asked] = smtp.by_subject("ønsker en facilitator")
    assert asked["To"] == "fac@example.org" and "En formiddag" in text_part(asked)

    # a facilitator plans the session -> the leader gets it with a calendar invitation
    when = datetime.combine(today + timedelta(days=7), datetime.min.time().replace(hour=9), tzinfo=rt.tz)
    with app.app_context(), rt.db.session() as s:
        tracks.take_request(s, req_id, fac)
        tracks.plan_session(s, req_id, when, "Mødelokale 2", "Rapporten", when + timedelta(hours=3, minutes=30))
    assert tick(app)["nudged"]["session_planned"] == 1
    [planned] = smtp.by_subject("Planned:")
    [ics] = [p for p in planned.iter_attachments() if p.get_content_type() == "text/calendar"]
    event = next(c for c in Calendar.from_ical(ics.get_content()).walk("VEVENT"))
    assert event.decoded("dtstart") == when and str(event.get("location")) == "Mødelokale 2"
    # the end the facilitator planned (the toolkit's sessions take 1.5-4 hours, as needed)
    assert event.decoded("dtend") == when + timedelta(hours=3, minutes=30)

    # the leader's start page lists the same items
    web = app.test_client()
    login(web, "leder@example.org")
    start = web.get("/").get_data(as_text=True)
    assert "Overdue since" in start and "Spørg om modsigelse" in start and "Mødelokale 2" in start
    assert "Langt ude" not in start  # not due for a month

    # 14 days later still no focus -> one reminder of what is missing
    later = rt.now() + timedelta(days=15)
    monkeypatch.setattr(rt, "now", lambda: later)
    assert tick(app)["nudged"]["no_plan"] == 1
    tick(app)
    [missing] = smtp.by_subject("still missing")
    assert "your focus" in text_part(missing)

    # switched off for the installation: nothing new is queued
    rt.config["NUDGES"] = False
    with app.app_context(), rt.db.session() as s:
        tracks.request_facilitator(s, team_id, "followup")
    assert tick(app)["nudged"] == {}
    assert len(smtp.by_subject("ønsker en facilitator")) == 1

    # the retention purge takes the nudges' addresses too: request nudges (no round) and action owners
    from survey.data.models import Action, Message
    from survey.domain.purge import purge_expired

    with rt.db.session() as s:
        purge_expired(s, rt.now() + timedelta(days=400), 90, timedelta(seconds=600))
        assert s.query(Message).filter(Message.round_id.is_(None)).count() == 0
        assert s.query(Action).filter(Action.owner_email.is_not(None)).count() == 0


def test_the_nudge_step_is_bounded_per_pass_and_never_repeats(app: Flask) -> None:
    from survey.data.models import Round, Team
    from survey.domain.nudges import queue_due

    rt = app.extensions["tryghed"]
    now = rt.now()

    def reported(s: Any, name: str, when: datetime) -> None:
        team = Team(name=name, leader_email=f"{name}@example.org", lang="da", trio_emails=[], track="selfguided")
        s.add(team)
        s.flush()
        fixed = {"instrument": "x", "min_responses": 5, "invited_count": 5, "reminders_sent": 0}
        s.add(Round(team_id=team.id, number=1, status="reported", pipeline_attempts=0, reported_at=when, **fixed))

    with rt.db.session() as s:
        for i in range(5):
            reported(s, f"t{i}", now)
        reported(s, "old", now - timedelta(days=60))  # an old report: outside the window, never nudged
        s.commit()
        passes = [queue_due(s, now, now.date(), batch=2)["debrief"] for _ in range(4)]
    assert passes == [2, 2, 1, 0]
