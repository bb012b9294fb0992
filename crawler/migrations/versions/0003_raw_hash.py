"""postings.raw_hash: lets a re-crawl reuse what it read last time

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("postings") as batch_op:
        batch_op.add_column(sa.Column("raw_hash", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("postings") as batch_op:
        batch_op.drop_column("raw_hash")
