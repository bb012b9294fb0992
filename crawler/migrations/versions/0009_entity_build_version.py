"""dol_entities.build_version: which version of the entity build made each row, so an upgrade that groups filers
differently rebuilds the entities of filings loaded before it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dol_entities") as batch_op:
        batch_op.add_column(sa.Column("build_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dol_entities") as batch_op:
        batch_op.drop_column("build_version")
