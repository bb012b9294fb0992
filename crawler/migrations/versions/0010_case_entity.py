"""Each DOL case points at its employer entity, so evidence can be aggregated per entity.

Revision ID: 0010
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dol_cases") as batch:
        batch.add_column(sa.Column("entity_id", sa.Integer(), nullable=True))
        batch.create_index("ix_dol_cases_entity_id", ["entity_id"])


def downgrade() -> None:
    with op.batch_alter_table("dol_cases") as batch:
        batch.drop_index("ix_dol_cases_entity_id")
        batch.drop_column("entity_id")
