"""crawl_runs.monitors (health checks of a run) and boards.last_ok_at (last complete listing)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.add_column(sa.Column("monitors", sa.JSON(), nullable=True))
    with op.batch_alter_table("boards") as batch_op:
        batch_op.add_column(sa.Column("last_ok_at", crawler.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("boards") as batch_op:
        batch_op.drop_column("last_ok_at")
    with op.batch_alter_table("crawl_runs") as batch_op:
        batch_op.drop_column("monitors")
