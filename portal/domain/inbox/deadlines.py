"""The inbox's view of the casework deadlines (portal/domain/deadlines.py): "now" as the
inbox needs it, each lateness rule as an SQL condition on an indexed date column (for the
filters and their counts) and the same rule for one loaded signal (for the marks in a row).

The conditions, each only on open signals - "open" written out as the partial indexes over
open signals have it (portal/models/inbox_counts.py), so each reads one of those:

* ``respond_late`` - no public response by staff and ``respond_due_on`` before today
  (ix_signals_open_respond_due: the few open signals nobody answered yet). Signals from
  before due dates were stored have none: for them the old rule holds, still 'received'
  ``RESPONSE_WORKING_DAYS`` working days after they came in;
* ``handle_late`` - ``handle_due_on`` before today (ix_signals_open_handle_due), not while
  the handling clock stands still (waiting for the resident, with the pause on);
* ``far_overdue`` - handling late by more than twice the target: ``handle_due_on`` before a
  cutoff per target (the widest cutoff narrows the range, then per kind and theme);
* ``follow_up_due`` - ``follow_up_on`` today or before (ix_signals_open_follow_up);
* ``overdue`` (older bookmarks) - response or handling late, or the follow-up day passed.

The inbox counts the two big ones (handling late, far over time) in parts (counts.py); the
helpers for that are at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, or_, select, true

from portal.domain import deadlines as rules_of
from portal.domain.deadlines import DeadlineRules, Targets, far_overdue_cutoff
from portal.models import Signal, SignalTheme
from portal.models.inbox_counts import open_signal
from portal.vocabulary import Kind, Status

if TYPE_CHECKING:
    from portal.domain.inbox.page import ListedSignal

_KINDS = tuple(k.value for k in Kind)


def subtract_working_days(moment: datetime, days: int, tz: tzinfo) -> datetime:
    """The moment ``days`` working days (Mon-Fri, holidays not counted) before ``moment``, at
    the same wall-clock time in ``tz``. Only for signals without stored due dates."""
    local = moment.astimezone(tz)
    remaining = days
    while remaining > 0:
        local -= timedelta(days=1)
        if local.weekday() < 5:
            remaining -= 1
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Deadlines:
    """'Now' as the inbox needs it: today's date, the targets, and the response cutoff for
    signals from before due dates were stored."""

    now: datetime
    today: date
    response_cutoff: datetime  # a 'received' signal without due dates created before this
    tz: tzinfo = UTC
    targets: Targets = field(default_factory=Targets)

    @classmethod
    def at(
        cls,
        now: datetime,
        response_working_days: int,
        tz: tzinfo = UTC,
        *,
        targets: Targets | None = None,
    ) -> Deadlines:
        if targets is None:
            targets = Targets(rules=DeadlineRules(respond_working_days=response_working_days))
        return cls(
            now=now,
            today=now.astimezone(tz).date(),
            response_cutoff=subtract_working_days(now, response_working_days, tz),
            tz=tz,
            targets=targets,
        )

    @property
    def needs_themes(self) -> bool:
        """A theme has a target of its own: "ver over tijd" then depends on the themes."""
        return bool(self.targets.by_theme)

    @property
    def rules(self) -> DeadlineRules:
        return self.targets.rules

    def start_of(self, day: date) -> datetime:
        """Midnight at the start of ``day`` in the portal's time zone, as UTC."""
        return datetime.combine(day, time.min, tzinfo=self.tz).astimezone(UTC)

    # --- one signal, or an inbox row's: the same rules as the conditions below ---------

    def respond_late(self, signal: Signal | ListedSignal) -> bool:
        if signal.respond_due_on is None:  # from before due dates were stored
            return (
                signal.status == Status.RECEIVED
                and signal.responded_at is None
                and signal.created_at < self.response_cutoff
            )
        return rules_of.respond_late(signal, self.today)

    def handle_late(self, signal: Signal | ListedSignal) -> bool:
        return rules_of.handle_late(signal, self.today, self.rules)

    def far_overdue(self, signal: Signal | ListedSignal) -> bool:
        # rules_of.far_overdue counts the working days on from the due date for every row;
        # the cutoff (working days back from today, as the SQL filter has it) is one per
        # target and day. The same answer: due + n working days < today <=> due < cutoff.
        if not self.handle_late(signal) or signal.handle_due_on is None:
            return False
        themes = signal.theme_codes if self.needs_themes else ()
        target = self.targets.for_signal(signal.kind, themes)
        return signal.handle_due_on < _cutoff(self.today, target.handle_working_days)

    def follow_up_due(self, signal: Signal | ListedSignal, *, strict: bool = False) -> bool:
        """The follow-up day has come (``strict``: has passed)."""
        if signal.follow_up_on is None or not rules_of.is_open(signal):
            return False
        return signal.follow_up_on < self.today if strict else signal.follow_up_on <= self.today

    def is_overdue(self, signal: Signal | ListedSignal) -> bool:
        """Late in any way: the meaning of the older ``overdue`` filter."""
        return (
            self.respond_late(signal)
            or self.handle_late(signal)
            or self.follow_up_due(signal, strict=True)
        )

    def age_days(self, signal: Signal | ListedSignal) -> int:
        return max((self.today - signal.created_at.astimezone(self.tz).date()).days, 0)


