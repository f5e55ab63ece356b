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

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
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
    """The median and 90th percentile of ``days`` over the rows ``conditions`` select
    (``count`` of them, counted already): the database sorts them once and hands back the
    values at the two or three positions wanted; the list never comes to Python."""
    if count == 0:
        return Spread(0, None, None)
    middle = [(count + 1) // 2] if count % 2 else [count // 2, count // 2 + 1]
    p90 = math.ceil(0.9 * count)
    ranked = (
        select(days.label("days"), func.row_number().over(order_by=days).label("position"))
        .where(*conditions, days.is_not(None))
        .subquery()
    )
    wanted = select(ranked.c.position, ranked.c.days).where(ranked.c.position.in_([*middle, p90]))
    found = {position: value for position, value in session.execute(wanted)}
    median = sum(float(found[n]) for n in middle) / len(middle)
    return Spread(count, round(median, 1), round(float(found[p90]), 1))
