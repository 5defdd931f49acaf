"""When scheduled work is due: pure rules over times (aware datetimes), no database, no Celery."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.holidays import is_holiday


def parse_hours(spec: str) -> tuple[int, int]:
    """'8-16' -> (8, 16): reminders go out from 08:00 until before 16:00 local time."""
    start, end = (int(x) for x in spec.split("-"))
    return start, end


WORKING_DAYS = (1, 5)  # ISO weekdays: Monday to Friday


def parse_days(spec: str) -> tuple[int, int]:
    """'1-5' -> (1, 5): ISO weekdays, Monday = 1 (care teams that work weekends use '1-7')."""
    first, last = (int(x) for x in spec.split("-"))
    return first, last


def is_working_time(
    now: datetime,
    tz: ZoneInfo,
    hours: tuple[int, int],
    days: tuple[int, int] = WORKING_DAYS,
    skip_holidays: bool = True,
) -> bool:
    """On a working day within ``hours``, in local time (so it follows daylight-saving changes).

    With ``skip_holidays``, Danish public holidays (``pipeline.holidays``) are not working days either.

    The wall clock is what matters to people: 08:00 in Copenhagen is 07:00 UTC in winter and 06:00 UTC
    in summer, so the check converts ``now`` to local time rather than comparing UTC hours.
    """
    local = now.astimezone(tz)
    if skip_holidays and is_holiday(local.date()):
        return False
    return days[0] <= local.isoweekday() <= days[1] and hours[0] <= local.hour < hours[1]


def reminder_due(
    now: datetime,
    tz: ZoneInfo,
    *,
    opened_at: datetime | None,
    last_reminder_at: datetime | None,
    reminders_sent: int,
    max_reminders: int,
    interval: timedelta,
    hours: tuple[int, int],
    closes_at: datetime | None,
    days: tuple[int, int] = WORKING_DAYS,
    skip_holidays: bool = True,
) -> bool:
    """True when an open round should get its next reminder now.

    At most ``max_reminders``; the first ``interval`` after opening, each next ``interval`` after the
    previous one; only in working time; and not in the last hour before closing (too late to act on).
    """
    if opened_at is None or reminders_sent >= max_reminders:
        return False
    if closes_at is not None and now >= closes_at - timedelta(hours=1):
        return False
    since = last_reminder_at or opened_at
    if now - since < interval:
        return False
    return is_working_time(now, tz, hours, days, skip_holidays)
