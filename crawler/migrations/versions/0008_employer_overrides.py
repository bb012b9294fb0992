"""employer_overrides: an operator's word on which DOL filer a displayed employer is (or is not)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "employer_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand", sa.String(length=300), nullable=False),
        sa.Column("brand_key", sa.String(length=300), nullable=False),
        sa.Column("filer", sa.String(length=300), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_at", crawler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("brand_key", "filer"),
    )
    op.create_index("ix_employer_overrides_brand_key", "employer_overrides", ["brand_key"])


def downgrade() -> None:
    op.drop_index("ix_employer_overrides_brand_key", table_name="employer_overrides")
    op.drop_table("employer_overrides")
