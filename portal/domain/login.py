"""Logging staff in: one answer for every refusal, the same work whether or not the account
exists, and a temporary lock on an account after a run of wrong passwords (on top of the
per-address limit, which a spread-out attack gets around)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.domain import audit, two_factor
from portal.domain.notifications import MailContext, account_locked
from portal.domain.passwords import check_password
from portal.models import User

MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    """``user`` is set only when the password was right and the account may log in."""

    user: User | None
    locked_now: bool = False


def find_staff(session: Session, email: str) -> User | None:
    return session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).first()


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def check_login(
    session: Session, email: str, password: str, *, now: datetime, mail: MailContext
) -> LoginResult:
    """Checks the password; counts a failure against the account and locks it after
    ``MAX_FAILURES`` in a row (mailing the account holder). Flushes; the caller commits."""
    user = find_staff(session, email)
    usable = user is not None and user.active and not is_locked(user, now)
    # A hash is checked on every path, so the answer takes as long for an unknown address.
    right = check_password(user.password_hash if usable and user else None, password)
    if user is None or not usable:
        if user is not None and user.active:
            audit.record(session, "user.login_while_locked", user_id=user.id)
        return LoginResult(None)
    if right:
        user.failed_logins = 0
        user.locked_until = None
        session.flush()
        return LoginResult(user)
    return LoginResult(None, locked_now=record_failure(session, user, now=now, mail=mail))


def record_failure(session: Session, user: User, *, now: datetime, mail: MailContext) -> bool:
    """One more wrong password or code; True when this one locked the account.

    Counted in the database (``failed_logins + 1``), not from what this request read: two
    wrong attempts at the same moment count as two. Of those that reach the limit together,
    only the one whose UPDATE still finds the count there locks the account and mails."""
    fetch = {"synchronize_session": "fetch"}
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .execution_options(**fetch)
    )
    audit.record(session, "user.login_failed", user_id=user.id, failures=user.failed_logins)
    if user.failed_logins < MAX_FAILURES:
        session.flush()
        return False
    until = now + LOCK_DURATION
    locked = session.execute(
        update(User)
        .where(User.id == user.id, User.failed_logins >= MAX_FAILURES)
        .values(failed_logins=0, locked_until=until)
        .execution_options(**fetch)
    )
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        session.flush()
        return False
    audit.record(session, "user.locked", user_id=user.id, until=until.isoformat())
    session.flush()
    account_locked(session, user, until, MAX_FAILURES, mail)
    return True


def check_code(
    session: Session, user: User, code: str, *, now: datetime, mail: MailContext
) -> bool:
    """The second step: a code from the app or a recovery code. Wrong codes count towards
    the lock like wrong passwords; a locked account accepts none. Flushes."""
    if is_locked(user, now):
        return False
    if two_factor.verify(session, user, code, now):
        user.failed_logins = 0
        logged_in(session, user)
        session.flush()
        return True
    record_failure(session, user, now=now, mail=mail)
    return False


def logged_in(session: Session, user: User) -> None:
    audit.record(session, "user.logged_in", actor_id=user.id)


def end_sessions(session: Session, user: User, *, actor_id: int | None, reason: str) -> int:
    """Every session of this user opened before now stops working at its next request.
    Returns the new epoch (a session that should live on stores it)."""
    user.session_epoch += 1
    audit.record(session, "user.sessions_ended", actor_id=actor_id, user_id=user.id, why=reason)
    session.flush()
    return user.session_epoch
