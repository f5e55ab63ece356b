"""The period a steering figure covers: a calendar month, quarter or year, or any run of days,
and the period it is compared with (the calendar one before, or as many days just before)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

MONTH, QUARTER, YEAR, DAYS = "month", "quarter", "year", "days"
# Longer than any report needs; keeps a hand-typed "1900-01-01" from counting a century.
MAX_DAYS = 3 * 366
MIN_YEAR, MAX_YEAR = 2000, 2999

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[KkQq]([1-4])")
_YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # the last day in it
    kind: str = DAYS

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1), MONTH)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = date(year, 3 * quarter - 2, 1)
        return cls(first, cls.month(year, 3 * quarter).last, QUARTER)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), YEAR)

    @classmethod
    def last_month(cls, today: date) -> Period:
        """The last whole month: what a monthly report is about."""
        end = today.replace(day=1) - timedelta(days=1)
        return cls.month(end.year, end.month)

    @classmethod
    def parse(cls, args: Mapping[str, Any], today: date) -> Period:
        """From ``periode`` ("2026-10", "2026-K4", "2026") or ``van``/``tot`` (ISO dates);
        anything else, or a period after today or too long, is the last whole month."""
        named = _text(args, "periode")
        try:
            if match := _MONTH.fullmatch(named):
                period = cls.month(int(match[1]), int(match[2]))
            elif match := _QUARTER.fullmatch(named):
                period = cls.quarter(int(match[1]), int(match[2]))
            elif _YEAR.fullmatch(named):
                period = cls.year(int(named))
            else:
                period = cls(
                    date.fromisoformat(_text(args, "van")), date.fromisoformat(_text(args, "tot"))
                )
        except ValueError:
            return cls.last_month(today)
        sensible = (
            period.first.year >= MIN_YEAR
            and period.last.year <= MAX_YEAR
            and period.first <= period.last
            and period.first <= today
            and period.days <= MAX_DAYS
        )
        return period if sensible else cls.last_month(today)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The calendar month, quarter or year before; or as many days just before."""
        before = self.first - timedelta(days=1)
        if self.kind == MONTH:
            return Period.month(before.year, before.month)
        if self.kind == QUARTER:
            return Period.quarter(before.year, (before.month - 1) // 3 + 1)
        if self.kind == YEAR:
            return Period.year(before.year)
        return Period(self.first - timedelta(days=self.days), before)

    def to_args(self) -> dict[str, str]:
        """Query arguments that give this period back."""
        if self.kind == MONTH:
            return {"periode": f"{self.first:%Y-%m}"}
        if self.kind == QUARTER:
            return {"periode": f"{self.first.year}-K{(self.first.month - 1) // 3 + 1}"}
        if self.kind == YEAR:
            return {"periode": str(self.first.year)}
        return {"van": self.first.isoformat(), "tot": self.last.isoformat()}

    def weeks(self, count: int, today: date | None = None) -> list[Period]:
        """The ``count`` weeks (Monday to Sunday) up to the one this period ends in, or the
        one of ``today`` when the period is not over yet (no empty weeks still to come)."""
        end = min(self.last, today) if today else self.last
        monday = end - timedelta(days=end.weekday())
        starts = [monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]
        return [Period(start, start + timedelta(days=6)) for start in starts]


def _text(args: Mapping[str, Any], name: str) -> str:
    value = args.get(name)
    return value.strip()[:20] if isinstance(value, str) else ""
