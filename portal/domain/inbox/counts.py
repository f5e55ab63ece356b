"""The inbox's counts - per status and per deadline filter - in one statement, each from as
few rows as it can be: at a million signals the page costs about what it costs at a
thousand (bench/README.md). Every way gives the same numbers (tests/test_inbox_counts.py).

``inbox_counts`` (portal/models/inbox_counts.py) holds how many signals there are per wijk,
owner, status, sensitivity, kind and - while open - handling due month, kept by the
database's own triggers. A list filtered on only those columns (the scope 'mine' is the owner
or the wijk; who may see which signal is sensitivity and owner) is counted per status by
summing a few thousand of its rows instead of grouping a million signals. The few sensitive
signals a colleague was let into (SignalAccess) are not on its key: they are counted from
the signals, in the same statement.

"Afhandeling te laat" and "ver over tijd" (handling due before a day, ``cutoff``) are counted
in three parts: the months before the cutoff's month from ``inbox_counts``, the days of that
month from the index over open signals (at most a month of due dates, not every late signal
of three years), and the let-in signals from the signals. "Reactie te laat" and "opvolgen
vandaag" are few: counted from their own small indexes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
)

from portal.domain.inbox import deadlines as late
from portal.domain.inbox.deadlines import CONDITIONS, Deadlines
from portal.domain.inbox.filter import NONE, InboxFilter
from portal.models import Absence, InboxCount, Role, Signal, SignalAccess, User
from portal.models.inbox_counts import CLOSED, NO_DUE_MONTH, NO_OWNER, NO_WIJK, open_signal
from portal.vocabulary import Status

# Filter fields inbox_counts can answer (sort and page change no count).
_ON_ITS_KEY = frozenset({"scope", "status", "wijk", "owner", "kind", "sort", "page"})
_AWAITING = Status.AWAITING_RESIDENT.value


def summarised(flt: InboxFilter) -> bool:
    """True when every filter of ``flt`` is on the key of inbox_counts."""
    return all(getattr(flt, f.name) == f.default for f in fields(flt) if f.name not in _ON_ITS_KEY)


def status_condition(wanted: str | None) -> list[ColumnElement[bool]]:
    """The status filter on the signals ("open", "closed", a status code, or None)."""
    if wanted is None:
        return []
    if wanted == "open":
        return [open_signal()]  # the values written out: the partial indexes serve it
    if wanted == "closed":
        return [Signal.status.in_(CLOSED)]
    return [Signal.status == wanted]


@dataclass(frozen=True)
class Counting:
    """One page's counts. ``conditions``: the list's WHERE except the status filter;
    ``plain``: the same without the deadline filters."""

    user: User
    flt: InboxFilter
    deadlines: Deadlines
    my_wijken: Sequence[str]
    conditions: list[ColumnElement[bool]]
    plain: list[ColumnElement[bool]]

    def selects(self) -> list[Select[Any]]:
        """(key, n) rows for :func:`tally`: a status code or a deadline filter's name, and
        how many; a key may come more than once, its numbers add up."""
        if self.flt.q:
            return self._in_one_pass()
        return [*self.per_status(), *self.per_deadline()]

    # --- a text search: every count from one pass over the signals it found -----------------

    def _in_one_pass(self) -> list[Select[Any]]:
        """A search finds a few thousand signals at most, none of the counts' shortcuts
        apply (the words are not on inbox_counts' key), and each separate count looked up
        those rows again: five times at 1,000,000 signals, 12-19 ms a page (bench/README.md).
        Here one materialised pass reads them once and counts, per status, the list (its
        deadline filters as a condition) and each deadline filter."""
        d = self.deadlines
        # What ``conditions`` has beyond ``plain``: the ticked deadline filters.
        ticked = late.deadline_conditions(self.flt.deadline_flags, d)
        listed = _sum_where(and_(*ticked)) if ticked else func.count()
        key = Signal.status.concat(literal_column("''"))  # as in per_status, for the plan
        found = (
            select(
                key.label("status"),
                listed.label("listed"),
                *(_sum_where(make(d)).label(name) for name, make in CONDITIONS.items()),
            )
            .where(*self.plain)
            .group_by(key)
            .cte("counted_once")
            .prefix_with("MATERIALIZED")
        )
        status = found.c.status
        per_status = select(status.label("key"), found.c.listed.label("n"))
        return [
            per_status,
            *(
                select(literal(name).label("key"), func.coalesce(func.sum(found.c[name]), 0)).where(
                    *_status_on_key(status, self.flt.status)
                )
                for name in CONDITIONS
            ),
        ]

    @property
    def _overdue_alone(self) -> bool:
        """'Over tijd' is the list's one deadline filter, the rest are on the counts' key."""
        ticked = [name for name, on in self.flt.deadline_flags.items() if on]
        return ticked == ["overdue"] and summarised(self.flt.without_deadlines())

    # --- per status: for the list without its status filter ---------------------------------

    def per_status(self) -> list[Select[Any]]:
        flt = self.flt
        ticked = [name for name, on in flt.deadline_flags.items() if on]
        without = flt.without_deadlines()
        if summarised(flt):
            return self._summed(None, [], by_status=True)
        if self._overdue_alone:
            return self._overdue_by_status()
        if summarised(without) and ticked in (["handle_late"], ["far_overdue"]):
            parts = self._late(ticked[0], by_status=True, status_filter=False)
            if parts is not None:
                return parts
        # Grouping by the bare column makes SQLite walk the status index to skip a sort,
        # fetching every row from the table on the way: four times slower than a plain scan
        # once a filter applies (bench/README.md). An expression hides the index.
        key = Signal.status.concat(literal_column("''")) if self.conditions else Signal.status
        return [_counted(key, self.conditions, group=True)]

    def _overdue_by_status(self) -> list[Select[Any]]:
        """Late in any way: handling late (in parts), or else the response late or the
        follow-up day passed (few, each from its own index)."""
        d = self.deadlines
        parts = self._late("handle_late", by_status=True, status_filter=False)
        assert parts is not None  # handling late is always countable in parts
        not_handling = late.not_handle_late(d)
        responding = [*self.plain, late.respond_late(d), not_handling]
        following = [*self.plain, late.follow_up_passed(d), not_handling, late.not_respond_late(d)]
        return [
            *parts,
            _counted(Signal.status, responding, group=True),
            _counted(Signal.status, following, group=True),
        ]

    # --- per deadline filter: for the list without its deadline filters ---------------------

    def per_deadline(self) -> list[Select[Any]]:
        d = self.deadlines
        in_parts = summarised(self.flt.without_deadlines())
        result: list[Select[Any]] = []
        for name, make in CONDITIONS.items():
            parts = self._late(name, by_status=False, status_filter=True) if in_parts else None
            if parts is None:
                where = [*self.plain, *status_condition(self.flt.status), make(d)]
                parts = [_counted(literal(name), where)]
            result += parts
        return result

    def _late(self, name: str, *, by_status: bool, status_filter: bool) -> list[Select[Any]] | None:
        """``handle_late`` or ``far_overdue`` in parts (see the module's docstring); None for
        the other deadline filters, or when a theme's own target decides."""
        d = self.deadlines
        if name == "handle_late":
            cutoffs: list[tuple[late.KindChoice, date]] | None = [(None, d.today)]
        elif name == "far_overdue":
            cutoffs = late.far_overdue_cutoffs(d)
        else:
            return None
        if cutoffs is None:
            return None
        key = None if by_status else name
        parts: list[Select[Any]] = []
        for kinds, cutoff in cutoffs:
            parts += self._due_before(key, cutoff, kinds, status_filter)
        return parts

    def _due_before(
        self, key: str | None, cutoff: date, kinds: late.KindChoice, status_filter: bool
    ) -> list[Select[Any]]:
        """Handling late and due before ``cutoff`` (today or earlier), in three parts: the
        months before the cutoff's from inbox_counts (and the let-in signals), the days of
        its month from the index over open signals."""
        d, flt, counted = self.deadlines, self.flt, self._visible_counts
        month = cutoff.replace(day=1)
        on_key = [
            counted.c.status.not_in(CLOSED),
            counted.c.handle_due_month != NO_DUE_MONTH,
            counted.c.handle_due_month < cutoff.strftime("%Y-%m"),
            *_kinds(counted.c.kind, kinds),
            *(_status_on_key(counted.c.status, flt.status) if status_filter else []),
        ]
        if d.rules.pause_while_awaiting_resident:
            on_key.append(counted.c.status != _AWAITING)
        # The clock and the kinds, without "due before today": the index range is then the
        # one written here, [month, cutoff), not up to today.
        on_signal = [
            *self.plain,
            *(status_condition(flt.status) if status_filter else []),
            late.handling_clock_running(d),
            *_kinds(Signal.kind, kinds),
        ]
        earlier = [*on_signal, Signal.handle_due_on < month]
        this_month = [*on_signal, Signal.handle_due_on >= month, Signal.handle_due_on < cutoff]
        group = key is None
        column = Signal.status if group else literal(key)
        summed = self._summed(key, on_key, by_status=group, let_in=earlier)
        return [*summed, _counted(column, this_month, group=group)]

    # --- from inbox_counts ------------------------------------------------------------------

    @cached_property
    def _visible_counts(self):  # type: ignore[no-untyped-def]
        """inbox_counts in the list's scope and visible to the user, added up per status,
        kind and due month (a few hundred rows): read once per statement, by every part."""
        where = [
            *scope_on_key(InboxCount, self.user, self.flt, self.my_wijken),
            *visible_on_key(InboxCount, self.user, self.deadlines.today),
        ]
        return (
            select(
                InboxCount.status,
                InboxCount.kind,
                InboxCount.handle_due_month,
                func.sum(InboxCount.signals).label("signals"),
            )
            .where(*where)
            .group_by(InboxCount.status, InboxCount.kind, InboxCount.handle_due_month)
            .cte("visible_counts")
            .prefix_with("MATERIALIZED")
        )

    def _summed(
        self,
        key: str | None,
        where: list[ColumnElement[bool]],
        *,
        by_status: bool,
        let_in: list[ColumnElement[bool]] | None = None,
    ) -> list[Select[Any]]:
        """The visible counts under ``where``, plus the sensitive signals the user was let
        into (``let_in``: their conditions; the list's own when None)."""
        user, counted = self.user, self._visible_counts
        total = func.sum(counted.c.signals)
        if by_status:
            summed = (
                select(counted.c.status.label("key"), total.label("n"))
                .where(*where)
                .group_by(counted.c.status)
            )
        else:
            summed = select(literal(key).label("key"), func.coalesce(total, 0).label("n"))
            summed = summed.where(*where)
        if user.role != Role.ACCOUNTMANAGER:
            return [summed]
        # Sensitive signals of someone else that this colleague was let into: not on the
        # key, and few. The conditions hold the scope and the visibility already.
        others = or_(
            Signal.owner_id.is_(None),
            and_(
                Signal.owner_id != user.id,
                Signal.owner_id.not_in(covered_owners(user, self.deadlines.today)),
            ),
        )
        column = Signal.status if by_status else literal(key)
        granted = _counted(
            column,
            [*(self.conditions if let_in is None else let_in), Signal.sensitive.is_(True), others],
            group=by_status,
        ).join(
            SignalAccess,
            and_(SignalAccess.signal_id == Signal.id, SignalAccess.user_id == user.id),
        )
        return [summed, granted]


def tally(rows: Iterable[tuple[str, int]]) -> tuple[dict[str, int], dict[str, int]]:
    """The rows of :meth:`Counting.selects` added up: (per status, per deadline filter)."""
    per_status = {status.value: 0 for status in Status}
    per_deadline = dict.fromkeys(CONDITIONS, 0)
    for key, n in rows:
        found = per_deadline if key in per_deadline else per_status
        found[key] = found.get(key, 0) + int(n)
    return per_status, per_deadline


def _counted(column: Any, where: list[ColumnElement[bool]], *, group: bool = False) -> Select[Any]:
    counted = select(column.label("key"), func.count().label("n")).select_from(Signal)
    counted = counted.where(*where)
    return counted.group_by(column) if group else counted


def _sum_where(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _status_on_key(column: Any, wanted: str | None) -> list[ColumnElement[bool]]:
    if wanted is None:
        return []
    if wanted == "open":
        return [column.not_in(CLOSED)]
    if wanted == "closed":
        return [column.in_(CLOSED)]
    return [column == wanted]


def _kinds(column: Any, kinds: late.KindChoice) -> list[ColumnElement[bool]]:
    if kinds is None:
        return []
    how, values = kinds
    return [column.in_(values) if how == "in" else column.not_in(values)]


def scope_on_key(
    table: Any, user: User, flt: InboxFilter, my_wijken: Sequence[str]
) -> list[ColumnElement[bool]]:
    """The list's filters on a count table's key (``InboxCount``, ``SteeringCount``): as
    search._conditions on the signals."""
    where: list[ColumnElement[bool]] = []
    if flt.scope == "mine":
        mine = table.owner_id == user.id
        where.append(or_(mine, table.wijk_code.in_(my_wijken)) if my_wijken else mine)
    if flt.kind:
        where.append(table.kind == flt.kind)
    if flt.wijk == NONE:
        where.append(table.wijk_code == NO_WIJK)
    elif flt.wijk:
        where.append(table.wijk_code == flt.wijk)
    if flt.owner == NONE:
        where.append(table.owner_id == NO_OWNER)
    elif isinstance(flt.owner, int):
        where.append(table.owner_id == flt.owner)
    return where


def visible_on_key(table: Any, user: User, today: date) -> list[ColumnElement[bool]]:
    """visibility.inbox_conditions on a count table's key (the let-in signals apart)."""
    if user.role == Role.ADMIN:
        return []
    if user.role != Role.ACCOUNTMANAGER:
        return [table.sensitive.is_(False)]
    return [
        or_(
            table.sensitive.is_(False),
            table.owner_id == user.id,
            table.owner_id.in_(covered_owners(user, today)),
        )
    ]


def covered_owners(user: User, today: date):  # type: ignore[no-untyped-def]
    """The owners ``user`` stands in for today (as visibility.py has them)."""
    return select(Absence.user_id).where(
        Absence.stand_in_id == user.id, Absence.starts_on <= today, Absence.ends_on >= today
    )
