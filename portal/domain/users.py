"""Staff accounts: creating them and checking their passwords."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.domain import audit
from portal.models import Role, User, Wijk

MIN_PASSWORD_LENGTH = 12


class UserError(ValueError):
    """The account cannot be created as asked; the message says why (in Dutch)."""


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    wijk_codes: Sequence[str] = (),
    actor_id: int | None = None,
) -> User:
    email = email.strip().lower()
    if role not in set(Role):
        raise UserError(f"Onbekende rol {role!r}; kies uit {', '.join(Role)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Het wachtwoord moet minstens {MIN_PASSWORD_LENGTH} tekens hebben.")
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise UserError(f"Er bestaat al een account met e-mailadres {email}.")
    wijken = [session.get(Wijk, code) for code in wijk_codes]
    unknown = [code for code, wijk in zip(wijk_codes, wijken, strict=True) if wijk is None]
    if unknown:
        raise UserError(f"Onbekende wijkcode(s): {', '.join(unknown)}. Draai eerst `seed wijken`.")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=generate_password_hash(password),
        wijken=[w for w in wijken if w is not None],
    )
    session.add(user)
    session.flush()
    audit.record(session, "user.created", actor_id=actor_id, user_id=user.id, role=role)
    return user


def verify_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)
