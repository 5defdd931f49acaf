"""Acceptance 6, the tick level: a scheduled round over a daylight-saving change, driven by ``tick``
every 30 minutes of a controlled clock (embedded default: SQLite, in-process tasks, outbox folder)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from pipeline.tasks import tick
from survey.data.models import Message
from survey.domain.rounds import create_round
from survey.domain.teams import add_team, import_participants
from survey.runtime import Runtime
from tests.conftest import make_app
from tests.helpers import read_outbox, submit, token_of

CPH = ZoneInfo("Europe/Copenhagen")


@dataclass
class Clock:
    now: datetime


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CPH)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(datetime(2000, 1, 1, tzinfo=UTC))
    monkeypatch.setattr(Runtime, "now", lambda self: c.now)
    return c


def _messages(app: Flask, kind: str) -> list[Message]:
    with app.extensions["tryghed"].db.session() as s:
        return list(s.scalars(select(Message).where(Message.kind == kind).order_by(Message.id)))


@pytest.mark.parametrize(
    "start",
    [local(2026, 3, 27, 14, 0), local(2026, 10, 23, 14, 0)],  # Fridays before the DST changes
    ids=["spring-forward", "fall-back"],
)
def test_tick_reminds_non_respondents_in_working_hours(tmp_path: Path, clock: Clock, start: datetime) -> None:
    app = make_app(tmp_path, REMINDER_MAX=2, REMINDER_INTERVAL_DAYS=1, REMINDER_HOURS="8-16")
    rt = app.extensions["tryghed"]
    clock.now = start.astimezone(UTC)
    with app.app_context(), rt.db.session() as s:
        team = add_team(s, "Team Sommertid", "leder@example.org", "Lis Leder")
        rows = "\n".join(f"p{i}@example.org,Person {i}" for i in range(6))
        import_participants(s, team.id, f"email,name\n{rows}\n")
        rnd = create_round(rt, s, team.id, opens_at=start + timedelta(hours=1), closes_at=start + timedelta(days=7))
        round_id = rnd.id

    client = app.test_client()
    items = rt.content.instrument().items
    answers = {item.key: 4 for item in items}
    answered: set[str] = set()
    reminded_at: list[datetime] = []
    reminders_while_open: list[Message] = []  # the seal at close deletes the reminder rows (privacy.md)
    end = start + timedelta(days=7, hours=2)
    while clock.now < end:
        with app.app_context():
            tick.run()
        sent = len({m.seq for m in _messages(app, "reminder")})
        if sent > len(reminded_at):
            reminded_at.append(clock.now)
        if sent:
            reminders_while_open = _messages(app, "reminder") or reminders_while_open
        local_now = clock.now.astimezone(CPH)
        # two answer on Saturday, one on Monday afternoon (after the first reminder)
        who = {(5, 10): ["p0@example.org", "p1@example.org"], (0, 13): ["p2@example.org"]}
        for address in who.get((local_now.weekday(), local_now.hour), []):
            if address not in answered:
                mail = [e for e in read_outbox(rt.config["OUTBOX_DIR"]) if e["To"] == address]
                assert submit(client, token_of(mail[-1]), answers).status_code == 200  # whichever email
                answered.add(address)
        clock.now += timedelta(minutes=30)

    # opened on time (the first tick at or after 15:00 local), closed and reported on time
    with rt.db.session() as s:
        from survey.data.models import Round

        rnd = s.get(Round, round_id)
        assert rnd.opened_at.astimezone(CPH) == start + timedelta(hours=1)
        assert rnd.status == "reported"
        assert rnd.closed_at.astimezone(CPH) == start + timedelta(days=7)
    # reminders: Monday 08:00 and Tuesday 08:00 local, whatever the UTC offset did over the weekend
    assert [t.astimezone(CPH).strftime("%a %H:%M") for t in reminded_at] == ["Mon 08:00", "Tue 08:00"]
    assert reminded_at[0].astimezone(CPH).date() == (start + timedelta(days=3)).date()
    assert _messages(app, "reminder") == []  # sealed: who had not answered by then is gone
    reminders = reminders_while_open
    first = {m.recipient for m in reminders if m.seq == 1}
    second = {m.recipient for m in reminders if m.seq == 2}
    everyone = {f"p{i}@example.org" for i in range(6)}
    assert first == everyone - {"p0@example.org", "p1@example.org"}
    assert second == everyone - answered and len(second) == 3
    assert all(m.status == "sent" for m in reminders)
    # the reminder carries the invitation's link
    emails = {str(e["Message-ID"]): e for e in read_outbox(rt.config["OUTBOX_DIR"])}
    invitation_of = {m.recipient: m for m in _messages(app, "invitation")}
    for m in reminders:
        assert token_of(emails[m.message_id]) == token_of(emails[invitation_of[m.recipient].message_id])
    assert len(_messages(app, "report")) == 1
