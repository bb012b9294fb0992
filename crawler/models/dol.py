"""Tables that matching/ writes: DOL/USCIS filings, employer entities, the join and sponsorship tags."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crawler.models.base import Base, utcnow


class DolCase(Base):
    """One PERM or LCA case, compacted to the fields the entity build and the evidence need."""

    __tablename__ = "dol_cases"
    __table_args__ = (
        UniqueConstraint("kind", "case_number"),
        Index("ix_dol_cases_fein", "fein"),
        Index("ix_dol_cases_entity_id", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # perm | lca
    kind: Mapped[str] = mapped_column(String(8))
    case_number: Mapped[str] = mapped_column(String(40))
    # certified | certified_expired | certified_withdrawn | denied | withdrawn | other
    status: Mapped[str] = mapped_column(String(24))
    received_date: Mapped[date | None] = mapped_column(Date)
    decision_date: Mapped[date | None] = mapped_column(Date)
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    visa_class: Mapped[str | None] = mapped_column(String(30))
    employer_name: Mapped[str] = mapped_column(String(300))
    trade_name: Mapped[str | None] = mapped_column(String(300))
    fein: Mapped[str | None] = mapped_column(String(9))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(40))
    naics: Mapped[str | None] = mapped_column(String(10))
    job_title: Mapped[str | None] = mapped_column(String(300))
    # SOC 2018 code after mapping older codes forward
    soc_code: Mapped[str | None] = mapped_column(String(12))
    is_ml: Mapped[bool] = mapped_column(Boolean, default=False)
    wage_from: Mapped[float | None] = mapped_column(Float)
    wage_to: Mapped[float | None] = mapped_column(Float)
    wage_unit: Mapped[str | None] = mapped_column(String(12))
    wage_level: Mapped[str | None] = mapped_column(String(20))
    secondary_entity: Mapped[bool | None] = mapped_column(Boolean)
    secondary_entity_name: Mapped[str | None] = mapped_column(String(300))
    layout: Mapped[str] = mapped_column(String(30))
    source_file: Mapped[str] = mapped_column(String(300))
    # The entity this filing belongs to, set by the entity build. No foreign key on purpose: the build rewrites
    # entities and cases in set-based statements, and a per-row constraint check would cost more than the load.
    entity_id: Mapped[int | None] = mapped_column(Integer)


class DolFile(Base):
    """A file that was loaded, recognised by its content hash so loading it again is skipped."""

    __tablename__ = "dol_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    # perm | lca | uscis
    kind: Mapped[str] = mapped_column(String(8))
    layout: Mapped[str] = mapped_column(String(30))
    # The fiscal years its rows fall in, comma-separated ("2023,2024").
    fiscal_years: Mapped[str | None] = mapped_column(String(100))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class DolMatchIndex(Base):
    """The join's prebuilt index (a pickle), valid while `fingerprint` matches the entity tables and the code."""

    __tablename__ = "dol_match_index"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class UscisEmployerYear(Base):
    """One row of the USCIS H-1B Employer Data Hub (employer, fiscal year, city); blank counts stay NULL."""

    __tablename__ = "uscis_employer_years"
    __table_args__ = (
        # Explicit name: the conventional one exceeds PostgreSQL's 63-character identifier limit.
        UniqueConstraint(
            "fiscal_year",
            "employer_name",
            "tax_id",
            "state",
            "city",
            "zip",
            name="uq_uscis_employer_years_row",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    employer_name: Mapped[str] = mapped_column(String(300))
    # Last four digits of the FEIN: all the hub publishes.
    tax_id: Mapped[str] = mapped_column(String(4), default="")
    state: Mapped[str] = mapped_column(String(40), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    zip: Mapped[str] = mapped_column(String(10), default="")
    naics: Mapped[str | None] = mapped_column(String(10))
    initial_approval: Mapped[int | None] = mapped_column(Integer)
    initial_denial: Mapped[int | None] = mapped_column(Integer)
    continuing_approval: Mapped[int | None] = mapped_column(Integer)
    continuing_denial: Mapped[int | None] = mapped_column(Integer)
    layout: Mapped[str] = mapped_column(String(30))
    source_file: Mapped[str] = mapped_column(String(300))


class DolEntity(Base):
    """A legal employer as DOL/USCIS know it: one FEIN, or one normalised name when no FEIN is known."""

    __tablename__ = "dol_entities"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "fein:123456789" or "name:<normalised name>": stable across rebuilds.
    key: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    fein: Mapped[str | None] = mapped_column(String(9), index=True)
    state: Mapped[str | None] = mapped_column(String(40))
    is_staffing: Mapped[bool] = mapped_column(Boolean, default=False)
    perm_cases: Mapped[int] = mapped_column(Integer, default=0)
    lca_cases: Mapped[int] = mapped_column(Integer, default=0)
    uscis_rows: Mapped[int] = mapped_column(Integer, default=0)
    # A few recent case numbers per kind, so a person can look the filings up.
    sample_cases: Mapped[dict[str, Any] | None]
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    # matching.entities.BUILD_VERSION of the build that wrote the row (null: before versions were kept).
    build_version: Mapped[int | None] = mapped_column(Integer, nullable=True)

    names: Mapped[list[DolEntityName]] = relationship(
        back_populates="entity", cascade="all, delete-orphan", passive_deletes=True
    )
    years: Mapped[list[DolEntityYear]] = relationship(
        back_populates="entity", cascade="all, delete-orphan", passive_deletes=True
    )


class DolEntityName(Base):
    """Every name variant an entity filed under (legal names, trade names, d/b/a names)."""

    __tablename__ = "dol_entity_names"
    __table_args__ = (UniqueConstraint("entity_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("dol_entities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))
    # matching.normalize.clean_name(name), stored so the join's index loads without re-normalising.
    clean: Mapped[str] = mapped_column(String(300))
    # Legal suffixes and generic words removed, then spaces removed: the join's exact key.
    core_key: Mapped[str] = mapped_column(String(300), index=True)
    # Legal suffixes removed, descriptors kept, spaces removed: the join's more specific exact key.
    legal_key: Mapped[str] = mapped_column(String(300))
    # The distinctive words, space-separated: what the fuzzy join blocks on and scores.
    tokens: Mapped[str] = mapped_column(String(300))
    # perm | lca | uscis | trade (d/b/a or trade name)
    source: Mapped[str] = mapped_column(String(8))
    # Cases under this name and source: PERM or LCA cases; for the USCIS hub, petitions decided (at least 1 a row).
    filings: Mapped[int] = mapped_column(Integer, default=0)

    entity: Mapped[DolEntity] = relationship(back_populates="names")


class DolEntityYear(Base):
    """Per entity and fiscal year: PERM outcomes, ML counts, wages; certified LCAs; USCIS approvals."""

    __tablename__ = "dol_entity_years"
    __table_args__ = (UniqueConstraint("entity_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("dol_entities.id", ondelete="CASCADE"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    perm_certified: Mapped[int] = mapped_column(Integer, default=0)
    perm_certified_expired: Mapped[int] = mapped_column(Integer, default=0)
    perm_denied: Mapped[int] = mapped_column(Integer, default=0)
    perm_withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    # ML occupation cases, and those of them certified (incl. certified-expired)
    perm_ml: Mapped[int] = mapped_column(Integer, default=0)
    perm_ml_certified: Mapped[int] = mapped_column(Integer, default=0)
    perm_wage_min: Mapped[float | None] = mapped_column(Float)
    perm_wage_max: Mapped[float | None] = mapped_column(Float)
    perm_wage_levels: Mapped[dict[str, Any] | None]
    perm_latest_decision: Mapped[date | None] = mapped_column(Date)
    lca_certified: Mapped[int] = mapped_column(Integer, default=0)
    lca_denied: Mapped[int] = mapped_column(Integer, default=0)
    lca_withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    lca_ml_certified: Mapped[int] = mapped_column(Integer, default=0)
    lca_secondary: Mapped[int] = mapped_column(Integer, default=0)
    lca_latest_decision: Mapped[date | None] = mapped_column(Date)
    uscis_initial_approval: Mapped[int | None] = mapped_column(Integer)
    uscis_initial_denial: Mapped[int | None] = mapped_column(Integer)
    uscis_continuing_approval: Mapped[int | None] = mapped_column(Integer)
    uscis_continuing_denial: Mapped[int | None] = mapped_column(Integer)

    entity: Mapped[DolEntity] = relationship(back_populates="years")


class EmployerMatch(Base):
    """The join of a displayed employer to DOL entities: chosen entities (role=match) and the runner-up."""

    __tablename__ = "employer_matches"
    __table_args__ = (UniqueConstraint("employer_id", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("dol_entities.id", ondelete="CASCADE"), index=True)
    # match | runner_up
    role: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    # override | fein | alias | ad_name | ad_site | ad_board | ad_place | exact | trade | leading | acronym | fuzzy
    method: Mapped[str] = mapped_column(String(8))
    # matched (chosen entities stored) | unsure (only a runner-up stored) | none
    outcome: Mapped[str] = mapped_column(String(10))
    matched_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmployerOverride(Base):
    """An operator's word on a join: this displayed employer is (or, `blocked`, is not) this DOL filer. It wins over
    the shipped alias table and every name rule, and lives with the data, so it survives upgrades and is shared by
    every machine reading the database."""

    __tablename__ = "employer_overrides"
    __table_args__ = (UniqueConstraint("brand_key", "filer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The employer as the operator typed it, and the key the join looks it up by (legal key, else core key).
    brand: Mapped[str] = mapped_column(String(300))
    brand_key: Mapped[str] = mapped_column(String(300), index=True)
    # A filer's legal name as filed, or FEIN:xx-xxxxxxx.
    filer: Mapped[str] = mapped_column(String(300))
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostingSponsorship(Base):
    """A posting's sponsorship tag for one visa kind, with the evidence behind it."""

    __tablename__ = "posting_sponsorship"
    __table_args__ = (
        UniqueConstraint("posting_id", "visa"),
        Index("ix_posting_sponsorship_visa_tag", "visa", "tag"),
        # Filtered listings look a posting's tag up by (posting, visa); the tag rides along in the index.
        Index("ix_posting_sponsorship_posting_visa_tag", "posting_id", "visa", "tag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("postings.id", ondelete="CASCADE"))
    # green_card | h1b
    visa: Mapped[str] = mapped_column(String(12))
    # likely | possible | unlikely | unknown
    tag: Mapped[str] = mapped_column(String(10))
    # The evidence's one-line reason, as a column so views and front ends need no JSON functions.
    reason: Mapped[str | None] = mapped_column(String(300))
    evidence: Mapped[dict[str, Any]]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
