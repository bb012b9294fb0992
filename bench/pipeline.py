"""Benchmark: items/s of a crawl of one large local Greenhouse board, full pipeline into SQLite vs. no pipelines.

Each round runs, in this one process and against the same local server: a bare crawl (no pipelines), then for
each way of doing the database work - in a worker thread (the default) and on the reactor thread (the old way,
JOBAGG_DB_IN_THREAD=False) - a first full crawl into a fresh SQLite file and a re-crawl of the unchanged board
into that same file (what a daily scheduled crawl mostly is). Target: the full pipeline with the database work
in a worker thread keeps >= 50 % of the bare-Scrapy rate; the exit status is 1 when it does not. Beside it, the
same ratio by CPU time (items per CPU second of the process), which other load on the machine barely moves.

    python bench/pipeline.py [--postings 5000] [--rounds 3] [--postgres URL]

With --postgres (e.g. postgresql://postgres@127.0.0.1:5432/test) the full crawls write to PostgreSQL instead,
each first crawl into a fresh schema (dropped at the end).
"""

from __future__ import annotations

import argparse
import html
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.settings import Settings
from scrapy.utils.reactor import install_reactor
from sqlalchemy import text
from twisted.internet import defer
from twisted.python.failure import Failure

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler import db as dbmod  # noqa: E402
from crawler.crawl import crawl_settings  # noqa: E402
from crawler.items import fields_of  # noqa: E402
from crawler.offline.server import serve  # noqa: E402
from spiders.greenhouse import GreenhouseSpider  # noqa: E402

TITLES = [
    "Senior Machine Learning Engineer", "Software Engineer, Backend", "Staff Research Scientist", "Account Executive",
    "Data Scientist II", "Product Manager, Platform", "ML Infrastructure Engineer", "Recruiter", "Applied Scientist",
    "Site Reliability Engineer", "Computer Vision Engineer", "Financial Analyst", "Principal Engineer, Inference",
]  # fmt: skip
PLACES = ["San Francisco, CA", "New York, NY | Remote (US)", "Seattle, WA", "Austin, TX", "London, United Kingdom"]
PARAGRAPH = (
    "You will design, build and operate systems used by millions of people, working closely with research, "
    "product and infrastructure teams. We value clear writing, careful measurement and kind collaboration."
)