@lru_cache(maxsize=64)
def _cutoff(today: date, handle_working_days: int) -> date:
    return far_overdue_cutoff(today, handle_working_days)


# --- the conditions -------------------------------------------------------------------------


def _open() -> ColumnElement[bool]:
    # The values written out: the partial indexes over open signals serve only this very
    # term (portal/models/inbox_counts.py).
    return open_signal()


def respond_late(d: Deadlines) -> ColumnElement[bool]:
    due = Signal.respond_due_on < d.today
    older = and_(
        Signal.respond_due_on.is_(None),
        Signal.status == Status.RECEIVED.value,
        Signal.created_at < d.response_cutoff,
    )
    return and_(_open(), Signal.responded_at.is_(None), or_(due, older))


def handling_clock_running(d: Deadlines) -> ColumnElement[bool]:
    """Open, and not waiting for the resident while the clock stands still then: what
    ``handle_late`` asks besides the due date."""
    running = _open()
    if d.rules.pause_while_awaiting_resident:
        running = and_(running, Signal.status != Status.AWAITING_RESIDENT.value)
    return running


def handle_late(d: Deadlines) -> ColumnElement[bool]:
    return and_(handling_clock_running(d), Signal.handle_due_on < d.today)


def follow_up_due(d: Deadlines) -> ColumnElement[bool]:
    return and_(_open(), Signal.follow_up_on <= d.today)


def _has_theme(*themes: str) -> ColumnElement[bool]:
    return (
        select(SignalTheme.signal_id)
        .where(SignalTheme.signal_id == Signal.id, SignalTheme.theme.in_(themes))
        .exists()
    )


def far_overdue(d: Deadlines) -> ColumnElement[bool]:
    """Per kind: a theme with a target of its own gives its cutoff (the earliest promise
    wins, so any one theme past its cutoff is enough); without such a theme, the kind's."""
    targets, today = d.targets, d.today
    cutoffs: list[date] = [far_overdue_cutoff(today, targets.default.handle_working_days)]
    branches: list[ColumnElement[bool]] = []
    for kind in _KINDS:
        own = targets.themes_with_rows(kind)
        fallback = far_overdue_cutoff(today, targets.fallback(kind).handle_working_days)
        cutoffs.append(fallback)
        ways: list[ColumnElement[bool]] = []
        for theme, target in sorted(own.items()):
            cutoff = far_overdue_cutoff(today, target.handle_working_days)
            cutoffs.append(cutoff)
            ways.append(and_(_has_theme(theme), Signal.handle_due_on < cutoff))
        without_own = ~_has_theme(*sorted(own)) if own else true()
        ways.append(and_(without_own, Signal.handle_due_on < fallback))
        branches.append(and_(Signal.kind == kind, or_(*ways)))
    branches.append(
        and_(Signal.kind.not_in(_KINDS), Signal.handle_due_on < cutoffs[0])  # never, in practice
    )
    # The widest cutoff first: the index on handle_due_on narrows, the branches decide.
    return and_(handle_late(d), Signal.handle_due_on < max(cutoffs), or_(*branches))


