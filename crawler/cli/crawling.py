"""`jobagg crawl` and `jobagg run`: crawl registry boards, then (for `run`) match and tag."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import case, func, select

from crawler import db as dbmod
from crawler.cli import AppContext, main, pass_app
from crawler.cli.progress import StepProgress
from crawler.models import Board, Posting, PostingSponsorship, utcnow

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
    empty_ok: bool = False,
) -> list[CrawlResult]:
    """Crawl the selected registry boards with progress and a summary table.

    No board to crawl is an error for an explicit selection; `empty_ok` (what `jobagg run` passes) makes an empty
    registry one line instead, so matching and alerts still run."""
    from crawler.crawl import crawl_table, failure_lines, run_crawls, select_boards

    console = console or Console()
    groups = select_boards(db_url, ats, board, due)
    if not groups:
        if due and registry_has_boards(db_url, ats):
            console.print("no registry boards to crawl (none is due)")
            return []
        if empty_ok and ats is None and board is None:
            console.print(nothing_to_crawl(db_url, ats, board))
            return []
        raise click.ClickException(nothing_to_crawl(db_url, ats, board))
    n_boards = sum(len(b) for b in groups.values())
    with StepProgress(console, "crawl", total=n_boards, unit="boards") as progress:

        def on_tick(counts: tuple[int, int, int]) -> None:
            done, items, errors = counts
            progress.update(done=done, items=items, errors=errors)

        results = run_crawls(db_url, groups, spider_args=spider_args, settings=settings, on_tick=on_tick)
    console.print(crawl_table(results, wide))
    for line in failure_lines(results):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return results


def registry_has_boards(db_url: str, ats: str | None) -> bool:
    with dbmod.session_scope(db_url) as session:
        query = select(func.count()).select_from(Board).where(Board.active)
        return bool(session.scalar(query.where(Board.ats == ats) if ats else query))


def nothing_to_crawl(db_url: str, ats: str | None, board: str | None) -> str:
    """The one line saying why a crawl found no board, and what to run instead."""
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
    app: AppContext,
    ats: str | None,
    board: str | None,
    due: bool,
    roles: str,
    api_base: str | None,
    wide: bool,
    overrides: dict[str, str],
) -> None:
    """Crawl registry boards into the database."""
    check_platform(ats)
    if board is not None:
        check_board_option(ats, board)
    check_api_base(api_base)
    app.engine(create=False)  # no database means no boards: say so rather than create an empty one
    args = spider_args(roles, api_base)
    results = crawl_with_progress(app.db_url, ats, board, due, spider_args=args, settings=overrides, wide=wide)
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
def run(app: AppContext, roles: str, api_base: str | None, wide: bool, overrides: dict[str, str]) -> None:
    """What a scheduler calls: crawl the boards that are due, then match employers, tag postings, send alerts.

    Exit status: 0 everything worked; 1 a crawl, the matching or an alert delivery failed; 75 another run holds
    the lock (nothing was done; try again later).
    """
    from crawler.runlock import EXIT_LOCKED, RunLocked, run_lock

    check_api_base(api_base)
    app.engine(create=False)  # no database means no boards: say so rather than create an empty one
    console = Console()
    try:
        with run_lock(app.db_url):
            ok = _run_locked(app.db_url, roles, api_base, overrides, console, wide)
    except RunLocked as exc:
        click.echo(f"jobagg run: not started: {exc}", err=True)
        raise SystemExit(EXIT_LOCKED) from None
    if not ok:
        raise SystemExit(1)


def _run_locked(
    db_url: str, roles: str, api_base: str | None, overrides: dict[str, str], console: Console, wide: bool
) -> bool:
    from crawler.cli.matching import match_and_tag_step
    from crawler.cli.web import deliver_alerts_step

    started, t0 = utcnow(), time.perf_counter()
    tags_before = tag_snapshot(db_url)
    args = spider_args(roles, api_base)
    results = crawl_with_progress(
        db_url, due=True, spider_args=args, settings=overrides, console=console, wide=wide, empty_ok=True
    )
    match_error = None
    try:
        match_and_tag_step(db_url, console)
    except Exception as exc:  # the summary and the exit status must still tell the scheduler
        logging.getLogger("jobagg.run").exception("matching failed")
        match_error = f"{type(exc).__name__}: {exc}"
    alerts_ok = deliver_alerts_step(db_url, console)
    summary = run_summary(db_url, results, started, tags_before, time.perf_counter() - t0, match_error)
    if not alerts_ok:
        summary["failed"].append("alerts")
        summary["ok"] = False
    console.print(summary_table(summary))
    return summary["ok"]


def tag_snapshot(db_url: str) -> dict[tuple[int, str], str]:
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
        "boards_skipped": sum(r.count("skipped") for r in results),
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
    table.add_column("boards ok / dead / failed / skipped")
    table.add_column("postings new / changed / closed")
    table.add_column("tags changed", justify="right")
    table.add_column("time", justify="right")
    table.add_row(
        f"{summary['boards_ok']} / {summary['boards_dead']} / {summary['boards_failed']} / {summary['boards_skipped']}",
        f"{summary['postings_new']} / {summary['postings_changed']} / {summary['postings_closed']}",
        str(summary["tags_changed"]),
        f"{summary['seconds']:.1f} s",
    )
    return table


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
    if not app.db_given and Path(DEMO_DB).is_file():
        # The demo's own sample file, left by an older jobagg: brought to this schema, as a new one starts there.
        from crawler import db as dbmod

        engine = dbmod.make_engine(url)
        try:
            dbmod.upgrade(engine)
        finally:
            engine.dispose()
    run_demo(url, wide=wide)
