"""How long things took, in days, worked out by the database: the median and the 90th
percentile of the time from coming in to a moment (the first public response, the closing),
over exactly the signals an inbox list holds.

The days themselves are the generated columns ``signals.response_days`` and
``handling_days`` (with the fraction; portal/models/signal.py), held by the indexes on their
moments: a period's medians sort numbers from an index.

Definitions (the ones a spreadsheet uses, so a figure can be checked by hand): the median is
the middle value, or the mean of the two middle values of an even count; the 90th percentile
is the nearest rank, the value at position ceil(0.9 × n) in ascending order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Spread:
    count: int
    median: float | None  # days; None when there is nothing to measure
    p90: float | None


def spread(
    session: Session,
    days: ColumnElement[float | None],
    conditions: Sequence[ColumnElement[bool]],
    count: int,
) -> Spread:
    """The median and 90th percentile of ``days`` over the rows ``conditions`` select: the
    database sorts them once, counts them as it goes and hands back only the values at the
    two or three positions wanted; the list never comes to Python. ``count`` (counted
    already, maybe from a summary) only spares the query when it is 0: the positions come
    from the rows themselves."""
    if count == 0:
        return Spread(0, None, None)
    ranked = (
        select(
            days.label("days"),
            func.row_number().over(order_by=days).label("position"),
            func.count().over().label("n"),
        )
        .where(*conditions, days.is_not(None))
        .subquery()
    )
    r = ranked.c
    # The middle one or two, (n + 1) // 2 and n // 2 + 1; the nearest rank ceil(0.9 n).
    wanted = select(r.position, r.days, r.n).where(
        or_(
            r.position == (r.n + 1) // 2,
            r.position == r.n // 2 + 1,
            r.position == (9 * r.n + 9) // 10,
        )
    )
    found = {position: (value, n) for position, value, n in session.execute(wanted)}
    if not found:
        return Spread(0, None, None)
    n = next(iter(found.values()))[1]
    middle = [(n + 1) // 2] if n % 2 else [n // 2, n // 2 + 1]
    median = sum(float(found[p][0]) for p in middle) / len(middle)
    return Spread(n, round(median, 1), round(float(found[(9 * n + 9) // 10][0]), 1))
