"""signal highlights: a notable case an accountmanager chose for the monthly report, with a
public summary

Plain ADD COLUMN, not a batch recreate: on SQLite that would drop the counts' triggers.

Revision ID: e8b4c1d7a2f6
Revises: d3a6f0b2c8e4
Create Date: 2026-12-03 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e8b4c1d7a2f6"
down_revision: str | None = "d3a6f0b2c8e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("signals", sa.Column("highlight_summary", sa.Text(), nullable=True))
    op.add_column("signals", sa.Column("highlight_month", sa.Date(), nullable=True))
    op.create_index("ix_signals_highlight_month", "signals", ["highlight_month"])


def downgrade() -> None:
    op.drop_index("ix_signals_highlight_month", table_name="signals")
    op.execute("ALTER TABLE signals DROP COLUMN highlight_month")
    op.execute("ALTER TABLE signals DROP COLUMN highlight_summary")
