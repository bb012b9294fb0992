"""`jobagg crawl` and `jobagg run`: crawl registry boards, then (for `run`) match and tag."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from crawler.cli import AppContext, main, pass_app
from crawler.crawl import CrawlResult, run_crawls, select_boards


def crawl_with_progress(
    db_url: str,
    ats: str | None = None,
    board: str | None = None,
    due: bool = False,
    spider_args: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    console: Console | None = None,
) -> list[CrawlResult]:
    console = console or Console()
    groups = select_boards(db_url, ats, board, due)
    if not groups:
        console.print("no registry boards to crawl" + (" (none is due)" if due else ""))
        return []
    n_boards = sum(len(b) for b in groups.values())
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} postings"),
        TimeElapsedColumn(), console=console, transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task(f"crawling {n_boards} board(s) on {len(groups)} platform(s)", total=None)

        def on_item(item: Any, **_: Any) -> None:
            progress.advance(task)

        results = run_crawls(db_url, groups, spider_args=spider_args, settings=settings, on_item=on_item)
    console.print(crawl_table(results))
    return results


def crawl_table(results: list[CrawlResult]) -> Table:
    table = Table(title="Crawl summary")
    for col in ("platform", "run", "status", "boards ok", "dead", "error", "postings", "dropped", "closed"):
        table.add_column(col, justify="right" if col not in ("platform", "status") else "left")
    for r in results:
        table.add_row(
            r.spider, str(r.run_id or "-"), r.status, str(r.count("ok")), str(r.count("dead")),
            str(r.count("error")), str(r.items), str(r.dropped), str(r.closed),
        )  # fmt: skip
    return table


def crawl_options(func: Any) -> Any:
    func = click.option("--roles", type=click.Choice(["ml", "all"]), default="ml", show_default=True,
                        help="Keep ML roles only (decided from the title) or every posting.")(func)  # fmt: skip
    func = click.option("--api-base", default=None, metavar="URL",
                        help="Send every request to this origin, keeping the platforms' paths.")(func)  # fmt: skip
    return func


@main.command("crawl")
@click.option("--ats", default=None, help="Only boards of this platform.")
@click.option("--board", default=None, help="Only this board token.")
@click.option("--due", is_flag=True, help="Only boards whose crawl interval has passed.")
@crawl_options
@pass_app
def crawl(app: AppContext, ats: str | None, board: str | None, due: bool, roles: str, api_base: str | None) -> None:
    """Crawl registry boards into the database."""
    results = crawl_with_progress(app.db_url, ats, board, due, spider_args=spider_args(roles, api_base))
    if any(r.status != "finished" for r in results):
        raise SystemExit(1)


def spider_args(roles: str, api_base: str | None) -> dict[str, Any]:
    return {"roles": roles, **({"api_base": api_base} if api_base else {})}


@main.command("run")
@crawl_options
@pass_app
def run(app: AppContext, roles: str, api_base: str | None) -> None:
    """What a scheduler calls: crawl the boards that are due, then match employers and tag postings."""
    console = Console()
    results = crawl_with_progress(app.db_url, due=True, spider_args=spider_args(roles, api_base), console=console)
    from crawler.cli.matching import match_and_tag_step

    match_and_tag_step(app.db_url, console)
    from crawler.cli.web import deliver_alerts_step

    alerts_ok = deliver_alerts_step(app.db_url, console)
    if any(r.status != "finished" for r in results) or not alerts_ok:
        raise SystemExit(1)


@main.command("demo")
@pass_app
def demo(app: AppContext) -> None:
    """The whole pipeline offline: serve the bundled corpus on 127.0.0.1, crawl, store, match, tag, summarise."""
    from crawler.demo import run_demo

    run_demo(app.db_url)
