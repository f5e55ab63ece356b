"""One row per housekeeping job (portal/jobs.py): a lease, so that ``jobs run`` started on two
hosts at once runs each job once, and what its last run did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base


class JobLock(Base):
    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    # Who holds it ("host:pid") and until when; a run that died lets go when the lease ends.
    holder: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_summary: Mapped[str | None] = mapped_column(Text)
