"""What Bureau Wijkzaken keeps of residents' initiatives: the steps on the participation
ladder (who moved it, when and why)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.user import User


class LadderStep(Base):
    """One move of an initiative on the participation ladder; never changed afterwards."""

    __tablename__ = "ladder_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    from_rung: Mapped[str | None] = mapped_column(String(30))
    to_rung: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()
