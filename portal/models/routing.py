"""Who owns the signals of a wijk, and who owns the general inbox."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base
from portal.models.user import User

GENERAL_INBOX = "general"


class RoutingRule(Base):
    __tablename__ = "routing_rules"

    # A CBS wijk code, or GENERAL_INBOX for signals that no wijk rule catches.
    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner: Mapped[User] = relationship()
