"""Working days in Hilversum: Monday to Friday, without Dutch public holidays (the
``holidays`` package, NL). Deadlines count whole local days, so a question asked on Friday
evening with 5 working days to answer is due at the end of the next Friday."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TIMEZONE = ZoneInfo("Europe/Amsterdam")


@cache
def _dutch_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _dutch_holidays(day.year)


def add_working_days(start: date, count: int) -> date:
    """The ``count``-th working day after ``start`` (``start`` itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_before(start: date, count: int) -> date:
    """The ``count``-th working day before ``start`` (``start`` itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    while count:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIMEZONE).date()


def end_of_working_days(moment: datetime, count: int) -> datetime:
    """The end (local midnight after) of the ``count``-th working day after ``moment``."""
    last_day = add_working_days(local_date(moment), count)
    return datetime.combine(last_day + timedelta(days=1), time(0), LOCAL_TIMEZONE)
