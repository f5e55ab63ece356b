"""Mail waiting to be delivered: committed with the change that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    purpose: Mapped[str] = mapped_column(String(40))
    signal_id: Mapped[int | None] = mapped_column(
        ForeignKey("signals.id", ondelete="SET NULL"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(320))
    # Where a reply goes (a resident's mail: the signal's reply address), or None.
    reply_to: Mapped[str | None] = mapped_column(String(320))
    # A mailing's one-click unsubscribe URL (RFC 8058): sent as List-Unsubscribe headers.
    list_unsubscribe: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # Mail the deliverer writes itself, just before sending (portal/outbox_compose.py): what
    # to write, as JSON (which mail, and what the database cannot tell again, such as a new
    # status link); subject and bodies are empty until then, and this is cleared once written.
    compose: Mapped[str | None] = mapped_column(Text)
    # pending -> sending (claimed by one deliverer) -> sent | pending again | failed
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
