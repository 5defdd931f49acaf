"""Danish public holidays, for keeping reminders off days when people are not at work. Pure."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous Meeus/Jones/Butcher algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def danish_holidays(year: int) -> frozenset[date]:
    """Public holidays in Denmark, plus the days most workplaces close (Grundlovsdag, 24 and 31 December).

    Store bededag stopped being a public holiday from 2024.
    """
    easter = easter_sunday(year)
    movable = [-3, -2, 0, 1, 39, 49, 50]  # Skærtorsdag .. 2. pinsedag
    if year < 2024:
        movable.append(26)  # Store bededag, the fourth Friday after Easter
    fixed = [(1, 1), (6, 5), (12, 24), (12, 25), (12, 26), (12, 31)]
    return frozenset([easter + timedelta(days=n) for n in movable] + [date(year, m, d) for m, d in fixed])


def is_holiday(day: date) -> bool:
    """True on a Danish public holiday (see ``danish_holidays``)."""
    return day in danish_holidays(day.year)
