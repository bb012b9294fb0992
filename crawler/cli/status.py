"""`jobagg status` (health tables) and `jobagg export` (JSONL / CSV of stored postings)."""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import case, func, select

from crawler import db as dbmod
from crawler.cli import AppContext, main, pass_app
from crawler.items import CONTRACT_FIELDS
from crawler.models import Board, CrawlRun, Posting, PostingSponsorship

EXPORT_EXTRA = ("first_seen_at", "last_seen_at", "closed_at")
TAGS = ("likely", "possible", "unlikely", "unknown")
FAILING_SHOWN = 20


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

        # What failed, as the operator must see it: which board, since when, and the reason the crawl recorded.
        failing = session.execute(
            select(Board.ats, Board.token, Board.last_crawled_at, Board.last_error)
            .where(Board.last_status == "error")
            .order_by(Board.last_crawled_at.desc(), Board.ats, Board.token)
            .limit(FAILING_SHOWN + 1)
        ).all()
        if failing:
            errors = Table(title="Boards in error (last crawl)")
            for col in ("platform", "board", "crawled", "reason"):
                errors.add_column(col, no_wrap=col != "reason", overflow="fold")
            for ats, token, crawled, reason in failing[:FAILING_SHOWN]:
                when = crawled.strftime("%Y-%m-%d %H:%M") if crawled else "-"
                errors.add_row(ats, token, when, reason or "no reason recorded")
            console.print(errors)
            if len(failing) > FAILING_SHOWN:
                console.print("more boards in error: jobagg boards list --status error")

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


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_rows(db_url: str, ml_only: bool, include_closed: bool, country: str | None) -> Any:
    """Yield postings as dicts with the item field names, streaming from the database."""
    with dbmod.session_scope(db_url) as session:
        query = select(Posting).order_by(Posting.id)
        if ml_only:
            query = query.where(Posting.is_ml.is_(True))
        if not include_closed:
            query = query.where(Posting.closed_at.is_(None))
        if country:
            query = query.where(Posting.country == country.upper())
        for posting in session.scalars(query.execution_options(yield_per=500)):
            yield {name: _plain(getattr(posting, name)) for name in (*CONTRACT_FIELDS, *EXPORT_EXTRA)}


EXPORT_COLUMNS = (*CONTRACT_FIELDS, *EXPORT_EXTRA)


def _csv_cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def write_export(handle: Any, rows: Any, fmt: str) -> int:
    """Write rows as JSONL or CSV (a header row even when there are no rows); returns the row count."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(handle, fieldnames=list(EXPORT_COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
            count += 1
        return count
    for row in rows:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File (default stdout).")
@click.option("--ml-only", is_flag=True, help="Only postings classified as ML roles.")
@click.option("--include-closed", is_flag=True, help="Also postings no longer listed.")
@click.option("--country", default=None, help="Only this ISO country code (e.g. US).")
@pass_app
def export(
    app: AppContext, fmt: str, out: Path | None, ml_only: bool, include_closed: bool, country: str | None
) -> None:
    """Export stored postings with the item field names.

    With --out the file is written beside its destination and renamed over it only when complete, so a
    failed export never leaves an empty or half file in place of the previous one.
    """
    if out is not None and not out.parent.is_dir():
        raise click.BadParameter(f"directory {out.parent} does not exist", param_hint="--out")
    if country is not None and not (len(country) == 2 and country.isalpha()):
        raise click.BadParameter(f"{country!r} is not a two-letter ISO country code", param_hint="--country")
    app.engine(create=False)
    rows = export_rows(app.db_url, ml_only, include_closed, country)
    if out is None:
        write_export(sys.stdout, rows, fmt)
        return
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise click.ClickException(f"cannot write in {out.parent}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            count = write_export(handle, rows, fmt)
        os.replace(tmp, out)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}; the previous file is unchanged") from None
    finally:
        tmp.unlink(missing_ok=True)
    Console(stderr=True).print(f"exported {count} postings to {out}")
