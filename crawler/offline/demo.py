"""`jobagg demo`: the whole pipeline offline on the bundled corpus, ending with summary tables."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from crawler import db as dbmod
from crawler import registry
from crawler.boards import BoardRef
from crawler.crawl import check_board, crawl_table, run_crawls
from crawler.models import Posting, PostingSponsorship
from crawler.offline.server import BUNDLED_CORPUS, serve

DEMO_REGISTRY = BUNDLED_CORPUS / "boards.csv"


def demo_boards(path: Path = DEMO_REGISTRY) -> dict[str, list[BoardRef]]:
    groups: dict[str, list[BoardRef]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            groups[row["ats"]].append(
                BoardRef(row["board"], row["employer"], row.get("region") or None, row.get("board_url") or None)
            )
    return dict(groups)


def run_demo(db_url: str, console: Console | None = None) -> None:
    console = console or Console()
    engine = dbmod.get_engine(db_url)
    console.rule("jobagg demo: offline corpus -> spiders -> pipelines -> database")
    console.print(f"database: {engine.url.render_as_string(hide_password=True)}")
    imported = registry.import_csv(DEMO_REGISTRY, db_url, check=check_board)
    console.print(f"registry: {imported.added} board(s) added, {imported.unchanged + imported.updated} already known")
    groups = demo_boards()
    with serve(BUNDLED_CORPUS) as server:
        console.print(f"serving the bundled corpus at {server.base_url} (platforms' real API paths)")
        with console.status("crawling with the real spiders and pipelines..."):
            results = run_crawls(db_url, groups, spider_args={"roles": "all", "api_base": server.base_url})
    console.print(crawl_table(results))
    failed = [r.spider for r in results if r.status != "finished"]
    if failed:
        console.print(f"[red]crawl of {', '.join(failed)} did not finish; see the log above[/red]")
        raise SystemExit(1)
    from matching.demo import run as run_dol_demo

    with console.status("loading the bundled DOL / USCIS sample, joining employers, tagging postings..."):
        dol_rows = run_dol_demo(db_url)
    dol = Table(title="Sponsorship data (bundled DOL PERM / LCA and USCIS hub sample)")
    dol.add_column("step")
    dol.add_column("result", overflow="fold")
    for step, result in dol_rows:
        dol.add_row(step, result)
    console.print(dol)
    console.print(postings_table(db_url))


def salary_text(p: Posting) -> str:
    if not p.salary_min:
        return ""
    amount = f"{p.salary_min:,.0f}"
    if p.salary_max and p.salary_max != p.salary_min:
        amount += f"-{p.salary_max:,.0f}"
    return f"{amount} {p.salary_currency or ''}/{p.salary_period or '?'}"


def postings_table(db_url: str) -> Table:
    """The open ML postings the demo stored, with what was read from each ad."""
    table = Table(title="Open ML postings", show_lines=False)
    for col in ("employer", "title", "level", "place", "salary", "degree", "ad says", "green card", "H-1B"):
        table.add_column(col, overflow="fold")
    with dbmod.session_scope(db_url) as session:
        rows = session.scalars(
            select(Posting)
            .where(Posting.is_ml.is_(True), Posting.closed_at.is_(None))
            .order_by(Posting.employer_name, Posting.title)
        ).all()
        tags: dict[tuple[int, str], str] = dict(
            ((s.posting_id, s.visa), s.tag) for s in session.scalars(select(PostingSponsorship))
        )
        for p in rows:
            place = ", ".join(x for x in (p.city, p.region, p.country) if x) or (p.locations or [""])[0]
            if p.remote:
                place += f" ({p.remote})"
            degree = "/".join(x for x in (p.degree_min, p.eb_category_hint) if x)
            table.add_row(
                p.employer_name or "", p.title, p.seniority or "", place, salary_text(p), degree,
                p.sponsorship_statement or "", tags.get((p.id, "green_card"), ""), tags.get((p.id, "h1b"), ""),
            )  # fmt: skip
        total = session.scalar(select(func.count()).select_from(Posting))
    table.caption = f"{len(rows)} open ML postings of {total} stored"
    return table
