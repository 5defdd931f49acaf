"""Acceptance 6, the pure part: reminder rules of ``pipeline.schedule`` in Europe/Copenhagen, across the
daylight-saving changes of 2026 (29 March: 02:00 -> 03:00; 25 October: 03:00 -> 02:00)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.schedule import is_working_time, parse_days, parse_hours, reminder_due

CPH = ZoneInfo("Europe/Copenhagen")
HOURS = (8, 16)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # Friday before spring forward: CET = UTC+1, so 08:00 local is 07:00 UTC
        (utc(2026, 3, 27, 6, 59), False),
        (utc(2026, 3, 27, 7, 0), True),
        (utc(2026, 3, 27, 14, 59), True),
        (utc(2026, 3, 27, 15, 0), False),
        # the weekend of the change: never
        (utc(2026, 3, 28, 9, 0), False),
        (utc(2026, 3, 29, 9, 0), False),
        # Monday after: CEST = UTC+2, so 08:00 local is 06:00 UTC (a UTC-hour rule would be an hour off)
        (utc(2026, 3, 30, 5, 59), False),
        (utc(2026, 3, 30, 6, 0), True),
        (utc(2026, 3, 30, 13, 59), True),
        (utc(2026, 3, 30, 14, 0), False),
        # Friday before fall back: still CEST
        (utc(2026, 10, 23, 5, 59), False),
        (utc(2026, 10, 23, 6, 0), True),
        (utc(2026, 10, 23, 14, 0), False),
        (utc(2026, 10, 25, 10, 0), False),  # Sunday of the change
        # Monday after: CET again
        (utc(2026, 10, 26, 6, 30), False),
        (utc(2026, 10, 26, 7, 0), True),
        (utc(2026, 10, 26, 14, 59), True),
        (utc(2026, 10, 26, 15, 0), False),
    ],
)
def test_working_time_follows_local_clock(when: datetime, expected: bool) -> None:
    assert is_working_time(when, CPH, HOURS) is expected


def test_weekend_days_can_be_configured() -> None:
    sunday_morning = utc(2026, 3, 29, 8, 0)  # 10:00 CEST
    assert not is_working_time(sunday_morning, CPH, HOURS)
    assert is_working_time(sunday_morning, CPH, HOURS, parse_days("1-7"))
    assert parse_hours("8-16") == (8, 16)


def _due(now: datetime, opened: datetime, last: datetime | None, sent: int, closes: datetime | None) -> bool:
    return reminder_due(
        now,
        CPH,
        opened_at=opened,
        last_reminder_at=last,
        reminders_sent=sent,
        max_reminders=2,
        interval=timedelta(days=3),
        hours=HOURS,
        closes_at=closes,
    )


def test_no_reminder_before_interval_after_max_or_near_closing() -> None:
    opened = utc(2026, 3, 24, 8, 0)  # Tuesday 09:00 CET
    assert not _due(utc(2026, 3, 27, 7, 59), opened, None, 0, None)  # 3 days minus a minute
    assert _due(utc(2026, 3, 27, 8, 0), opened, None, 0, None)
    assert not _due(utc(2026, 3, 27, 8, 0), opened, None, 2, None)  # the maximum was reached
    closes = utc(2026, 3, 27, 8, 30)
    assert not _due(utc(2026, 3, 27, 8, 0), opened, None, 0, closes)  # within the last hour


def simulate(opened: datetime, closes: datetime, step: timedelta) -> list[datetime]:
    """What a tick every ``step`` would do: the times at which reminders go out."""
    sent: list[datetime] = []
    now = opened
    while now < closes:
        if _due(now, opened, sent[-1] if sent else None, len(sent), closes):
            sent.append(now)
        now += step
    return sent


@pytest.mark.parametrize(
    ("opened", "expected_local"),
    [
        # opened Thursday 26 March 10:00 CET: +3 days is Sunday (not a working day) -> Monday 08:00 CEST;
        # +3 days after that is Thursday 2 April, but that is Skærtorsdag, then Langfredag, the weekend and
        # 2. påskedag (Danish holidays) -> Tuesday 7 April 08:00
        (datetime(2026, 3, 26, 10, 0, tzinfo=CPH), ["2026-03-30 08:00+02:00", "2026-04-07 08:00+02:00"]),
        # opened Thursday 22 October 10:00 CEST -> Monday 26 October 08:00 CET, then Thursday 08:00 CET
        (datetime(2026, 10, 22, 10, 0, tzinfo=CPH), ["2026-10-26 08:00+01:00", "2026-10-29 08:00+01:00"]),
    ],
)
def test_reminders_across_daylight_saving_change(opened: datetime, expected_local: list[str]) -> None:
    sent = simulate(opened.astimezone(UTC), opened.astimezone(UTC) + timedelta(days=14), timedelta(minutes=15))
    assert [s.astimezone(CPH).strftime("%Y-%m-%d %H:%M%z")[:-2] + ":00" for s in sent] == expected_local


@settings(max_examples=60, deadline=None)
@given(
    opened=st.datetimes(min_value=datetime(2026, 3, 15), max_value=datetime(2026, 11, 5), timezones=st.just(CPH)),
    days_open=st.integers(min_value=1, max_value=21),
)
def test_reminders_never_outside_hours_never_too_many_always_spaced(opened: datetime, days_open: int) -> None:
    start = opened.astimezone(UTC)
    closes = start + timedelta(days=days_open)
    sent = simulate(start, closes, timedelta(minutes=30))
    assert len(sent) <= 2
    for when in sent:
        local = when.astimezone(CPH)
        assert local.isoweekday() <= 5 and 8 <= local.hour < 16, local
        assert when < closes - timedelta(hours=1)
    for earlier, later in zip([start, *sent], sent, strict=False):
        assert later - earlier >= timedelta(days=3)
