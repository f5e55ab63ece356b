"""Staff accounts: creating, changing and deactivating them, and checking their passwords.

Accounts are never deleted: signals, timeline steps and audit records point at them, so a
person who leaves is deactivated (cannot log in, keeps their history)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from portal.domain.passwords import (
    check_password,
    hash_password,
    password_problem,
    unusable_hash,
)
from portal.models import RoutingRule, Signal, User, Wijk
from portal.models.user import Role
from portal.vocabulary import CLOSED_STATUSES

NAME_MAX = 200
EMAIL_MAX = 320
# Roles that may own signals (and so routing rules); management only reads.
OWNER_ROLES = frozenset({Role.ACCOUNTMANAGER, Role.ADMIN})


class UserError(ValueError):
    """The account cannot be changed as asked. ``code`` says why for the web layer (which
    words it in the user's language); ``str(error)`` is a Dutch sentence for the CLI.
    ``details`` holds what the sentence needs (unknown wijk codes, routing scopes, ...)."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


def _clean_email(email: str) -> str:
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not (at and local and "." in domain) or any(c.isspace() for c in email):
        raise UserError("email_invalid", f"{email!r} is geen geldig e-mailadres.")
    if len(email) > EMAIL_MAX:
        raise UserError("email_invalid", "Het e-mailadres is te lang.")
    return email


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise UserError("name_required", "Vul een naam in.")
    if len(name) > NAME_MAX:
        raise UserError("name_too_long", f"De naam mag hoogstens {NAME_MAX} tekens hebben.")
    return name


def _check_role(role: str) -> None:
    if role not in set(Role):
        raise UserError("unknown_role", f"Onbekende rol {role!r}; kies uit {', '.join(Role)}.")


PASSWORD_PROBLEMS = {
    "too_short": f"Het wachtwoord moet minstens {MIN_PASSWORD_LENGTH} tekens hebben.",
    "personal": "Het wachtwoord mag niet uw naam of e-mailadres bevatten.",
    "common": "Dit wachtwoord wordt veel gebruikt en is makkelijk te raden. Kies een ander.",
}


def check_password_rules(password: str, *, email: str, name: str) -> None:
    """At least 12 characters, not the account's name or email, not a common password."""
    if problem := password_problem(password, email=email, name=name):
        raise UserError(
            f"password_{problem}", PASSWORD_PROBLEMS[problem], min_length=MIN_PASSWORD_LENGTH
        )


def _check_email_free(session: Session, email: str, user_id: int | None = None) -> None:
    query = select(User.id).where(func.lower(User.email) == email)
    if user_id is not None:
        query = query.where(User.id != user_id)
    if session.scalar(query) is not None:
        raise UserError(
            "email_taken", f"Er bestaat al een account met e-mailadres {email}.", email=email
        )


def _wijken(session: Session, wijk_codes: Sequence[str]) -> list[Wijk]:
    codes = list(dict.fromkeys(wijk_codes))
    wijken = [session.get(Wijk, code) for code in codes]
    unknown = [code for code, wijk in zip(codes, wijken, strict=True) if wijk is None]
    if unknown:
        raise UserError(
            "unknown_wijk",
            f"Onbekende wijkcode(s): {', '.join(unknown)}. Draai eerst `seed wijken`.",
            codes=unknown,
        )
    return sorted((w for w in wijken if w is not None), key=lambda w: w.code)


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None,
    wijk_codes: Sequence[str] = (),
    actor_id: int | None = None,
) -> User:
    """A new account; without a password it waits for its set-password link."""
    email = _clean_email(email)
    name = _clean_name(name)
    _check_role(role)
    if password is not None:
        check_password_rules(password, email=email, name=name)
    _check_email_free(session, email)
    wijken = _wijken(session, wijk_codes)
    user = User(
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password) if password is not None else unusable_hash(),
        wijken=wijken,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        "user.created",
        actor_id=actor_id,
        user_id=user.id,
        role=role,
        wijken=[w.code for w in wijken],
    )
    return user


def routing_scopes_of(session: Session, user_id: int) -> list[str]:
    """The routing rules (wijk codes or the general inbox) this user is the owner of."""
    return list(
        session.scalars(
            select(RoutingRule.scope)
            .where(RoutingRule.owner_id == user_id)
            .order_by(RoutingRule.scope)
        )
    )


def open_signal_count(session: Session, user_id: int) -> int:
    """How many open signals this user owns (worth handing over before deactivating)."""
    closed = [s.value for s in CLOSED_STATUSES]
    return (
        session.scalar(
            select(func.count(Signal.id)).where(
                Signal.owner_id == user_id, Signal.status.not_in(closed)
            )
        )
        or 0
    )


def update_user(
    session: Session,
    user: User,
    *,
    name: str,
    email: str,
    role: str,
    wijk_codes: Sequence[str],
    active: bool,
    actor_id: int,
) -> User:
    """Changes an account. An admin cannot deactivate or demote themselves (so there is
    always an admin left), and the owner of a routing rule stays someone who can own
    signals: hand the wijk or the general inbox over first, so no signal lands nowhere."""
    email = _clean_email(email)
    name = _clean_name(name)
    _check_role(role)
    _check_email_free(session, email, user.id)
    wijken = _wijken(session, wijk_codes)
    if user.id == actor_id and (not active or role != Role.ADMIN):
        raise UserError(
            "self_lockout",
            "U kunt uw eigen account niet deactiveren en uzelf de rol beheerder niet afnemen.",
        )
    if not active or role not in OWNER_ROLES:
        scopes = routing_scopes_of(session, user.id)
        if scopes:
            raise UserError(
                "owns_routing",
                f"Deze persoon is eigenaar in de routering ({', '.join(scopes)}). "
                "Wijs daar eerst iemand anders aan.",
                scopes=scopes,
            )

    before = {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "wijken": [w.code for w in user.wijken],
        "active": user.active,
    }
    user.name, user.email, user.role, user.active = name, email, role, active
    user.wijken = wijken
    after = {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "wijken": [w.code for w in wijken],
        "active": user.active,
    }
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if "active" in changes:
        action = "user.reactivated" if active else "user.deactivated"
        if not active:  # whoever was logged in with this account is out at the next click
            user.session_epoch += 1
    else:
        action = "user.updated"
    session.flush()
    audit.record(session, action, actor_id=actor_id, user_id=user.id, changes=changes)
    return user


def set_password(session: Session, user: User, password: str, actor_id: int | None) -> None:
    """A new password ends every session of the account (and lifts a lock)."""
    check_password_rules(password, email=user.email, name=user.name)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    # Never the password or its hash in the audit trail.
    audit.record(session, "user.password_set", actor_id=actor_id, user_id=user.id)


def verify_password(user: User, password: str) -> bool:
    return check_password(user.password_hash, password)
