"""What stays of signals the Archiefwet period has ended for: counts, nothing else.

One row per combination of the month a group of signals came in and the month it closed,
wijk and buurt, kind, themes, outcome, channel and submitter kind, with how many signals it
stands for. No reference, text, address, point or person: the steering figures over the
years can still count what came in and how it ended (portal/domain/privacy/destruction.py
adds to these rows in the same transaction that deletes the signals)."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base

# What one count is of: every column but the number.
ARCHIVE_KEY = (
    "created_month",
    "closed_month",
    "wijk_code",
    "buurt_code",
    "kind",
    "themes",
    "outcome",
    "channel",
    "submitter_kind",
)


class ArchivedSignalCount(Base):
    __tablename__ = "archived_signal_counts"
    __table_args__ = (UniqueConstraint(*ARCHIVE_KEY, name="uq_archived_signal_counts_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "2021-03": the months, not the days (the counts must not point at one signal).
    created_month: Mapped[str] = mapped_column(String(7))
    closed_month: Mapped[str] = mapped_column(String(7))
    # Codes, not foreign keys: the wijk of an old count may be renamed or merged since.
    # "" when the signal had none (a key column cannot be NULL in a unique constraint).
    wijk_code: Mapped[str] = mapped_column(String(10))
    buurt_code: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20))
    # The signal's themes, sorted and comma-separated ("heel,veilig"): one row per signal
    # group, so that the counts add up to the number of signals.
    themes: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(30))  # resolved | declined
    channel: Mapped[str] = mapped_column(String(20))
    submitter_kind: Mapped[str] = mapped_column(String(20))
    signals: Mapped[int] = mapped_column(default=0)
