"""signal page version (the status page cache's key)

Revision ID: c4d1e8a9b7f2
Revises: 5fe5c3ea45ac
Create Date: 2026-12-01 19:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d1e8a9b7f2"
down_revision: str | None = "5fe5c3ea45ac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (no table rebuild on SQLite).
    op.add_column(
        "signals", sa.Column("page_version", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("signals") as batch_op:
        batch_op.drop_column("page_version")
