"""Wijkteam partners (police, Versa Welzijn, the housing corporations) and what is shared
with them ("Delen met partner").

A share names the partner, a purpose and exactly which parts of the signal go along; the
resident's name, e-mail address and phone number only when the resident consented to sharing
with partners (checked here, whatever the form sent). Each share is on the timeline
(internal) and in the audit log, and gives the partner a one-time answer link that expires
after ``link_days`` and can be revoked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from portal.domain import audit
from portal.domain.casework import Actor, CaseworkError
from portal.domain.notifications import MailContext, answer_to_owner
from portal.domain.reply_links import (
    ADDRESS,
    ANSWERED,
    CONTACT,
    DESCRIPTION,
    ENDED,
    OPEN,
    PHOTOS,
    SHARE_FIELDS,
    TIMELINE,
    AnswerError,
    RegisterError,
    answer_url,
    build_summary,
    check_version,
    clean_answer,
    clean_register_email,
    clean_register_text,
    clean_text,
    find_by_token,
    may_share_contact,
    new_token,
    outside_step,
    staff_step,
)
from portal.domain.working_days import LOCAL_TIMEZONE, local_date
from portal.models import Partner, PartnerShare, Signal, SignalEvent, User, Wijk
from portal.outbox import queue_mail
from portal.vocabulary import N_, Status

PURPOSE_MAX = 1000
FIELD_LABELS = {
    DESCRIPTION: N_("De beschrijving: titel en tekst van de melder"),
    TIMELINE: N_("De openbare tijdlijn: wat de melder ook ziet"),
    ADDRESS: N_("Het adres en de plek op de kaart"),
    PHOTOS: N_("De foto's die de melder meestuurde"),
    CONTACT: N_("Naam, e-mailadres en telefoonnummer van de melder"),
}

REVOKED = "revoked"
EXPIRED = "expired"
STATE_LABELS = {
    OPEN: N_("Wacht op antwoord"),
    ANSWERED: N_("Beantwoord"),
    REVOKED: N_("Ingetrokken"),
    EXPIRED: N_("Verlopen"),
}

# Timeline steps (all internal).
SHARED = "partner_shared"
ANSWER = "partner_answered"
REVOKED_STEP = "partner_share_revoked"
STEP_KINDS = (SHARED, ANSWER, REVOKED_STEP)


# --- the register --------------------------------------------------------------------------


def save_partner(
    session: Session,
    partner: Partner | None,
    *,
    organisation: str,
    contact_name: str,
    email: str,
    wijk_codes: Sequence[str],
    active: bool,
    actor_id: int,
) -> Partner:
    """Adds (``partner`` None) or changes an entry; raises RegisterError. Entries are never
    deleted (shares point at them): a partner no longer working with us is set inactive."""
    values: dict[str, object] = {
        "organisation": clean_register_text(organisation, "organisation"),
        "contact_name": clean_register_text(contact_name, "contact_name"),
        "email": clean_register_email(email),
        "active": bool(active),
    }
    codes = sorted(set(wijk_codes))
    wijken = list(session.scalars(select(Wijk).where(Wijk.code.in_(codes)))) if codes else []
    if len(wijken) != len(codes):
        raise RegisterError("wijken", "unknown_wijk")
    if partner is None:
        partner = Partner(**values, wijken=wijken)
        session.add(partner)
        session.flush()
        audit.record(
            session, "partner.created", actor_id=actor_id, partner_id=partner.id, wijken=codes
        )
        return partner
    before = {key: getattr(partner, key) for key in values}
    before["wijken"] = [w.code for w in partner.wijken]
    for key, value in values.items():
        setattr(partner, key, value)
    partner.wijken = wijken
    session.flush()
    audit.record(
        session,
        "partner.updated",
        actor_id=actor_id,
        partner_id=partner.id,
        before=before,
        after={**values, "wijken": codes},
    )
    return partner


def active_partners(session: Session) -> list[Partner]:
    return list(
        session.scalars(
            select(Partner)
            .where(Partner.active.is_(True))
            .options(selectinload(Partner.wijken))
            .order_by(Partner.organisation)
        )
    )


# --- sharing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareRequest:
    partner_ids: Sequence[int | None]
    purpose: str | None
    fields: Sequence[str]


def check_share(session: Session, signal: Signal, request: ShareRequest) -> list[Partner]:
    """The checks of ``share`` without changing anything; raises CaseworkError."""
    if not request.partner_ids:
        raise CaseworkError("partner_required")
    partners = []
    for partner_id in dict.fromkeys(request.partner_ids):
        partner = session.get(Partner, partner_id) if partner_id else None
        if partner is None or not partner.active:
            raise CaseworkError("unknown_partner")
        partners.append(partner)
    clean_text(request.purpose, limit=PURPOSE_MAX, code="purpose")
    if not request.fields:
        raise CaseworkError("fields_required")
    if any(field not in SHARE_FIELDS for field in request.fields):
        raise CaseworkError("unknown_field")
    if CONTACT in request.fields and not may_share_contact(signal):
        raise CaseworkError("no_consent")
    return partners


def link_expires_at(now: datetime, link_days: int) -> datetime:
    """The end (local midnight) of the ``link_days``-th day from today."""
    return datetime.combine(
        local_date(now) + timedelta(days=link_days + 1), time(0), LOCAL_TIMEZONE
    )


def last_link_day(share: PartnerShare) -> date:
    return local_date(share.expires_at) - timedelta(days=1)


def share(
    session: Session,
    signal: Signal,
    request: ShareRequest,
    *,
    seen_version: int,
    actor: Actor,
    mail: MailContext,
    link_days: int,
) -> list[PartnerShare]:
    """One share per partner, each with its own link, mail and timeline step."""
    check_version(signal, seen_version)
    partners = check_share(session, signal, request)
    purpose = clean_text(request.purpose, limit=PURPOSE_MAX, code="purpose")
    fields = [field for field in SHARE_FIELDS if field in request.fields]
    sharer = session.get(User, actor.user_id)
    summary = build_summary(signal, fields, until=actor.now)
    shares = []
    for partner in partners:
        token, token_hash = new_token()
        item = PartnerShare(
            signal_id=signal.id,
            partner=partner,
            purpose=purpose,
            fields=fields,
            created_at=actor.now,
            created_by_id=actor.user_id,
            token_hash=token_hash,
            expires_at=link_expires_at(actor.now, link_days),
        )
        session.add(item)
        session.flush()
        event = staff_step(session, signal, actor, SHARED, purpose)
        audit.record(
            session,
            "signal.shared_with_partner",
            actor_id=actor.user_id,
            signal_id=signal.id,
            share_id=item.id,
            event_id=event.id,
            partner_id=partner.id,
            purpose=purpose,
            fields=fields,
        )
        rendered = mail.renderer.render(
            "partner_share",
            "nl",
            share=item,
            partner=partner,
            summary=summary,
            sharer_name=sharer.name if sharer else "",
            answer_url=answer_url(mail.links, "partner", token),
            link_until=last_link_day(item),
        )
        queue_mail(
            session,
            purpose="partner_share",
            recipient=partner.email,
            mail=rendered,
            signal_id=signal.id,
        )
        shares.append(item)
    return shares


def _share_of(session: Session, signal: Signal, share_id: int | None) -> PartnerShare:
    item = session.get(PartnerShare, share_id) if share_id else None
    if item is None or item.signal_id != signal.id:
        raise CaseworkError("unknown_share")
    return item


def check_revoke(
    session: Session, signal: Signal, share_id: int | None, now: datetime
) -> PartnerShare:
    item = _share_of(session, signal, share_id)
    if state_of(item, now) != OPEN:
        raise CaseworkError("share_ended")
    return item


def revoke(
    session: Session, signal: Signal, share_id: int | None, *, seen_version: int, actor: Actor
) -> PartnerShare:
    """The partner's link stops working at once; what they were mailed stays with them."""
    check_version(signal, seen_version)
    item = check_revoke(session, signal, share_id, actor.now)
    item.revoked_at = actor.now
    event = staff_step(session, signal, actor, REVOKED_STEP, None)
    audit.record(
        session,
        "signal.partner_share_revoked",
        actor_id=actor.user_id,
        signal_id=signal.id,
        share_id=item.id,
        event_id=event.id,
        partner_id=item.partner_id,
    )
    return item


