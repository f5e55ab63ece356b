"""Bureau Wijkzaken's own casework around a signal: response and handling targets, the daily
digest, escalation to functionaries with authority, sharing with wijkteam partners, access to
sensitive signals, and cover during absence."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.geo import Wijk
from portal.models.user import User


class ResponseTarget(Base):
    """Working days for the first public response and for handling, per kind and optionally
    per theme (a theme row wins over the kind's row)."""

    __tablename__ = "response_targets"
    __table_args__ = (UniqueConstraint("kind", "theme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    theme: Mapped[str | None] = mapped_column(String(20))
    respond_working_days: Mapped[int]
    handle_working_days: Mapped[int]


class DigestRun(Base):
    """One row per user and local day a digest was sent: running the job twice sends one."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class Functionary(Base):
    """Someone in the organisation with authority to push a case through (doorzettingsmacht)."""

    __tablename__ = "functionaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role_title: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(default=True)


class Escalation(Base):
    """A question from an accountmanager to a functionary, answered through a one-time link."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    functionary_id: Mapped[int] = mapped_column(ForeignKey("functionaries.id"))
    functionary: Mapped[Functionary] = relationship()
    question: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(10))  # "normal" | "high"
    reply_by: Mapped[date] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Only a hash: a leaked database opens no answer page.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None]
    # Closed by the accountmanager with an outcome; None while open.
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(Text)


partner_wijken = Table(
    "partner_wijken",
    Base.metadata,
    Column("partner_id", ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    Column("wijk_code", ForeignKey("wijken.code"), primary_key=True),
)


class Partner(Base):
    """A wijkteam partner: police, Versa Welzijn, a housing corporation."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(default=True)
    wijken: Mapped[list[Wijk]] = relationship(secondary=partner_wijken, order_by=Wijk.code)


class PartnerShare(Base):
    """What was shared with a partner, why and which fields; answered through a one-time link
    that expires and can be revoked."""

    __tablename__ = "partner_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    partner: Mapped[Partner] = relationship()
    purpose: Mapped[str] = mapped_column(Text)
    # The names of what was shared, e.g. ["description", "timeline", "contact"].
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)


class SignalAccess(Base):
    """A colleague explicitly let into a sensitive signal (besides its owner and admins)."""

    __tablename__ = "signal_access"

    signal_id: Mapped[int] = mapped_column(
        ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Absence(Base):
    """An accountmanager away (leave, illness) from ``starts_on`` to ``ends_on`` inclusive,
    with the colleague who stands in."""

    __tablename__ = "absences"
    __table_args__ = (Index("ix_absences_user_id_period", "user_id", "starts_on", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    stand_in_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stand_in: Mapped[User] = relationship(foreign_keys=[stand_in_id])
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
