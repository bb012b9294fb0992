"""dol_cases.entity_id, dol_files (what was loaded, by content hash), dol_match_index (the join's saved index)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dol_cases") as batch_op:
        batch_op.add_column(sa.Column("entity_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_dol_cases_entity_id", ["entity_id"], unique=False)
    op.create_table(
        "dol_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("layout", sa.String(length=30), nullable=False),
        sa.Column("fiscal_years", sa.String(length=100), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", crawler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dol_files")),
        sa.UniqueConstraint("sha256", name=op.f("uq_dol_files_sha256")),
    )
    op.create_table(
        "dol_match_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("built_at", crawler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dol_match_index")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_dol_match_index_fingerprint")),
    )


def downgrade() -> None:
    op.drop_table("dol_match_index")
    op.drop_table("dol_files")
    with op.batch_alter_table("dol_cases") as batch_op:
        batch_op.drop_index("ix_dol_cases_entity_id")
        batch_op.drop_column("entity_id")
