"""`jobagg boards ...`: the board registry."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from crawler import db as dbmod
from crawler.cli import AppContext, main, pass_app
from crawler.models import Board, Employer

# Computed without importing the registry (it imports Scrapy): start-up stays light for every command.
BUNDLED_REGISTRY = Path(__file__).resolve().parent.parent / "data" / "boards.csv"


@main.group("boards")
def boards_group() -> None:
    """The registry of employer boards (an employer is one row)."""


@boards_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--bundled", is_flag=True, help=f"Import the shipped registry ({BUNDLED_REGISTRY.name}, ~3,900 boards).")
@pass_app
def import_boards(app: AppContext, file: Path | None, bundled: bool) -> None:
    """Import boards from a CSV with columns employer, ats, board[, region, board_url]."""
    if (file is None) == (not bundled):
        raise click.UsageError("give a FILE or --bundled (not both)")
    from crawler import registry

    path = BUNDLED_REGISTRY if bundled else file
    assert path is not None
    try:
        result = registry.import_csv(path, app.db_url)
    except registry.RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    table = Table(title=f"Imported {path}")
    for col in ("added", "updated", "unchanged"):
        table.add_column(col, justify="right")
    table.add_row(str(result.added), str(result.updated), str(result.unchanged))
    Console().print(table)


@boards_group.command("add")
@click.argument("ats")
@click.argument("token")
@click.option("--employer", required=True, help="Employer name as the board displays it.")
@click.option("--region", type=click.Choice(["eu"]), default=None, help="The platform's EU host serves this board.")
@pass_app
def add_board(app: AppContext, ats: str, token: str, employer: str, region: str | None) -> None:
    """Add one board: ATS is the platform (greenhouse, lever, ...), TOKEN its board token."""
    from crawler import registry

    try:
        registry.validate_row(ats, token, "boards add")
    except registry.RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    with dbmod.session_scope(app.db_url) as session:
        outcome = registry.upsert_board(session, ats, token, employer, region)
    Console().print(f"{ats}/{token} ({employer}): {outcome}")


@boards_group.command("list")
@click.option("--ats", default=None, help="Only this platform.")
@click.option("--status", default=None, help="Only boards whose last crawl ended so (ok, dead, error, never).")
@click.option("--limit", default=50, show_default=True, help="At most this many rows (0 = all).")
@pass_app
def list_boards(app: AppContext, ats: str | None, status: str | None, limit: int) -> None:
    """List registry boards with their last crawl status."""
    with dbmod.session_scope(app.db_url) as session:
        query = select(Board, Employer.name).outerjoin(Employer, Board.employer_id == Employer.id)
        if ats:
            query = query.where(Board.ats == ats)
        if status == "never":
            query = query.where(Board.last_status.is_(None))
        elif status:
            query = query.where(Board.last_status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(query.order_by(Board.ats, Board.token).limit(limit or None)).all()
        table = Table(title=f"Boards ({len(rows)} of {total})")
        for col in ("ats", "board", "employer", "region", "last crawled", "status", "open", "note"):
            table.add_column(col)
        for board, employer in rows:
            table.add_row(
                board.ats,
                board.token,
                employer or "",
                board.region or "",
                board.last_crawled_at.strftime("%Y-%m-%d %H:%M") if board.last_crawled_at else "never",
                board.last_status or "",
                "" if board.open_postings is None else str(board.open_postings),
                (board.last_error or "")[:60],
            )
    Console().print(table)
