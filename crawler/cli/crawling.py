"""`jobagg crawl` and `jobagg run`: crawl registry boards, then (for `run`) match and tag."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from crawler.cli import AppContext, main, pass_app

if TYPE_CHECKING:
    # Imported where used: Scrapy is heavy, and every other command should start fast.
    from crawler.crawl import CrawlResult


def crawl_with_progress(
    db_url: str,
    ats: str | None = None,
    board: str | None = None,
    due: bool = False,
    spider_args: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    console: Console | None = None,
    wide: bool = False,
) -> list[CrawlResult]:
    from crawler.crawl import crawl_table, failure_lines, run_crawls, select_boards

    console = console or Console()
    groups = select_boards(db_url, ats, board, due)
    if not groups:
        if due and registry_has_boards(db_url, ats):
            console.print("no registry boards to crawl (none is due)")
            return []
        raise click.ClickException(nothing_to_crawl(db_url, ats, board))
    n_boards = sum(len(b) for b in groups.values())
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} postings"),
        TimeElapsedColumn(), console=console, transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task(f"crawling {n_boards} board(s) on {len(groups)} platform(s)", total=None)

        def on_item(item: Any, **_: Any) -> None:
            progress.advance(task)

        results = run_crawls(db_url, groups, spider_args=spider_args, settings=settings, on_item=on_item)
    console.print(crawl_table(results, wide))
    for line in failure_lines(results):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return results


def registry_has_boards(db_url: str, ats: str | None) -> bool:
    from sqlalchemy import func, select

    from crawler import db as dbmod
    from crawler.models import Board

    with dbmod.session_scope(db_url) as session:
        query = select(func.count()).select_from(Board).where(Board.active)
        return bool(session.scalar(query.where(Board.ats == ats) if ats else query))


def nothing_to_crawl(db_url: str, ats: str | None, board: str | None) -> str:
    """The one line saying why a crawl found no board, and what to run instead."""
    from sqlalchemy import select

    from crawler import db as dbmod
    from crawler.models import Board

    if board is not None:
        with dbmod.session_scope(db_url) as session:
            query = select(Board.ats, Board.active).where(Board.token == board)
            known = session.execute(query.where(Board.ats == ats) if ats else query).all()
        if known:
            platform = known[0][0]
            return f"board {platform}/{board} is disabled; enable it with `jobagg boards enable {platform} {board}`"
        return (
            f"no registry board {board!r}" + (f" on {ats}" if ats else "")
            + f"; add it with `jobagg boards add {ats or 'ATS'} {board} --employer NAME`"
        )  # fmt: skip
    where = f"{ats} boards" if ats else "boards"
    return f"no registry {where} to crawl; import some with `jobagg boards import --bundled` or `jobagg boards add`"


def crawl_options(func: Any) -> Any:
    func = click.option("--roles", type=click.Choice(["ml", "all"]), default="ml", show_default=True,
                        help="Keep ML roles only (decided from the title) or every posting.")(func)  # fmt: skip
    func = click.option("--wide", is_flag=True, help="Every column of the summary table.")(func)
    func = click.option("--api-base", default=None, metavar="URL",
                        help="Send every request to this origin, keeping the platforms' paths.")(func)  # fmt: skip
    return func


def check_platform(ats: str | None) -> None:
    """An unknown --ats is a usage error listing the platforms (checked here: loading spiders is slow at startup)."""
    from crawler.crawl import platforms

    if ats is not None and ats not in platforms():
        raise click.BadParameter(f"{ats!r} is not a platform; one of: {', '.join(platforms())}", param_hint="--ats")


def check_board_option(ats: str | None, board: str) -> None:
    """A --board that no platform (or not the --ats one) could have is a usage error, before any database work."""
    from crawler.crawl import check_board, platforms
    from crawler.registry import RegistryError

    problems = []
    for platform in [ats] if ats else platforms():
        try:
            check_board(platform, board, "--board")
            return
        except RegistryError as exc:
            problems.append(str(exc).removeprefix("--board: "))
    if ats:
        raise click.BadParameter(problems[0], param_hint="--board")
    raise click.BadParameter(f"{board!r} is not a board token of any platform ({', '.join(platforms())})",
                             param_hint="--board")  # fmt: skip


@main.command("crawl")
@click.option("--ats", default=None, metavar="PLATFORM", help="Only boards of this platform (greenhouse, lever, ...).")
@click.option("--board", default=None, help="Only this board token (a registry board; see `jobagg boards add`).")
@click.option("--due", is_flag=True, help="Only boards whose crawl interval has passed.")
@crawl_options
@pass_app
def crawl(
    app: AppContext, ats: str | None, board: str | None, due: bool, roles: str, api_base: str | None, wide: bool
) -> None:
    """Crawl registry boards into the database."""
    check_platform(ats)
    if board is not None:
        check_board_option(ats, board)
    check_api_base(api_base)
    app.engine(create=False)  # no database means no boards: say so rather than create an empty one
    results = crawl_with_progress(app.db_url, ats, board, due, spider_args=spider_args(roles, api_base), wide=wide)
    if any(r.status != "finished" for r in results):
        raise SystemExit(1)


def check_api_base(api_base: str | None) -> None:
    from urllib.parse import urlsplit

    if api_base is not None:
        parts = urlsplit(api_base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise click.BadParameter(f"must look like http://host:port, got {api_base!r}", param_hint="--api-base")


def spider_args(roles: str, api_base: str | None) -> dict[str, Any]:
    return {"roles": roles, **({"api_base": api_base} if api_base else {})}


@main.command("run")
@crawl_options
@pass_app
def run(app: AppContext, roles: str, api_base: str | None, wide: bool) -> None:
    """What a scheduler calls: crawl the boards that are due, then match employers and tag postings."""
    check_api_base(api_base)
    app.engine(create=False)  # no database means no boards: say so rather than create an empty one
    console = Console()
    args = spider_args(roles, api_base)
    results = crawl_with_progress(app.db_url, due=True, spider_args=args, console=console, wide=wide)
    from crawler.cli.matching import match_and_tag_step

    match_and_tag_step(app.db_url, console)
    if any(r.status != "finished" for r in results):
        raise SystemExit(1)


DEMO_DB = "jobagg-demo.db"


@main.command("demo")
@click.option("--wide", is_flag=True, help="Every column of the postings table (level, degree, apply URL...).")
@pass_app
def demo(app: AppContext, wide: bool) -> None:
    """The whole pipeline offline: serve the bundled corpus on 127.0.0.1, crawl, store, match, tag, summarise.

    Writes ./jobagg-demo.db, never the database you work with ($JOBAGG_DATABASE_URL is ignored), unless a
    database is named on this command line: `jobagg --db URL demo`.
    """
    from crawler.offline.demo import run_demo

    # The sample data must never land in real data by accident, so only an explicit --db redirects it.
    url = app.db_url if app.db_given else f"sqlite:///{DEMO_DB}"
    run_demo(url, wide=wide)
