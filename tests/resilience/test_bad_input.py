"""Bad input from career sites: every case has a counted, logged outcome and nothing unsafe is stored."""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crawler import db as dbmod
from crawler.models import Board, Posting
from crawler.offline.server import Reply, route
from crawler.registry import upsert_board
from pipelines.normalize import MAX_DESCRIPTION_CHARS
from tests.crawling import CrawlOutput, scrapy_crawl
from tests.resilience.faults import FaultServer
from tests.spiders.conftest import last_run

SITE = "bad.example"
HOSTILE = (
    "<p>Build models.</p><script>alert('s')</script><img src=x onerror=\"alert('e')\">"
    "<a href=\"javascript:alert('j')\" onclick=\"alert('c')\">apply</a><svg onload=\"alert('v')\"><circle r=1 /></svg>"
    '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>'
    "<a href=\"data:text/html,<script>alert('d')</script>\">data</a><p style=\"x:expression(alert('x'))\">Pay</p>"
)
UNSAFE = re.compile(r"<script|<svg|<iframe|<style|<img|\bon[a-z]+\s*=|javascript:|data:text|expression\(", re.I)
MAX_BYTES = 2_000_000
ESCAPED_END = "<\\/"


def page(*blocks: Any, charset: str = "utf-8", raw_blocks: tuple[str, ...] = ()) -> str:
    # As sites do, `</` is written `<\/` inside the block so a `</script>` in a string cannot end it.
    scripts = [
        f'<script type="application/ld+json">{json.dumps(b).replace("</", ESCAPED_END)}</script>' for b in blocks
    ]
    scripts += [f'<script type="application/ld+json">{b}</script>' for b in raw_blocks]
    return f'<html><head><meta charset="{charset}">{"".join(scripts)}</head><body>job</body></html>'


def posting(n: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "JobPosting", "identifier": n,
        "title": f"Machine Learning Engineer {n}",
        "url": f"https://{SITE}/jobs/{n}.html", "hiringOrganization": {"@type": "Organization", "name": "Bad Example"},
        "datePosted": "2026-11-02", "description": "<p>Train models.</p>",
        "jobLocation": {"@type": "Place", "address": {"addressLocality": "Austin", "addressRegion": "TX",
                                                      "addressCountry": "US"}},
    }  # fmt: skip
    base.update(fields)
    return base


def salary(low: Any, high: Any) -> dict[str, Any]:
    return {"@type": "MonetaryAmount", "currency": "USD",
            "value": {"@type": "QuantitativeValue", "minValue": low, "maxValue": high, "unitText": "YEAR"}}  # fmt: skip


def write(root: Path, host: str, path: str, content: str | bytes) -> None:
    target = root / "jsonld" / host / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content.encode() if isinstance(content, str) else content)


def urlset(host: str, names: list[str]) -> str:
    locs = "".join(f"<url><loc>https://{host}/jobs/{n}.html</loc></url>" for n in names)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'


