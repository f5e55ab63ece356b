"""How long things took, in days, worked out by the database: the median and the 90th
percentile of the time from coming in to a moment (the first public response, the closing),
over exactly the signals an inbox list holds.

Definitions (the ones a spreadsheet uses, so a figure can be checked by hand): the median is
the middle value, or the mean of the two middle values of an even count; the 90th percentile
is the nearest rank, the value at position ceil(0.9 × n) in ascending order."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Float, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import GenericFunction


class days_between(GenericFunction[float]):
    """``end - start`` in days (with the fraction), on either database."""

    type = Float()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):  # type: ignore[no-untyped-def]
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):  # type: ignore[no-untyped-def]
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"


@dataclass(frozen=True)
class Spread:
    count: int
    median: float | None  # days; None when there is nothing to measure
    p90: float | None


def spread(
    session: Session,
    start: ColumnElement[object],
    end: ColumnElement[object],
    conditions: Sequence[ColumnElement[bool]],
    count: int,
) -> Spread:
    """The median and 90th percentile of ``end - start`` over the rows ``conditions`` select
    (``count`` of them, counted already): the database sorts the durations and hands back
    the one or two values at a position (LIMIT/OFFSET); the list never comes to Python."""
    if count == 0:
        return Spread(0, None, None)
    days = days_between(start, end)
    ordered = select(days).where(*conditions, end.is_not(None)).order_by(days)

    def at(position: int, how_many: int = 1) -> list[float]:
        return [float(v) for v in session.scalars(ordered.offset(position).limit(how_many))]

    middle = at((count - 1) // 2, 1 if count % 2 else 2)
    median = sum(middle) / len(middle)
    [p90] = at(math.ceil(0.9 * count) - 1)
    return Spread(count, round(median, 1), round(p90, 1))
