"""thermometer snapshots: the public wijk thermometer's figures, worked out nightly

Revision ID: d3a6f0b2c8e4
Revises: c7d2e5f8a9b1
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision: str = "d3a6f0b2c8e4"
down_revision: str | None = "c7d2e5f8a9b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thermometer_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("computed_at", portal.models.base.UTCDateTime(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thermometer_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("thermometer_snapshots")
