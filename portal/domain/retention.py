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

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.models import Attachment, InboundMail, OutboxMessage, Reporter, Signal, SignalEvent
from portal.vocabulary import CLOSED_STATUSES

CONTACT_DATA_REMOVED = "contact_data_removed"
PHOTOS_REMOVED = "photos_removed"
# Signals per flush: a first run on years of signals stays within memory.
_BATCH = 200
_CLOSED = tuple(s.value for s in CLOSED_STATUSES)
# Mail that is done with: sent, or given up on.
_FINISHED_MAIL = ("sent", "failed")


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
    """Removes what is due; running it again finds nothing more. Flushes, the caller commits."""
    periods.check()
    contact_due = _closed_before(now, periods.contact_days, periods.sensitive_days)
    due = list(
        session.scalars(
            select(Signal.id)
            .where(contact_due, Signal.contact_data_removed_at.is_(None))
            .order_by(Signal.id)
        )
    )
    waiting = set(
        session.scalars(
            select(OutboxMessage.signal_id)
            .where(
                OutboxMessage.signal_id.in_(select(Signal.id).where(contact_due)),
                OutboxMessage.status.not_in(_FINISHED_MAIL),
            )
            .distinct()
        )
    )
    contacts = mails = 0
    ready = [signal_id for signal_id in due if signal_id not in waiting]
    for start in range(0, len(ready), _BATCH):
        chunk = ready[start : start + _BATCH]
        mails += _remove_contact_data(session, chunk, now)
        contacts += len(chunk)
        session.flush()

    photo_due = _closed_before(now, periods.photo_days, periods.sensitive_days)
    with_photos = list(
        session.scalars(
            select(Signal.id)
            .where(photo_due, exists().where(Attachment.signal_id == Signal.id))
            .order_by(Signal.id)
        )
    )
    photos = 0
    for start in range(0, len(with_photos), _BATCH):
        chunk = with_photos[start : start + _BATCH]
        photos += _remove_photos(session, chunk, now)
        session.flush()
    return RetentionReport(
        contacts=contacts,
        mails=mails,
        photos=photos,
        photo_signals=len(with_photos),
        waiting=len([signal_id for signal_id in due if signal_id in waiting]),
    )


def _closed_before(now: datetime, days: int, sensitive_days: int) -> ColumnElement[bool]:
    """Closed at least ``days`` ago, or a sensitive one at least the shorter period ago."""
    closed = and_(Signal.status.in_(_CLOSED), Signal.closed_at.is_not(None))
    long_enough = Signal.closed_at <= now - timedelta(days=days)
    if sensitive_days < days:
        sensitive = and_(Signal.sensitive, Signal.closed_at <= now - timedelta(days=sensitive_days))
        long_enough = or_(long_enough, sensitive)
    return and_(closed, long_enough)


def _remove_contact_data(session: Session, signal_ids: list[int], now: datetime) -> int:
    """Returns how many mails were blanked."""
    for reporter in session.scalars(select(Reporter).where(Reporter.signal_id.in_(signal_ids))):
        reporter.name = reporter.email = reporter.phone = None
        reporter.organisation_name = reporter.kvk_number = None
        reporter.may_contact = reporter.may_share_with_partners = False
    mails: dict[int, int] = {}
    for message in session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.signal_id.in_(signal_ids), OutboxMessage.status.in_(_FINISHED_MAIL)
        )
    ):
        message.recipient = ""
        message.body_text = ""
        message.body_html = message.list_unsubscribe = message.compose = None
        message.last_error = None  # an SMTP error can quote the address
        mails[message.signal_id or 0] = mails.get(message.signal_id or 0, 0) + 1
    for mail in session.scalars(select(InboundMail).where(InboundMail.signal_id.in_(signal_ids))):
        mail.envelope_from = ""
        mail.raw = b""
        mails[mail.signal_id or 0] = mails.get(mail.signal_id or 0, 0) + 1
    for signal in session.scalars(select(Signal).where(Signal.id.in_(signal_ids))):
        signal.contact_data_removed_at = now
        session.add(
            SignalEvent(
                signal_id=signal.id, kind=CONTACT_DATA_REMOVED, is_public=False, created_at=now
            )
        )
        audit.record(
            session,
            "signal.contact_data_removed",
            signal_id=signal.id,
            reference=signal.reference,
            mails_blanked=mails.get(signal.id, 0),
            sensitive=signal.sensitive,
        )
    return sum(mails.values())


def _remove_photos(session: Session, signal_ids: list[int], now: datetime) -> int:
    """Returns how many photos were removed."""
    removed: dict[int, int] = {}
    for attachment in session.scalars(
        select(Attachment).where(Attachment.signal_id.in_(signal_ids))
    ):
        session.delete(attachment)
        removed[attachment.signal_id] = removed.get(attachment.signal_id, 0) + 1
    for signal_id, count in removed.items():
        session.add(
            SignalEvent(signal_id=signal_id, kind=PHOTOS_REMOVED, is_public=False, created_at=now)
        )
        audit.record(session, "signal.photos_removed", signal_id=signal_id, photos=count)
    return sum(removed.values())