@route("GET", r"/(?P<path>(?:[^/]+/)*[^/]+\.xml\.gz)")
def gzipped_sitemap(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    path = root / "jsonld" / host / m["path"]
    if not path.is_file():
        return Reply(404, b"not found", "text/plain")
    return Reply(200, path.read_bytes(), "application/x-gzip")


@dataclass
class BadCrawl:
    db_url: str
    out: CrawlOutput
    secret: str
    items: dict[str, dict[str, Any]]
    stats: dict[str, Any]


def build_corpus(root: Path, secret_file: Path) -> list[str]:
    pages = {
        "hostile": page(posting("hostile", description=HOSTILE)),
        "escaped": page(posting("escaped", description=HOSTILE.replace("<", "&lt;").replace(">", "&gt;"))),
        "malformed": page(posting("malformed"), raw_blocks=('{"@type": "JobPosting", "title": "Broken", ',)),
        "wrongtypes": page(posting("wrongtypes", title=12345, datePosted={"when": "soon"}, employmentType={"a": 1},
                                   jobLocation="Austin, TX", hiringOrganization=42, description=["not", "text"],
                                   baseSalary="lots", identifier=["wrongtypes"])),
        "old": page(posting("old", datePosted="1970-01-01", baseSalary=salary(-5000, -1))),
        "future": page(posting("future", datePosted="2100-01-01", baseSalary=salary(1e15, 1e300))),
        "huge": page(posting("huge", description="<p>" + "Tensor " * 200_000 + "</p>")),
        "notitle": page(posting("notitle", title=None), posting("titleonly", description=None, datePosted=None,
                                                               jobLocation=None, hiringOrganization=None)),
    }  # fmt: skip
    for name, html in pages.items():
        write(root, SITE, f"jobs/{name}.html", html)
    # A Windows-1252 page says so in its meta tag; a page that claims UTF-8 has stray Latin-1 bytes.
    write(root, SITE, "jobs/cp1252.html", page(posting("cp1252", description="<p>Zürich \u2013 café</p>"),
                                                charset="windows-1252").encode("cp1252"))  # fmt: skip
    broken = page(posting("badutf8", description="<p>PLACEHOLDER</p>")).encode()
    write(root, SITE, "jobs/badutf8.html", broken.replace(b"PLACEHOLDER", b"Z\xfcrich \xff"))
    write(root, SITE, "sitemap.xml", urlset(SITE, [*pages, "cp1252", "badutf8"]))
    # A gzip bomb: a few KB that inflate far past DOWNLOAD_MAXSIZE.
    write(root, "bomb.example", "sitemap.xml.gz", gzip.compress(b"<" + b" " * (MAX_BYTES * 10), compresslevel=9))
    laughs = '<!ENTITY a0 "ha">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    write(root, "laughs.example", "sitemap.xml",
          f'<?xml version="1.0"?><!DOCTYPE urlset [{laughs}]><urlset><url><loc>https://laughs.example/jobs/&a9;.html'
          "</loc></url></urlset>")  # fmt: skip
    write(root, "xxe.example", "sitemap.xml",
          f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file://{secret_file}">]>'
          "<urlset><url><loc>https://xxe.example/jobs/&x;.html</loc></url></urlset>")  # fmt: skip
    return [SITE, "bomb.example", "laughs.example", "xxe.example"]


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BadCrawl]:
    tmp = tmp_path_factory.mktemp("badinput")
    secret = "s3cr3t-file-content-7f1c"
    secret_file = tmp / "secret.txt"
    secret_file.write_text(secret)
    root = tmp / "corpus"
    db_url = f"sqlite:///{tmp / 'bad.db'}"
    hosts = build_corpus(root, secret_file)
    with dbmod.session_scope(db_url) as session:
        for host in hosts:
            url = f"https://{host}/sitemap.xml.gz" if host == "bomb.example" else None
            upsert_board(session, "jsonld", host, "Bad Example", board_url=url)
    server = FaultServer(root)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = scrapy_crawl("jsonld", tmp, db_url, "-a", "roles=all", "-a", f"api_base={server.base_url}",
                           "-s", f"DOWNLOAD_MAXSIZE={MAX_BYTES}", "-s", "LOG_LEVEL=INFO")  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert out.returncode == 0, out.log[-3000:]
    with dbmod.session_scope(db_url) as session:
        items = {p.source_id: {c: getattr(p, c) for c in ("title", "description_html", "description_text", "posted_at",
                                                           "salary_min", "salary_max", "employer_name", "locations")}
                 for p in session.scalars(select(Posting))}  # fmt: skip
    yield BadCrawl(db_url, out, secret, items, last_run(db_url, "jsonld").stats)