def overdue(d: Deadlines) -> ColumnElement[bool]:
    # "Open" once, outside the OR: then it is a term of the whole WHERE, and the partial
    # indexes over open signals serve it (the same rows as each part's own "open").
    passed = Signal.follow_up_on < d.today
    return and_(_open(), or_(respond_late(d), handle_late(d), passed))


# --- for counting in parts (portal/domain/inbox/counts.py) ---------------------------------


# Which kinds a cutoff is for: ("in", kinds), ("not_in", kinds), or None for every kind.
KindChoice = tuple[str, tuple[str, ...]] | None


def far_overdue_cutoffs(d: Deadlines) -> list[tuple[KindChoice, date]] | None:
    """``far_overdue`` as (kinds, cutoff) pairs - handling late and due before the cutoff -
    when no theme has a target of its own (else None: then a theme decides, and only the
    whole condition will do). Kinds with the same cutoff share a pair: with the default
    targets there is one, for every kind."""
    targets, today = d.targets, d.today
    if any(targets.themes_with_rows(kind) for kind in _KINDS):
        return None
    default = far_overdue_cutoff(today, targets.default.handle_working_days)
    by_cutoff: dict[date, list[str]] = {default: []}
    for kind in _KINDS:
        cutoff = far_overdue_cutoff(today, targets.fallback(kind).handle_working_days)
        by_cutoff.setdefault(cutoff, []).append(kind)
    others = tuple(kind for kinds in by_cutoff.values() for kind in kinds if kinds)
    pairs: list[tuple[KindChoice, date]] = []
    for cutoff, kinds in by_cutoff.items():
        if cutoff == default:  # also every kind not in _KINDS (none, in practice)
            apart = tuple(k for k in others if k not in kinds)
            pairs.append((("not_in", apart) if apart else None, cutoff))
        else:
            pairs.append((("in", tuple(kinds)), cutoff))
    return pairs


def not_handle_late(d: Deadlines) -> ColumnElement[bool]:
    """An open signal that ``handle_late`` leaves out (NULL-safe: a missing due date too)."""
    ways = [Signal.handle_due_on.is_(None), Signal.handle_due_on >= d.today]
    if d.rules.pause_while_awaiting_resident:
        ways.append(Signal.status == Status.AWAITING_RESIDENT.value)
    return or_(*ways)


def not_respond_late(d: Deadlines) -> ColumnElement[bool]:
    """An open signal that ``respond_late`` leaves out (NULL-safe)."""
    return or_(
        Signal.responded_at.is_not(None),
        and_(Signal.respond_due_on.is_not(None), Signal.respond_due_on >= d.today),
        and_(
            Signal.respond_due_on.is_(None),
            or_(
                Signal.status != Status.RECEIVED.value,
                Signal.created_at >= d.response_cutoff,
            ),
        ),
    )


def follow_up_passed(d: Deadlines) -> ColumnElement[bool]:
    """The follow-up day has passed (part of ``overdue``)."""
    return and_(_open(), Signal.follow_up_on < d.today)


CONDITIONS = {
    "respond_late": respond_late,
    "handle_late": handle_late,
    "follow_up_due": follow_up_due,
    "far_overdue": far_overdue,
}


def deadline_conditions(flags: dict[str, bool], d: Deadlines) -> list[ColumnElement[bool]]:
    """The conditions of the ticked deadline filters (``flags``: name -> ticked)."""
    where = [CONDITIONS[name](d) for name, ticked in flags.items() if ticked and name in CONDITIONS]
    if flags.get("overdue"):
        where.append(overdue(d))
    return where


__all__ = [
    "CONDITIONS",
    "Deadlines",
    "deadline_conditions",
    "far_overdue_cutoffs",
    "follow_up_passed",
    "handling_clock_running",
    "not_handle_late",
    "not_respond_late",
    "subtract_working_days",
]
