"""`jobagg boards ...`: the board registry."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from crawler import db as dbmod
from crawler import registry
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
    from crawler.crawl import check_board

    path = BUNDLED_REGISTRY if bundled else file
    assert path is not None
    try:
        registry.read_registry(path, check_board)  # check the whole file before touching the database
    except registry.RegistryError as exc:
        problems = str(exc).splitlines()
        if len(problems) > 1:
            problems.append(f"{len(problems)} problems in {path}; nothing was imported")
        raise click.ClickException("\n".join(problems)) from None
    app.engine()
    result = registry.import_csv(path, app.db_url, check=check_board)
    table = Table(title=f"Imported {path.name}")
    for col in ("added", "updated", "unchanged", "duplicate rows merged"):
        table.add_column(col, justify="right")
    table.add_row(str(result.added), str(result.updated), str(result.unchanged), str(result.duplicates))
    Console().print(table)


@boards_group.command("add")
@click.argument("ats")
@click.argument("token")
@click.option("--employer", required=True, help="Employer name as the board displays it.")
@click.option("--region", type=click.Choice(["eu"]), default=None, help="The platform's EU host serves this board.")
@pass_app
def add_board(app: AppContext, ats: str, token: str, employer: str, region: str | None) -> None:
    """Add one board: ATS is the platform (greenhouse, lever, ...), TOKEN its board token."""
    check_platform_and_token(ats, token)
    with dbmod.session_scope(app.db_url) as session:
        outcome = registry.upsert_board(session, ats, token, employer, region)
    Console().print(f"{ats}/{token} ({employer}): {outcome}")


@boards_group.command("list")
@click.option("--ats", default=None, help="Only this platform.")
@click.option(
    "--status",
    type=click.Choice(["ok", "dead", "error", "skipped", "never", "disabled"]),
    default=None,
    help="Only boards whose last crawl ended so (or never crawled, or disabled).",
)
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(min=0), help="At most this many rows (0: all)."
)
@click.option("--wide", is_flag=True, help="Every column (region, open postings).")
@pass_app
def list_boards(app: AppContext, ats: str | None, status: str | None, limit: int, wide: bool) -> None:
    """List registry boards with their last crawl status and the whole error of a failed one."""
    app.engine(create=False)
    with dbmod.session_scope(app.db_url) as session:
        query = select(Board, Employer.name).outerjoin(Employer, Board.employer_id == Employer.id)
        if ats:
            query = query.where(Board.ats == ats)
        if status == "never":
            query = query.where(Board.last_status.is_(None))
        elif status == "disabled":
            query = query.where(Board.active.is_(False))
        elif status:
            query = query.where(Board.last_status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(query.order_by(Board.ats, Board.token).limit(limit or None)).all()
        table = Table(title=f"Boards ({len(rows)} of {total})", expand=True)  # expand: the ratios share the width
        table.add_column("board", no_wrap=True)
        table.add_column("employer", overflow="fold", ratio=1)
        if wide:
            table.add_column("region", no_wrap=True)
        table.add_column("last crawled", no_wrap=True)
        table.add_column("status", no_wrap=True)
        if wide:
            table.add_column("open", justify="right", no_wrap=True)
        # The whole error, wrapped at word boundaries: it is the one thing a user needs to fix the board.
        table.add_column("note", overflow="fold", ratio=2)
        for board, employer in rows:
            cells = [f"{board.ats}/{board.token}", employer or ""]
            if wide:
                cells.append(board.region or "")
            cells.append(board.last_crawled_at.strftime("%Y-%m-%d %H:%M") if board.last_crawled_at else "never")
            cells.append((board.last_status or "") + ("" if board.active else " (disabled)"))
            if wide:
                cells.append("" if board.open_postings is None else str(board.open_postings))
            cells.append(board.last_error or "")
            table.add_row(*cells)
    Console().print(table)


def check_platform_and_token(ats: str, token: str, param_hint: str = "TOKEN") -> None:
    """Usage errors (exit 2) for an unknown platform or a token that cannot be one of its boards."""
    from crawler.crawl import check_board, platforms

    known = platforms()
    if ats not in known:
        raise click.BadParameter(f"unknown platform {ats!r}; one of: {', '.join(known)}", param_hint="ATS")
    try:
        check_board(ats, token, ats)
    except registry.RegistryError as exc:
        raise click.BadParameter(str(exc), param_hint=param_hint) from None


def _registered(session: object, ats: str, token: str) -> Board:
    board = registry.find_board(session, ats, token)  # type: ignore[arg-type]
    if board is None:
        raise click.ClickException(f"no board {ats}/{token} in the registry (see `jobagg boards list --ats {ats}`)")
    return board


@boards_group.command("remove")
@click.argument("ats")
@click.argument("token")
@pass_app
def remove_board(app: AppContext, ats: str, token: str) -> None:
    """Remove a board from the registry, with the postings stored from it."""
    check_platform_and_token(ats, token)
    app.engine(create=False)
    with dbmod.session_scope(app.db_url) as session:
        _registered(session, ats, token)
        postings = registry.remove_board(session, ats, token)
    Console().print(f"{ats}/{token}: removed, with {postings} stored posting(s)")


def _set_active(app: AppContext, ats: str, token: str, active: bool) -> None:
    check_platform_and_token(ats, token)
    app.engine(create=False)
    with dbmod.session_scope(app.db_url) as session:
        board = _registered(session, ats, token)
        was = board.active
        board.active = active
    state = "enabled" if active else "disabled (crawls skip it; its postings stay)"
    Console().print(f"{ats}/{token}: {state}" + (" (already)" if was == active else ""))


@boards_group.command("disable")
@click.argument("ats")
@click.argument("token")
@pass_app
def disable_board(app: AppContext, ats: str, token: str) -> None:
    """Stop crawling a board but keep it and its postings."""
    _set_active(app, ats, token, False)


@boards_group.command("enable")
@click.argument("ats")
@click.argument("token")
@pass_app
def enable_board(app: AppContext, ats: str, token: str) -> None:
    """Crawl a disabled board again."""
    _set_active(app, ats, token, True)
