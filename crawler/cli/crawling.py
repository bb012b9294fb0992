"""`jobagg crawl` and `jobagg run`: crawl registry boards, then (for `run`) match and tag."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import case, func, select

from crawler import db as dbmod
from crawler.cli import AppContext, main, pass_app
from crawler.cli.progress import StepProgress
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
    with StepProgress(console, "crawl", total=n_boards, unit="boards") as progress:

        def on_tick(counts: tuple[int, int, int]) -> None:
            done, items, errors = counts
            progress.update(done=done, items=items, errors=errors)

        results = run_crawls(db_url, groups, spider_args=spider_args, settings=settings, on_tick=on_tick)
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


def _parse_set(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}")
        out[name] = setting
    return out


def crawl_options(func: Any) -> Any:
    func = click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", callback=_parse_set,
                        help="Override a Scrapy setting for this crawl (repeatable).")(func)  # fmt: skip
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
def crawl(
    app: AppContext,
    ats: str | None,
    board: str | None,
    due: bool,
    roles: str,
    api_base: str | None,
    overrides: dict[str, str],
) -> None:
    """Crawl registry boards into the database."""
    args = spider_args(roles, api_base)
    results = crawl_with_progress(app.db_url, ats, board, due, spider_args=args, settings=overrides)
    if any(r.status != "finished" for r in results):
        raise SystemExit(1)


def spider_args(roles: str, api_base: str | None) -> dict[str, Any]:
    return {"roles": roles, **({"api_base": api_base} if api_base else {})}


@main.command("run")
@crawl_options
@pass_app
def run(app: AppContext, roles: str, api_base: str | None, overrides: dict[str, str]) -> None:
    """What a scheduler calls: crawl the boards that are due, then match employers and tag postings.

    Exit status: 0 everything worked; 1 a crawl or the matching failed; 75 another run holds the lock
    (nothing was done; try again later).
    """
    from crawler.runlock import EXIT_LOCKED, RunLocked, run_lock

    console = Console()
    try:
        with run_lock(app.db_url):
            ok = _run_locked(app.db_url, roles, api_base, overrides, console)
    except RunLocked as exc:
        click.echo(f"jobagg run: not started: {exc}", err=True)
        raise SystemExit(EXIT_LOCKED) from None
    if not ok:
        raise SystemExit(1)


def _run_locked(db_url: str, roles: str, api_base: str | None, overrides: dict[str, str], console: Console) -> bool:
    from crawler.cli.matching import match_and_tag_step
    from crawler.models import utcnow

    started, t0 = utcnow(), time.perf_counter()
    tags_before = tag_snapshot(db_url)
    args = spider_args(roles, api_base)
    results = crawl_with_progress(db_url, due=True, spider_args=args, settings=overrides, console=console)
    match_error = None
    try:
        match_and_tag_step(db_url, console)
    except Exception as exc:  # the summary and the exit status must still tell the scheduler
        logging.getLogger("jobagg.run").exception("matching failed")
        match_error = f"{type(exc).__name__}: {exc}"
    summary = run_summary(db_url, results, started, tags_before, time.perf_counter() - t0, match_error)
    console.print(summary_table(summary))
    return summary["ok"]


def tag_snapshot(db_url: str) -> dict[tuple[int, str], str]:
    from crawler.models import PostingSponsorship

    with dbmod.session_scope(db_url) as session:
        rows = session.execute(select(PostingSponsorship.posting_id, PostingSponsorship.visa, PostingSponsorship.tag))
        return {(pid, visa): tag for pid, visa, tag in rows}


def run_summary(
    db_url: str,
    results: list[CrawlResult],
    started: datetime,
    tags_before: dict[tuple[int, str], str],
    seconds: float,
    match_error: str | None = None,
) -> dict[str, Any]:
    """What one `jobagg run` did, counted from the database (postings by their timestamps since `started`)."""
    from crawler.models import Posting

    with dbmod.session_scope(db_url) as session:
        new, changed, closed = session.execute(
            select(
                func.coalesce(func.sum(case((Posting.first_seen_at >= started, 1), else_=0)), 0),
                func.coalesce(
                    func.sum(case(((Posting.changed_at >= started) & (Posting.first_seen_at < started), 1), else_=0)), 0
                ),
                func.coalesce(func.sum(case((Posting.closed_at >= started, 1), else_=0)), 0),
            )
        ).one()
    tags_after = tag_snapshot(db_url)
    tags_changed = sum(1 for key, tag in tags_after.items() if tags_before.get(key) != tag)
    failed_runs = [r.spider for r in results if r.status != "finished"]
    return {
        "boards_ok": sum(r.count("ok") for r in results),
        "boards_dead": sum(r.count("dead") for r in results),
        "boards_failed": sum(r.count("error") for r in results),
        "postings_new": int(new),
        "postings_changed": int(changed),
        "postings_closed": int(closed),
        "tags_changed": tags_changed,
        "seconds": round(seconds, 1),
        "failed": failed_runs + (["match"] if match_error else []),
        "ok": not failed_runs and match_error is None,
    }


def summary_table(summary: dict[str, Any]) -> Table:
    table = Table(title="jobagg run: " + ("ok" if summary["ok"] else "FAILED: " + ", ".join(summary["failed"])))
    table.add_column("boards ok / dead / failed")
    table.add_column("postings new / changed / closed")
    table.add_column("tags changed", justify="right")
    table.add_column("time", justify="right")
    table.add_row(
        f"{summary['boards_ok']} / {summary['boards_dead']} / {summary['boards_failed']}",
        f"{summary['postings_new']} / {summary['postings_changed']} / {summary['postings_closed']}",
        str(summary["tags_changed"]),
        f"{summary['seconds']:.1f} s",
    )
    return table


@main.command("demo")
@pass_app
def demo(app: AppContext) -> None:
    """The whole pipeline offline: serve the bundled corpus on 127.0.0.1, crawl, store, match, tag, summarise."""
    from crawler.demo import run_demo

    run_demo(app.db_url)
