"""Casework deadlines ("vinger aan de pols"): how many working days a signal may take for its
first public response and for being handled, the due dates every signal stores, the pause
while it waits for the resident, and when a signal counts as late.

Targets come from the admin's table (``ResponseTarget``), per kind and optionally per theme,
with the installation's settings behind them (``DeadlineRules``: RESPONSE_WORKING_DAYS,
HANDLE_WORKING_DAYS). A signal with several themes gets the earliest promise any of its themes
makes; a kind without a row of its own gets the settings.

A signal stores its two due dates (``respond_due_on``, ``handle_due_on``) when it comes in, so
that a later change of the targets never moves a promise already made. "Late" is then a
comparison of a stored, indexed date with today (the inbox's filters are such comparisons):

* **reactie te laat** - open, nobody of staff answered in public yet, and the response due
  date has passed;
* **afhandeling te laat** - open and the handling due date has passed;
* **ver over tijd** - open and more than three times its handling target past the day it came
  in (Signalen's "signalering"): the handling due date plus twice the target;
* while the signal waits for the resident and PAUSE_WHILE_AWAITING_RESIDENT is on, its
  handling clock stands still: it is neither "afhandeling te laat" nor "ver over tijd", and
  when it stops waiting its handling due date moves on by the working days it waited.

Plain Python without Flask: callers pass the rules and the moment in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.working_days import add_working_days, is_working_day, local_date
from portal.models import ResponseTarget, Signal, SignalEvent
from portal.vocabulary import CLOSED_STATUSES, Kind, Status, Theme

DEFAULT_RESPOND_WORKING_DAYS = 3
DEFAULT_HANDLE_WORKING_DAYS = 20
# "Ver over tijd": past this many times the handling target, counted from the day it came in.
FAR_OVERDUE_FACTOR = 3
# What the admin may set: at least one working day, at most about a year.
MIN_WORKING_DAYS, MAX_WORKING_DAYS = 1, 250
_CLOSED = frozenset(s.value for s in CLOSED_STATUSES)
_AWAITING = Status.AWAITING_RESIDENT.value


@dataclass(frozen=True)
class DeadlineRules:
    """The installation's settings (config.py): the targets for a kind without a row of its
    own, and whether the handling clock stops while a signal waits for the resident."""

    respond_working_days: int = DEFAULT_RESPOND_WORKING_DAYS
    handle_working_days: int = DEFAULT_HANDLE_WORKING_DAYS
    pause_while_awaiting_resident: bool = True


def rules_from(mail: object) -> DeadlineRules:
    """The rules as the operations' mail context carries them (RESPONSE_WORKING_DAYS,
    HANDLE_WORKING_DAYS, PAUSE_WHILE_AWAITING_RESIDENT); a context without them (an older
    caller's) gets the defaults, which config.py shares."""
    return DeadlineRules(
        respond_working_days=int(
            getattr(mail, "response_working_days", DEFAULT_RESPOND_WORKING_DAYS)
        ),
        handle_working_days=int(getattr(mail, "handle_working_days", DEFAULT_HANDLE_WORKING_DAYS)),
        pause_while_awaiting_resident=bool(getattr(mail, "pause_while_awaiting_resident", True)),
    )


# --- working days ---------------------------------------------------------------------------


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 when ``end``
    is not later): the inverse of ``add_working_days``."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def working_days_before(day: date, count: int) -> date:
    """The ``count``-th working day before ``day`` (``day`` itself never counts)."""
    while count > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def far_overdue_cutoff(today: date, handle_working_days: int) -> date:
    """A signal with this handling target is "ver over tijd" today when its handling due date
    lies before the day returned. (Its far-overdue day is the due date plus twice the target;
    it is past when that day is before today.)"""
    return working_days_before(today, (FAR_OVERDUE_FACTOR - 1) * handle_working_days)


# --- targets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    respond_working_days: int
    handle_working_days: int


@dataclass(frozen=True)
class Targets:
    """The admin's targets with the installation's settings behind them."""

    rules: DeadlineRules = field(default_factory=DeadlineRules)
    by_kind: dict[str, Target] = field(default_factory=dict)
    by_theme: dict[tuple[str, str], Target] = field(default_factory=dict)

    @property
    def default(self) -> Target:
        return Target(self.rules.respond_working_days, self.rules.handle_working_days)

    def fallback(self, kind: str) -> Target:
        """The target of a signal of this kind whose themes have no row of their own."""
        return self.by_kind.get(kind, self.default)

    def for_signal(self, kind: str, themes: Iterable[str]) -> Target:
        """The earliest promise any of the signal's themes makes, else the kind's, else the
        installation's."""
        rows = [self.by_theme[(kind, t)] for t in themes if (kind, t) in self.by_theme]
        if not rows:
            return self.fallback(kind)
        return Target(
            min(r.respond_working_days for r in rows), min(r.handle_working_days for r in rows)
        )

    def themes_with_rows(self, kind: str) -> dict[str, Target]:
        return {theme: t for (k, theme), t in self.by_theme.items() if k == kind}


