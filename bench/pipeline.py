"""Benchmark: items/s of a crawl of one large local Greenhouse board, full pipeline into SQLite vs. no pipelines.

Each round runs, in this one process and against the same local server: a bare crawl (no pipelines), a first
full crawl into a fresh SQLite file, and a re-crawl of the unchanged board into that same file (what a daily
scheduled crawl mostly is). Target: the full pipeline keeps >= 50 % of the bare-Scrapy rate.

    python bench/pipeline.py [--postings 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import html
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.utils.reactor import install_reactor
from twisted.internet import defer
from twisted.python.failure import Failure

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.crawl import crawl_settings  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postings", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="jobagg-bench-"))
    (work / "corpus" / "greenhouse").mkdir(parents=True)
    board = make_board(args.postings)
    (work / "corpus" / "greenhouse" / "bigboard.json").write_text(json.dumps(board))
    size_mb = (work / "corpus" / "greenhouse" / "bigboard.json").stat().st_size / 1e6
    rates: dict[str, list[float]] = {"bare": [], "first": [], "recrawl": []}

    with serve(work / "corpus") as server:
        spider_args = {"board": "bigboard", "api_base": server.base_url, "roles": "all"}
        base = {"LOG_LEVEL": "ERROR", "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0}
        install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
        from twisted.internet import reactor

        runner = CrawlerRunner(crawl_settings(f"sqlite:///{work / 'warm.db'}", base))

        def crawler_for(kind: str, n: int) -> Crawler:
            db = f"sqlite:///{work / f'full-{n}.db'}"
            bare = {"ITEM_PIPELINES": {}, "EXTENSIONS": {"crawler.extensions.CrawlRunRecorder": None}}
            extra = bare if kind == "bare" else {}
            return Crawler(GreenhouseSpider, crawl_settings(db, {**base, **extra}))

        @defer.inlineCallbacks
        def rounds():  # type: ignore[no-untyped-def]
            for n in range(args.rounds):
                for kind in ("bare", "first", "recrawl"):
                    crawler = crawler_for(kind, n)
                    yield runner.crawl(crawler, **spider_args)
                    stats = crawler.stats.get_stats()
                    seconds = (stats["finish_time"] - stats["start_time"]).total_seconds()
                    rates[kind].append(stats.get("item_scraped_count", 0) / seconds)
                    console.print(
                        f"round {n + 1} {kind:>4}: {stats.get('item_scraped_count', 0)} items in {seconds:.2f} s"
                    )

        def stop(result):  # type: ignore[no-untyped-def]
            if isinstance(result, Failure):
                result.printTraceback()
            reactor.stop()  # type: ignore[attr-defined]

        reactor.callWhenRunning(lambda: rounds().addBoth(stop))  # type: ignore[attr-defined]
        reactor.run()  # type: ignore[attr-defined]

    bare = statistics.median(rates["bare"])
    table = Table(title=f"Pipeline benchmark: {args.postings} postings ({size_mb:.1f} MB), median of {args.rounds}")
    for col in ("crawl", "items/s", "ratio to bare (target >= 0.50)"):
        table.add_column(col, justify="left" if col == "crawl" else "right")
    table.add_row("bare Scrapy (no pipelines, no run recorder)", f"{bare:,.0f}", "1.00")
    for kind, label in (("first", "full pipeline, first crawl (fresh SQLite)"), ("recrawl", "full pipeline, re-crawl")):
        rate = statistics.median(rates[kind])
        table.add_row(label, f"{rate:,.0f}", f"{rate / bare:.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
