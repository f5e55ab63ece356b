"""No more than needed, no longer than needed (AVG): what the retention job removes from
closed signals, counted from the moment they closed.

- **Contact data**: the reporter's name, email address, phone number, organisation and KvK
  number, and every copy of them in mail - the bodies and recipients of the signal's sent and
  failed mail in the outbox, the sender and raw message of mail residents sent in. A signal
  with mail still waiting to go out is left for a later run (the copy would outlive the
  removal otherwise).
- **Photos**: the attachment rows (with the form and with later messages); the files go with
  the upload sweep that runs right after (``jobs.py``), as any file no signal refers to.
- **Sensitive signals** on the shorter of their own period and the normal one.

What the signal itself says (what, where, when, its timeline) stays until the Archiefwet
period ends. Each removal leaves an internal timeline step and an audit record that name the
kind of data removed, never the data. A signal that reopens is no longer closed and is left
alone; closed again, its clock starts again. Everything goes through the ORM, so the cached
status page follows (``models/page_versions.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from portal.domain.privacy.anonymise import (
    UNFINISHED_MAIL,
    blank_mail,
    remove_contact_data,
    remove_photos,
)
from portal.models import Attachment, OutboxMessage, Signal
from portal.vocabulary import CLOSED_STATUSES

CONTACT_DATA_REMOVED = "contact_data_removed"
PHOTOS_REMOVED = "photos_removed"
# Signals per flush: a first run on years of signals stays within memory.
_BATCH = 200
_CLOSED = tuple(s.value for s in CLOSED_STATUSES)
# Signals per run and kind of data: a first run over years of signals is spread over a few
# (hourly) runs, so that no run holds the database's write lock for long.
MAX_SIGNALS_PER_RUN = 5_000


class RetentionRefused(ValueError):
    """A period is shorter than the floor: probably a typing error, and it would remove data
    the municipality still needs (an objection, a reopen request). Nothing is removed."""


@dataclass(frozen=True)
class RetentionPeriods:
    """Days after closing; ``minimum_days``: no period may be shorter."""

    contact_days: int
    photo_days: int
    sensitive_days: int
    minimum_days: int

    def check(self) -> None:
        for name, days in (
            ("contact data", self.contact_days),
            ("photos", self.photo_days),
            ("sensitive signals", self.sensitive_days),
        ):
            if days < self.minimum_days:
                raise RetentionRefused(
                    f"refused: the period for {name} ({days} days) is shorter than the "
                    f"minimum of {self.minimum_days} days; nothing removed"
                )


@dataclass(frozen=True)
class RetentionReport:
    contacts: int  # signals whose contact data went
    mails: int  # copies of mail blanked with them
    photos: int  # photos removed
    photo_signals: int  # from this many signals
    waiting: int  # signals due but with mail still waiting to go out

    def __str__(self) -> str:
        return (
            f"contact data removed from {self.contacts} signal(s) ({self.mails} mail(s) "
            f"blanked), {self.photos} photo(s) from {self.photo_signals} signal(s); "
            f"{self.waiting} left for a later run (mail still waiting)"
        )


def apply_retention(session: Session, periods: RetentionPeriods, now: datetime) -> RetentionReport:
    """Removes what is due, at most ``MAX_SIGNALS_PER_RUN`` signals per kind of data; running
    it again finds nothing more. Flushes, the caller commits."""
    periods.check()
    contact_due = and_(
        _closed_before(now, periods.contact_days, periods.sensitive_days),
        Signal.contact_data_removed_at.is_(None),
    )
    due = list(
        session.scalars(
            select(Signal.id).where(contact_due).order_by(Signal.id).limit(MAX_SIGNALS_PER_RUN)
        )
    )
    contacts = mails = waiting = 0
    for start in range(0, len(due), _BATCH):
        removed, blanked, held = _remove_contact_data(
            session, due[start : start + _BATCH], contact_due, now
        )
        contacts, mails, waiting = contacts + removed, mails + blanked, waiting + held
        session.flush()
    # Mail about signals done earlier that finished since (it was still going out then) or
    # came in since (a reply to an old mail).
    mails += blank_mail(session, Signal.contact_data_removed_at.is_not(None)).total()

    photo_due = _closed_before(now, periods.photo_days, periods.sensitive_days)
    with_photos = list(
        session.scalars(
            select(Attachment.signal_id)
            .join(Signal, Signal.id == Attachment.signal_id)
            .where(photo_due)
            .distinct()
            .order_by(Attachment.signal_id)
            .limit(MAX_SIGNALS_PER_RUN)
        )
    )
    photos = 0
    for start in range(0, len(with_photos), _BATCH):
        photos += len(
            remove_photos(
                session,
                with_photos[start : start + _BATCH],
                now,
                event_kind=PHOTOS_REMOVED,
                audit_action="signal.photos_removed",
            )
        )
        session.flush()
    return RetentionReport(
        contacts=contacts,
        mails=mails,
        photos=photos,
        photo_signals=len(with_photos),
        waiting=waiting,
    )


def _closed_before(now: datetime, days: int, sensitive_days: int) -> ColumnElement[bool]:
    """Closed at least ``days`` ago, or a sensitive one at least the shorter period ago."""
    closed = and_(Signal.status.in_(_CLOSED), Signal.closed_at.is_not(None))
    long_enough = Signal.closed_at <= now - timedelta(days=days)
    if sensitive_days < days:
        sensitive = and_(Signal.sensitive, Signal.closed_at <= now - timedelta(days=sensitive_days))
        long_enough = or_(long_enough, sensitive)
    return and_(closed, long_enough)


def _remove_contact_data(
    session: Session, signal_ids: list[int], due: ColumnElement[bool], now: datetime
) -> tuple[int, int, int]:
    """Returns how many signals lost their contact data, how many mails were blanked and how
    many signals wait for their mail."""
    waiting = set(
        session.scalars(
            select(OutboxMessage.signal_id)
            .where(
                OutboxMessage.signal_id.in_(signal_ids),
                OutboxMessage.status.in_(UNFINISHED_MAIL),
            )
            .distinct()
        )
    )
    # Read again with the condition (and locked on PostgreSQL): a signal reopened since the
    # ids were chosen is left alone; one reopened after this read fails the flush on its
    # version, and the next run decides again.
    signals = [
        signal
        for signal in session.scalars(
            select(Signal).where(Signal.id.in_(signal_ids), due).with_for_update()
        )
        if signal.id not in waiting
    ]
    mails = remove_contact_data(
        session,
        signals,
        now,
        event_kind=CONTACT_DATA_REMOVED,
        audit_action="signal.contact_data_removed",
    )
    return len(signals), mails, len(waiting)
