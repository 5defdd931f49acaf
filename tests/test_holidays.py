"""Danish public holidays keep reminders away; Easter is computed, not tabulated."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.holidays import danish_holidays, easter_sunday, is_holiday
from pipeline.schedule import is_working_time, reminder_due

CPH = ZoneInfo("Europe/Copenhagen")


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_holidays_2026() -> None:
    expected = {
        date(2026, 1, 1),
        date(2026, 4, 2),
        date(2026, 4, 3),
        date(2026, 4, 5),
        date(2026, 4, 6),
        date(2026, 5, 14),
        date(2026, 5, 24),
        date(2026, 5, 25),
        date(2026, 6, 5),
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2026, 12, 31),
    }
    assert danish_holidays(2026) == expected


def test_store_bededag_only_before_2024() -> None:
    assert is_holiday(date(2023, 5, 5))  # fourth Friday after Easter 2023
    assert not is_holiday(date(2024, 4, 26))


def test_no_reminder_on_a_weekday_holiday_unless_asked() -> None:
    maundy_thursday_10 = datetime(2026, 4, 2, 10, 0, tzinfo=CPH).astimezone(UTC)
    assert not is_working_time(maundy_thursday_10, CPH, (8, 16))
    assert is_working_time(maundy_thursday_10, CPH, (8, 16), skip_holidays=False)
    after_easter = datetime(2026, 4, 7, 10, 0, tzinfo=CPH)
    args = {
        "opened_at": after_easter - timedelta(days=10),
        "last_reminder_at": None,
        "reminders_sent": 0,
        "max_reminders": 2,
        "interval": timedelta(days=3),
        "hours": (8, 16),
        "closes_at": None,
    }
    assert not reminder_due(maundy_thursday_10, CPH, **args)
    assert reminder_due(after_easter, CPH, **args)
