"""Front-end contract: views over open postings and employers' filings, tag reasons, saved searches, indexes

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crawler.models.base

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

# Plain SQL that reads the same on SQLite and PostgreSQL: dates are cast to ISO text and booleans to 0/1 so
# every client library gets the same values, and no JSON function is needed.
OPEN_POSTINGS = """
CREATE VIEW open_postings AS
SELECT
    p.id AS posting_id,
    p.url AS url,
    p.apply_url AS apply_url,
    p.title AS title,
    p.employer_id AS employer_id,
    COALESCE(e.name, p.employer_name) AS employer,
    p.department AS department,
    p.city AS city,
    p.region AS region,
    p.country AS country,
    p.remote AS remote,
    p.employment_type AS employment_type,
    CAST(p.posted_at AS VARCHAR(10)) AS posted_at,
    p.salary_min AS salary_min,
    p.salary_max AS salary_max,
    p.salary_currency AS salary_currency,
    p.salary_period AS salary_period,
    CASE WHEN p.is_ml THEN 1 WHEN NOT p.is_ml THEN 0 END AS is_ml,
    p.role_family AS role_family,
    p.seniority AS seniority,
    p.degree_min AS degree_min,
    p.eb_category_hint AS eb_category_hint,
    p.years_experience_min AS years_experience_min,
    p.sponsorship_statement AS sponsorship_statement,
    p.sponsorship_sentence AS sponsorship_sentence,
    gc.tag AS green_card_tag,
    gc.reason AS green_card_reason,
    h1b.tag AS h1b_tag,
    h1b.reason AS h1b_reason,
    p.ats AS ats,
    p.board AS board,
    p.source_id AS source_id
FROM postings p
LEFT JOIN employers e ON e.id = p.employer_id
LEFT JOIN posting_sponsorship gc ON gc.posting_id = p.id AND gc.visa = 'green_card'
LEFT JOIN posting_sponsorship h1b ON h1b.posting_id = p.id AND h1b.visa = 'h1b'
WHERE p.closed_at IS NULL
"""

EMPLOYER_FILINGS = """
CREATE VIEW employer_filings AS
SELECT
    e.id AS employer_id,
    e.name AS employer,
    d.id AS dol_entity_id,
    d.name AS dol_employer,
    d.fein AS fein,
    CASE WHEN d.is_staffing THEN 1 ELSE 0 END AS staffing_firm,
    m.method AS match_method,
    m.score AS match_score,
    y.fiscal_year AS fiscal_year,
    y.perm_certified AS perm_certified,
    y.perm_certified_expired AS perm_certified_expired,
    y.perm_denied AS perm_denied,
    y.perm_withdrawn AS perm_withdrawn,
    y.perm_ml AS perm_ml,
    y.perm_ml_certified AS perm_ml_certified,
    y.perm_wage_min AS perm_wage_min,
    y.perm_wage_max AS perm_wage_max,
    CAST(y.perm_wage_levels AS TEXT) AS perm_wage_levels,
    CAST(y.perm_latest_decision AS VARCHAR(10)) AS perm_latest_decision,
    y.lca_certified AS lca_certified,
    y.lca_denied AS lca_denied,
    y.lca_withdrawn AS lca_withdrawn,
    y.lca_ml_certified AS lca_ml_certified,
    y.lca_secondary AS lca_secondary,
    CAST(y.lca_latest_decision AS VARCHAR(10)) AS lca_latest_decision,
    y.uscis_initial_approval AS uscis_initial_approval,
    y.uscis_initial_denial AS uscis_initial_denial,
    y.uscis_continuing_approval AS uscis_continuing_approval,
    y.uscis_continuing_denial AS uscis_continuing_denial
FROM employers e
JOIN employer_matches m ON m.employer_id = e.id AND m.role = 'match'
JOIN dol_entities d ON d.id = m.entity_id
JOIN dol_entity_years y ON y.entity_id = d.id
"""


def upgrade() -> None:
    with op.batch_alter_table("posting_sponsorship") as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=300), nullable=True))
        batch_op.create_index("ix_posting_sponsorship_posting_visa_tag", ["posting_id", "visa", "tag"], unique=False)
    # Listings read open postings newest first (undated last) and stop after a page: an index in exactly that
    # order, over open postings only. SQLite sorts NULLs lowest (DESC puts them last) and has no NULLS LAST here.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_postings_open_newest ON postings (posted_at DESC NULLS LAST, id DESC) "
            "WHERE closed_at IS NULL"
        )
    else:
        op.execute("CREATE INDEX ix_postings_open_newest ON postings (posted_at DESC, id DESC) WHERE closed_at IS NULL")
    # Existing tags get their reason from the evidence they already store.
    conn = op.get_bind()
    ps = sa.table(
        "posting_sponsorship", sa.column("id", sa.Integer), sa.column("evidence", sa.JSON), sa.column("reason")
    )
    rows = conn.execute(sa.select(ps.c.id, ps.c.evidence)).all()
    updates = [{"rid": r.id, "reason": ((r.evidence or {}).get("reason") or "")[:300] or None} for r in rows]
    if updates:
        conn.execute(ps.update().where(ps.c.id == sa.bindparam("rid")).values(reason=sa.bindparam("reason")), updates)

    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("webhook_url", sa.String(length=2000), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", crawler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_checked_at", crawler.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
        sa.UniqueConstraint("name", name=op.f("uq_saved_searches_name")),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("search_id", sa.Integer(), nullable=False),
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", crawler.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", crawler.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["postings.id"], name=op.f("fk_alert_deliveries_posting_id_postings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["search_id"],
            ["saved_searches.id"],
            name=op.f("fk_alert_deliveries_search_id_saved_searches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("search_id", "posting_id", name=op.f("uq_alert_deliveries_search_id_posting_id")),
    )
    with op.batch_alter_table("alert_deliveries") as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_deliveries_posting_id"), ["posting_id"], unique=False)

    op.execute(OPEN_POSTINGS)
    op.execute(EMPLOYER_FILINGS)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS employer_filings")
    op.execute("DROP VIEW IF EXISTS open_postings")
    op.drop_table("alert_deliveries")
    op.drop_table("saved_searches")
    op.execute("DROP INDEX ix_postings_open_newest")
    with op.batch_alter_table("posting_sponsorship") as batch_op:
        batch_op.drop_index("ix_posting_sponsorship_posting_visa_tag")
        batch_op.drop_column("reason")
