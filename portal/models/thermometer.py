"""The public wijk thermometer's figures as the nightly job worked them out
(portal/domain/steering/thermometer.py): small numbers already left out, so no stored copy
ever holds a count under the threshold. The newest row is what /cijfers and the wijk pages
show; older rows are removed when a new one is stored."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class ThermometerSnapshot(Base):
    __tablename__ = "thermometer_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_day: Mapped[date]  # the twelve whole months it covers
    last_day: Mapped[date]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