# --- the partner's link --------------------------------------------------------------------


def state_of(item: PartnerShare, now: datetime) -> str:
    if item.answered_at is not None:
        return ANSWERED
    if item.revoked_at is not None:
        return REVOKED
    return EXPIRED if now >= item.expires_at else OPEN


def lookup(session: Session, token: str, now: datetime) -> tuple[str | None, PartnerShare | None]:
    """(state, share): OPEN, ANSWERED or ENDED; (None, None) for an unknown token."""
    item = find_by_token(session, PartnerShare, token)
    if item is None:
        return None, None
    state = state_of(item, now)
    if state == OPEN:
        status = session.scalar(select(Signal.status).where(Signal.id == item.signal_id))
        if status is None or not Status(status).is_open:
            return ENDED, item  # a closed signal takes no more answers from outside
    return (state if state in (OPEN, ANSWERED) else ENDED), item


def answer(
    session: Session, item: PartnerShare, text: str | None, *, now: datetime, mail: MailContext
) -> SignalEvent:
    """Takes the partner's answer once (a conditional UPDATE, as for escalations)."""
    cleaned = clean_answer(text)
    taken = session.execute(
        update(PartnerShare)
        .where(
            PartnerShare.id == item.id,
            PartnerShare.answered_at.is_(None),
            PartnerShare.revoked_at.is_(None),
            PartnerShare.expires_at > now,
        )
        .values(answered_at=now, answer=cleaned)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise AnswerError("used")
    session.refresh(item)
    signal = session.get(Signal, item.signal_id)
    assert signal is not None
    event = outside_step(session, signal, ANSWER, cleaned, now)
    audit.record(
        session,
        "signal.partner_answered",
        signal_id=signal.id,
        share_id=item.id,
        event_id=event.id,
        partner_id=item.partner_id,
    )
    answer_to_owner(
        session,
        signal,
        asked_by_id=item.created_by_id,
        template="partner_answered",
        ctx=mail,
        share=item,
        partner=item.partner,
    )
    return event


def shares_of(session: Session, signal: Signal) -> list[PartnerShare]:
    return list(
        session.scalars(
            select(PartnerShare)
            .where(PartnerShare.signal_id == signal.id)
            .options(selectinload(PartnerShare.partner))
            .order_by(PartnerShare.id)
        )
    )
