"""`jobagg status`: health tables (`jobagg export` lives in crawler/cli/web.py)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import case, func, select

from crawler import db as dbmod
from crawler.cli import AppContext, main, pass_app
from crawler.models import Board, CrawlRun, Posting, PostingSponsorship

TAGS = ("likely", "possible", "unlikely", "unknown")


@main.command("status")
@click.option("--runs", default=8, show_default=True, type=click.IntRange(min=0), help="How many recent runs to show.")
@pass_app
def status(app: AppContext, runs: int) -> None:
    """Health: boards by platform and last status, recent runs, posting counts."""
    console = Console()
    app.engine(create=False)
    with dbmod.session_scope(app.db_url) as session:
        boards = Table(title="Boards by platform")
        for col in ("platform", "boards", "ok", "dead", "error", "skipped", "never", "open postings"):
            boards.add_column(col, justify="left" if col == "platform" else "right")
        rows = session.execute(
            select(
                Board.ats,
                func.count(),
                func.sum(case((Board.last_status == "ok", 1), else_=0)),
                func.sum(case((Board.last_status == "dead", 1), else_=0)),
                func.sum(case((Board.last_status == "error", 1), else_=0)),
                func.sum(case((Board.last_status == "skipped", 1), else_=0)),
                func.sum(case((Board.last_status.is_(None), 1), else_=0)),
                func.coalesce(func.sum(Board.open_postings), 0),
            ).group_by(Board.ats)
        ).all()
        for row in rows:
            boards.add_row(*(str(v) for v in row))
        console.print(boards)

        recent = Table(title=f"Last {runs} crawl runs")
        for col in ("run", "platform", "board", "started", "seconds", "status", "postings", "errors", "closed"):
            recent.add_column(col, no_wrap=col != "board", overflow="fold")
        for run in session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(runs)):
            seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
            recent.add_row(
                str(run.id), run.spider, run.board or "(registry)", run.started_at.strftime("%Y-%m-%d %H:%M"),
                f"{seconds:.1f}" if seconds is not None else "-", run.status, str(run.item_count),
                str(run.error_count), str(run.closed_count),
            )  # fmt: skip
        console.print(recent)

        open_ = Posting.closed_at.is_(None)
        total, open_count, ml_open, us_ml_open = session.execute(
            select(
                func.count(),
                func.sum(case((open_, 1), else_=0)),
                func.sum(case((open_ & Posting.is_ml.is_(True), 1), else_=0)),
                func.sum(case((open_ & Posting.is_ml.is_(True) & (Posting.country == "US"), 1), else_=0)),
            )
        ).one()
        postings = Table(title="Postings")
        for col in ("stored", "open", "open ML", "open ML in the US"):
            postings.add_column(col, justify="right")
        postings.add_row(*(str(v or 0) for v in (total, open_count, ml_open, us_ml_open)))
        console.print(postings)

        counts = dict(
            ((visa, tag), n)
            for visa, tag, n in session.execute(
                select(PostingSponsorship.visa, PostingSponsorship.tag, func.count())
                .join(Posting, Posting.id == PostingSponsorship.posting_id)
                .where(open_, Posting.is_ml.is_(True))
                .group_by(PostingSponsorship.visa, PostingSponsorship.tag)
            )
        )
        tags = Table(title="Open ML postings by sponsorship tag")
        tags.add_column("visa")
        for tag in TAGS:
            tags.add_column(tag, justify="right")
        for visa, label in (("green_card", "green card (PERM)"), ("h1b", "H-1B (LCA, USCIS)")):
            tags.add_row(label, *(str(counts.get((visa, tag), 0)) for tag in TAGS))
        console.print(tags)
