"""What happens to a mail that came in on a reply address: it is stored whole, then its text
goes on the signal's timeline as the resident's message, or the mail is set aside for an
admin (a machine sent it, the address is unknown or revoked, there is no text).

The caller commits once per message, and only then answers "250" to the mail server: the
mail is never lost, and a failed commit makes the server try again later."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.dialogue import reply_addresses
from portal.domain.dialogue.resident import (
    EMAIL,
    MAX_PHOTOS_PER_MESSAGE,
    TEXT_MAX,
    ResidentMessage,
    add_resident_message,
)
from portal.domain.inbound.parse import MailFile, ParsedMail, automatic_kind, parse_message
from portal.domain.notifications import MailContext
from portal.domain.photos import PhotoStore, StoredPhoto
from portal.models import InboundMail, ReplyAddress, Signal

log = logging.getLogger(__name__)

ACCEPTED = "accepted"
SET_ASIDE = "set_aside"
HANDLED = "handled"

# Why a mail was set aside (InboundMail.reason of a set-aside mail).
NOT_OUR_ADDRESS = "not_our_address"
UNKNOWN_REPLY_ID = "unknown_reply_id"
REVOKED = "revoked"
BOUNCE = "bounce"
AUTO_REPLY = "auto_reply"
UNREADABLE = "unreadable"
NO_TEXT = "no_text"
# Our own failure to process it (a bug, not the database): kept for an admin, not retried.
PROCESSING_FAILED = "processing_failed"

# What staff should know about an accepted mail (InboundMail.reason, comma-separated).
OTHER_SENDER = "other_sender"
PHOTOS_REFUSED = "photos_refused"
TEXT_CUT = "text_cut"

# Smaller images are icons, tracking pixels and logos in signatures, not photos of the street.
MIN_IMAGE_BYTES = 2048
ELLIPSIS = "…"
# The same bytes to the same address within this time are the mail server trying again after
# our "250" got lost: the mail is already here.
DUPLICATE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class InboundSettings:
    reply_template: str  # REPLY_TO_ADDRESS, with "{reply_id}" in it
    photos: PhotoStore
    mail: MailContext
    now: datetime


@dataclass(frozen=True)
class InboundResult:
    mail_id: int
    status: str
    reason: str | None
    signal_id: int | None
    event_id: int | None
    duplicate: bool = False

    def __str__(self) -> str:
        parts = [f"inbound mail #{self.mail_id}", self.status]
        if self.reason:
            parts.append(self.reason)
        if self.signal_id is not None:
            parts.append(f"signal {self.signal_id}")
        if self.duplicate:
            parts.append("(duplicate, already stored)")
        return " ".join(parts)


def is_reply_address(address: str, template: str) -> bool:
    return reply_addresses.reply_id_from(address, template) is not None


def receive_message(
    session: Session,
    raw: bytes,
    *,
    envelope_from: str,
    envelope_to: str,
    settings: InboundSettings,
) -> InboundResult:
    """Stores the mail for one recipient and deals with it; flushes, does not commit."""
    reply_id = reply_addresses.reply_id_from(envelope_to, settings.reply_template)
    earlier = _earlier_copy(session, raw, envelope_to, settings.now)
    if earlier is not None:
        return _result(earlier, duplicate=True)
    parsed = parse_message(raw)
    address = reply_addresses.find(session, reply_id) if reply_id else None
    signal = session.get(Signal, address.signal_id) if address is not None else None
    mail = _stored(session, raw, parsed, envelope_from, envelope_to, reply_id, settings.now)
    mail.signal_id = signal.id if signal is not None else None

    reason = _reason_to_set_aside(parsed, envelope_from, reply_id, address, signal)
    details: dict[str, object] = {}
    if reason is not None or signal is None:
        mail.status, mail.reason = SET_ASIDE, reason or UNKNOWN_REPLY_ID
    else:
        details = _put_on_timeline(session, mail, signal, parsed, envelope_from, settings)
    session.flush()
    audit.record(
        session,
        "inbound.received",
        signal_id=mail.signal_id,
        mail_id=mail.id,
        status=mail.status,
        reason=mail.reason,
        **details,
    )
    result = _result(mail)
    log.info("%s", result)
    return result


def store_unprocessed(
    session: Session,
    raw: bytes,
    *,
    envelope_from: str,
    envelope_to: str,
    settings: InboundSettings,
) -> InboundResult:
    """Keeps a mail that could not be processed (our bug) for an admin, without reading more
    of it than needed, so it is neither lost nor retried forever by the sending server."""
    reply_id = reply_addresses.reply_id_from(envelope_to, settings.reply_template)
    mail = _stored(session, raw, ParsedMail(), envelope_from, envelope_to, reply_id, settings.now)
    mail.status, mail.reason = SET_ASIDE, PROCESSING_FAILED
    session.flush()
    audit.record(session, "inbound.received", mail_id=mail.id, status=SET_ASIDE, reason=mail.reason)
    return _result(mail)


def _stored(
    session: Session,
    raw: bytes,
    parsed: ParsedMail,
    envelope_from: str,
    envelope_to: str,
    reply_id: str | None,
    now: datetime,
) -> InboundMail:
    mail = InboundMail(
        received_at=now,
        envelope_from=_field(envelope_from, 320),
        envelope_to=_field(envelope_to, 320),
        reply_id=reply_id,
        subject=parsed.subject[:300],
        status=SET_ASIDE,
        raw=raw,
    )
    session.add(mail)
    session.flush()  # stored first, whatever happens next in this transaction
    return mail


def _reason_to_set_aside(
    parsed: ParsedMail,
    envelope_from: str,
    reply_id: str | None,
    address: ReplyAddress | None,
    signal: Signal | None,
) -> str | None:
    if reply_id is None:
        return NOT_OUR_ADDRESS
    if not parsed.readable:
        return UNREADABLE
    # Machines first: an out-of-office to a revoked address is still just an out-of-office.
    if kind := automatic_kind(parsed, envelope_from):
        return BOUNCE if kind == "bounce" else AUTO_REPLY
    if address is None or signal is None:
        return UNKNOWN_REPLY_ID
    if address.revoked_at is not None:
        return REVOKED
    if not parsed.reply_text.strip():
        return NO_TEXT
    return None


def _put_on_timeline(
    session: Session,
    mail: InboundMail,
    signal: Signal,
    parsed: ParsedMail,
    envelope_from: str,
    settings: InboundSettings,
) -> dict[str, object]:
    remarks: list[str] = []
    text = parsed.reply_text.strip()
    if len(text) > TEXT_MAX:
        text = text[: TEXT_MAX - len(ELLIPSIS)].rstrip() + ELLIPSIS
        remarks.append(TEXT_CUT)
    matches = sender_matches(signal, parsed.from_address, envelope_from)
    if not matches:
        remarks.append(OTHER_SENDER)
    photos, refused = _store_photos(settings.photos, parsed.images)
    if any(reason != "too_small" for _name, reason in refused):
        remarks.append(PHOTOS_REFUSED)
    if refused:
        log.info(
            "inbound mail #%s: images not kept: %s",
            mail.id,
            ", ".join(f"{name or '(no name)'} ({reason})" for name, reason in refused),
        )
    event = add_resident_message(
        session,
        signal,
        ResidentMessage(text=text, photos=photos, origin=EMAIL),
        now=settings.now,
        mail=settings.mail,
        allow_closed=True,  # a reply to "afgehandeld" must reach the owner, not vanish
    )
    mail.status, mail.event_id = ACCEPTED, event.id
    mail.reason = ",".join(remarks) or None
    return {
        "event_id": event.id,
        "sender_matches": matches,
        "photos": len(photos),
        "photos_refused": [reason for _name, reason in refused],
    }


def sender_matches(signal: Signal, from_address: str, envelope_from: str) -> bool:
    """Whether the mail came from the address the resident gave (From or envelope sender)."""
    reporter = signal.reporter
    known = (reporter.email or "").strip().casefold() if reporter is not None else ""
    if not known:
        return False
    senders = {from_address.strip().casefold(), envelope_from.strip().strip("<>").casefold()}
    return known in senders


def _store_photos(
    store: PhotoStore, images: Sequence[MailFile]
) -> tuple[list[StoredPhoto], list[tuple[str, str]]]:
    """Each image on its own through the web form's checks, so one bad file does not cost the
    good ones; at most MAX_PHOTOS_PER_MESSAGE are kept."""
    kept: list[StoredPhoto] = []
    refused: list[tuple[str, str]] = []
    for image in images:
        if len(image.data) < MIN_IMAGE_BYTES:
            refused.append((image.filename, "too_small"))
            continue
        if len(kept) >= MAX_PHOTOS_PER_MESSAGE:
            refused.append((image.filename, "too_many"))
            continue
        batch = store.accept_all([io.BytesIO(image.data)], room=1)
        if batch.stored:
            kept.extend(batch.stored)
        else:
            reason = batch.refused[0][1] if batch.refused else "refused"
            refused.append((image.filename, reason))
    return kept, refused


def _earlier_copy(
    session: Session, raw: bytes, envelope_to: str, now: datetime
) -> InboundMail | None:
    return session.scalars(
        select(InboundMail)
        .where(
            InboundMail.envelope_to == _field(envelope_to, 320),
            InboundMail.received_at >= now - DUPLICATE_WINDOW,
            InboundMail.raw == raw,
        )
        .order_by(InboundMail.id)
    ).first()


def _field(value: str, length: int) -> str:
    return "".join(c for c in value if c.isprintable())[:length]


def _result(mail: InboundMail, *, duplicate: bool = False) -> InboundResult:
    return InboundResult(
        mail_id=mail.id,
        status=mail.status,
        reason=mail.reason,
        signal_id=mail.signal_id,
        event_id=mail.event_id,
        duplicate=duplicate,
    )


# --- for staff and admins -------------------------------------------------------------------


def remarks(mail: InboundMail) -> list[str]:
    """The remarks on an accepted mail (other_sender, photos_refused, text_cut)."""
    if mail.status == SET_ASIDE or not mail.reason:
        return []
    return [r for r in mail.reason.split(",") if r]


def set_aside_mail(
    session: Session, *, handled: bool = False, limit: int = 200
) -> list[InboundMail]:
    """Mail waiting for an admin (newest first), or (``handled``) what admins dealt with."""
    status = HANDLED if handled else SET_ASIDE
    order = InboundMail.handled_at.desc() if handled else InboundMail.received_at.desc()
    return list(
        session.scalars(
            select(InboundMail)
            .where(InboundMail.status == status)
            .order_by(order, InboundMail.id.desc())
            .limit(limit)
        )
    )


def mark_handled(session: Session, mail: InboundMail, *, actor_id: int, now: datetime) -> bool:
    """An admin dealt with a set-aside mail. False when it was not waiting (any more)."""
    if mail.status != SET_ASIDE:
        return False
    mail.status, mail.handled_at, mail.handled_by_id = HANDLED, now, actor_id
    session.flush()
    audit.record(
        session, "inbound.handled", actor_id=actor_id, signal_id=mail.signal_id, mail_id=mail.id
    )
    return True


def mail_ids_for_events(session: Session, event_ids: Iterable[int]) -> dict[int, int]:
    """Timeline event id -> id of the mail it came from (for a link to the original)."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(InboundMail.event_id, InboundMail.id).where(InboundMail.event_id.in_(ids))
    )
    return {event_id: mail_id for event_id, mail_id in rows if event_id is not None}
