"""The inbox as points for its map: the same WHERE conditions as the list (filters, search,
visibility of sensitive signals), so the map can never show a signal the list would not, nor
miss one it would show with a point."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from portal.domain.inbox.deadlines import Deadlines
from portal.domain.inbox.filter import InboxFilter
from portal.domain.inbox.search import list_conditions
from portal.models import Buurt, Signal, User, Wijk


@dataclass(frozen=True)
class MapRow:
    reference: str
    title: str
    status: str
    lat: float
    lon: float
    buurt: str | None
    wijk: str | None


@dataclass(frozen=True)
class MapResult:
    rows: list[MapRow]
    total: int  # every signal the list shows with these filters
    with_point: int  # ... of which this many have a point

    @property
    def without_point(self) -> int:
        return self.total - self.with_point

    @property
    def capped(self) -> bool:
        return self.with_point > len(self.rows)


def map_signals(
    session: Session, user: User, flt: InboxFilter, *, deadlines: Deadlines, limit: int
) -> MapResult:
    """The signals the inbox lists for ``flt`` (every page of it), as points: the newest
    ``limit`` with a point, and how many there are with and without one."""
    where = list_conditions(session, user, flt, deadlines)
    has_point = and_(Signal.lat.is_not(None), Signal.lon.is_not(None))
    total, with_point = session.execute(
        select(func.count(), func.coalesce(func.sum(case((has_point, 1), else_=0)), 0)).where(
            *where
        )
    ).one()
    rows: list[MapRow] = []
    if with_point:
        found = session.execute(
            select(
                Signal.reference,
                Signal.title,
                Signal.status,
                Signal.lat,
                Signal.lon,
                Buurt.name,
                Wijk.name,
            )
            .outerjoin(Buurt, Buurt.code == Signal.buurt_code)
            .outerjoin(Wijk, Wijk.code == Signal.wijk_code)
            .where(*where, has_point)
            .order_by(Signal.created_at.desc(), Signal.id.desc())
            .limit(max(int(limit), 1))
        )
        rows = [MapRow(*row) for row in found]
    return MapResult(rows=rows, total=int(total), with_point=int(with_point))
