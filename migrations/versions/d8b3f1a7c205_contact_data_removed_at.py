"""signals.contact_data_removed_at: when the retention job removed the contact data

Revision ID: d8b3f1a7c205
Revises: a3f9d2c6e184
Create Date: 2026-12-02 05:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision: str = "d8b3f1a7c205"
down_revision: str | None = "a3f9d2c6e184"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "signals",
        sa.Column(
            "contact_data_removed_at", portal.models.base.UTCDateTime(timezone=True), nullable=True
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("signals") as batch_op:
        batch_op.drop_column("contact_data_removed_at")
