"""archived_signal_counts: what stays of signals destroyed after the Archiefwet period

Revision ID: e9a4c2b7d613
Revises: d8b3f1a7c205
Create Date: 2026-12-02 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e9a4c2b7d613"
down_revision: str | None = "d8b3f1a7c205"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archived_signal_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_month", sa.String(length=7), nullable=False),
        sa.Column("closed_month", sa.String(length=7), nullable=False),
        sa.Column("wijk_code", sa.String(length=10), nullable=False),
        sa.Column("buurt_code", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("themes", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("submitter_kind", sa.String(length=20), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archived_signal_counts")),
        sa.UniqueConstraint(
            "created_month",
            "closed_month",
            "wijk_code",
            "buurt_code",
            "kind",
            "themes",
            "outcome",
            "channel",
            "submitter_kind",
            name="uq_archived_signal_counts_key",
        ),
    )


def downgrade() -> None:
    op.drop_table("archived_signal_counts")
