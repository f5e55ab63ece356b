"""One-time links to set a password: for a new account, and when an admin resets one. The
admin never chooses or sees the password; the link is mailed to the account's own address,
works once, for ``LINK_VALID``, and only the newest one works. Only its hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.notifications import MailContext, password_link
from portal.domain.passwords import unusable_hash
from portal.domain.users import create_user, set_password
from portal.models import PasswordLink, User

LINK_VALID = timedelta(hours=48)
PURPOSES = ("welcome", "reset")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_password_link(
    session: Session,
    user: User,
    *,
    purpose: str,
    actor_id: int | None,
    now: datetime,
    mail: MailContext,
) -> None:
    """Mails a fresh link (earlier ones stop working). A reset also ends the current password
    and every session at once: whoever might know the old one is out."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    session.execute(delete(PasswordLink).where(PasswordLink.user_id == user.id))
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordLink(
            user_id=user.id, token_hash=_hash(token), created_at=now, expires_at=now + LINK_VALID
        )
    )
    if purpose == "reset":
        user.password_hash = unusable_hash()
        user.session_epoch += 1
    audit.record(session, f"user.password_link_{purpose}", actor_id=actor_id, user_id=user.id)
    session.flush()
    password_link(session, user, token, purpose=purpose, valid_hours=_hours(), ctx=mail)


def invite_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    wijk_codes: Sequence[str],
    actor_id: int,
    now: datetime,
    mail: MailContext,
) -> User:
    """A new account made by an admin: no password yet; a welcome link is mailed to it."""
    user = create_user(
        session,
        email=email,
        name=name,
        role=role,
        password=None,
        wijk_codes=wijk_codes,
        actor_id=actor_id,
    )
    send_password_link(session, user, purpose="welcome", actor_id=actor_id, now=now, mail=mail)
    return user


def _hours() -> int:
    return int(LINK_VALID.total_seconds() // 3600)


def valid_link(session: Session, token: str, now: datetime) -> PasswordLink | None:
    if not token or len(token) > 100:
        return None
    link = session.scalars(
        select(PasswordLink).where(PasswordLink.token_hash == _hash(token))
    ).first()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    user = session.get(User, link.user_id)
    return link if user is not None and user.active else None


def use_link(session: Session, link: PasswordLink, password: str, now: datetime) -> User:
    """Sets the password (the rules apply: ``UserError``) and uses the link up."""
    user = session.get(User, link.user_id)
    assert user is not None  # valid_link checked it
    set_password(session, user, password, actor_id=user.id)
    link.used_at = now
    session.flush()
    return user