def load_targets(session: Session, rules: DeadlineRules) -> Targets:
    """One query: every target row."""
    by_kind: dict[str, Target] = {}
    by_theme: dict[tuple[str, str], Target] = {}
    for row in session.scalars(select(ResponseTarget)):
        target = Target(row.respond_working_days, row.handle_working_days)
        if row.theme is None:
            by_kind[row.kind] = target
        else:
            by_theme[(row.kind, row.theme)] = target
    return Targets(rules=rules, by_kind=by_kind, by_theme=by_theme)


def target_of(session: Session, signal: Signal, rules: DeadlineRules) -> Target:
    # Reading the targets must not flush the caller's change on its own: one UPDATE, one
    # version step per action.
    with session.no_autoflush:
        return load_targets(session, rules).for_signal(signal.kind, signal.theme_codes)


# --- due dates ------------------------------------------------------------------------------


def set_due_dates(session: Session, signal: Signal, rules: DeadlineRules) -> Target:
    """Both due dates from the day the signal came in (local), for a new signal."""
    target = target_of(session, signal, rules)
    came_in = local_date(signal.created_at)
    signal.respond_due_on = add_working_days(came_in, target.respond_working_days)
    signal.handle_due_on = add_working_days(came_in, target.handle_working_days)
    return target


def retarget(session: Session, signal: Signal, rules: DeadlineRules, *, before: Target) -> None:
    """After the signal's kind or themes changed (``before``: its target until then, from
    ``target_of`` before the change): both due dates as if it had come in with the new kind
    and themes, keeping the working days it was paused while waiting for the resident. (The
    back office cannot change kind or themes yet; this is the operation for when it can.)"""
    came_in = local_date(signal.created_at)
    paused = 0
    if signal.handle_due_on is not None:
        paused = working_days_between(
            add_working_days(came_in, before.handle_working_days), signal.handle_due_on
        )
    target = target_of(session, signal, rules)
    signal.respond_due_on = add_working_days(came_in, target.respond_working_days)
    signal.handle_due_on = add_working_days(
        add_working_days(came_in, target.handle_working_days), paused
    )


def record_response(signal: Signal, now: datetime) -> None:
    """The first public step by staff (a status change or a public message) answers it."""
    if signal.responded_at is None:
        signal.responded_at = now
        signal.responded_in_time = in_time(now, signal.respond_due_on)


def status_changed(
    session: Session,
    signal: Signal,
    *,
    previous: str,
    target: str,
    now: datetime,
    rules: DeadlineRules,
) -> None:
    """Keeps the clocks right when the status moves (call it after the move): waiting for
    the resident starts or ends the pause, and reopening gives it a new handling period."""
    if target == _AWAITING and previous != _AWAITING:
        signal.awaiting_since = now
    elif previous == _AWAITING and target != _AWAITING:
        stopped_waiting(signal, now=now, rules=rules)
    if target in _CLOSED:
        # Judged against the due date before any reopening moves it.
        signal.handled_in_time = in_time(now, signal.handle_due_on)
    elif previous in _CLOSED:
        signal.handled_in_time = None
    if target == Status.REOPENED and previous in _CLOSED:
        # Handled once, now back: the handling target counts again from today.
        handle = target_of(session, signal, rules).handle_working_days
        signal.handle_due_on = add_working_days(local_date(now), handle)


def in_time(moment: datetime, due_on: date | None) -> bool | None:
    """Done on or before the last day allowed (a local date); None without a due date."""
    return None if due_on is None else local_date(moment) <= due_on


def stopped_waiting(signal: Signal, *, now: datetime, rules: DeadlineRules) -> None:
    """The signal no longer waits for the resident (staff moved it on, or the resident
    answered): with the pause on, handling is due later by the working days it waited."""
    since, signal.awaiting_since = signal.awaiting_since, None
    if since is None or signal.handle_due_on is None:
        return
    if rules.pause_while_awaiting_resident:
        waited = working_days_between(local_date(since), local_date(now))
        signal.handle_due_on = add_working_days(signal.handle_due_on, waited)


# --- lateness (one signal; the inbox has the same rules as SQL) -----------------------------


def is_open(signal: Signal) -> bool:
    return signal.status not in _CLOSED


def clock_paused(signal: Signal, rules: DeadlineRules) -> bool:
    return rules.pause_while_awaiting_resident and signal.status == _AWAITING


def respond_late(signal: Signal, today: date) -> bool:
    return (
        is_open(signal)
        and signal.responded_at is None
        and signal.respond_due_on is not None
        and signal.respond_due_on < today
    )


def handle_late(signal: Signal, today: date, rules: DeadlineRules) -> bool:
    return (
        is_open(signal)
        and not clock_paused(signal, rules)
        and signal.handle_due_on is not None
        and signal.handle_due_on < today
    )


