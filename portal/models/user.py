"""Staff accounts: admins, accountmanagers (owning wijken) and management."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.geo import Wijk


class Role(StrEnum):
    ADMIN = "admin"
    ACCOUNTMANAGER = "accountmanager"
    MANAGEMENT = "management"


user_wijken = Table(
    "user_wijken",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("wijk_code", ForeignKey("wijken.code"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The daily digest mail (due follow-ups, overdue signals, escalations, new signals).
    digest_enabled: Mapped[bool] = mapped_column(default=True)
    wijken: Mapped[list[Wijk]] = relationship(secondary=user_wijken, order_by=Wijk.code)

    # Every session remembers the epoch it was opened in; bumping it (logout, password or
    # 2FA change, deactivation, "log out everywhere") ends all older sessions at once.
    session_epoch: Mapped[int] = mapped_column(default=0)
    # Failed logins since the last success; a run of them locks the account for a while.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # TOTP (RFC 6238): the shared secret once enrolment is confirmed, and the last time step
    # used, so a code seen over someone's shoulder cannot be replayed within its window.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    # Shown as a QR code during enrolment; becomes ``totp_secret`` once a code from the app
    # proves it was scanned. Kept here, not in the (readable) session cookie.
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        cascade="all, delete-orphan", order_by="RecoveryCode.id"
    )

    @property
    def has_2fa(self) -> bool:
        return self.totp_secret is not None

    # flask-login protocol, kept here so the model needs no Flask import.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class RecoveryCode(Base):
    """A single-use code for when the phone with the authenticator app is gone; hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class PasswordLink(Base):
    """A one-time link to set a password (new account, or a reset by an admin); hashed."""

    __tablename__ = "password_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Setting(Base):
    """Settings an admin changes in the back office (not deployment configuration)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
