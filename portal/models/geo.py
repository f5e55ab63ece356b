"""Wijken and buurten (CBS). Polygons stay in the shipped data files; names live here so an
admin can rename them without touching history, which refers to the stable CBS codes."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base


class Wijk(Base):
    __tablename__ = "wijken"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    buurten: Mapped[list[Buurt]] = relationship(back_populates="wijk", order_by="Buurt.code")

    def __repr__(self) -> str:
        return f"<Wijk {self.code} {self.name}>"


class Buurt(Base):
    __tablename__ = "buurten"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    wijk_code: Mapped[str] = mapped_column(ForeignKey("wijken.code"), index=True)
    wijk: Mapped[Wijk] = relationship(back_populates="buurten")

    def __repr__(self) -> str:
        return f"<Buurt {self.code} {self.name}>"
