"""Everything the portal holds about one email address or phone number (AVG art. 15): the
signals they reported, the signals they follow, their wijk alerts, the mail sent to them and
the mail they sent in, and the audit trail of all of that.

An address matches whatever its case; a phone number however it is written (06-12345678,
+31 6 1234 5678, 0031612345678 are one number). Looking someone up is itself recorded, with a
keyed hash of what was looked for instead of the address, so that the trail can answer "was
this address looked up?" without holding it."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.domain import audit
from portal.domain.reply_links import national_digits
from portal.models import (
    Attachment,
    AuditRecord,
    InboundMail,
    OutboxMessage,
    Reporter,
    Signal,
    SignalFollower,
    WijkAlert,
)

# Enough digits to be one number, not a fragment of many.
MIN_PHONE_DIGITS = 6
MAX_QUERY = 320
# Signals one search lists (and one export holds): more is not one resident.
MAX_SIGNALS = 500
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[+0-9 ()./\-]+$")


class SubjectKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class NotASubject(ValueError):
    """Neither an email address nor a phone number."""


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    # An address in lower case, or a number's national digits (0612345678 -> 612345678).
    value: str

    @classmethod
    def parse(cls, text: str) -> Subject:
        text = (text or "").strip()
        # No address or number holds a control character (and PostgreSQL refuses a NUL).
        if not text or len(text) > MAX_QUERY or not text.isprintable():
            raise NotASubject(text)
        if "@" in text:
            if not _EMAIL.match(text):
                raise NotASubject(text)
            return cls(SubjectKind.EMAIL, text.lower())
        digits = national_digits(text)
        if not _PHONE.match(text) or len(digits) < MIN_PHONE_DIGITS:
            raise NotASubject(text)
        return cls(SubjectKind.PHONE, digits)

    def fingerprint(self, secret: str) -> str:
        """What the audit trail keeps instead of the address or number."""
        key = secret.encode()
        return hmac.new(key, f"{self.kind}:{self.value}".encode(), hashlib.sha256).hexdigest()

    def matches_phone(self, phone: str | None) -> bool:
        return self.kind is SubjectKind.PHONE and national_digits(phone) == self.value


@dataclass
class Holdings:
    subject: Subject
    signals: list[Signal] = field(default_factory=list)
    # More signals matched than one search lists.
    more_signals: bool = False
    following: list[SignalFollower] = field(default_factory=list)
    alerts: list[WijkAlert] = field(default_factory=list)
    mail_out: list[OutboxMessage] = field(default_factory=list)
    mail_in: list[InboundMail] = field(default_factory=list)
    audit_trail: list[AuditRecord] = field(default_factory=list)
    # The reference of each signal named here (their own and those they follow), by id.
    references: dict[int, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.signals or self.following or self.alerts or self.mail_out or self.mail_in)

    @property
    def photos(self) -> list[Attachment]:
        return [a for s in self.signals for a in s.attachments]


def find(session: Session, subject: Subject) -> Holdings:
    """Reads; writes nothing (``record_lookup`` does)."""
    held = Holdings(subject)
    matched = _matching_signal_ids(session, subject)
    held.more_signals = len(matched) > MAX_SIGNALS
    matched = matched[:MAX_SIGNALS]
    held.signals = list(
        session.scalars(
            select(Signal)
            .where(Signal.id.in_(matched))
            .options(
                selectinload(Signal.reporter),
                selectinload(Signal.events),
                selectinload(Signal.attachments),
            )
            .order_by(Signal.created_at, Signal.id)
        )
    )
    if subject.kind is SubjectKind.EMAIL:
        held.following = list(
            session.scalars(
                select(SignalFollower)
                .where(func.lower(SignalFollower.email) == subject.value)
                .order_by(SignalFollower.created_at)
            )
        )
        held.alerts = list(
            session.scalars(
                select(WijkAlert)
                .where(func.lower(WijkAlert.email) == subject.value)
                .order_by(WijkAlert.created_at)
            )
        )
        held.mail_out = list(
            session.scalars(
                select(OutboxMessage)
                .where(func.lower(OutboxMessage.recipient) == subject.value)
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
            )
        )
        held.mail_in = list(
            session.scalars(
                select(InboundMail)
                .where(func.lower(InboundMail.envelope_from) == subject.value)
                .order_by(InboundMail.received_at, InboundMail.id)
            )
        )
    held.audit_trail = _audit_trail(session, held)
    held.references = {s.id: s.reference for s in held.signals}
    followed = {f.signal_id for f in held.following} - held.references.keys()
    if followed:
        held.references.update(
            session.execute(
                select(Signal.id, Signal.reference).where(Signal.id.in_(followed))
            ).all()
        )
    return held


def record_lookup(
    session: Session, held: Holdings, *, actor_id: int | None, secret: str, action: str
) -> None:
    """``action``: "subject_access.searched" or ".exported" (an admin, ``actor_id``), or
    ".overview_mailed" (the resident asked for it themselves: no actor)."""
    audit.record(
        session,
        action,
        actor_id=actor_id,
        subject_kind=str(held.subject.kind),
        subject=held.subject.fingerprint(secret),
        signals=len(held.signals),
        following=len(held.following),
        alerts=len(held.alerts),
        mails=len(held.mail_out) + len(held.mail_in),
    )


def _matching_signal_ids(session: Session, subject: Subject) -> list[int]:
    if subject.kind is SubjectKind.EMAIL:
        return list(
            session.scalars(
                select(Reporter.signal_id)
                .where(func.lower(Reporter.email) == subject.value)
                .order_by(Reporter.signal_id)
                .limit(MAX_SIGNALS + 1)
            )
        )
    # The number's last digits narrow it down in SQL, however it was typed (spaces, dashes,
    # brackets taken out); Python then compares the whole national number.
    compact: ColumnElement[str] = Reporter.phone
    for character in " -.()+/":
        compact = func.replace(compact, character, "")
    candidates = session.execute(
        select(Reporter.signal_id, Reporter.phone)
        .where(Reporter.phone.is_not(None), compact.like(f"%{subject.value}"))
        .order_by(Reporter.signal_id)
    )
    return [sid for sid, phone in candidates if subject.matches_phone(phone)][: MAX_SIGNALS + 1]


def _audit_trail(session: Session, held: Holdings) -> list[AuditRecord]:
    conditions: list[ColumnElement[bool]] = []
    if held.signals:
        conditions.append(AuditRecord.signal_id.in_([s.id for s in held.signals]))
    if held.alerts:
        alert_ids = [a.id for a in held.alerts]
        conditions.append(
            AuditRecord.action.like("wijk_alert.%")
            & AuditRecord.details["alert_id"].as_integer().in_(alert_ids)
        )
    if not conditions:
        return []
    return list(
        session.scalars(
            select(AuditRecord)
            .where(or_(*conditions))
            .order_by(AuditRecord.created_at, AuditRecord.id)
        )
    )
