"""Benchmark: p95 latency of filtered /postings against the same query in plain SQL, on generated postings.

Generates postings (default 200,000) with both sponsorship tags into a fresh database (SQLite by default, or
--db URL, e.g. a PostgreSQL schema), then for each filter set alternates: one /postings request through the
app in this process (called as an ASGI app, so the figure is the app's cost, not a network's), and the exact
SQL statement the app runs, executed on a plain DB-API cursor. Target: API p95 <= 2x SQL p95, overall and
the run exits non-zero when missed.

    python bench/api.py [--postings 200000] [--repeat 40] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler import db as dbmod  # noqa: E402
from crawler.models import Employer, Posting, PostingSponsorship, utcnow  # noqa: E402
from crawler.web.app import create_app  # noqa: E402
from crawler.web.query import ROLE_FAMILIES, SENIORITIES, listing_query, parse_filters  # noqa: E402

TARGET = 2.0
TITLES = ["Machine Learning Engineer", "Research Scientist", "Data Scientist", "Applied Scientist", "ML Platform",
          "Recruiter", "Account Executive", "Software Engineer", "Perception Engineer", "NLP Engineer"]  # fmt: skip
PLACES = [("San Francisco", "CA", "US"), ("New York", "NY", "US"), ("Seattle", "WA", "US"), ("Austin", "TX", "US"),
          ("London", "England", "GB"), ("Toronto", "ON", "CA"), ("Berlin", "Berlin", "DE")]  # fmt: skip
TAGS = ["likely", "possible", "unlikely", "unknown"]
FILTER_SETS: list[dict[str, str]] = [
    {"visa": "green_card", "tag": "likely"},
    {"visa": "green_card", "tag": "likely", "seniority": "staff"},
    {"visa": "h1b", "role": "ml_engineer", "country": "US"},
    {"seniority": "senior", "remote": "remote"},
    {"visa": "green_card", "tag": "likely", "salary_at_least": "250000"},
    {"place": "seattle", "ml": "true"},
    {"q": "scientist", "visa": "h1b", "tag": "likely"},
    {"posted_since": "__recent__", "visa": "green_card"},
]


def generate(db_url: str, n: int, console: Console, seed: int = 12) -> None:
    rng = random.Random(seed)
    dbmod.upgrade(dbmod.make_engine(db_url))  # migrations are explicit; a fresh schema starts empty
    engine = dbmod.get_engine(db_url)
    today = date.today()
    now = utcnow()
    days = [None, *(today - timedelta(days=d) for d in range(365))]
    pays = [None, None, *range(90_000, 320_000, 10_000)]
    with engine.begin() as conn:
        emps = [{"name": f"Employer {i:05d} Inc"} for i in range(max(1, n // 100))]
        conn.execute(Employer.__table__.insert(), emps)
    n_emp = len(emps)
    batch = 5000
    start = time.perf_counter()
    for lo in range(0, n, batch):
        rows, tags = [], []
        for i in range(lo, min(n, lo + batch)):
            city, region, country = rng.choice(PLACES)
            lo_pay = rng.choice(pays)
            title = rng.choice(TITLES)
            rows.append(
                {
                    "id": i + 1,
                    "ats": "greenhouse",
                    "board": f"b{i % n_emp}",
                    "source_id": str(i),
                    "url": f"https://example.com/jobs/{i}",
                    "title": f"{rng.choice(['', 'Senior ', 'Staff ', 'Principal '])}{title}",
                    "employer_id": (i % n_emp) + 1,
                    "employer_name": f"Employer {i % n_emp:05d} Inc",
                    "department": rng.choice(["Research", "Engineering", "Sales", None]),
                    "city": city,
                    "region": region,
                    "country": country,
                    "remote": rng.choice(["remote", "hybrid", "onsite", None]),
                    "employment_type": "full_time",
                    "posted_at": rng.choice(days),
                    "salary_min": lo_pay,
                    "salary_max": lo_pay + 60_000 if lo_pay else None,
                    "salary_currency": "USD" if lo_pay else None,
                    "salary_period": "year" if lo_pay else None,
                    "is_ml": rng.random() < 0.7,
                    "role_family": rng.choice(ROLE_FAMILIES),
                    "seniority": rng.choice(SENIORITIES),
                    "degree_min": rng.choice(["bachelor", "master", "phd", None]),
                    "sponsorship_statement": rng.choice(["offered", "refused", "not_mentioned", "not_mentioned"]),
                    "content_hash": "x",
                    # One posting in ten has closed: the listing must skip them.
                    "closed_at": None if rng.random() > 0.1 else now,
                }
            )
            for visa in ("green_card", "h1b"):
                tag = rng.choice(TAGS)
                tags.append(
                    {
                        "posting_id": i + 1,
                        "visa": visa,
                        "tag": tag,
                        "reason": f"{rng.randint(0, 40)} certified filings in FY2023-2025",
                        "evidence": {},
                    }
                )
        with engine.begin() as conn:
            conn.execute(Posting.__table__.insert(), rows)
            conn.execute(PostingSponsorship.__table__.insert(), tags)
    # Fresh statistics, as a database that has been running a while has them.
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    console.print(f"generated {n:,} postings, {2 * n:,} tags in {time.perf_counter() - start:.1f} s")


async def asgi_get(app: Any, path: str, params: dict[str, str]) -> tuple[int, bytes]:
    """One GET through the whole ASGI app (routing, validation, middleware, serialisation), in this process.

    Called directly rather than through an HTTP client library, so the figure is the app's cost alone.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(params).encode(),
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