def make_board(n: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    jobs = []
    for i in range(n):
        title = rng.choice(TITLES)
        body = (
            f"<div><p><strong>About the role</strong></p><p>{PARAGRAPH}</p>"
            + "".join(f"<p>{PARAGRAPH}</p>" for _ in range(rng.randint(3, 8)))
            + "<ul>" + "".join(f"<li>Requirement {k}: Python, SQL &amp; distributed systems</li>" for k in range(6))
            + "</ul><p>The base salary range is $150,000 - $220,000 USD.</p>"
            "<p>We are unable to sponsor visas for this role.</p></div>"
        )  # fmt: skip
        jobs.append({
            "absolute_url": f"https://job-boards.greenhouse.io/bigboard/jobs/{1000000 + i}",
            "company_name": "Big Board Inc", "content": html.escape(body),
            "departments": [{"id": 1, "name": "Engineering", "child_ids": [], "parent_id": None}],
            "first_published": "2026-10-01T09:00:00-04:00", "id": 1000000 + i, "internal_job_id": i,
            "language": "en", "location": {"name": rng.choice(PLACES)}, "metadata": None, "offices": [],
            "requisition_id": f"R{i}", "title": title, "updated_at": "2026-10-02T09:00:00-04:00",
        })  # fmt: skip
    return {"jobs": jobs, "meta": {"total": n}}


def stage_table(items: list[dict]) -> Table:
    """CPU time per item of each step a first crawl runs on a posting, on the spider's own items."""
    from pipelines.normalize import normalize
    from pipelines.reuse import raw_hash
    from pipelines.rules.degree import read_degree
    from pipelines.rules.pay import salary_from_text
    from pipelines.rules.read import read_posting
    from pipelines.rules.sponsorship import read_sponsorship
    from pipelines.store import row_from_item
    from pipelines.text import sanitize_html, sanitized_html_to_text, unescape_markup

    def per_item(step: Callable[[Any], Any], inputs: list[Any]) -> tuple[float, list[Any]]:
        start = time.perf_counter()
        out = [step(x) for x in inputs]
        return (time.perf_counter() - start) / max(len(inputs), 1) * 1e6, out

    hashed, _ = per_item(raw_hash, items)
    normalised, fields = per_item(lambda f: normalize(f)[0], items)
    raw = [unescape_markup(f.get("description_raw") or "") for f in items]
    sanitised, html_docs = per_item(sanitize_html, raw)
    to_text, texts = per_item(sanitized_html_to_text, html_docs)
    read, derived = per_item(read_posting, fields)
    parts = {name: per_item(step, texts)[0] for name, step in
             (("sponsorship", read_sponsorship), ("degree", read_degree), ("pay", salary_from_text))}  # fmt: skip
    stored, _ = per_item(row_from_item, [{**f, **d} for f, d in zip(fields, derived, strict=True)])
    table = Table(title=f"CPU per item of a first crawl's steps (us, {len(items)} items)")
    table.add_column("step")
    table.add_column("us/item", justify="right")
    rows = [
        ("hash the item as sent (re-crawls too)", hashed), ("normalise", normalised),
        ("  of which: sanitise the HTML", sanitised), ("  of which: HTML to text", to_text),
        ("read the ad", read), *((f"  of which: {name}", us) for name, us in parts.items()),
        ("the row to store", stored),
    ]  # fmt: skip
    for name, us in rows:
        table.add_row(name, f"{us:,.0f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postings", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL", help="write to this PostgreSQL database instead of SQLite")
    args = parser.parse_args()
    console = Console()
    run_tag = uuid.uuid4().hex[:8]
    work = Path(tempfile.mkdtemp(prefix="jobagg-bench-"))
    (work / "corpus" / "greenhouse").mkdir(parents=True)
    board = make_board(args.postings)
    (work / "corpus" / "greenhouse" / "bigboard.json").write_text(json.dumps(board))
    size_mb = (work / "corpus" / "greenhouse" / "bigboard.json").stat().st_size / 1e6
    modes = {"thread": True, "reactor": False}  # JOBAGG_DB_IN_THREAD
    kinds = ["bare", *(f"{crawl}/{mode}" for mode in modes for crawl in ("first", "recrawl"))]
    rates: dict[str, list[float]] = {kind: [] for kind in kinds}
    # Items per CPU second of this process (all its threads): unlike the wall-time rate, barely moved by other
    # work on a shared machine, so it shows the pipelines' own cost even when the wall-time ratio is noisy.
    cpu_rates: dict[str, list[float]] = {kind: [] for kind in kinds}

    with serve(work / "corpus") as server:
        spider_args = {"board": "bigboard", "api_base": server.base_url, "roles": "all"}
        base = {"LOG_LEVEL": "ERROR", "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0}
        install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
        from twisted.internet import reactor

        databases: dict[str, str] = {}  # name -> URL; a re-crawl writes where its round's first crawl did
        admin = dbmod.make_engine(args.postgres) if args.postgres else None

        def database(name: str) -> str:
            if name not in databases:
                if admin is None:
                    databases[name] = f"sqlite:///{work / f'{name}.db'}"
                else:
                    schema = f"jobagg_bench_{run_tag}_{name}"
                    with admin.begin() as conn:
                        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                    url = admin.url.render_as_string(hide_password=False)
                    databases[name] = f"{url}?options=-csearch_path%3D{schema}"
                    dbmod.upgrade(dbmod.make_engine(databases[name]))  # migrations are explicit
            return databases[name]

        # Bare settings: the runner merges its own settings into every crawler it runs, and a database URL set
        # here would send every crawl to one file, so each crawl's own settings carry everything.
        runner = CrawlerRunner(Settings())
        sent: list[dict] = []

        def keep(item: Any) -> None:  # a named function: signal receivers are held by weak reference
            sent.append(fields_of(item))

        def crawler_for(kind: str, n: int) -> Crawler:
            if kind == "bare":
                extra = {"ITEM_PIPELINES": {}, "EXTENSIONS": {"crawler.extensions.CrawlRunRecorder": None}}
                crawler = Crawler(GreenhouseSpider, crawl_settings(f"sqlite:///{work / 'bare.db'}", {**base, **extra}))
                if not sent:  # the items as the spider sends them, for the step timings below
                    crawler.signals.connect(keep, signal=signals.item_scraped)
                return crawler
            mode = kind.split("/")[1]
            db = database(f"full_{mode}_{n}".replace("-", "m"))
            return Crawler(GreenhouseSpider, crawl_settings(db, {**base, "JOBAGG_DB_IN_THREAD": modes[mode]}))

        def check(kind: str, stats: dict) -> None:
            """A first crawl must read every posting and a re-crawl reuse every one, or the figures mean nothing."""
            expected = {"bare": (0, 0), "first": (args.postings, 0), "recrawl": (0, args.postings)}[kind.split("/")[0]]
            found = (stats.get("jobagg/store/written", 0), stats.get("jobagg/reuse/unchanged", 0))
            if found != expected or stats.get("item_scraped_count", 0) != args.postings:
                raise RuntimeError(f"{kind} crawl wrote/reused {found}, expected {expected}: not the crawl it claims")

        @defer.inlineCallbacks
        def rounds():  # type: ignore[no-untyped-def]
            # Warm-up (not counted): the first full crawl of a process pays for imports and rule tables.
            warm = Crawler(GreenhouseSpider, crawl_settings(f"sqlite:///{work / 'warm.db'}", base))
            yield runner.crawl(warm, **spider_args)
            for n in range(args.rounds):
                # Alternate which mode goes first, so neither always runs on a cooler or warmer machine.
                order = kinds if n % 2 == 0 else [kinds[0], *kinds[3:], *kinds[1:3]]
                for kind in order:
                    crawler = crawler_for(kind, n)
                    cpu = time.process_time()
                    yield runner.crawl(crawler, **spider_args)
                    cpu = time.process_time() - cpu
                    stats = crawler.stats.get_stats()
                    seconds = (stats["finish_time"] - stats["start_time"]).total_seconds()
                    rates[kind].append(stats.get("item_scraped_count", 0) / seconds)
                    cpu_rates[kind].append(stats.get("item_scraped_count", 0) / cpu)
                    check(kind, stats)
                    console.print(
                        f"round {n + 1} {kind:>14}: {stats.get('item_scraped_count', 0)} items in {seconds:.2f} s"
                    )

        def stop(result):  # type: ignore[no-untyped-def]
            if isinstance(result, Failure):
                result.printTraceback()
            reactor.stop()  # type: ignore[attr-defined]

        reactor.callWhenRunning(lambda: rounds().addBoth(stop))  # type: ignore[attr-defined]
        reactor.run()  # type: ignore[attr-defined]
        if admin is not None:
            dbmod.dispose_all()
            with admin.begin() as conn:
                for url in databases.values():
                    conn.execute(text(f'DROP SCHEMA "{url.rsplit("%3D", 1)[1]}" CASCADE'))

    bare = statistics.median(rates["bare"])
    store = "PostgreSQL" if args.postgres else "SQLite"
    title = f"Pipeline benchmark: {args.postings} postings ({size_mb:.1f} MB) into {store}, median of {args.rounds}"
    table = Table(title=title)
    bare_cpu = statistics.median(cpu_rates["bare"])
    for col in ("crawl", "items/s", "ratio to bare (target >= 0.50)", "ratio by CPU time"):
        table.add_column(col, justify="left" if col == "crawl" else "right")
    table.add_row("bare Scrapy (no pipelines, no run recorder)", f"{bare:,.0f}", "1.00", "1.00")
    labels = {"first": f"first crawl (fresh {store})", "recrawl": "re-crawl"}
    where = {"thread": "database work in a worker thread", "reactor": "database work on the reactor (old)"}
    ratios: dict[str, float] = {}
    for kind in kinds[1:]:
        crawl, mode = kind.split("/")
        ratios[kind] = statistics.median(rates[kind]) / bare
        table.add_row(f"full pipeline, {labels[crawl]}, {where[mode]}", f"{bare * ratios[kind]:,.0f}",
                      f"{ratios[kind]:.2f}", f"{statistics.median(cpu_rates[kind]) / bare_cpu:.2f}")  # fmt: skip
    console.print(table)
    console.print(stage_table(sent[:1000]))
    missed = [kind for kind in ("first/thread", "recrawl/thread") if ratios[kind] < 0.50]
    if missed:
        console.print(f"[red]target missed[/red]: {', '.join(missed)} below 0.50 of bare Scrapy")
        sys.exit(1)


if __name__ == "__main__":
    main()
