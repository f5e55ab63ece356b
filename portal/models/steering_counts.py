"""What the management dashboard needs at a million signals (portal/domain/steering/,
measured in bench/): how many signals came in, got their first public response and were
closed per day, wijk, owner, kind and sensitivity, and whether within the target.

``SteeringCount`` is kept by the database itself, like ``InboxCount``: triggers on
``signals`` (migration c7d2e5f8a9b1) add and subtract on every INSERT, UPDATE and DELETE,
whoever writes. No code writes it. Each signal counts under up to three events:

* ``came_in`` on the day of ``created_at``;
* ``responded`` on the day of ``responded_at`` (its first public response), ``in_time``
  from ``responded_in_time``;
* ``closed`` on the day of ``closed_at`` while it is resolved or declined, ``in_time`` from
  ``handled_in_time``.

``day`` is the local day in Hilversum, as the dashboard's periods and the inbox's date
filters are. No wijk counts under ``''``, no owner under ``0``, an unknown verdict on the
target as not within it.

A later migration that rebuilds ``signals`` on SQLite (a batch ``recreate``) drops these
triggers too (tests/test_steering_counts.py checks that they exist at head)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base

CAME_IN, RESPONDED, CLOSED_EVENT = "came_in", "responded", "closed"


class SteeringCount(Base):
    __tablename__ = "steering_counts"
    # A period is one range of the key: on SQLite the rows are stored in that order.
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[date] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(12), primary_key=True)
    wijk_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    owner_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    sensitive: Mapped[bool] = mapped_column(primary_key=True)
    in_time: Mapped[bool] = mapped_column(primary_key=True)
    signals: Mapped[int] = mapped_column(default=0)