async def measure(db_url: str, repeat: int, console: Console) -> tuple[Table, float, float]:
    app = create_app(db_url)
    engine = dbmod.get_engine(db_url)
    recent = (date.today() - timedelta(days=30)).isoformat()
    table = Table(title=f"/postings vs plain SQL, {repeat} runs each (ms)")
    for col in ("filters", "rows", "API p50", "API p95", "SQL p50", "SQL p95", "p95 ratio"):
        table.add_column(col, justify="left" if col == "filters" else "right")
    all_api: list[float] = []
    all_sql: list[float] = []
    raw = engine.raw_connection()
    for params in FILTER_SETS:
        params = {k: (recent if v == "__recent__" else v) for k, v in params.items()}
        f = parse_filters(params)
        compiled = listing_query(f, 50).compile(engine, compile_kwargs={"render_postcompile": True})
        sql = str(compiled)
        args: Any = (
            compiled.params
            if engine.dialect.name == "postgresql"
            else tuple(compiled.params[k] for k in compiled.positiontup or [])
        )
        api_t: list[float] = []
        sql_t: list[float] = []
        n_rows = 0
        for i in range(repeat + 3):
            t0 = time.perf_counter()
            status, body = await asgi_get(app, "/postings", params)
            t1 = time.perf_counter()
            assert status == 200, body[:500]
            n_rows = len(json.loads(body)["items"])
            cur = raw.cursor()
            t2 = time.perf_counter()
            cur.execute(sql, args)
            got = cur.fetchall()
            t3 = time.perf_counter()
            cur.close()
            assert len(got) >= n_rows
            if i >= 3:  # the first runs warm caches on both sides
                api_t.append((t1 - t0) * 1000)
                sql_t.append((t3 - t2) * 1000)
        all_api += api_t
        all_sql += sql_t
        table.add_row(
            " ".join(f"{k}={v}" for k, v in params.items()),
            str(n_rows),
            f"{statistics.median(api_t):.2f}",
            f"{p95(api_t):.2f}",
            f"{statistics.median(sql_t):.2f}",
            f"{p95(sql_t):.2f}",
            f"{p95(api_t) / p95(sql_t):.2f}",
        )
    raw.close()
    return table, p95(all_api), p95(all_sql)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postings", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=40, help="Requests per filter set.")
    ap.add_argument("--db", default=None, help="Database URL (default: a fresh SQLite file in a temp dir).")
    ap.add_argument("--reuse", action="store_true", help="Measure the postings already in --db (no generation).")
    args = ap.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = dbmod.get_engine(db_url)
        with engine.connect() as conn:
            have = conn.exec_driver_sql("SELECT count(*) FROM postings").scalar() or 0
        if args.reuse:
            args.postings = have
        elif have:
            console.print(f"[red]{db_url}: the database must be empty (the benchmark fills it)[/red]")
            return 2
        else:
            generate(db_url, args.postings, console)
        # Connections opened while generating predate ANALYZE's statistics: start both sides afresh.
        dbmod.dispose_all()
        table, api95, sql95 = asyncio.run(measure(db_url, args.repeat, console))
        console.print(table)
        ratio = api95 / sql95
        ok = ratio <= TARGET
        summary = Table(title="Summary")
        for col in ("backend", "postings", "API p95 ms", "SQL p95 ms", "ratio", "target", "result"):
            summary.add_column(col)
        summary.add_row(
            engine.dialect.name,
            f"{args.postings:,}",
            f"{api95:.2f}",
            f"{sql95:.2f}",
            f"{ratio:.2f}",
            f"<= {TARGET:.1f}",
            "[green]met[/green]" if ok else "[red]missed[/red]",
        )
        console.print(summary)
        dbmod.dispose_all()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
