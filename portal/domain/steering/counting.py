"""How the dashboard counts. Every figure is an inbox list (an :class:`InboxFilter`) and how
many signals it holds; the link under the figure opens that very list.

``ListCounter`` counts the list itself, with the inbox's own conditions (``list_conditions``).

``SummaryCounter`` answers the lists that ask only what came in, got its first public
response or was closed (within the target or not) on a range of days, or was open at the
end of a day, within a selection on the count tables' key (the scope, kind, wijk, owner):
from ``steering_counts`` (portal/models/steering_counts.py), one statement per range of days
summing a few thousand rows, at a thousand signals as at a million. Open at the end of a day
is open now (``inbox_counts``) less what came in since plus what was closed since. The
sensitive signals an accountmanager was let into (SignalAccess) are not on the key: they are
few, and counted from the signals. Every other list (a theme, a buurt, satisfaction, the
state today) the ListCounter counts. Both give the same numbers (tests/test_steering.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from functools import cached_property

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from portal.domain.inbox import Deadlines, InboxFilter
from portal.domain.inbox.counts import covered_owners, scope_on_key, visible_on_key
from portal.domain.inbox.search import list_conditions, list_count, read_my_wijken
from portal.domain.steering.durations import Spread, spread
from portal.models import InboxCount, Role, Signal, SignalAccess, SteeringCount, User
from portal.models.inbox_counts import CLOSED, NO_WIJK
from portal.models.steering_counts import CAME_IN, CLOSED_EVENT, RESPONDED


@dataclass(frozen=True)
class Count:
    value: int
    listed: InboxFilter  # the signals counted: the inbox's list behind the figure


@dataclass(frozen=True)
class PerWijk:
    """One list counted per wijk: each wijk's count links to the list within that wijk."""

    listed: InboxFilter
    counts: dict[str | None, int]  # wijk code (None: without a wijk) -> signals

    def of(self, code: str) -> Count:
        return Count(self.counts.get(code, 0), replace(self.listed, wijk=code))

    def total(self) -> Count:
        return Count(sum(self.counts.values()), self.listed)


class ListCounter:
    """Counts the lists themselves: whatever the filter."""

    def __init__(self, session: Session, user: User, deadlines: Deadlines, scope: str) -> None:
        self.session, self.user, self.deadlines = session, user, deadlines
        # Read once for the whole dashboard, not once per figure.
        self.my_wijken = read_my_wijken(session, user, InboxFilter(scope=scope))

    def conditions(self, flt: InboxFilter) -> list[ColumnElement[bool]]:
        return list_conditions(
            self.session, self.user, flt, self.deadlines, my_wijken=self.my_wijken
        )

    def count(self, flt: InboxFilter) -> Count:
        return Count(self._count(flt), flt)

    def by_wijk(self, flt: InboxFilter) -> PerWijk:
        return PerWijk(flt, self._count_by_wijk(flt))

    def spread(self, population: Count, days) -> Spread:  # type: ignore[no-untyped-def]
        """The median and 90th percentile of ``days`` (Signal.response_days or
        handling_days) over the population's signals."""
        conditions = self.conditions(population.listed)
        return spread(self.session, days, conditions, population.value)

    def _count(self, flt: InboxFilter) -> int:
        return list_count(self.session, self.user, flt, self.deadlines, my_wijken=self.my_wijken)

    def _count_by_wijk(
        self, flt: InboxFilter, *extra: ColumnElement[bool]
    ) -> dict[str | None, int]:
        rows = self.session.execute(
            select(Signal.wijk_code, func.count(Signal.id))
            .where(*self.conditions(flt), *extra)
            .group_by(Signal.wijk_code)
        )
        return {code: int(n) for code, n in rows}


# The selection a summary question may have: the fields on the count tables' key.
_ON_KEY = frozenset({"scope", "kind", "wijk", "owner"})
_IGNORED = frozenset({"sort", "page"})  # they change no count


@dataclass(frozen=True)
class _Question:
    event: str | None  # CAME_IN, RESPONDED, CLOSED_EVENT; None: open at the end of ``last``
    first: date | None
    last: date | None
    in_time: bool = False  # only those within the target


def _question(flt: InboxFilter) -> _Question | None:
    """What ``flt`` asks of steering_counts, or None when it asks something else."""
    asked = {
        f.name: getattr(flt, f.name)
        for f in fields(flt)
        if f.name not in _ON_KEY | _IGNORED and getattr(flt, f.name) != f.default
    }
    match asked:
        case {"created_from": first, "created_to": last, **rest} if not rest:
            return _Question(CAME_IN, first, last)
        case {"responded_from": first, "responded_to": last, **rest} if _only_in_time(
            rest, "responded_in_time"
        ):
            return _Question(RESPONDED, first, last, bool(rest))
        case {"status": "closed", "closed_from": first, "closed_to": last, **rest} if _only_in_time(
            rest, "handled_in_time"
        ):
            return _Question(CLOSED_EVENT, first, last, bool(rest))
        case {"open_on": day, **rest} if not rest:
            return _Question(None, None, day)
    return None


