"""The wijk as residents see it: the accountmanager's public profile, wijk news, email alerts
per wijk, and residents who follow someone else's signal ("Dit is mijn melding ook")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.geo import Wijk
from portal.models.user import User


class StaffProfile(Base):
    """What a resident sees of an accountmanager on the wijk page. Only what they chose to
    publish: a work phone and address, never private ones."""

    __tablename__ = "staff_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    intro: Mapped[str | None] = mapped_column(Text)
    # A photo kept by PhotoStore (re-encoded, without metadata): its stored name.
    photo_key: Mapped[str | None] = mapped_column(String(100))
    public_phone: Mapped[str | None] = mapped_column(String(30))
    public_email: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


class WijkNews(Base):
    """A short public update by an accountmanager for their wijk (page, Atom feed, alerts)."""

    __tablename__ = "wijk_news"
    __table_args__ = (Index("ix_wijk_news_wijk_published", "wijk_code", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wijk_code: Mapped[str] = mapped_column(ForeignKey("wijken.code"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    photo_key: Mapped[str | None] = mapped_column(String(100))
    # What the photo shows, for who cannot see it (required with a photo).
    photo_alt: Mapped[str | None] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Withdrawn news leaves the page, the feed and the alerts; the row stays for the audit.
    withdrawn_at: Mapped[datetime | None]

    wijk: Mapped[Wijk] = relationship()
    author: Mapped[User | None] = relationship()


class WijkAlert(Base):
    """An email subscription to a wijk's weekly mail: double opt-in, one-click unsubscribe.
    The token (only its hash is kept) confirms and unsubscribes."""

    __tablename__ = "wijk_alerts"
    __table_args__ = (UniqueConstraint("email", "wijk_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    wijk_code: Mapped[str] = mapped_column(ForeignKey("wijken.code"), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # Up to when the last weekly mail covered news and handled signals.
    last_sent_at: Mapped[datetime | None]

    wijk: Mapped[Wijk] = relationship()


class SignalFollower(Base):
    """A resident who said "Dit is mijn melding ook": they follow the signal on a page of its
    own (public title and status only, never the reporter's messages) and, with an email
    address, get a mail when its status changes. The token's hash opens that page and stops
    the mail."""

    __tablename__ = "signal_followers"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    unsubscribed_at: Mapped[datetime | None]
