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

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from portal.domain import audit, reply_links
from portal.models import (
    Attachment,
    InboundMail,
    OutboxMessage,
    ReopenRequest,
    ReplyAddress,
    Reporter,
    SatisfactionSurvey,
    Signal,
    SignalEvent,
)
from portal.vocabulary import CLOSED_STATUSES

CONTACT_DATA_REMOVED = "contact_data_removed"
PHOTOS_REMOVED = "photos_removed"
# Signals per flush: a first run on years of signals stays within memory.
_BATCH = 200
_CLOSED = tuple(s.value for s in CLOSED_STATUSES)
# Mail that is done with: sent, or given up on; and mail still going out.
_FINISHED_MAIL = ("sent", "failed")
_UNFINISHED_MAIL = ("pending", "sending")
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
    mails += _blank_mail(session, Signal.contact_data_removed_at.is_not(None)).total()

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
        photos += _remove_photos(session, with_photos[start : start + _BATCH], now)
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
                OutboxMessage.status.in_(_UNFINISHED_MAIL),
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
    ids = [signal.id for signal in signals]
    reporters = {
        r.signal_id: r for r in session.scalars(select(Reporter).where(Reporter.signal_id.in_(ids)))
    }
    texts = _resident_texts(session, ids)
    mails = _blank_mail(session, Signal.id.in_(ids))
    _revoke_reply_addresses(session, ids, now)
    for signal in signals:
        reporter = reporters.get(signal.id)
        # The resident's own words may name them ("groet, Jan Jansen, 06 ..."): cut out while
        # the values to look for are still known.
        scrub = reply_links.scrubber(reporter)
        scrubbed = 0
        for holder, field in [(signal, "description"), *texts.get(signal.id, [])]:
            before = getattr(holder, field)
            after = scrub(before)
            if after != before:
                setattr(holder, field, after)
                scrubbed += 1
        had_data = reporter is not None and any(
            (reporter.name, reporter.email, reporter.phone, reporter.organisation_name)
        )
        if reporter is not None:
            reporter.name = reporter.email = reporter.phone = None
            reporter.organisation_name = reporter.kvk_number = None
            reporter.may_contact = reporter.may_share_with_partners = False
        signal.contact_data_removed_at = now
        if had_data or scrubbed:  # the step says the resident's details went
            session.add(
                SignalEvent(
                    signal_id=signal.id, kind=CONTACT_DATA_REMOVED, is_public=False, created_at=now
                )
            )
        if had_data or scrubbed or mails.get(signal.id):
            audit.record(
                session,
                "signal.contact_data_removed",
                signal_id=signal.id,
                reference=signal.reference,
                mails_blanked=mails.get(signal.id, 0),
                texts_scrubbed=scrubbed,
                sensitive=signal.sensitive,
            )
    return len(signals), sum(mails.values()), len(waiting)


def _resident_texts(session: Session, signal_ids: list[int]) -> dict[int, list[tuple[object, str]]]:
    """Per signal, the texts the resident wrote besides the form: their messages on the
    timeline, their reopen requests and satisfaction comments (object, field name)."""
    found: dict[int, list[tuple[object, str]]] = {}
    for event in session.scalars(
        select(SignalEvent).where(
            SignalEvent.signal_id.in_(signal_ids), SignalEvent.origin.is_not(None)
        )
    ):
        found.setdefault(event.signal_id, []).append((event, "message"))
    for model in (ReopenRequest, SatisfactionSurvey):
        for row in session.scalars(select(model).where(model.signal_id.in_(signal_ids))):
            found.setdefault(row.signal_id, []).append((row, "comment"))
    return found


def _blank_mail(session: Session, signals: ColumnElement[bool]) -> Counter[int]:
    """Blanks what is left of the copies of finished mail, in and out, about the signals
    ``signals`` selects (a condition on Signal.id). Per signal, how many."""
    blanked: Counter[int] = Counter()
    for message in session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.signal_id.in_(select(Signal.id).where(signals)),
            OutboxMessage.status.in_(_FINISHED_MAIL),
            OutboxMessage.recipient != "",
        )
    ):
        message.recipient = ""
        message.body_text = ""
        message.body_html = message.list_unsubscribe = message.compose = None
        message.last_error = None  # an SMTP error can quote the address
        blanked[message.signal_id or 0] += 1
    for mail in session.scalars(
        select(InboundMail).where(
            InboundMail.signal_id.in_(select(Signal.id).where(signals)),
            # A bounce has no sender, but its raw message quotes the mail it answers.
            or_(InboundMail.envelope_from != "", func.length(InboundMail.raw) > 0),
        )
    ):
        mail.envelope_from, mail.raw = "", b""
        blanked[mail.signal_id or 0] += 1
    return blanked


def _revoke_reply_addresses(session: Session, signal_ids: list[int], now: datetime) -> None:
    # A reply to an old mail would bring the address back.
    for address in session.scalars(
        select(ReplyAddress).where(
            ReplyAddress.signal_id.in_(signal_ids), ReplyAddress.revoked_at.is_(None)
        )
    ):
        address.revoked_at = now


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
