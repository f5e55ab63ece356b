"""A resident's own overview of what the portal keeps about their email address (AVG art. 15),
asked for on the public site and sent only to that address.

Whoever asks gets the same answer on the page, whether or not anything is held: the mail is
the only sign, and it reaches only the owner of the mailbox. It lists what is held in short
(references, dates, titles, statuses; never what they wrote or their photos, for a shared
mailbox may be read by others) and says how to get the full copy or have it erased.

One address gets at most one overview per ``repeat_minutes``, so that the form cannot be used
to flood someone's mailbox; the IP rate limit is the view's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.notifications import MailContext
from portal.domain.privacy import holdings
from portal.domain.privacy.holdings import NotASubject, Subject, SubjectKind
from portal.models import OutboxMessage
from portal.outbox import queue_mail

PURPOSE = "privacy_overview"
AUDIT_ACTION = "subject_access.overview_mailed"
TEMPLATE = "privacy_overview"


@dataclass(frozen=True)
class OverviewSettings:
    privacy_officer_email: str
    privacy_phone: str
    # At most one overview per address in this many minutes.
    repeat_minutes: int
    # Keys the audit trail's hash of the address (holdings.Subject.fingerprint).
    secret: str


class Outcome(StrEnum):
    """For tests and logs only: the resident is told the same in every case."""

    MAILED = "mailed"
    NOTHING_HELD = "nothing_held"
    TOO_SOON = "too_soon"


def email_subject(text: str) -> Subject:
    """The address as holdings looks for it; raises NotASubject for anything else (a phone
    number included: it cannot receive the overview)."""
    subject = Subject.parse(text)
    if subject.kind is not SubjectKind.EMAIL:
        raise NotASubject(text)
    return subject


def mail_overview(
    session: Session,
    email: str,
    *,
    locale: str,
    now: datetime,
    mail: MailContext,
    settings: OverviewSettings,
) -> Outcome:
    """Queues one overview mail to ``email`` if anything is held about it and none went there
    within ``settings.repeat_minutes``. Raises NotASubject when ``email`` is no address."""
    subject = email_subject(email)
    if _sent_recently(session, subject, now - timedelta(minutes=settings.repeat_minutes)):
        return Outcome.TOO_SOON
    held = holdings.find(session, subject)
    if held.empty:
        return Outcome.NOTHING_HELD
    rendered = mail.renderer.render(
        TEMPLATE,
        locale,
        held=held,
        made_at=now,
        status_lookup_url=mail.links.status_lookup(),
        privacy_officer_email=settings.privacy_officer_email,
        privacy_phone=settings.privacy_phone,
    )
    # To the address as matched (lower case): the one every held row was found under.
    queue_mail(session, purpose=PURPOSE, recipient=subject.value, mail=rendered)
    holdings.record_lookup(
        session, held, actor_id=None, secret=settings.secret, action=AUDIT_ACTION
    )
    return Outcome.MAILED


def _sent_recently(session: Session, subject: Subject, since: datetime) -> bool:
    return (
        session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.purpose == PURPOSE,
                func.lower(OutboxMessage.recipient) == subject.value,
                OutboxMessage.created_at >= since,
            )
            .limit(1)
        )
        is not None
    )
