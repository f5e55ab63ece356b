"""The conversation with the resident after the form: reply addresses for mail, mail that
came in, the satisfaction question and the reopen requests it can lead to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.user import User


class ReplyAddress(Base):
    """The opaque part of a Reply-To address (wijkzaken+<reply_id>@…) that leads a reply back
    to its signal without exposing the status token. Revoking it sets mail to it aside."""

    __tablename__ = "reply_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    reply_id: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class InboundMail(Base):
    """Every message the inbound endpoint accepted, stored before the SMTP transaction is
    acknowledged. ``accepted`` ones are on a signal's timeline (``event_id``); ``set_aside``
    ones wait for an admin, who marks them ``handled``."""

    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    envelope_from: Mapped[str] = mapped_column(String(320))
    # Indexed: a mail server's retry is recognised by address and bytes (inbound.receive).
    envelope_to: Mapped[str] = mapped_column(String(320), index=True)
    reply_id: Mapped[str | None] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    # Set aside: why (unknown_reply_id, revoked, auto_reply, bounce, no_text, …). Accepted:
    # remarks for staff, comma-separated (other_sender, photos_refused, text_cut).
    reason: Mapped[str | None] = mapped_column(String(40))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    signal_id: Mapped[int | None] = mapped_column(
        ForeignKey("signals.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("signal_events.id", ondelete="SET NULL")
    )
    handled_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SatisfactionSurvey(Base):
    """ "Bent u tevreden?", asked once per resolution, open until ``open_until``."""

    __tablename__ = "satisfaction_surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    # The timeline step that resolved the signal.
    event_id: Mapped[int] = mapped_column(ForeignKey("signal_events.id", ondelete="CASCADE"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    open_until: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    satisfied: Mapped[bool | None]
    comment: Mapped[str | None] = mapped_column(Text)


class ReopenRequest(Base):
    """A resident's "not satisfied": the owner reopens the signal or keeps it closed with an
    explanation the resident receives."""

    __tablename__ = "reopen_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("satisfaction_surveys.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)
    # None while it waits for the owner (the inbox filter reads this index).
    decided_at: Mapped[datetime | None] = mapped_column(index=True)
    decision: Mapped[str | None] = mapped_column(String(20))  # "reopened" | "kept_closed"
    explanation: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[User | None] = relationship()
