"""Erasing what is held about one address or number on the resident's request (AVG art. 17).

The signals stay: the municipality still needs them for its task, and the Archiefwet decides
when they go. What goes is everything that points to the person - the contact data in their
signals and every copy of it (``anonymise.remove_contact_data``), their photos when asked,
the signals they follow and their wijk alerts, and the mail sent to them or by them. Mail to
them that has not gone out yet is not sent any more. The reason is kept in the audit trail,
with a keyed hash of the address instead of the address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.privacy.anonymise import (
    UNFINISHED_MAIL,
    blank_inbound_mail,
    blank_outbox_message,
    remove_contact_data,
    remove_photos,
)
from portal.domain.privacy.holdings import Holdings, SubjectKind
from portal.models import OutboxMessage, SignalFollower, WijkAlert

CONTACT_DATA_ERASED = "contact_data_erased"
PHOTOS_ERASED = "photos_erased"
REASON_MIN = 5
REASON_MAX = 500
# What an erased mail's error says, for the admin's mail log.
ERASED_MAIL_NOTE = "not sent: erased at the resident's request"


class ErasureRefused(ValueError):
    """The reason is missing or too long; nothing was erased."""


@dataclass(frozen=True)
class ErasureReport:
    signals: int
    photos: int
    following: int
    alerts: int
    mails: int
    # The erased photos' files: removed by the caller once the erasure is committed (the
    # upload sweep would wait a day for a young one).
    photo_files: tuple[str, ...] = ()


def erase(
    session: Session,
    held: Holdings,
    *,
    reason: str,
    with_photos: bool,
    actor_id: int,
    secret: str,
    now: datetime,
) -> ErasureReport:
    """``held``: what ``holdings.find`` found, in this session. Flushes; the caller commits."""
    reason = (reason or "").strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise ErasureRefused(reason)
    signal_ids = [s.id for s in held.signals]
    addresses = {held.subject.value} if held.subject.kind is SubjectKind.EMAIL else set()
    addresses |= {s.reporter.email.lower() for s in held.signals if s.reporter and s.reporter.email}
    # Not sent any more, then blanked with the rest below.
    for message in session.scalars(
        select(OutboxMessage).where(
            func.lower(OutboxMessage.recipient).in_(addresses),
            OutboxMessage.status.in_(UNFINISHED_MAIL),
        )
    ):
        message.status = "failed"
        message.next_attempt_at = now
    mails = remove_contact_data(
        session,
        held.signals,
        now,
        event_kind=CONTACT_DATA_ERASED,
        audit_action="signal.contact_data_erased",
        actor_id=actor_id,
        reason=reason,
    )
    # Mail to them that was about no signal of theirs (a follow, a wijk alert, another
    # signal's status link), and mail they sent from the address.
    for message in held.mail_out:
        if message.recipient:
            blank_outbox_message(message)
            message.last_error = ERASED_MAIL_NOTE if message.status == "failed" else None
            mails += 1
    for mail in held.mail_in:
        if mail.envelope_from or mail.raw:
            blank_inbound_mail(mail)
            mails += 1
    photo_files = []
    if with_photos:
        photo_files = remove_photos(
            session,
            signal_ids,
            now,
            event_kind=PHOTOS_ERASED,
            audit_action="signal.photos_erased",
            actor_id=actor_id,
        )
    following = [f.id for f in held.following]
    alerts = [a.id for a in held.alerts]
    if following:
        session.execute(delete(SignalFollower).where(SignalFollower.id.in_(following)))
    if alerts:
        session.execute(delete(WijkAlert).where(WijkAlert.id.in_(alerts)))
    report = ErasureReport(
        signals=len(signal_ids),
        photos=len(photo_files),
        following=len(following),
        alerts=len(alerts),
        mails=mails,
        photo_files=tuple(photo_files),
    )
    audit.record(
        session,
        "subject_access.erased",
        actor_id=actor_id,
        subject_kind=str(held.subject.kind),
        subject=held.subject.fingerprint(secret),
        reason=reason,
        references=[s.reference for s in held.signals],
        signals=report.signals,
        photos=report.photos,
        following=report.following,
        alerts=report.alerts,
        mails=report.mails,
    )
    session.flush()
    return report
