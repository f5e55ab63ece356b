"""What a resident adds to their signal after the form: an answer to the accountmanager's
question, or more information, from the status page or by replying to a mail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import audit, deadlines, following
from portal.domain.notifications import MailContext, owner_resident_message
from portal.domain.photos import StoredPhoto
from portal.models import Attachment, Signal, SignalEvent
from portal.vocabulary import Status

TEXT_MAX = 5000
MAX_PHOTOS_PER_MESSAGE = 3
STATUS_PAGE = "status_page"
EMAIL = "email"
ORIGINS = (STATUS_PAGE, EMAIL)
ANSWER = "resident_answer"
MESSAGE = "resident_message"


class ResidentMessageError(ValueError):
    """``code`` says why (the web layer words it): empty, too_long, too_many_photos, closed."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ResidentMessage:
    text: str
    photos: Sequence[StoredPhoto] = ()
    origin: str = STATUS_PAGE


def clean_text(text: str | None) -> str:
    # PostgreSQL refuses NUL characters in text; nobody types one.
    cleaned = (text or "").replace("\x00", "").strip()
    if not cleaned:
        raise ResidentMessageError("empty")
    if len(cleaned) > TEXT_MAX:
        raise ResidentMessageError("too_long")
    return cleaned


def open_question(signal: Signal) -> SignalEvent | None:
    """The step that asked the resident something, while the signal waits for the answer."""
    if signal.status != Status.AWAITING_RESIDENT:
        return None
    for event in reversed(signal.events):
        if event.to_status == Status.AWAITING_RESIDENT:
            return event
    return None


def add_resident_message(
    session: Session,
    signal: Signal,
    message: ResidentMessage,
    *,
    now: datetime,
    mail: MailContext,
    allow_closed: bool = False,
) -> SignalEvent:
    """Puts the resident's words (and photos) on the timeline, public and marked as theirs,
    and mails the owner. While the signal waits for the resident this is the answer: the
    signal goes back to in progress. A closed signal takes a message only when the caller
    allows it (a mail reply to "afgehandeld" must reach the owner, not vanish)."""
    text = clean_text(message.text)
    if message.origin not in ORIGINS:
        raise ValueError(f"unknown origin {message.origin!r}")
    if len(message.photos) > MAX_PHOTOS_PER_MESSAGE:
        raise ResidentMessageError("too_many_photos")
    if not Status(signal.status).is_open and not allow_closed:
        raise ResidentMessageError("closed")

    answering = open_question(signal) is not None
    event = SignalEvent(
        kind=ANSWER if answering else MESSAGE,
        is_public=True,
        origin=message.origin,
        message=text,
        created_at=now,
    )
    if answering:
        event.from_status, event.to_status = signal.status, Status.IN_PROGRESS.value
        signal.status = Status.IN_PROGRESS.value
        # The handling clock runs again (paused while waiting, when so configured).
        deadlines.stopped_waiting(signal, now=now, rules=deadlines.rules_from(mail))
    with session.no_autoflush:
        signal.events.append(event)
    signal.updated_at = now
    session.flush()
    _attach(session, signal, event, message.photos, now)
    audit.record(
        session,
        "signal.resident_message",
        signal_id=signal.id,
        origin=message.origin,
        answer=answering,
        photos=len(message.photos),
    )
    owner_resident_message(session, signal, event, len(message.photos), mail)
    if answering:
        # Its status moved on (waiting for the reporter -> in progress): followers hear it.
        following.notify_followers(session, signal, event, mail)
    return event


def _attach(
    session: Session,
    signal: Signal,
    event: SignalEvent,
    photos: Sequence[StoredPhoto],
    now: datetime,
) -> None:
    if not photos:
        return
    last = session.scalar(
        select(func.max(Attachment.position)).where(Attachment.signal_id == signal.id)
    )
    start = -1 if last is None else last
    for offset, photo in enumerate(photos, start=1):
        session.add(
            Attachment(
                signal_id=signal.id,
                event_id=event.id,
                stored_name=photo.stored_name,
                content_type=photo.content_type,
                byte_size=photo.byte_size,
                width=photo.width,
                height=photo.height,
                position=start + offset,
                created_at=now,
            )
        )
    session.flush()
    session.expire(signal, ["attachments"])
