"""Reusable replies, managed by admins, optionally meant for one status and/or kind."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base


class StandardText(Base):
    __tablename__ = "standard_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    # None means: fits every status / every kind.
    status: Mapped[str | None] = mapped_column(String(30))
    kind: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
