"""Coordination: signals linked to each other (related, or one a duplicate of the other),
and dossiers that group knelpunten and initiatives into one approach ("Integrale handhaving
Sint Vitusbuurt") with an owner, a description and a timeline of their own."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.geo import Wijk
from portal.models.user import User

if TYPE_CHECKING:
    from portal.models.signal import Signal


class Dossier(Base):
    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # DOS-2026-000001: the same numbering as signals, with its own prefix.
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="open")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    wijk_code: Mapped[str | None] = mapped_column(ForeignKey("wijken.code"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    wijk: Mapped[Wijk | None] = relationship()
    signals: Mapped[list[Signal]] = relationship(back_populates="dossier", order_by="Signal.id")
    events: Mapped[list[DossierEvent]] = relationship(
        cascade="all, delete-orphan", order_by="DossierEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}


class DossierEvent(Base):
    """One step on a dossier's own timeline. A public update also becomes a public step on
    each of its signals (so every resident reads it on their own status page)."""

    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    is_public: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str | None] = mapped_column(Text)
    # The signal added or removed, when the step is about one.
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    # A status applied to all its signals at once.
    to_status: Mapped[str | None] = mapped_column(String(30))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()


class SignalLink(Base):
    """Two signals that belong together. RELATED: stored once per pair (lower id first).
    DUPLICATE: ``signal_id`` is the duplicate, ``other_id`` the signal it repeats."""

    __tablename__ = "signal_links"
    __table_args__ = (UniqueConstraint("signal_id", "other_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"))
    other_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    # DUPLICATE: the step that declined it as one. The relation holds while that is the
    # duplicate's newest status step (a reopen ends it, a later decline does not restore it).
    decline_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("signal_events.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship()