def _only_in_time(rest: dict[str, object], name: str) -> bool:
    return not rest or rest == {name: True}


class SummaryCounter(ListCounter):
    """Counts from the summary tables where it can, else as ListCounter."""

    def __init__(self, session: Session, user: User, deadlines: Deadlines, scope: str) -> None:
        super().__init__(session, user, deadlines, scope)
        # Kept for the page: each range of days, and what is open now, read once.
        self._ranges: dict[tuple[object, ...], dict[tuple[str, bool, str | None], int]] = {}
        self._open: dict[tuple[object, ...], dict[str | None, int]] = {}

    def answers(self, flt: InboxFilter) -> bool:
        """True when the summary tables count ``flt``."""
        return _question(flt) is not None

    def count(self, flt: InboxFilter) -> Count:
        if _question(flt) is None:
            return super().count(flt)
        return self.by_wijk(flt).total()

    def by_wijk(self, flt: InboxFilter) -> PerWijk:
        asked = _question(flt)
        if asked is None:
            return super().by_wijk(flt)
        if asked.event is None:
            counts = self._open_at_end(flt, asked.last)  # type: ignore[arg-type]
        else:
            counts = self._events(flt, asked.first, asked.last, asked.event, asked.in_time)
        if self._let_in:
            # Their own list's conditions, as the inbox counts them, narrowed to these few.
            for code, n in self._count_by_wijk(flt, Signal.id.in_(self._let_in)).items():
                counts[code] = counts.get(code, 0) + n
        return PerWijk(flt, counts)

    # --- from the tables -----------------------------------------------------------------

    def _events(
        self, flt: InboxFilter, first: date | None, last: date | None, event: str, in_time: bool
    ) -> dict[str | None, int]:
        rows = self._range(flt, first, last)
        counts: dict[str | None, int] = {}
        for (kind, ok, code), n in rows.items():
            if kind == event and (ok or not in_time):
                counts[code] = counts.get(code, 0) + n
        return counts

    def _range(
        self, flt: InboxFilter, first: date | None, last: date | None
    ) -> dict[tuple[str, bool, str | None], int]:
        """Every event of the days from ``first`` to ``last`` (either may be open) in the
        selection, per (event, in time, wijk): one statement per range, kept for the page."""
        key = (*(getattr(flt, name) for name in sorted(_ON_KEY)), first, last)
        if key not in self._ranges:
            t = SteeringCount
            days = [*([t.day >= first] if first else []), *([t.day <= last] if last else [])]
            rows = self.session.execute(
                select(t.event, t.in_time, t.wijk_code, func.sum(t.signals))
                .where(*days, *self._on_key(t, flt))
                .group_by(t.event, t.in_time, t.wijk_code)
            )
            self._ranges[key] = {
                (event, bool(ok), code or None): int(n) for event, ok, code, n in rows if n
            }
        return self._ranges[key]

    def _open_at_end(self, flt: InboxFilter, day: date) -> dict[str | None, int]:
        counts = dict(self._open_now(flt))
        after = day + timedelta(days=1)
        for (event, _ok, code), n in self._range(flt, after, None).items():
            if event == CAME_IN:
                counts[code] = counts.get(code, 0) - n
            elif event == CLOSED_EVENT:
                counts[code] = counts.get(code, 0) + n
        return {code: n for code, n in counts.items() if n}

    def _open_now(self, flt: InboxFilter) -> dict[str | None, int]:
        key = tuple(getattr(flt, name) for name in sorted(_ON_KEY))
        if key not in self._open:
            t = InboxCount
            rows = self.session.execute(
                select(t.wijk_code, func.sum(t.signals))
                .where(t.status.not_in(CLOSED), *self._on_key(t, flt))
                .group_by(t.wijk_code)
            )
            self._open[key] = {(code if code != NO_WIJK else None): int(n) for code, n in rows}
        return self._open[key]

    def _on_key(self, table, flt: InboxFilter) -> list[ColumnElement[bool]]:  # type: ignore[no-untyped-def]
        return [
            *scope_on_key(table, self.user, flt, self.my_wijken),
            *visible_on_key(table, self.user, self.deadlines.today),
        ]

    @cached_property
    def _let_in(self) -> Sequence[int]:
        """The sensitive signals of others this accountmanager was let into: not on the key."""
        user = self.user
        if user.role != Role.ACCOUNTMANAGER:
            return []
        others = or_(
            Signal.owner_id.is_(None),
            and_(
                Signal.owner_id != user.id,
                Signal.owner_id.not_in(covered_owners(user, self.deadlines.today)),
            ),
        )
        granted = and_(SignalAccess.signal_id == Signal.id, SignalAccess.user_id == user.id)
        query = select(Signal.id).join(SignalAccess, granted)
        return list(self.session.scalars(query.where(Signal.sensitive.is_(True), others)))
