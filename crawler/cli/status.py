"""`jobagg status`: health tables (`jobagg export` lives in crawler/cli/web.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import case, func, select

from crawler import db as dbmod
from crawler.cli import AppContext, main, pass_app
from crawler.models import Board, CrawlRun, Posting, PostingSponsorship

TAGS = ("likely", "possible", "unlikely", "unknown")


# Exit status of `jobagg status` when a board or a run needs someone to look at it.
EXIT_NEEDS_ATTENTION = 3


def attention(session: Any, now: datetime, stale_after_intervals: float) -> dict[str, list[dict[str, Any]]]:
    """Boards failing, boards whose listing collapsed in their platform's latest run, stale boards, failed monitors."""
    out: dict[str, list[dict[str, Any]]] = {"failing": [], "collapsed": [], "stale": [], "monitors": []}
    for board in session.scalars(select(Board).where(Board.active).order_by(Board.ats, Board.token)):
        if board.last_status == "error":
            out["failing"].append({"board": board, "why": board.last_error or "error"})
        # A board never crawled is new, not stale; a dead board is reported as dead, not stale.
        since = board.last_ok_at or (board.created_at if board.last_crawled_at else None)
        limit = timedelta(hours=board.crawl_interval_hours * stale_after_intervals)
        if since is not None and board.last_status != "dead" and now - since > limit:
            age = (now - since).total_seconds() / 3600
            out["stale"].append({"board": board, "why": f"no complete listing for {age:.0f} h"})
    latest = (
        select(CrawlRun.spider, func.max(CrawlRun.id).label("id"))
        .where(CrawlRun.finished_at.is_not(None))
        .group_by(CrawlRun.spider)
        .subquery()
    )
    for run in session.scalars(select(CrawlRun).join(latest, CrawlRun.id == latest.c.id).order_by(CrawlRun.spider)):
        report = run.monitors or {}
        for token, findings in (report.get("boards") or {}).items():
            if "collapsed" in findings:
                board = session.scalar(select(Board).where(Board.ats == run.spider, Board.token == token))
                out["collapsed"].append(
                    {"board": board, "ats": run.spider, "token": token, "why": findings["collapsed"]}
                )
        if report and not report.get("passed", True):
            reasons = [
                f"{name}: {(report['checks'].get(name) or {}).get('reason')}" for name in report.get("failed", [])
            ]
            out["monitors"].append({"run": run, "why": "; ".join(reasons)})
    return out


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


def attention_table(found: dict[str, list[dict[str, Any]]], limit: int) -> Table:
    table = Table(title="Needs attention")
    for col in ("what", "platform", "board", "last success", "why"):
        table.add_column(col)
    for kind, label in (("failing", "failing"), ("collapsed", "count collapsed"), ("stale", "stale")):
        rows = found[kind]
        for entry in rows[:limit]:
            board = entry.get("board")
            ats = board.ats if board is not None else entry.get("ats", "")
            token = board.token if board is not None else entry.get("token", "")
            table.add_row(label, ats, token, _when(board.last_ok_at if board is not None else None), entry["why"])
        if len(rows) > limit:
            table.add_row(label, "", f"... and {len(rows) - limit} more", "", "")
    for entry in found["monitors"]:
        run = entry["run"]
        table.add_row("monitors failed", run.spider, f"run {run.id}", _when(run.finished_at), entry["why"])
    return table


def joins_table(session: Any) -> Table:
    """Employers with open ML postings by the outcome of their stored join, with those postings and the
    overrides recorded: how much of what users see rests on a join a person should look at. Read from the
    `employer_joins` view, which front ends read too."""
    from sqlalchemy import text

    from crawler.models import EmployerOverride

    rows = {
        outcome: (employers, postings)
        for outcome, employers, postings in session.execute(
            text(
                "SELECT outcome, COUNT(*), SUM(open_ml_postings) FROM"
                " (SELECT DISTINCT employer_id, outcome, open_ml_postings FROM employer_joins) AS j"
                " WHERE open_ml_postings > 0 GROUP BY outcome"
            )
        )
    }
    overrides = session.scalar(select(func.count()).select_from(EmployerOverride)) or 0
    table = Table(title="Employer joins (employers with open ML postings)")
    for col in ("join", "employers", "open ML postings"):
        table.add_column(col, justify="left" if col == "join" else "right")
    for key, label in (("matched", "matched"), ("unsure", "unsure: see jobagg employers review"), ("none", "none")):
        employers, postings = rows.get(key, (0, 0))
        table.add_row(label, str(employers), str(postings))
    table.caption = f"{overrides} override(s) recorded (jobagg employers overrides)"
    return table


@main.command("status")
@click.option("--runs", default=8, show_default=True, type=click.IntRange(min=0), help="How many recent runs to show.")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="Boards shown per kind of problem."
)
@pass_app
def status(app: AppContext, runs: int, limit: int) -> None:
    """Health: boards by platform, what needs attention, recent runs, posting counts.

    Exits 3 when a board is failing, stale or listed far fewer postings than usual, or a run's monitors failed.
    """
    from crawler.crawl import project_settings
    from crawler.models import utcnow

    console = Console()
    app.engine(create=False)
    stale_after = project_settings().getfloat("JOBAGG_STALE_AFTER_INTERVALS")
    with dbmod.session_scope(app.db_url) as session:
        found = attention(session, utcnow(), stale_after)
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
        console.print(joins_table(session))
        from matching.loaded import entities_stale

        if entities_stale(session):
            # Not a failure: the next match or run rebuilds them; until then the tags rest on the older grouping.
            console.print(
                "employer entities were built by an older version of jobagg: the next `jobagg match` or "
                "`jobagg run` rebuilds them from the stored filings"
            )
        if any(found.values()):
            console.print(attention_table(found, limit))
            counts = ", ".join(f"{len(v)} {k}" for k, v in found.items() if v)
            console.print(f"needs attention: {counts}")
            raise SystemExit(EXIT_NEEDS_ATTENTION)
        console.print("nothing needs attention")
