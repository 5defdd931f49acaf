"""Issue 19, dates: follow-ups open and close at whole local times (08:00 and 16:00 Copenhagen time by
default, configurable, on weekdays), and a round opened or closed early shows when it really did."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask

from survey.domain.followup import whole_times
from tests.conftest import make_app
from tests.helpers import read_outbox, setup_round, text_part
from tests.web_helpers import add_account, login

CPH = ZoneInfo("Europe/Copenhagen")


def test_whole_times_fall_on_weekdays_at_the_configured_hours() -> None:
    now = datetime(2026, 12, 2, 6, 58, tzinfo=CPH)  # a Wednesday, at the odd minute of the report
    opens, closes = whole_times(now, timedelta(days=90), timedelta(days=14), CPH, "08:00", "16:00")
    assert opens == datetime(2027, 3, 2, 8, 0, tzinfo=CPH) and closes == datetime(2027, 3, 16, 16, 0, tzinfo=CPH)
    # 3 days from Wednesday is Saturday: the round opens on Monday instead, and never closes on a Sunday
    opens, closes = whole_times(now, timedelta(days=3), timedelta(days=7), CPH, "09:30", "15:00")
    assert (opens.weekday(), opens.hour, opens.minute) == (0, 9, 30) and opens.date().isoformat() == "2026-12-07"
    assert closes == datetime(2026, 12, 14, 15, 0, tzinfo=CPH)
    # a delay shorter than the rest of the day: the next weekday morning, never in the past
    late = datetime(2026, 12, 2, 17, 0, tzinfo=CPH)
    opens, closes = whole_times(late, timedelta(hours=2), timedelta(days=1), CPH, "08:00", "16:00")
    assert opens == datetime(2026, 12, 3, 8, 0, tzinfo=CPH) and closes == datetime(2026, 12, 4, 16, 0, tzinfo=CPH)


def test_followup_and_early_open_show_the_real_times(tmp_path: Path) -> None:
    from survey.domain.followup import create_followup
    from survey.domain.rounds import close_round, open_round, show_round

    app: Flask = make_app(tmp_path, ROUND_OPENS_AT="09:00")
    rt = app.extensions["tryghed"]
    _team, first = setup_round(app, 5)
    with app.app_context(), rt.db.session() as s:
        close_round(rt, s, first)
        follow = create_followup(rt, s, first, timedelta(days=90))
        fid = follow.id
        opens = follow.opens_at.astimezone(CPH)
        assert (opens.hour, opens.minute, follow.closes_at.astimezone(CPH).hour) == (9, 0, 16)
        # opened early, by hand: everything shows when it really opened
        open_round(rt, s, fid)
        shown = show_round(rt, s, fid)
    opened = datetime.fromisoformat(shown["opened_at"])
    assert opened.date() == rt.now().astimezone(CPH).date() and shown["opens_at"].startswith(opens.date().isoformat())
    from pipeline.tasks import send_pending

    with app.app_context():
        send_pending.delay(fid)
    # the invitation states the whole closing time
    # (the first round has no closing time, so only the follow-up's invitations name one)
    closing = [text_part(m) for m in read_outbox(tmp_path / "outbox") if "Runden lukker" in text_part(m)]
    assert len(closing) == 5 and all("kl. 16.00" in t or "kl. 16:00" in t for t in closing)
    add_account(app, "f@example.org", "facilitator")
    web = app.test_client()
    login(web, "f@example.org")
    page = web.get(f"/teams/{_team}").get_data(as_text=True)
    from babel.dates import format_date

    today = format_date(rt.now().astimezone(CPH), "medium", locale="da")
    later = format_date(opens, "medium", locale="da")
    row = page[page.index("Runde 2") :]
    assert today in row.split("</tr>")[0] and later not in row.split("</tr>")[0]
    app.extensions["tryghed"].db.dispose()
