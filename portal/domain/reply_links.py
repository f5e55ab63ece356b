"""What escalations and partner shares have in common: a one-time answer link for someone
outside the back office, the data-minimised summary that link (and its mail) shows, and the
timeline steps around it.

A link is 256 random bits, handed out once in a mail and stored only as its SHA-256 (as the
status tokens are): a leaked database opens no answer page. It answers once; after that, or
when it expired, was revoked or its escalation was closed, it opens nothing.

The summary holds only what was chosen to share. Without the contact details, the resident's
name, e-mail address and phone number are also cut out of every shared text (a resident
sometimes signs their description), so they cannot leak through the words either."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.casework import Actor, CaseworkError, StaleSignal
from portal.domain.mail import Links
from portal.domain.tokens import hash_token
from portal.models import Attachment, Escalation, PartnerShare, Reporter, Signal, SignalEvent

# What a share can hold (the escalation always holds the first two, never the others).
DESCRIPTION = "description"
TIMELINE = "timeline"
ADDRESS = "address"
PHOTOS = "photos"
CONTACT = "contact"
SHARE_FIELDS = (DESCRIPTION, TIMELINE, ADDRESS, PHOTOS, CONTACT)
ESCALATION_FIELDS = (DESCRIPTION, TIMELINE)

# What a link can still do.
OPEN = "open"
ANSWERED = "answered"
ENDED = "ended"  # expired, revoked, or its escalation closed

ANSWER_MAX = 5000
TEXT_MAX = 5000
# Put where the resident's name, address or number stood in a shared text.
WITHHELD = "[weggelaten]"
ANSWER_PATHS = {"escalation": "/antwoord/escalatie/", "partner": "/antwoord/partner/"}
Linked = TypeVar("Linked", Escalation, PartnerShare)


class AnswerError(ValueError):
    """The answer cannot be taken; ``code``: empty, too_long, used (answered or ended)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- the link ------------------------------------------------------------------------------


def new_token() -> tuple[str, str]:
    """(token for the mail, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def answer_url(links: Links, kind: str, token: str) -> str:
    return links.base_url.rstrip("/") + ANSWER_PATHS[kind] + token


def find_by_token(session: Session, model: type[Linked], token: str) -> Linked | None:
    if not token or len(token) > 100:
        return None
    return session.scalars(select(model).where(model.token_hash == hash_token(token))).first()


def clean_answer(text: str | None) -> str:
    cleaned = (text or "").replace("\x00", "").strip()
    if not cleaned:
        raise AnswerError("empty")
    if len(cleaned) > ANSWER_MAX:
        raise AnswerError("too_long")
    return cleaned


def clean_text(text: str | None, *, limit: int = TEXT_MAX, code: str = "message") -> str:
    """Staff text for these steps (a question, a purpose, an outcome): required, bounded."""
    cleaned = (text or "").replace("\x00", "").strip()
    if not cleaned:
        raise CaseworkError(f"{code}_required")
    if len(cleaned) > limit:
        raise CaseworkError(f"{code}_too_long")
    return cleaned


# --- timeline steps ------------------------------------------------------------------------


def check_version(signal: Signal, seen_version: int) -> None:
    if signal.version != seen_version:
        raise StaleSignal()


def staff_step(
    session: Session, signal: Signal, actor: Actor, kind: str, message: str | None
) -> SignalEvent:
    """An internal step by staff; touching the signal bumps its version, as every staff
    action does."""
    event = SignalEvent(
        kind=kind, is_public=False, author_id=actor.user_id, created_at=actor.now, message=message
    )
    with session.no_autoflush:
        signal.events.append(event)
    signal.updated_at = actor.now
    session.flush()
    return event


def outside_step(
    session: Session, signal: Signal, kind: str, message: str | None, now: datetime
) -> SignalEvent:
    """An internal step from outside (an answer through a link, a reminder): no author, and
    the signal row stays as it is, so an accountmanager's open form does not turn stale and
    the answer never races a colleague's save."""
    event = SignalEvent(kind=kind, is_public=False, created_at=now, message=message)
    with session.no_autoflush:
        signal.events.append(event)
    session.flush()
    return event


# --- the summary ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedStep:
    """A public step of the timeline, as the resident saw it."""

    at: datetime
    kind: str
    to_status: str | None
    author_name: str | None
    by_resident: bool
    message: str | None


@dataclass(frozen=True)
class Contact:
    name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Summary:
    reference: str
    kind: str
    theme_codes: list[str]
    wijk: str | None
    buurt: str | None
    owner_name: str | None
    fields: tuple[str, ...]
    title: str | None = None
    description: str | None = None
    address: str | None = None
    point: tuple[float, float] | None = None
    steps: tuple[SharedStep, ...] = ()
    photos: tuple[Attachment, ...] = ()
    contact: Contact | None = None


def has_contact(reporter: Reporter | None) -> bool:
    return reporter is not None and bool(reporter.name or reporter.email or reporter.phone)


