"""Dossiers: a group of signals (knelpunten and initiatives together) with an owner, a
description and a timeline of its own. Every operation writes the dossier's timeline and the
audit record and flushes; the caller commits once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.casework import Actor, CaseworkError, add_event
from portal.domain.references import next_reference
from portal.models import Dossier, DossierEvent, Signal
from portal.vocabulary import DossierState

TITLE_MAX = 120
DESCRIPTION_MAX = 5000


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
    """Raises CaseworkError: ``title_required``, ``title_too_long``, ``description_too_long``."""
    clean_title = (title or "").strip()
    clean_description = (description or "").strip()
    if not clean_title:
        raise CaseworkError("title_required")
    if len(clean_title) > TITLE_MAX:
        raise CaseworkError("title_too_long")
    if len(clean_description) > DESCRIPTION_MAX:
        raise CaseworkError("description_too_long")
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
        session, "dossier.created", actor_id=actor.user_id, dossier_id=dossier.id, owner_id=owner_id
    )
    session.flush()
    return dossier


def add_signal(session: Session, dossier: Dossier, signal: Signal, *, actor: Actor) -> None:
    """Puts ``signal`` in ``dossier``. Raises CaseworkError ``already_in_dossier`` when it is
    in this one, ``in_other_dossier`` when it belongs to another (a signal has one dossier)."""
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


def _dossier_event(
    session: Session, dossier: Dossier, actor: Actor, kind: str, **fields: object
) -> DossierEvent:
    """A step on the dossier's timeline; touching the dossier bumps its version."""
    event = DossierEvent(
        dossier_id=dossier.id, kind=kind, author_id=actor.user_id, created_at=actor.now, **fields
    )
    session.add(event)
    dossier.updated_at = actor.now
    return event
