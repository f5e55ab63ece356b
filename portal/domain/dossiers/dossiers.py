"""Dossiers: a group of signals (knelpunten and initiatives together) with an owner, a
description and a timeline of its own. Every operation writes the dossier's timeline and the
audit record and flushes; the caller commits once. Operations on all of a dossier's signals
at once (the public update, the status change) are in ``bulk``.

Decided here:
- a signal is in at most one dossier; taking it out is a step on both timelines;
- a closed dossier is read-only (only reopening it and internal notes): to move one of its
  signals elsewhere, reopen it first;
- any worker may work on any dossier, as on any signal (colleagues cover for each other);
  the timeline and the audit say who did what;
- a signal the user may not open (``visibility.can_open``) is, for them, not there: adding
  or removing it by its reference says "not found", as for a number that does not exist."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.domain import audit, visibility
from portal.domain.casework import MESSAGE_MAX, Actor, CaseworkError, add_event
from portal.domain.references import next_reference, normalise_reference
from portal.models import Dossier, DossierEvent, Role, Signal, User, Wijk
from portal.vocabulary import DossierState

TITLE_MAX = 120
DESCRIPTION_MAX = 5000
REFERENCE_INPUT_MAX = 40
# Who may own a dossier: those who work signals (management reads only).
OWNER_ROLES = (Role.ADMIN.value, Role.ACCOUNTMANAGER.value)


class StaleDossier(CaseworkError):
    """Someone else changed the dossier after this user loaded it."""

    def __init__(self) -> None:
        super().__init__("stale")


def check_dossier_version(dossier: Dossier, seen_version: int) -> None:
    if dossier.version != seen_version:
        raise StaleDossier()


def check_open(dossier: Dossier) -> None:
    if dossier.state != DossierState.OPEN.value:
        raise CaseworkError("dossier_closed")


def actor_user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id)
    if user is None:
        raise CaseworkError("not_allowed")
    return user


def _clean_title(title: str | None) -> str:
    text = " ".join((title or "").split())
    if not text:
        raise CaseworkError("title_required")
    if len(text) > TITLE_MAX:
        raise CaseworkError("title_too_long")
    return text


def _clean_description(description: str | None) -> str:
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise CaseworkError("description_too_long")
    return text


def clean_message(message: str | None, *, required: bool) -> str | None:
    text = (message or "").strip()
    if required and not text:
        raise CaseworkError("message_required")
    if len(text) > MESSAGE_MAX:
        raise CaseworkError("message_too_long")
    return text or None


def _check_owner(session: Session, owner_id: int | None) -> None:
    # Every dossier has someone who directs it ("regie"): no dossier without an owner.
    if owner_id is None:
        raise CaseworkError("owner_required")
    owner = session.get(User, owner_id)
    if owner is None or not owner.active or owner.role not in OWNER_ROLES:
        raise CaseworkError("unknown_owner")


def _check_wijk(session: Session, wijk_code: str | None) -> None:
    if wijk_code is not None and session.get(Wijk, wijk_code) is None:
        raise CaseworkError("unknown_wijk")


def create_dossier(
    session: Session,
    *,
    title: str,
    description: str,
    owner_id: int | None,
    wijk_code: str | None,
    actor: Actor,
    reference_prefix: str,
) -> Dossier:
    """Raises CaseworkError: ``title_required``, ``title_too_long``, ``description_too_long``,
    ``owner_required``, ``unknown_owner`` (not an active admin or accountmanager),
    ``unknown_wijk``."""
    clean_title = _clean_title(title)
    clean_description = _clean_description(description)
    _check_owner(session, owner_id)
    _check_wijk(session, wijk_code)
    dossier = Dossier(
        reference=next_reference(session, reference_prefix, actor.now.year),
        title=clean_title,
        description=clean_description,
        state=DossierState.OPEN.value,
        owner_id=owner_id,
        wijk_code=wijk_code,
        created_by_id=actor.user_id,
        created_at=actor.now,
        updated_at=actor.now,
    )
    session.add(dossier)
    session.flush()
    _dossier_event(session, dossier, actor, "created")
    audit.record(
        session,
        "dossier.created",
        actor_id=actor.user_id,
        dossier_id=dossier.id,
        reference=dossier.reference,
        owner_id=owner_id,
        wijk=wijk_code,
    )
    session.flush()
    return dossier


def edit_dossier(
    session: Session,
    dossier: Dossier,
    *,
    title: str,
    description: str,
    owner_id: int | None,
    wijk_code: str | None,
    seen_version: int,
    actor: Actor,
) -> DossierEvent:
    """Title, description, owner and wijk as the user saw and changed them."""
    check_dossier_version(dossier, seen_version)
    check_open(dossier)
    after = {
        "title": _clean_title(title),
        "description": _clean_description(description),
        "owner_id": owner_id,
        "wijk": wijk_code,
    }
    _check_owner(session, owner_id)
    _check_wijk(session, wijk_code)
    before = {
        "title": dossier.title,
        "description": dossier.description,
        "owner_id": dossier.owner_id,
        "wijk": dossier.wijk_code,
    }
    if after == before:
        raise CaseworkError("nothing_changed")
    dossier.title = str(after["title"])
    dossier.description = str(after["description"])
    # Relationships too, so the page after the redirect (and this session) names them.
    dossier.owner_id, dossier.owner = owner_id, session.get(User, owner_id) if owner_id else None
    dossier.wijk_code, dossier.wijk = wijk_code, session.get(Wijk, wijk_code) if wijk_code else None
    changed = sorted(key for key in after if after[key] != before[key])
    event = _dossier_event(session, dossier, actor, "edited", message=", ".join(changed))
    audit.record(
        session,
        "dossier.edited",
        actor_id=actor.user_id,
        dossier_id=dossier.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    session.flush()
    return event


def add_signal(session: Session, dossier: Dossier, signal: Signal, *, actor: Actor) -> None:
    """Puts ``signal`` in ``dossier``. Raises CaseworkError ``already_in_dossier`` when it is
    in this one, ``in_other_dossier`` when it belongs to another (a signal has one dossier),
    ``dossier_closed``, and ``signal_not_found`` for a signal this actor may not open."""
    check_open(dossier)
    if not visibility.can_open(session, actor_user(session, actor), signal):
        raise CaseworkError("signal_not_found")
    if signal.dossier_id == dossier.id:
        raise CaseworkError("already_in_dossier")
    if signal.dossier_id is not None:
        raise CaseworkError("in_other_dossier")
    signal.dossier = dossier
    add_event(session, signal, actor, "dossier_joined", public=False, message=dossier.title)
    _dossier_event(session, dossier, actor, "signal_added", signal_id=signal.id)
    audit.record(
        session,
        "dossier.signal_added",
        actor_id=actor.user_id,
        dossier_id=dossier.id,
        signal_id=signal.id,
    )
    session.flush()


def find_signal(session: Session, typed_reference: str) -> Signal | None:
    """The signal with this reference as someone typed it ("hlv 2026 12"), or None."""
    typed = (typed_reference or "").strip()[:REFERENCE_INPUT_MAX]
    if not typed:
        return None
    reference = normalise_reference(typed)
    return session.scalars(select(Signal).where(Signal.reference == reference)).first()


def add_signal_by_reference(
    session: Session, dossier: Dossier, typed_reference: str, *, actor: Actor
) -> Signal:
    """``add_signal`` for a reference typed from a letter, a mail or the phone. Raises also
    ``reference_required``, and ``signal_not_found`` (no such signal, or not for this user)."""
    if not (typed_reference or "").strip():
        raise CaseworkError("reference_required")
    signal = find_signal(session, typed_reference)
    if signal is None:
        raise CaseworkError("signal_not_found")
    add_signal(session, dossier, signal, actor=actor)
    return signal


def remove_signal(session: Session, dossier: Dossier, signal: Signal, *, actor: Actor) -> None:
    """Takes ``signal`` out of ``dossier``; it keeps its own history (and later public updates
    of the dossier no longer reach it)."""
    check_open(dossier)
    if signal.dossier_id != dossier.id or not visibility.can_open(
        session, actor_user(session, actor), signal
    ):
        raise CaseworkError("not_in_dossier")
    signal.dossier = None
    signal.dossier_id = None
    add_event(session, signal, actor, "dossier_left", public=False, message=dossier.title)
    _dossier_event(session, dossier, actor, "signal_removed", signal_id=signal.id)
    audit.record(
        session,
        "dossier.signal_removed",
        actor_id=actor.user_id,
        dossier_id=dossier.id,
        signal_id=signal.id,
    )
    session.flush()


def close_dossier(
    session: Session, dossier: Dossier, *, reason: str | None, seen_version: int, actor: Actor
) -> DossierEvent:
    """The approach is done. Its signals stay in it (as history) and keep their own status:
    an open signal stays open, its owner closes it in its own time."""
    check_dossier_version(dossier, seen_version)
    check_open(dossier)
    return _set_state(session, dossier, DossierState.CLOSED, reason, actor)


def reopen_dossier(
    session: Session, dossier: Dossier, *, reason: str | None, seen_version: int, actor: Actor
) -> DossierEvent:
    check_dossier_version(dossier, seen_version)
    if dossier.state == DossierState.OPEN.value:
        raise CaseworkError("dossier_open")
    return _set_state(session, dossier, DossierState.OPEN, reason, actor)


def _set_state(
    session: Session, dossier: Dossier, state: DossierState, reason: str | None, actor: Actor
) -> DossierEvent:
    text = clean_message(reason, required=False)
    dossier.state = state.value
    kind = "closed" if state == DossierState.CLOSED else "reopened"
    event = _dossier_event(session, dossier, actor, kind, message=text)
    audit.record(
        session, f"dossier.{kind}", actor_id=actor.user_id, dossier_id=dossier.id, reason=text
    )
    session.flush()
    return event


def add_note(session: Session, dossier: Dossier, *, message: str, actor: Actor) -> DossierEvent:
    """For colleagues only: never shown to a resident, also allowed on a closed dossier."""
    text = clean_message(message, required=True)
    event = _dossier_event(session, dossier, actor, "note", message=text)
    audit.record(session, "dossier.noted", actor_id=actor.user_id, dossier_id=dossier.id)
    session.flush()
    return event


@dataclass(frozen=True)
class Membership:
    """A dossier's signals as one user may see them."""

    visible: list[Signal]
    hidden_count: int

    @property
    def total(self) -> int:
        return len(self.visible) + self.hidden_count


