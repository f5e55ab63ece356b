"""Two-step login for staff: a time-based code from an authenticator app (TOTP, RFC 6238)
and ten single-use recovery codes, stored only as hashes, for when the phone is gone.

Who must use it: every admin in production, and all staff once an admin switches on the
"required for everyone" setting. Any change to it ends the account's other sessions."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import Update, delete, or_, update
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.models import RecoveryCode, Role, Setting, User

ISSUER = "Wijkzaken Hilversum"
RECOVERY_CODE_COUNT = 10
# A code is accepted one time step (30 s) early or late: phone clocks drift.
VALID_WINDOW = 1
REQUIRED_FOR_ALL = "two_factor_required_for_all"
# Without 0/o and 1/l/i, so a code read off paper is typed right.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


class TwoFactorError(ValueError):
    """``code`` is ``wrong_code`` or ``not_enrolled``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _normalise(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))  # ~50 bits
    return f"{raw[:5]}-{raw[5:]}"


def provisioning_uri(secret: str, email: str) -> str:
    """What the QR code holds: the app shows the account as 'Wijkzaken Hilversum (email)'."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def pending_secret(session: Session, user: User) -> str:
    """The secret to show during enrolment; the same one until it is confirmed."""
    if user.totp_pending_secret is None:
        user.totp_pending_secret = pyotp.random_base32()
        session.flush()
    return user.totp_pending_secret


def _matching_step(secret: str, code: str, now: datetime, after_step: int | None) -> int | None:
    """The time step whose code this is, if it is one not used before; else None."""
    digits = "".join(c for c in code if c.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if after_step is not None and step <= after_step:
            continue  # already used: a code seen over a shoulder cannot be replayed
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def _issue_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(c)) for c in codes)
    return codes


def enable(session: Session, user: User, code: str, now: datetime) -> list[str]:
    """Confirms enrolment with a code from the app; returns the recovery codes, which are
    shown once and never again (only their hashes are kept)."""
    secret = user.totp_pending_secret
    if secret is None:
        raise TwoFactorError("not_enrolled")
    step = _matching_step(secret, code, now, None)
    if step is None:
        raise TwoFactorError("wrong_code")
    user.totp_secret, user.totp_pending_secret, user.totp_last_step = secret, None, step
    codes = _issue_recovery_codes(session, user)
    user.session_epoch += 1
    audit.record(session, "user.2fa_enabled", actor_id=user.id, user_id=user.id)
    session.flush()
    return codes


def new_recovery_codes(session: Session, user: User) -> list[str]:
    if not user.has_2fa:
        raise TwoFactorError("not_enrolled")
    codes = _issue_recovery_codes(session, user)
    audit.record(session, "user.2fa_recovery_codes_renewed", actor_id=user.id, user_id=user.id)
    session.flush()
    return codes


def reset(session: Session, user: User, *, actor_id: int | None) -> None:
    """Switches it off (the user themselves, an admin for a lost phone, or the CLI). Where it
    is required, the user must enrol again at the next login."""
    user.totp_secret = user.totp_pending_secret = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.session_epoch += 1
    audit.record(session, "user.2fa_reset", actor_id=actor_id, user_id=user.id)
    session.flush()


def verify(session: Session, user: User, code: str, now: datetime) -> bool:
    """The second step of a login: a code from the app, or an unused recovery code (which
    is then used up). Flushes what it changed.

    Each is claimed with one UPDATE that holds its own condition: two requests with the same
    code at the same moment both pass a check made in Python on what they read, but only one
    of them can change the row (the other waits for it and then finds it changed)."""
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code, now, user.totp_last_step)
    if step is not None:
        return _claimed(
            session,
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step),
        )
    wanted = _hash_recovery(code)
    for recovery in user.recovery_codes:
        if recovery.used_at is None and hmac.compare_digest(recovery.code_hash, wanted):
            claimed = _claimed(
                session,
                update(RecoveryCode)
                .where(RecoveryCode.id == recovery.id, RecoveryCode.used_at.is_(None))
                .values(used_at=now),
            )
            if claimed:
                audit.record(session, "user.2fa_recovery_code_used", actor_id=user.id)
                session.flush()
            return claimed
    return False


def _claimed(session: Session, statement: Update) -> bool:
    # "fetch": the loaded objects get the new values from the database, not a Python guess.
    result = session.execute(statement.execution_options(synchronize_session="fetch"))
    return result.rowcount == 1  # type: ignore[attr-defined]


def unused_recovery_codes(user: User) -> int:
    return sum(1 for r in user.recovery_codes if r.used_at is None)


# --- who must use it -------------------------------------------------------------------------


def required_for_all(session: Session) -> bool:
    setting = session.get(Setting, REQUIRED_FOR_ALL)
    return setting is not None and setting.value == "true"


def set_required_for_all(session: Session, required: bool, *, actor_id: int) -> bool:
    """Returns whether anything changed."""
    if required_for_all(session) == required:
        return False
    setting = session.get(Setting, REQUIRED_FOR_ALL) or Setting(key=REQUIRED_FOR_ALL, value="")
    setting.value = "true" if required else "false"
    session.add(setting)
    audit.record(session, "settings.2fa_required_for_all", actor_id=actor_id, required=required)
    session.flush()
    return True


def is_required(session: Session, user: User, *, production: bool) -> bool:
    return (production and user.role == Role.ADMIN) or required_for_all(session)
