"""employer_overrides: an operator's word on which DOL filer a displayed employer is (or is not); employer_joins:
the join of every employer with postings, for front ends and reviewers

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


# Plain SQL that reads the same on SQLite and PostgreSQL (booleans as 0/1, counts as integers). One row per
# employer with postings and joined or runner-up filer; an employer the join found nothing for has one row of nulls.
EMPLOYER_JOINS = """
CREATE VIEW employer_joins AS
SELECT
    e.id AS employer_id,
    e.name AS employer,
    COALESCE(m.outcome, 'none') AS outcome,
    m.role AS role,
    d.id AS dol_entity_id,
    d.name AS dol_employer,
    d.fein AS fein,
    d.state AS dol_state,
    m.method AS match_method,
    m.score AS match_score,
    c.postings AS postings,
    c.open_ml_postings AS open_ml_postings
FROM employers e
JOIN (
    SELECT
        employer_id,
        COUNT(*) AS postings,
        SUM(CASE WHEN closed_at IS NULL AND is_ml THEN 1 ELSE 0 END) AS open_ml_postings
    FROM postings
    WHERE employer_id IS NOT NULL
    GROUP BY employer_id
) c ON c.employer_id = e.id
LEFT JOIN employer_matches m ON m.employer_id = e.id
LEFT JOIN dol_entities d ON d.id = m.entity_id
"""


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
    op.execute(EMPLOYER_JOINS)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS employer_joins")
    op.drop_index("ix_employer_overrides_brand_key", table_name="employer_overrides")
    op.drop_table("employer_overrides")
