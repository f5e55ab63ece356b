"""signals.responded_in_time, handled_in_time and indexes on responded_at, closed_at: the
steering figures count "within the target" and what happened within a period from an index

Existing rows get the flags from their dates: the first response or the closing on or before
its due date, compared in UTC days (new ones compare local days; the two differ only for a
step between midnight UTC and midnight in Hilversum on the due date itself).

Revision ID: b5e8c3d1f4a7
Revises: e9a4c2b7d613
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5e8c3d1f4a7"
down_revision: str | None = "e9a4c2b7d613"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLOSED = "('resolved', 'declined')"


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch recreate: on SQLite that would drop the inbox_counts
    # triggers with the old table (portal/models/inbox_counts.py).
    op.add_column("signals", sa.Column("responded_in_time", sa.Boolean(), nullable=True))
    op.add_column("signals", sa.Column("handled_in_time", sa.Boolean(), nullable=True))
    for column in ("responded_at", "closed_at"):
        # Partial: "not responded yet" must keep using the inbox's index over open signals.
        present = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_signals_{column}",
            "signals",
            [column],
            sqlite_where=present,
            postgresql_where=present,
        )
    day = "date({})" if op.get_bind().dialect.name == "sqlite" else "CAST({} AS DATE)"
    op.execute(
        f"UPDATE signals SET responded_in_time = ({day.format('responded_at')} <= respond_due_on)"
        " WHERE responded_at IS NOT NULL AND respond_due_on IS NOT NULL"
    )
    op.execute(
        f"UPDATE signals SET handled_in_time = ({day.format('closed_at')} <= handle_due_on)"
        f" WHERE closed_at IS NOT NULL AND handle_due_on IS NOT NULL AND status IN {_CLOSED}"
    )


def downgrade() -> None:
    op.drop_index("ix_signals_closed_at", table_name="signals")
    op.drop_index("ix_signals_responded_at", table_name="signals")
    with op.batch_alter_table("signals") as batch_op:
        batch_op.drop_column("handled_in_time")
        batch_op.drop_column("responded_in_time")
