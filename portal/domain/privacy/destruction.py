"""Destroying signals when the Archiefwet period after closing ends (in ``jobs run``): a
declined one after a shorter period than a resolved one, as the municipality's selection list
says (Signalen: cancelled after 1 year, handled after 5).

A destroyed signal is gone with everything that hangs on it: its reporter, timeline, photos
(the files go with the upload sweep right after), status links, reply addresses, mail in and
out, follows, shares, escalations and links to other signals. What stays:

- anonymous counts (``models/archive.py``), added to in the same transaction, for the
  steering figures over the years;
- a grant made to an initiative (the wijk budget's books must still add up), without it;
- the audit trail, whose records never held personal data, and one record per batch that
  lists the destroyed references (the Archiefwet's record of what was destroyed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.domain import audit
from portal.models import ArchivedSignalCount, InboundMail, OutboxMessage, Signal
from portal.models.archive import ARCHIVE_KEY
from portal.vocabulary import Status

# The floor: a typing error in the configuration must not destroy this year's signals.
MINIMUM_YEARS = 1
MAX_SIGNALS_PER_RUN = 5_000
_BATCH = 200
_DAYS_PER_YEAR = 365.25


class DestructionRefused(ValueError):
    """A period is shorter than the floor; nothing is destroyed."""


@dataclass(frozen=True)
class DestructionPeriods:
    """Years after closing, per outcome."""

    resolved_years: int
    declined_years: int

    def check(self) -> None:
        periods = (("resolved", self.resolved_years), ("declined", self.declined_years))
        for outcome, years in periods:
            if years < MINIMUM_YEARS:
                raise DestructionRefused(
                    f"refused: the period for {outcome} signals ({years} years) is shorter "
                    f"than the minimum of {MINIMUM_YEARS} year; nothing destroyed"
                )


@dataclass(frozen=True)
class DestructionReport:
    destroyed: Counter[str]  # per outcome

    def __str__(self) -> str:
        return (
            f"{self.destroyed['resolved']} resolved and {self.destroyed['declined']} declined "
            "signal(s) destroyed after the archive period, their counts kept"
        )


def destroy_expired(
    session: Session, periods: DestructionPeriods, now: datetime
) -> DestructionReport:
    """At most ``MAX_SIGNALS_PER_RUN`` a run; running it again finds nothing more. Flushes,
    the caller commits."""
    periods.check()
    due = _due(periods, now)
    ids = list(
        session.scalars(select(Signal.id).where(due).order_by(Signal.id).limit(MAX_SIGNALS_PER_RUN))
    )
    destroyed: Counter[str] = Counter()
    for start in range(0, len(ids), _BATCH):
        destroyed += _destroy(session, ids[start : start + _BATCH], due)
        session.flush()
    return DestructionReport(destroyed)


def _due(periods: DestructionPeriods, now: datetime) -> ColumnElement[bool]:
    def closed_for(status: Status, years: int) -> ColumnElement[bool]:
        return and_(
            Signal.status == status.value,
            Signal.closed_at <= now - timedelta(days=years * _DAYS_PER_YEAR),
        )

    return or_(
        closed_for(Status.RESOLVED, periods.resolved_years),
        closed_for(Status.DECLINED, periods.declined_years),
    )


def _destroy(session: Session, signal_ids: list[int], due: ColumnElement[bool]) -> Counter[str]:
    # Read again with the condition (and locked on PostgreSQL): one reopened meanwhile stays.
    signals = list(
        session.scalars(
            select(Signal)
            .where(Signal.id.in_(signal_ids), due)
            .options(selectinload(Signal.themes))
            .with_for_update()
        )
    )
    if not signals:
        return Counter()
    ids = [s.id for s in signals]
    counts: Counter[tuple[str, ...]] = Counter(_key(s) for s in signals)
    _add_counts(session, counts)
    # Mail keeps its rows when a signal goes (SET NULL, for the outbox's own bookkeeping):
    # about a destroyed signal there is nothing left to keep.
    session.execute(delete(OutboxMessage).where(OutboxMessage.signal_id.in_(ids)))
    session.execute(delete(InboundMail).where(InboundMail.signal_id.in_(ids)))
    references = sorted(s.reference for s in signals)
    for signal in signals:
        session.delete(signal)
    audit.record(
        session,
        "signals.destroyed",
        references=references,
        outcomes=dict(Counter(s.status for s in signals)),
    )
    return Counter(s.status for s in signals)


def _key(signal: Signal) -> tuple[str, ...]:
    return (
        f"{signal.created_at:%Y-%m}",
        f"{signal.closed_at:%Y-%m}",  # set: only signals closed long enough ago are due
        signal.wijk_code or "",
        signal.buurt_code or "",
        signal.kind,
        ",".join(sorted(t.theme for t in signal.themes)),
        signal.status,
        signal.channel,
        signal.submitter_kind,
    )


def _add_counts(session: Session, counts: Counter[tuple[str, ...]]) -> None:
    """Adds to the rows that exist (locked) and makes the others. Two runs at once are kept
    apart by the job's lease (``jobs.py``); the unique key would refuse a doubled row."""
    columns = [getattr(ArchivedSignalCount, name) for name in ARCHIVE_KEY]
    existing = {
        tuple(getattr(row, name) for name in ARCHIVE_KEY): row
        for row in session.scalars(
            select(ArchivedSignalCount)
            .where(
                or_(
                    *(
                        and_(*(column == value for column, value in zip(columns, key, strict=True)))
                        for key in counts
                    )
                )
            )
            .with_for_update()
        )
    }
    for key, number in counts.items():
        row = existing.get(key)
        if row is None:
            session.add(
                ArchivedSignalCount(**dict(zip(ARCHIVE_KEY, key, strict=True)), signals=number)
            )
        else:
            row.signals += number
