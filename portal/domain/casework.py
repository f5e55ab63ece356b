"""What an accountmanager does with a signal. Every operation checks the version the user
saw (so nobody overwrites a colleague's change unseen), writes the timeline and the audit
record, queues the resident's mail where the step is public, and flushes; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import audit, deadlines, following, permissions, workflow
from portal.domain.dialogue import satisfaction
from portal.domain.intake import load_routing_rules
from portal.domain.notifications import (
    MailContext,
    owner_assigned,
    owner_taken_over,
    public_update,
)
from portal.domain.routing import choose_owner
from portal.models import AuditRecord, Buurt, Signal, SignalEvent, User, Wijk
from portal.vocabulary import CLOSED_STATUSES, Status

MESSAGE_MAX = 5000
CONTACT_VIEWED = "reporter.viewed"
CLOSED = {s.value for s in CLOSED_STATUSES}
# "Today" for a follow-up date is today in Hilversum, not in UTC.
LOCAL_TIMEZONE = ZoneInfo("Europe/Amsterdam")


class CaseworkError(ValueError):
    """The action cannot be done as asked; ``code`` says why (the web layer words it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class StaleSignal(CaseworkError):
    """Someone else changed the signal after this user loaded it."""

    def __init__(self) -> None:
        super().__init__("stale")


@dataclass(frozen=True)
class Actor:
    user_id: int
    now: datetime


def check_version(signal: Signal, seen_version: int) -> None:
    """Refuses an action on a signal that changed since this user loaded it."""
    if signal.version != seen_version:
        raise StaleSignal()


def _clean_message(message: str | None, *, required: bool) -> str | None:
    text = (message or "").strip()
    if required and not text:
        raise CaseworkError("message_required")
    if len(text) > MESSAGE_MAX:
        raise CaseworkError("message_too_long")
    return text or None


def _touch(signal: Signal, actor: Actor) -> None:
    signal.updated_at = actor.now


def add_event(
    session: Session, signal: Signal, actor: Actor, kind: str, *, public: bool, **fields: object
) -> SignalEvent:
    """A timeline step by this actor; touching the signal bumps its version for everyone."""
    event = SignalEvent(
        kind=kind, is_public=public, author_id=actor.user_id, created_at=actor.now, **fields
    )
    # Loading the timeline must not flush the caller's change on its own: one UPDATE, one
    # version step per action.
    with session.no_autoflush:
        signal.events.append(event)
    if public:  # the first public step by staff is the response the deadline asks for
        deadlines.record_response(signal, actor.now)
    _touch(signal, actor)
    session.flush()
    return event


def check_status_change(signal: Signal, target: str, message: str | None) -> str | None:
    """The checks of ``change_status`` without changing anything (for a preview): raises
    CaseworkError, returns the cleaned message."""
    if target not in set(Status) or not workflow.is_allowed(signal.status, target):
        raise CaseworkError("transition_not_allowed")
    return _clean_message(message, required=workflow.needs_message(target))


def check_reply(message: str | None) -> str:
    """The checks of ``public_reply`` without changing anything (for a preview)."""
    return _clean_message(message, required=True) or ""  # required: never empty here


def change_status(
    session: Session,
    signal: Signal,
    target: str,
    *,
    message: str | None,
    seen_version: int,
    actor: Actor,
    mail: MailContext,
) -> SignalEvent:
    check_version(signal, seen_version)
    text = check_status_change(signal, target, message)
    previous, signal.status = signal.status, target
    rules = deadlines.rules_from(mail)
    deadlines.status_changed(
        session, signal, previous=previous, target=target, now=actor.now, rules=rules
    )
    # Status links expire some time after closing (tokens.LINK_DAYS_AFTER_CLOSING).
    signal.closed_at = actor.now if target in CLOSED else None
    event = add_event(
        session,
        signal,
        actor,
        "status_changed",
        public=True,
        from_status=previous,
        to_status=target,
        message=text,
    )
    audit.record(
        session,
        "signal.status_changed",
        actor_id=actor.user_id,
        signal_id=signal.id,
        from_status=previous,
        to_status=target,
        message=text,
    )
    survey = None
    if target == Status.RESOLVED:
        survey = satisfaction.open_survey(
            session, signal, event, now=actor.now, days=mail.satisfaction_days
        )
    elif target == Status.REOPENED and (request := satisfaction.pending_request(session, signal)):
        # Reopened from the status menu while the resident asked for it: that answers them.
        satisfaction.record_decision(
            request,
            decision=satisfaction.REOPENED,
            explanation=text,
            actor_id=actor.user_id,
            now=actor.now,
        )
    public_update(session, signal, event, mail, survey)
    # Residents who said "Dit is mijn melding ook" hear of the new status (never the message).
    following.notify_followers(session, signal, event, mail)
    return event


def decide_reopen_request(
    session: Session,
    signal: Signal,
    *,
    reopen: bool,
    explanation: str | None,
    seen_version: int,
    actor: Actor,
    mail: MailContext,
) -> SignalEvent:
    """The owner's answer to "not satisfied": reopen the signal, or keep it closed and tell
    the resident why. Either way the resident gets the explanation (status page and mail)."""
    request = satisfaction.pending_request(session, signal)
    if request is None:
        raise CaseworkError("no_reopen_request")
    text = _clean_message(explanation, required=True)
    if reopen:
        return change_status(
            session,
            signal,
            Status.REOPENED.value,
            message=text,
            seen_version=seen_version,
            actor=actor,
            mail=mail,
        )
    event = public_reply(
        session, signal, message=text or "", seen_version=seen_version, actor=actor, mail=mail
    )
    satisfaction.record_decision(
        request,
        decision=satisfaction.KEPT_CLOSED,
        explanation=text,
        actor_id=actor.user_id,
        now=actor.now,
    )
    audit.record(session, "signal.reopen_refused", actor_id=actor.user_id, signal_id=signal.id)
    return event


def public_reply(
    session: Session,
    signal: Signal,
    *,
    message: str,
    seen_version: int,
    actor: Actor,
    mail: MailContext,
) -> SignalEvent:
    check_version(signal, seen_version)
    text = check_reply(message)
    event = add_event(session, signal, actor, "public_message", public=True, message=text)
    audit.record(session, "signal.replied", actor_id=actor.user_id, signal_id=signal.id)
    public_update(session, signal, event, mail)
    return event


def internal_note(
    session: Session, signal: Signal, *, message: str, seen_version: int, actor: Actor
) -> SignalEvent:
    """Never shown to the resident and never mailed to them."""
    check_version(signal, seen_version)
    text = _clean_message(message, required=True)
    event = add_event(session, signal, actor, "internal_note", public=False, message=text)
    audit.record(session, "signal.noted", actor_id=actor.user_id, signal_id=signal.id)
    return event


def reassign(
    session: Session,
    signal: Signal,
    *,
    wijk_code: str | None,
    buurt_code: str | None,
    owner_id: int | None,
    reason: str,
    seen_version: int,
    actor: Actor,
    mail: MailContext,
) -> SignalEvent:
    """Moves the signal to another wijk (and buurt) and/or owner. The new owner is mailed;
    so is the previous one when someone else moved it away from them. Taking a colleague's
    signal yourself is its own, visible step ("taken over") — it is how an accountmanager
    could otherwise reach a resident's contact details unnoticed."""
    check_version(signal, seen_version)
    if signal.sensitive:
        # Moving it decides who sees it: only its owner or an admin may.
        actor_user = session.get(User, actor.user_id)
        if actor_user is None or not permissions.may_manage_sensitive(actor_user, signal):
            raise CaseworkError("not_allowed")
    text = _clean_message(reason, required=True)
    if wijk_code is not None and session.get(Wijk, wijk_code) is None:
        raise CaseworkError("unknown_wijk")
    buurt = session.get(Buurt, buurt_code) if buurt_code else None
    if buurt_code and (buurt is None or (wijk_code and buurt.wijk_code != wijk_code)):
        raise CaseworkError("unknown_buurt")
    owner = session.get(User, owner_id) if owner_id is not None else None
    if owner_id is not None and (owner is None or not owner.active or owner.role == "management"):
        raise CaseworkError("unknown_owner")

    before = {"wijk": signal.wijk_code, "buurt": signal.buurt_code, "owner_id": signal.owner_id}
    new_wijk = buurt.wijk_code if buurt is not None else wijk_code
    # Relationships, so the mail below names the new wijk, and the codes as well: a
    # relationship sets its foreign key only at flush, and ``after`` is read before that.
    if new_wijk is not None and new_wijk != signal.wijk_code:
        if owner is None:
            # Moved to another wijk without naming an owner: it lands in that wijk's inbox.
            rule_owner_id, _general = choose_owner(load_routing_rules(session), new_wijk)
            owner = session.get(User, rule_owner_id) if rule_owner_id is not None else None
        signal.wijk, signal.wijk_code = session.get(Wijk, new_wijk), new_wijk
        signal.buurt, signal.buurt_code = buurt, buurt.code if buurt is not None else None
        signal.location_flagged = False
    elif buurt is not None:
        signal.buurt, signal.buurt_code = buurt, buurt.code
    owner_changed = owner is not None and owner.id != signal.owner_id
    previous_owner = signal.owner if owner_changed else None
    if owner is not None:
        signal.owner_id = owner.id
        signal.owner = owner
    after = {"wijk": signal.wijk_code, "buurt": signal.buurt_code, "owner_id": signal.owner_id}
    if after == before:
        raise CaseworkError("nothing_changed")

    taken_over = previous_owner is not None and owner is not None and owner.id == actor.user_id
    kind = "taken_over" if taken_over else "reassigned"
    event = add_event(session, signal, actor, kind, public=False, message=text)
    audit.record(
        session,
        "signal.reassigned",
        actor_id=actor.user_id,
        signal_id=signal.id,
        before=before,
        after=after,
        reason=text,
    )
    if owner_changed and owner is not None and owner.id != actor.user_id:
        owner_assigned(session, signal, owner, text, mail)
    if previous_owner is not None and owner is not None and previous_owner.id != actor.user_id:
        actor_user = session.get(User, actor.user_id)
        owner_taken_over(
            session,
            signal,
            previous_owner=previous_owner,
            new_owner=owner,
            actor_name=actor_user.name if actor_user else "",
            reason=text or "",
            ctx=mail,
        )
    return event


FOLLOW_UP_REASON_MAX = 200


def set_follow_up(
    session: Session,
    signal: Signal,
    *,
    on: date | None,
    seen_version: int,
    actor: Actor,
    reason: str | None = None,
) -> None:
    """The day the owner wants to look at an open signal again, and a short reason why (for
    the inbox's "opvolgen vandaag" and the daily digest); ``on`` None clears both."""
    check_version(signal, seen_version)
    # One line of text; clearing the date clears the reason with it.
    text = (" ".join((reason or "").split()) or None) if on is not None else None
    if text is not None and len(text) > FOLLOW_UP_REASON_MAX:
        raise CaseworkError("reason_too_long")
    if on is not None and signal.status in CLOSED:
        raise CaseworkError("signal_closed")
    if on is not None and on < actor.now.astimezone(LOCAL_TIMEZONE).date():
        raise CaseworkError("date_in_past")
    if on == signal.follow_up_on and text == signal.follow_up_reason:
        # A no-op would still bump the version and make a colleague's save stale for nothing.
        raise CaseworkError("nothing_changed")
    previous, previous_reason = signal.follow_up_on, signal.follow_up_reason
    signal.follow_up_on, signal.follow_up_reason = on, text
    _touch(signal, actor)
    session.flush()
    audit.record(
        session,
        "signal.follow_up_set",
        actor_id=actor.user_id,
        signal_id=signal.id,
        before=previous.isoformat() if previous else None,
        after=on.isoformat() if on else None,
        reason_before=previous_reason,
        reason=text,
    )


def record_contact_view(session: Session, signal: Signal, actor: Actor) -> None:
    """Who looked at a resident's contact details, and when (AVG accountability). The owner
    at that moment is kept too: a look by anyone else is shown to the owner and admins."""
    audit.record(
        session,
        CONTACT_VIEWED,
        actor_id=actor.user_id,
        signal_id=signal.id,
        owner_id=signal.owner_id,
    )


@dataclass(frozen=True)
class ContactView:
    at: datetime
    viewer_id: int | None
    owner_id: int | None


def contact_views_by_others(session: Session, signal: Signal) -> list[ContactView]:
    """Every time someone other than the owner of that moment saw the contact details."""
    records = session.scalars(
        select(AuditRecord)
        .where(AuditRecord.signal_id == signal.id, AuditRecord.action == CONTACT_VIEWED)
        .order_by(AuditRecord.id)
    )
    views = []
    for record in records:
        owner_id = record.details.get("owner_id")
        if record.actor_id != owner_id:
            views.append(
                ContactView(record.created_at, record.actor_id, owner_id)  # type: ignore[arg-type]
            )
    return views