def may_share_contact(signal: Signal) -> bool:
    """The resident consented to sharing with partners, and there is something to share."""
    reporter = signal.reporter
    return has_contact(reporter) and bool(reporter and reporter.may_share_with_partners)


def form_photos(signal: Signal) -> list[Attachment]:
    """The photos the resident sent with the form (later ones belong to a message)."""
    return [a for a in signal.attachments if a.event_id is None]


def national_digits(phone: str | None) -> str:
    """A Dutch number's digits without the country code or trunk 0 (06-1234 → 61234…)."""
    digits = re.sub(r"\D", "", phone or "")
    for prefix in ("0031", "31"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 6:
            digits = digits[len(prefix) :]
            break
    # The trunk 0, also after the country code ("+31 (0)6 ...").
    if digits.startswith("0") and len(digits) > 6:
        digits = digits[1:]
    return digits


def scrubber(reporter: Reporter | None) -> Callable[[str | None], str | None]:
    """Cuts the resident's name, e-mail address and phone number out of a text."""
    patterns = []
    if reporter is not None:
        for value in (reporter.name, reporter.email):
            if value and len(value.strip()) >= 3:
                patterns.append(r"\s+".join(map(re.escape, value.split())))
        # The surname alone ("groet, Jansen"), as a whole word.
        surname = (reporter.name or "").split()[-1:] or [""]
        if len(surname[0]) >= 3:
            patterns.append(rf"\b{re.escape(surname[0])}\b")
        national = national_digits(reporter.phone)
        if len(national) >= 6:
            # However it is written: 06-12345678, +31 6 12345678, 0031612345678, (06)1234…
            gap = r"[\s.()\-]*"
            # "+31 (0)6 …": the country code, then the trunk 0 in brackets, is common too.
            prefix = rf"(?:(?:\+?31|0031){gap}(?:\(0\){gap})?|\(?0\)?{gap})?"
            patterns.append(prefix + gap.join(national))
    if not patterns:
        return lambda text: text
    found = re.compile("|".join(sorted(patterns, key=len, reverse=True)), re.IGNORECASE)
    return lambda text: found.sub(WITHHELD, text) if text else text


def build_summary(signal: Signal, fields: Collection[str], *, until: datetime) -> Summary:
    """What the holder of a link may see: reference, kind, themes, wijk and buurt always; the
    rest only as chosen. The timeline stops at ``until`` (the moment it was shared), so the
    record of what was shared is exactly what the link shows."""
    chosen = tuple(f for f in SHARE_FIELDS if f in fields)
    contact_shared = CONTACT in chosen and may_share_contact(signal)
    scrub = (lambda text: text) if contact_shared else scrubber(signal.reporter)
    summary = Summary(
        reference=signal.reference,
        kind=signal.kind,
        theme_codes=signal.theme_codes,
        wijk=signal.wijk.name if signal.wijk else None,
        buurt=signal.buurt.name if signal.buurt else None,
        owner_name=signal.owner.name if signal.owner else None,
        fields=chosen,
    )
    values: dict[str, object] = {}
    if DESCRIPTION in chosen:
        values["title"] = scrub(signal.title)
        values["description"] = scrub(signal.description)
    if TIMELINE in chosen:
        values["steps"] = tuple(
            SharedStep(
                at=event.created_at,
                kind=event.kind,
                to_status=event.to_status,
                author_name=event.author.name if event.author else None,
                by_resident=event.by_resident,
                message=scrub(event.message),
            )
            for event in signal.events
            if event.is_public and event.created_at <= until
        )
    if ADDRESS in chosen:
        values["address"] = scrub(signal.address_line) or None
        if signal.lat is not None and signal.lon is not None:
            values["point"] = (signal.lat, signal.lon)
    if PHOTOS in chosen:
        values["photos"] = tuple(form_photos(signal))
    if contact_shared and signal.reporter is not None:
        reporter = signal.reporter
        values["contact"] = Contact(reporter.name, reporter.email, reporter.phone)
    return replace(summary, **values)  # type: ignore[arg-type]


# --- the registers (functionaries, partners) -----------------------------------------------

REGISTER_TEXT_MAX = 200
EMAIL_MAX = 320


class RegisterError(ValueError):
    """A register entry cannot be saved; ``field`` is the form field, ``code`` says why:
    required, too_long, email_invalid, unknown_wijk."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def clean_register_text(value: str | None, field: str) -> str:
    text = " ".join((value or "").replace("\x00", "").split())
    if not text:
        raise RegisterError(field, "required")
    if len(text) > REGISTER_TEXT_MAX:
        raise RegisterError(field, "too_long")
    return text


def clean_register_email(value: str | None, field: str = "email") -> str:
    email = (value or "").strip().lower()
    local, at, domain = email.partition("@")
    if not email:
        raise RegisterError(field, "required")
    if not (at and local and "." in domain) or any(c.isspace() for c in email):
        raise RegisterError(field, "email_invalid")
    if len(email) > EMAIL_MAX:
        raise RegisterError(field, "too_long")
    return email
