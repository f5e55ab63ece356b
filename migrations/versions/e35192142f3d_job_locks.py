"""job locks

Revision ID: e35192142f3d
Revises: 07497610045f
Create Date: 2026-12-01 19:14:50.178358
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision: str = "e35192142f3d"
down_revision: str | None = "07497610045f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_locks",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("locked_until", portal.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", portal.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", portal.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_locks")),
    )


def downgrade() -> None:
    op.drop_table("job_locks")
