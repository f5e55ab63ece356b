"""The register of functionaries with doorzettingsmacht (admin-managed): the people an
accountmanager can escalate a stuck signal to. Entries are never deleted (escalations point
at them); someone who left is set inactive."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.reply_links import clean_register_email, clean_register_text
from portal.models import Functionary


def save_functionary(
    session: Session,
    functionary: Functionary | None,
    *,
    name: str,
    role_title: str,
    department: str,
    email: str,
    active: bool,
    actor_id: int,
) -> Functionary:
    """Adds (``functionary`` None) or changes an entry; raises RegisterError. Entries are
    never deleted: escalations point at them. Someone who left is set inactive."""
    values = {
        "name": clean_register_text(name, "name"),
        "role_title": clean_register_text(role_title, "role_title"),
        "department": clean_register_text(department, "department"),
        "email": clean_register_email(email),
        "active": bool(active),
    }
    if functionary is None:
        functionary = Functionary(**values)
        session.add(functionary)
        session.flush()
        audit.record(
            session, "functionary.created", actor_id=actor_id, functionary_id=functionary.id
        )
        return functionary
    before = {key: getattr(functionary, key) for key in values}
    for key, value in values.items():
        setattr(functionary, key, value)
    session.flush()
    audit.record(
        session,
        "functionary.updated",
        actor_id=actor_id,
        functionary_id=functionary.id,
        before=before,
        after=values,
    )
    return functionary


def active_functionaries(session: Session) -> list[Functionary]:
    return list(
        session.scalars(
            select(Functionary).where(Functionary.active.is_(True)).order_by(Functionary.name)
        )
    )
