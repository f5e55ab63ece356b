"""Taking a resident's contact data out of a signal, for the retention job and for an erasure
on request alike: the reporter's name, address, phone, organisation and KvK number; the same
values cut out of what the resident wrote (the description, their messages, reopen requests
and satisfaction comments); the copies in mail, in and out; and the reply addresses, so that
a reply to an old mail cannot bring the address back. The signal itself stays."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
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

# Mail that is done with: sent, or given up on; and mail still going out.
FINISHED_MAIL = ("sent", "failed")
UNFINISHED_MAIL = ("pending", "sending")


def remove_contact_data(
    session: Session,
    signals: Sequence[Signal],
    now: datetime,
    *,
    event_kind: str,
    audit_action: str,
    actor_id: int | None = None,
    **audit_details: object,
) -> int:
    """Removes it from ``signals`` (all loaded, none with mail still to go out unless the
    caller dealt with that) and leaves an internal step ``event_kind`` and an audit record
    ``audit_action`` that count what went, never what it was. Returns how many mails were
    blanked."""
    ids = [signal.id for signal in signals]
    if not ids:
        return 0
    reporters = {
        r.signal_id: r for r in session.scalars(select(Reporter).where(Reporter.signal_id.in_(ids)))
    }
    texts = _resident_texts(session, ids)
    mails = blank_mail(session, Signal.id.in_(ids))
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
                    signal_id=signal.id,
                    kind=event_kind,
                    is_public=False,
                    created_at=now,
                    author_id=actor_id,
                )
            )
        if had_data or scrubbed or mails.get(signal.id):
            audit.record(
                session,
                audit_action,
                actor_id=actor_id,
                signal_id=signal.id,
                reference=signal.reference,
                mails_blanked=mails.get(signal.id, 0),
                texts_scrubbed=scrubbed,
                sensitive=signal.sensitive,
                **audit_details,
            )
    return sum(mails.values())


def remove_photos(
    session: Session,
    signal_ids: Sequence[int],
    now: datetime,
    *,
    event_kind: str,
    audit_action: str,
    actor_id: int | None = None,
) -> list[str]:
    """Deletes the signals' photos (with the form and with later messages), with a step and
    an audit record per signal; returns the files' names (the caller or the upload sweep
    removes the files once this is committed)."""
    removed: Counter[int] = Counter()
    files: list[str] = []
    for attachment in session.scalars(
        select(Attachment).where(Attachment.signal_id.in_(signal_ids))
    ):
        session.delete(attachment)
        removed[attachment.signal_id] += 1
        files.append(attachment.stored_name)
    for signal_id, count in removed.items():
        session.add(
            SignalEvent(
                signal_id=signal_id,
                kind=event_kind,
                is_public=False,
                created_at=now,
                author_id=actor_id,
            )
        )
        audit.record(session, audit_action, actor_id=actor_id, signal_id=signal_id, photos=count)
    return files


def blank_outbox_message(message: OutboxMessage) -> None:
    message.recipient = ""
    message.body_text = ""
    message.body_html = message.list_unsubscribe = message.compose = None
    message.last_error = None  # an SMTP error can quote the address


def blank_inbound_mail(mail: InboundMail) -> None:
    mail.envelope_from, mail.raw = "", b""


def blank_mail(session: Session, signals: ColumnElement[bool]) -> Counter[int]:
    """Blanks what is left of the copies of finished mail, in and out, about the signals
    ``signals`` selects (a condition on Signal.id). Per signal, how many."""
    blanked: Counter[int] = Counter()
    for message in session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.signal_id.in_(select(Signal.id).where(signals)),
            OutboxMessage.status.in_(FINISHED_MAIL),
            OutboxMessage.recipient != "",
        )
    ):
        blank_outbox_message(message)
        blanked[message.signal_id or 0] += 1
    for mail in session.scalars(
        select(InboundMail).where(
            InboundMail.signal_id.in_(select(Signal.id).where(signals)),
            # A bounce has no sender, but its raw message quotes the mail it answers.
            or_(InboundMail.envelope_from != "", func.length(InboundMail.raw) > 0),
        )
    ):
        blank_inbound_mail(mail)
        blanked[mail.signal_id or 0] += 1
    return blanked


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


def _revoke_reply_addresses(session: Session, signal_ids: list[int], now: datetime) -> None:
    # A reply to an old mail would bring the address back.
    for address in session.scalars(
        select(ReplyAddress).where(
            ReplyAddress.signal_id.in_(signal_ids), ReplyAddress.revoked_at.is_(None)
        )
    ):
        address.revoked_at = now