def far_overdue_on(signal: Signal, targets: Targets) -> date | None:
    """The last day before the signal is "ver over tijd" (None without a handling date)."""
    if signal.handle_due_on is None:
        return None
    handle = targets.for_signal(signal.kind, signal.theme_codes).handle_working_days
    return add_working_days(signal.handle_due_on, (FAR_OVERDUE_FACTOR - 1) * handle)


def far_overdue(signal: Signal, today: date, targets: Targets) -> bool:
    last_day = far_overdue_on(signal, targets)
    return handle_late(signal, today, targets.rules) and last_day is not None and last_day < today


def follow_up_due(signal: Signal, today: date) -> bool:
    return is_open(signal) and signal.follow_up_on is not None and signal.follow_up_on <= today


# --- older signals --------------------------------------------------------------------------


def backfill_due_dates(session: Session, rules: DeadlineRules, *, batch: int = 500) -> int:
    """Due dates (and the first response) for open signals from before due dates were
    stored; safe to run again. Returns how many signals got them."""
    targets = load_targets(session, rules)
    done = 0
    while True:
        signals = session.scalars(
            select(Signal)
            .where(Signal.respond_due_on.is_(None), Signal.status.not_in(_CLOSED))
            .order_by(Signal.id)
            .limit(batch)
        ).all()
        if not signals:
            return done
        for signal in signals:
            target = targets.for_signal(signal.kind, signal.theme_codes)
            came_in = local_date(signal.created_at)
            signal.respond_due_on = add_working_days(came_in, target.respond_working_days)
            signal.handle_due_on = add_working_days(came_in, target.handle_working_days)
            signal.responded_at = signal.responded_at or _first_public_step(session, signal)
        session.flush()
        done += len(signals)


def _first_public_step(session: Session, signal: Signal) -> datetime | None:
    return session.scalar(
        select(SignalEvent.created_at)
        .where(
            SignalEvent.signal_id == signal.id,
            SignalEvent.is_public.is_(True),
            SignalEvent.author_id.is_not(None),
            SignalEvent.kind.in_(("status_changed", "public_message")),
        )
        .order_by(SignalEvent.id)
        .limit(1)
    )


# --- the admin's table ----------------------------------------------------------------------


class TargetError(ValueError):
    """``code``: unknown_kind, unknown_theme, out_of_range, respond_after_handle, duplicate."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _target_details(row: ResponseTarget) -> dict[str, object]:
    return {
        "kind": row.kind,
        "theme": row.theme,
        "respond_working_days": row.respond_working_days,
        "handle_working_days": row.handle_working_days,
    }


def check_target(kind: str, theme: str | None, respond: int, handle: int) -> None:
    if kind not in set(Kind):
        raise TargetError("unknown_kind")
    if theme is not None and theme not in set(Theme):
        raise TargetError("unknown_theme")
    if not all(MIN_WORKING_DAYS <= n <= MAX_WORKING_DAYS for n in (respond, handle)):
        raise TargetError("out_of_range")
    if respond > handle:
        raise TargetError("respond_after_handle")


def save_target(
    session: Session,
    row: ResponseTarget | None,
    *,
    kind: str,
    theme: str | None,
    respond_working_days: int,
    handle_working_days: int,
    actor_id: int,
) -> ResponseTarget:
    """A new target row (``row`` None) or a change to one. Signals that came in already keep
    their due dates: a promise once made does not move."""
    check_target(kind, theme, respond_working_days, handle_working_days)
    clash = session.scalar(
        select(ResponseTarget.id).where(
            ResponseTarget.kind == kind,
            ResponseTarget.theme.is_(None) if theme is None else ResponseTarget.theme == theme,
        )
    )
    if clash is not None and (row is None or clash != row.id):
        raise TargetError("duplicate")
    before = _target_details(row) if row is not None else None
    if row is None:
        row = ResponseTarget(kind=kind, theme=theme, respond_working_days=0, handle_working_days=0)
        session.add(row)
    row.kind, row.theme = kind, theme
    row.respond_working_days, row.handle_working_days = respond_working_days, handle_working_days
    session.flush()
    audit.record(
        session,
        "response_target.saved",
        actor_id=actor_id,
        target_id=row.id,
        before=before,
        after=_target_details(row),
    )
    return row


def delete_target(session: Session, row: ResponseTarget, *, actor_id: int) -> None:
    audit.record(
        session,
        "response_target.deleted",
        actor_id=actor_id,
        target_id=row.id,
        before=_target_details(row),
    )
    session.delete(row)
    session.flush()


def targets_table(session: Session) -> Sequence[ResponseTarget]:
    """Every row, by kind and then the kind's own row before its themes."""
    rows = session.scalars(select(ResponseTarget)).all()
    kinds = [k.value for k in Kind]
    themes = [t.value for t in Theme]

    def key(row: ResponseTarget) -> tuple[int, int]:
        kind = kinds.index(row.kind) if row.kind in kinds else len(kinds)
        theme = (
            -1 if row.theme is None else (themes.index(row.theme) if row.theme in themes else 99)
        )
        return kind, theme

    return sorted(rows, key=key)
