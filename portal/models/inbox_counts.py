"""What the inbox needs at a million signals (portal/domain/inbox/, measured in bench/): how
many signals there are per (wijk, owner, status, sensitive, kind), and indexes over the open
signals alone.

``InboxCount`` is kept by the database itself: triggers on ``signals`` (migration
5fe5c3ea45ac) add and subtract on every INSERT, UPDATE and DELETE, whichever code or tool
writes - the ORM, hand-written SQL, a bulk load, a migration. The inbox then sums a few
hundred rows instead of grouping a million. No code writes it. A signal without a wijk counts
under wijk ``''``, one without an owner under owner ``0`` (a key column cannot be NULL).

A later migration that rebuilds ``signals`` on SQLite (a batch ``recreate``: copy, DROP,
rename) drops the triggers with the old table and must create them again
(tests/test_inbox_counts.py checks that they exist at head).

The open-signal indexes cover every column the deadline filters and their counts read, so
those counts walk only the index entries of open signals (about a tenth of all), never the
table. Each is partial on ``status NOT IN ('resolved', 'declined')`` written out as literals:
SQLite uses a partial index only when the query carries the very same term
(portal/domain/inbox/deadlines.py: ``is_open``)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Index, String, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base
from portal.models.signal import Signal
from portal.vocabulary import CLOSED_STATUSES

NO_WIJK = ""
NO_OWNER = 0
NO_DUE_MONTH = ""
# The partial indexes' condition, word for word (and in this order) as the queries write it.
CLOSED = ("resolved", "declined")
OPEN_SIGNALS = "status NOT IN ('resolved', 'declined')"
assert set(CLOSED) == {s.value for s in CLOSED_STATUSES}, "the closed statuses changed"


def open_signal() -> ColumnElement[bool]:
    """``status NOT IN ('resolved', 'declined')`` with the values written out, not bound:
    then SQLite (and PostgreSQL) may use the partial indexes below."""
    return Signal.status.not_in([literal_column(f"'{status}'") for status in CLOSED])


class InboxCount(Base):
    __tablename__ = "inbox_counts"
    # The key in the order the inbox adds up (status, kind, due month): a scan of the table
    # is already grouped. On SQLite the rows are stored in that order (no rowid).
    __table_args__ = {"sqlite_with_rowid": False}

    status: Mapped[str] = mapped_column(String(30), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    # An open signal's handling due month ("2026-12"); '' when closed or without a due date.
    # "Afhandeling te laat" is then a sum over the months before this one plus a count of
    # the open signals due earlier this month (an index range of at most a month), instead
    # of a count of every late signal.
    handle_due_month: Mapped[str] = mapped_column(String(7), primary_key=True)
    sensitive: Mapped[bool] = mapped_column(primary_key=True)
    wijk_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    owner_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    signals: Mapped[int] = mapped_column(default=0)


def _open_index(name: str, *columns: str, where: str = OPEN_SIGNALS) -> Index:
    condition = text(where)
    return Index(
        name,
        *(Signal.__table__.c[c] for c in columns),
        sqlite_where=condition,
        postgresql_where=condition,
    )


# Who may see it, where it is, and every date the deadline filters compare: each index answers
# its counts from its own entries.
_COVERED = (
    "status", "sensitive", "owner_id", "wijk_code", "kind", "handle_due_on", "respond_due_on",
    "responded_at", "follow_up_on", "created_at", "id",
)  # fmt: skip


def _leading(*columns: str) -> tuple[str, ...]:
    return (*columns, *(c for c in _COVERED if c not in columns))


# "Afhandeling te laat", "ver over tijd": open signals by handling due date.
ix_signals_open_handle_due = _open_index("ix_signals_open_handle_due", *_leading("handle_due_on"))
# The newest open signals first ("open" lists, "over tijd" pages), without reading the table.
ix_signals_open_created = _open_index("ix_signals_open_created", *_leading("created_at", "id"))
# "Reactie te laat": open signals nobody responded to yet (few), by their response due date.
ix_signals_open_respond_due = _open_index(
    "ix_signals_open_respond_due",
    *_leading("respond_due_on"),
    where=f"{OPEN_SIGNALS} AND responded_at IS NULL",
)
# "Opvolgen vandaag": open signals with a follow-up day (few), by that day.
ix_signals_open_follow_up = _open_index(
    "ix_signals_open_follow_up",
    *_leading("follow_up_on"),
    where=f"{OPEN_SIGNALS} AND follow_up_on IS NOT NULL",
)
