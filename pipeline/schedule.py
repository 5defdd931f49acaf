"""When scheduled work is due: pure rules over times (aware datetimes), no database, no Celery."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def parse_hours(spec: str) -> tuple[int, int]:
    """'8-16' -> (8, 16): reminders go out from 08:00 until before 16:00 local time."""
    start, end = (int(x) for x in spec.split("-"))
    return start, end


def is_working_time(now: datetime, tz: ZoneInfo, hours: tuple[int, int]) -> bool:
    """Monday to Friday within ``hours``, in local time (so it follows daylight-saving changes)."""
    local = now.astimezone(tz)
    return local.weekday() < 5 and hours[0] <= local.hour < hours[1]


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
    return is_working_time(now, tz, hours)
