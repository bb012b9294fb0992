"""`jobagg demo`: the whole pipeline offline on the bundled corpus, ending with summary tables."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

from rich.console import Console
from rich.markup import escape
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


NEXT_STEPS = (
    ("jobagg boards import --bundled", "~3,900 real boards"),
    ("jobagg crawl --ats greenhouse", "needs the internet"),
    ("jobagg dol download --kind perm --fy 2025 --ingest", "DOL filings, join, tag"),
)


def run_demo(db_url: str, console: Console | None = None, wide: bool = False) -> None:
    console = console or Console()
    engine = dbmod.get_engine(db_url)
    shown = engine.url.render_as_string(hide_password=True)
    console.rule("jobagg demo: offline corpus -> spiders -> pipelines -> database")
    console.print(f"database: {shown} (sample data only)")
    imported = registry.import_csv(DEMO_REGISTRY, db_url, check=check_board)
    console.print(f"registry: {imported.added} board(s) added, {imported.unchanged + imported.updated} already known")
    groups = demo_boards()
    with serve(BUNDLED_CORPUS) as server:
        console.print(f"serving the bundled corpus at {server.base_url} (platforms' real API paths)")
        with console.status("crawling with the real spiders and pipelines..."):
            results = run_crawls(db_url, groups, spider_args={"roles": "all", "api_base": server.base_url})
    console.print(crawl_table(results, wide))
    failed = [r.spider for r in results if r.status != "finished"]
    if failed:
        console.print(f"[red]crawl of {', '.join(failed)} did not finish; see the log above[/red]")
        raise SystemExit(1)
    from matching.demo import run as run_dol_demo

    with console.status("loading the bundled DOL / USCIS sample, joining employers, tagging postings..."):
        dol_rows = run_dol_demo(db_url)
    dol = Table(title="Sponsorship data (bundled DOL PERM / LCA and USCIS hub sample)", expand=True)
    dol.add_column("step", ratio=1)
    dol.add_column("result", ratio=2)
    for step, result in dol_rows:
        dol.add_row(step, result)
    console.print(dol)
    console.print(postings_table(db_url, wide=wide))
    console.print(f"Sample data is in {shown} (its DOL filings are marked `sample:`).", highlight=False)
    likely = _first_likely(db_url)
    if likely is not None:
        # The figures behind a tag are the point of the tool: name one posting to ask about.
        console.print(f"Why a posting got its tags: jobagg --db {shown} why {likely}", markup=False, highlight=False)
    # Every join can be checked and, where a person knows better, overridden (`employers set`).
    console.print(f"Joins to check: jobagg --db {shown} employers review --all", markup=False, highlight=False)
    console.print("Next, for real (./jobagg.db or $JOBAGG_DATABASE_URL):", highlight=False)
    for command, why in NEXT_STEPS:
        console.print(f"  {command:<50} # {why}", markup=False, highlight=False)


def _first_likely(db_url: str) -> int | None:
    """The first posting whose green card is tagged likely, if any."""
    with dbmod.session_scope(db_url) as session:
        return session.scalar(
            select(PostingSponsorship.posting_id)
            .where(PostingSponsorship.visa == "green_card", PostingSponsorship.tag == "likely")
            .order_by(PostingSponsorship.posting_id)
            .limit(1)
        )


AD_SAYS = {"offered": "offers", "refused": "refuses", "not_mentioned": "-"}
CURRENCY = {"USD": "$", "EUR": "€", "GBP": "£"}
PERIOD = {"year": "", "month": "/mo", "week": "/wk", "day": "/day", "hour": "/hr"}


def _short_amount(value: float) -> str:
    return f"{value / 1000:,.0f}k" if value >= 10_000 else f"{value:,.0f}"


def compact_salary(p: Posting) -> str:
    """`$175k-245k`, `€60k`, `$85/hr`: short enough never to be split across lines."""
    if not p.salary_min:
        return ""
    amount = _short_amount(p.salary_min)
    if p.salary_max and p.salary_max != p.salary_min:
        amount += f"-{_short_amount(p.salary_max)}"
    currency = p.salary_currency or ""
    text = f"{CURRENCY[currency]}{amount}" if currency in CURRENCY else f"{amount} {currency}".strip()
    return text + PERIOD.get(p.salary_period or "year", f"/{p.salary_period}")


def salary_text(p: Posting) -> str:
    if not p.salary_min:
        return ""
    amount = f"{p.salary_min:,.0f}"
    if p.salary_max and p.salary_max != p.salary_min:
        amount += f"-{p.salary_max:,.0f}"
    return f"{amount} {p.salary_currency or ''}/{p.salary_period or '?'}"


def _place(p: Posting) -> str:
    place = ", ".join(x for x in (p.city, p.region, p.country) if x) or (p.locations or [""])[0]
    return f"{place} ({p.remote})" if p.remote else place


def postings_table(db_url: str, wide: bool = False) -> Table:
    """The open ML postings the demo stored, with what was read from each ad; `wide` adds every column."""
    table = Table(title="Open ML postings", show_lines=False, expand=True)  # expand: the ratios share the width
    # Names and titles wrap at spaces; short cells never wrap, so no word is broken at 80 columns.
    table.add_column("employer", ratio=2)
    # In wide mode the apply URL goes under the title, folded: a URL has no spaces to wrap at.
    table.add_column("title" + (" / apply URL" if wide else ""), ratio=5, overflow="fold" if wide else "ellipsis")
    if wide:
        table.add_column("level", no_wrap=True)
        table.add_column("place", ratio=2)
        table.add_column("degree", no_wrap=True)
        table.add_column("ad", no_wrap=True)
    table.add_column("pay", no_wrap=True)
    table.add_column("green card", no_wrap=True)
    table.add_column("H-1B", no_wrap=True)
    with dbmod.session_scope(db_url) as session:
        rows = session.scalars(
            select(Posting)
            .where(Posting.is_ml.is_(True), Posting.closed_at.is_(None))
            .order_by(Posting.employer_name, Posting.title)
        ).all()
        tags: dict[tuple[int, str], str] = dict(
            ((s.posting_id, s.visa), s.tag) for s in session.scalars(select(PostingSponsorship))
        )
        # The same job in several places is one row per place: the narrow table names the place for those.
        repeated = Counter((p.employer_name, p.title) for p in rows)
        for p in rows:
            apply = p.apply_url or p.url or ""
            place = _place(p)
            title = p.title if wide or repeated[(p.employer_name, p.title)] < 2 else f"{p.title} · {place}"
            cells = [p.employer_name or "", f"{title}\n[dim]{escape(apply)}[/dim]" if wide else title]
            if wide:
                degree = "/".join(x for x in (p.degree_min, p.eb_category_hint) if x)
                cells += [p.seniority or "", place, degree, AD_SAYS.get(p.sponsorship_statement or "", "")]
            cells += [compact_salary(p), tags.get((p.id, "green_card"), ""), tags.get((p.id, "h1b"), "")]
            table.add_row(*cells)
        total = session.scalar(select(func.count()).select_from(Posting))
    table.caption = f"{len(rows)} open ML postings of {total} stored" + ("" if wide else "; --wide for every column")
    return table