def test_the_crawl_finishes_without_a_traceback(bad: BadCrawl) -> None:
    assert "Traceback" not in bad.out.log, bad.out.log[-5000:]
    expected = {"hostile", "escaped", "malformed", "wrongtypes", "old", "future", "huge", "titleonly", "cp1252",
                "badutf8", "12345"}  # fmt: skip
    # Every good posting is stored once: the id is the JSON-LD identifier (or the URL when it is not text).
    names = {k.rsplit("/", 1)[-1].removesuffix(".html") for k in bad.items}
    assert names >= expected - {"12345"}, sorted(bad.items)


def test_nothing_unsafe_reaches_description_html(bad: BadCrawl) -> None:
    for source_id, item in bad.items.items():
        html = item["description_html"] or ""
        assert not UNSAFE.search(html), (source_id, html[:500])
    hostile = bad.items["hostile"]
    assert "Build models." in hostile["description_text"] and "alert" not in hostile["description_text"]
    assert 'href="javascript' not in bad.items["escaped"]["description_html"]


def test_encodings_are_decoded_or_replaced(bad: BadCrawl) -> None:
    assert "Zürich \u2013 café" in bad.items["cp1252"]["description_text"]
    text = bad.items["badutf8"]["description_text"]
    assert text.startswith("Z") and "rich" in text  # the bad bytes become U+FFFD, the rest is kept


def test_malformed_blocks_and_missing_titles_are_counted(bad: BadCrawl) -> None:
    assert bad.stats["jobagg/jsonld/blocks_unparseable"] == 1
    assert bad.stats["jobagg/jsonld/posting_without_title"] == 1
    assert "unparseable JSON-LD block at https://bad.example/jobs/malformed.html" in bad.out.log


def test_absurd_values_are_cleared_and_counted(bad: BadCrawl) -> None:
    for name in ("old", "future"):
        item = bad.items[name]
        assert item["posted_at"] is None and item["salary_min"] is None and item["salary_max"] is None, item
    assert bad.stats["jobagg/field/posted_at/invalid"] >= 3  # 1970, 2100, and a date that is an object
    assert bad.stats["jobagg/field/salary_min/invalid"] >= 2 and bad.stats["jobagg/field/salary_max/invalid"] >= 2


def test_wrong_types_do_not_break_the_posting(bad: BadCrawl) -> None:
    item = next(i for k, i in bad.items.items() if "wrongtypes" in k)
    assert item["title"] == "12345" and item["posted_at"] is None and item["salary_min"] is None


def test_a_huge_description_is_cut_and_counted(bad: BadCrawl) -> None:
    item = bad.items["huge"]
    assert 0 < len(item["description_html"]) <= MAX_DESCRIPTION_CHARS + 100
    assert bad.stats["jobagg/field/description_html/invalid"] == 1


def _board(db_url: str, token: str) -> tuple[str | None, str | None]:
    with dbmod.session_scope(db_url) as session:
        board = session.scalar(select(Board).where(Board.ats == "jsonld", Board.token == token))
        assert board is not None
        return board.last_status, board.last_error


def test_a_gzip_bomb_sitemap_is_refused_at_the_size_limit(bad: BadCrawl) -> None:
    status, error = _board(bad.db_url, "bomb.example")
    assert status == "error" and f"inflates past {MAX_BYTES} bytes" in (error or "")
    assert bad.stats["jobagg/jsonld/sitemap_refused/too_large"] == 1


@pytest.mark.parametrize("host", ["laughs.example", "xxe.example"])
def test_sitemaps_with_entity_tricks_are_refused(bad: BadCrawl, host: str) -> None:
    status, error = _board(bad.db_url, host)
    assert status == "error" and "declares XML entities" in (error or "")
    assert bad.stats["jobagg/jsonld/sitemap_refused/entities"] == 2
    assert bad.secret not in bad.out.log and "hahaha" not in bad.out.log


def test_the_good_site_is_ok(bad: BadCrawl) -> None:
    assert _board(bad.db_url, SITE) == ("ok", None)
