"""Tables that the crawl side writes: employers as displayed, the board registry, postings, crawl runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from crawler.models.base import Base, utcnow


class Employer(Base):
    """An employer exactly as job boards display it; matching/ joins these to DOL filers."""

    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    boards: Mapped[list[Board]] = relationship(back_populates="employer")


class Board(Base):
    """One employer's board on one platform: the unit a crawl fetches and schedules."""

    __tablename__ = "boards"
    __table_args__ = (UniqueConstraint("ats", "token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ats: Mapped[str] = mapped_column(String(40))
    token: Mapped[str] = mapped_column(String(300))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    region: Mapped[str | None] = mapped_column(String(10))
    board_url: Mapped[str | None] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    crawl_interval_hours: Mapped[float] = mapped_column(Float, default=24.0)
    last_crawled_at: Mapped[datetime | None]
    # ok | dead (404, unknown or empty board) | error (transient failure)
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)
    open_postings: Mapped[int | None] = mapped_column(Integer)
    # When the board's listing was last read in full; `jobagg status` calls a board stale from this.
    last_ok_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    employer: Mapped[Employer | None] = relationship(back_populates="boards")


class Posting(Base):
    """A job posting; keyed by platform, board and the platform's own id."""

    __tablename__ = "postings"
    __table_args__ = (
        UniqueConstraint("ats", "board", "source_id"),
        Index("ix_postings_open_ml", "is_ml", "closed_at"),
        # The listings' stable sort over open postings (newest posted first, undated last, then id): keyset pages
        # read it in order and stop early. SQLite sorts NULLs lowest, so plain DESC already puts them last.
        Index(
            "ix_postings_open_newest",
            text("posted_at DESC NULLS LAST"),
            text("id DESC"),
            postgresql_where=text("closed_at IS NULL"),
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_postings_open_newest",
            text("posted_at DESC"),
            text("id DESC"),
            sqlite_where=text("closed_at IS NULL"),
        ).ddl_if(dialect="sqlite"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ats: Mapped[str] = mapped_column(String(40))
    board: Mapped[str] = mapped_column(String(300))
    source_id: Mapped[str] = mapped_column(String(200))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)

    url: Mapped[str] = mapped_column(String(2000))
    apply_url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(500))
    employer_name: Mapped[str | None] = mapped_column(String(300))
    department: Mapped[str | None] = mapped_column(String(300))
    requisition_id: Mapped[str | None] = mapped_column(String(200))
    locations: Mapped[list[str] | None]
    city: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    remote: Mapped[str | None] = mapped_column(String(10))
    employment_type: Mapped[str | None] = mapped_column(String(20))
    posted_at: Mapped[date | None] = mapped_column(Date)
    posted_at_raw: Mapped[str | None] = mapped_column(String(100))
    salary_min: Mapped[float | None] = mapped_column(Float)
    salary_max: Mapped[float | None] = mapped_column(Float)
    salary_currency: Mapped[str | None] = mapped_column(String(3))
    salary_period: Mapped[str | None] = mapped_column(String(10))
    salary_raw: Mapped[str | None] = mapped_column(String(500))
    description_text: Mapped[str | None] = mapped_column(Text)
    description_html: Mapped[str | None] = mapped_column(Text)

    is_ml: Mapped[bool | None] = mapped_column(Boolean)
    role_family: Mapped[str | None] = mapped_column(String(40))
    seniority: Mapped[str | None] = mapped_column(String(20))
    degree_min: Mapped[str | None] = mapped_column(String(20))
    eb_category_hint: Mapped[str | None] = mapped_column(String(10))
    years_experience_min: Mapped[float | None] = mapped_column(Float)
    sponsorship_statement: Mapped[str | None] = mapped_column(String(20))
    sponsorship_sentence: Mapped[str | None] = mapped_column(Text)

    # Everything the spider sent that has no column: kept so reclassification never needs a re-crawl.
    extra: Mapped[dict[str, Any] | None]
    # Same employer + title + primary place: groups one job cross-posted on several boards or ids.
    fingerprint: Mapped[str | None] = mapped_column(String(40), index=True)
    content_hash: Mapped[str] = mapped_column(String(40))
    # Hash of the item exactly as the spider sent it (plus pipelines.READ_VERSION): equal on a re-crawl means
    # normalising and reading again would give the stored values, so the crawl reuses them.
    raw_hash: Mapped[str | None] = mapped_column(String(40))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))


class CrawlRun(Base):
    """One spider run (a single board, or every registry board of a family)."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    spider: Mapped[str] = mapped_column(String(40))
    board: Mapped[str | None] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # running | finished | failed (finish reason other than "finished", or errors)
    status: Mapped[str] = mapped_column(String(20), default="running")
    finish_reason: Mapped[str | None] = mapped_column(String(60))
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    dropped_count: Mapped[int] = mapped_column(Integer, default=0)
    closed_count: Mapped[int] = mapped_column(Integer, default=0)
    # board token -> ok | dead | error, with the reason for anything but ok
    boards: Mapped[dict[str, Any] | None]
    stats: Mapped[dict[str, Any] | None]
    # Spidermon health checks of this run: passed, each check's outcome, and per-board findings.
    monitors: Mapped[dict[str, Any] | None]


def get_or_create_employer(session: Session, name: str) -> Employer:
    """The employer row with exactly this displayed name, added (and flushed, so it has an id) if new."""
    employer = session.scalar(select(Employer).where(Employer.name == name))
    if employer is None:
        employer = Employer(name=name)
        session.add(employer)
        session.flush()
    return employer


def get_or_create_board(session: Session, ats: str, token: str, employer_id: int | None = None) -> Board:
    """The registry row of a board, added (flushed) if new: a board crawled ad hoc joins the registry."""
    board = session.scalar(select(Board).where(Board.ats == ats, Board.token == token))
    if board is None:
        board = Board(ats=ats, token=token, employer_id=employer_id)
        session.add(board)
        session.flush()
    return board
