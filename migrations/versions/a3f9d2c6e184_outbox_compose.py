"""outbox compose: mail written by the deliverer (what to write, until it is written)

Revision ID: a3f9d2c6e184
Revises: c4d1e8a9b7f2
Create Date: 2026-12-02 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3f9d2c6e184"
down_revision: str | None = "c4d1e8a9b7f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_messages", sa.Column("compose", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.drop_column("compose")
