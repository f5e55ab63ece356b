"""Marking a signal sensitive (an APJ youth-group case, a care signal) and letting colleagues
in. Who may see a sensitive signal is decided in ``visibility``; this module changes it.

Only the owner and admins mark, unmark and let colleagues in: they answer for who sees the
case. Each step is checked against the version the user saw, lands on the staff timeline
(never the resident's) and in the audit log, like every casework operation."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.domain import audit, permissions
from portal.domain.casework import (
    Actor,
    CaseworkError,
    add_event,
    check_version,
)
from portal.models import Role, Signal, SignalAccess, SignalEvent, User

REASON_MAX = 500


def may_manage(user: User, signal: Signal) -> bool:
    """Marks, unmarks and lets colleagues in: the owner or an admin."""
    return permissions.may_manage_sensitive(user, signal)


def _check(session: Session, signal: Signal, seen_version: int, actor: Actor) -> None:
    check_version(signal, seen_version)
    user = session.get(User, actor.user_id)
    if user is None or not may_manage(user, signal):
        raise CaseworkError("not_allowed")


def _clean_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise CaseworkError("reason_required")
    if len(text) > REASON_MAX:
        raise CaseworkError("reason_too_long")
    return text


def mark(
    session: Session, signal: Signal, *, reason: str, seen_version: int, actor: Actor
) -> SignalEvent:
    """From now on only the owner, admins and colleagues let in see the signal."""
    _check(session, signal, seen_version, actor)
    if signal.sensitive:
        raise CaseworkError("already_sensitive")
    text = _clean_reason(reason)
    signal.sensitive, signal.sensitive_reason = True, text
    event = add_event(session, signal, actor, "marked_sensitive", public=False, message=text)
    audit.record(
        session, "signal.marked_sensitive", actor_id=actor.user_id, signal_id=signal.id, reason=text
    )
    return event


def unmark(
    session: Session, signal: Signal, *, reason: str, seen_version: int, actor: Actor
) -> SignalEvent:
    """Every colleague sees the signal again. The colleagues let in are let go: marking it
    again later must not silently let the same people back in."""
    _check(session, signal, seen_version, actor)
    if not signal.sensitive:
        raise CaseworkError("not_sensitive")
    text = _clean_reason(reason)
    released = list(
        session.scalars(select(SignalAccess.user_id).where(SignalAccess.signal_id == signal.id))
    )
    session.execute(delete(SignalAccess).where(SignalAccess.signal_id == signal.id))
    previous = signal.sensitive_reason
    signal.sensitive, signal.sensitive_reason = False, None
    event = add_event(session, signal, actor, "unmarked_sensitive", public=False, message=text)
    audit.record(
        session,
        "signal.unmarked_sensitive",
        actor_id=actor.user_id,
        signal_id=signal.id,
        reason=text,
        previous_reason=previous,
        released_user_ids=sorted(released),
    )
    return event


def colleague_choices(session: Session, signal: Signal) -> list[User]:
    """Who can be let in: active accountmanagers other than the owner, not let in yet
    (admins see every signal already; management never sees sensitive ones)."""
    already = select(SignalAccess.user_id).where(SignalAccess.signal_id == signal.id)
    query = select(User).where(
        User.active.is_(True),
        User.role == Role.ACCOUNTMANAGER.value,
        User.id.not_in(already),
    )
    if signal.owner_id is not None:
        query = query.where(User.id != signal.owner_id)
    return list(session.scalars(query.order_by(User.name, User.id)))


def let_in(
    session: Session, signal: Signal, *, user_id: int | None, seen_version: int, actor: Actor
) -> SignalEvent:
    _check(session, signal, seen_version, actor)
    if not signal.sensitive:
        raise CaseworkError("not_sensitive")
    colleague = next((u for u in colleague_choices(session, signal) if u.id == user_id), None)
    if colleague is None:
        raise CaseworkError("unknown_colleague")
    session.add(SignalAccess(signal_id=signal.id, user_id=colleague.id, added_by_id=actor.user_id))
    event = add_event(
        session, signal, actor, "access_granted", public=False, message=colleague.name
    )
    audit.record(
        session,
        "signal.access_granted",
        actor_id=actor.user_id,
        signal_id=signal.id,
        user_id=colleague.id,
    )
    return event


def shut_out(
    session: Session, signal: Signal, *, user_id: int | None, seen_version: int, actor: Actor
) -> SignalEvent:
    _check(session, signal, seen_version, actor)
    access = session.get(SignalAccess, (signal.id, user_id)) if user_id is not None else None
    if access is None:
        raise CaseworkError("not_let_in")
    colleague = session.get(User, access.user_id)
    session.delete(access)
    event = add_event(
        session,
        signal,
        actor,
        "access_revoked",
        public=False,
        message=colleague.name if colleague is not None else None,
    )
    audit.record(
        session,
        "signal.access_revoked",
        actor_id=actor.user_id,
        signal_id=signal.id,
        user_id=access.user_id,
    )
    return event