def membership(session: Session, dossier: Dossier, user: User) -> Membership:
    signals = list(
        session.scalars(
            select(Signal)
            .where(Signal.dossier_id == dossier.id)
            .options(selectinload(Signal.reporter), selectinload(Signal.buurt))
            .order_by(Signal.id)
        )
    )
    visible = [s for s in signals if visibility.can_open(session, user, s)]
    return Membership(visible=visible, hidden_count=len(signals) - len(visible))


def open_dossiers(session: Session) -> list[Dossier]:
    """For the signal page's "add to a dossier" choice: the open ones, newest change first."""
    return list(
        session.scalars(
            select(Dossier)
            .where(Dossier.state == DossierState.OPEN.value)
            .order_by(Dossier.updated_at.desc(), Dossier.id.desc())
        )
    )


def dossier_event(
    session: Session, dossier: Dossier, actor: Actor, kind: str, **fields: object
) -> DossierEvent:
    """A step on the dossier's timeline (for ``bulk``)."""
    return _dossier_event(session, dossier, actor, kind, **fields)


def _dossier_event(
    session: Session, dossier: Dossier, actor: Actor, kind: str, **fields: object
) -> DossierEvent:
    """A step on the dossier's timeline; touching the dossier bumps its version."""
    event = DossierEvent(kind=kind, author_id=actor.user_id, created_at=actor.now, **fields)
    # Through the collection, so this session's view of the timeline is complete; loading it
    # must not flush the caller's half-made change on its own.
    with session.no_autoflush:
        dossier.events.append(event)
    dossier.updated_at = actor.now
    return event
