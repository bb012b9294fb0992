"""docs/adding-a-spider.md's worked example is a real spider: the page shows exactly docs/examples/recruitee.py
and the local server's route, and the file crawls its fixture board through the real pipelines."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from crawler.offline import server
from crawler.offline.server import serve
from tests.crawling import ATS_FIXTURES, REPO, scrapy_crawl
from tests.spiders.conftest import board_row

DOC = REPO / "docs" / "adding-a-spider.md"
EXAMPLE = REPO / "docs" / "examples" / "recruitee.py"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_page_shows_the_example_file_and_the_route() -> None:
    blocks = python_blocks(DOC.read_text(encoding="utf-8"))
    assert EXAMPLE.read_text(encoding="utf-8") in blocks, "the worked example drifted from docs/examples/recruitee.py"
    assert inspect.getsource(server.recruitee_offers) in blocks, "the route shown drifted from the local server's"


def runspider(tmp_path: Path, db_url: str, base: str, *args: str) -> tuple[list[dict], str]:
    out = scrapy_crawl("recruitee", tmp_path, db_url, "-a", f"api_base={base}", *args, runspider=EXAMPLE)
    assert out.returncode == 0 and "Traceback" not in out.log, out.log[-3000:]
    return out.items, out.log


def test_the_example_spider_crawls_its_fixture(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'example.db'}"
    with serve(ATS_FIXTURES) as srv:
        items, log = runspider(tmp_path, db_url, srv.base_url, "-a", "board=acme", "-a", "roles=all")
        ml_items, _ = runspider(tmp_path, db_url, srv.base_url, "-a", "board=acme")
        runspider(tmp_path, db_url, srv.base_url, "-a", "board=ghost")
    by_title = {i["title"]: i for i in items}
    assert set(by_title) == {"Machine Learning Engineer", "Research Scientist, NLP", "Account Executive"}
    assert "'jobagg/recruitee/posting_without_id': 1" in log  # the offer without an id is counted, not a crash
    mle = by_title["Machine Learning Engineer"]
    assert (mle["ats"], mle["board"], mle["source_id"]) == ("recruitee", "acme", "81001")
    assert mle["url"] == "https://acme.recruitee.com/o/machine-learning-engineer"
    assert mle["posted_at"] == "2026-10-01" and mle["country"] == "DE" and mle["employer_name"] == "acme"
    nlp = by_title["Research Scientist, NLP"]
    assert nlp["remote"] == "remote" and nlp["locations"] == [] and "&amp;" not in nlp["description_text"]
    assert {i["title"] for i in ml_items} == {"Machine Learning Engineer", "Research Scientist, NLP"}
    assert board_row(db_url, "recruitee", "acme")["last_status"] == "ok"
    assert board_row(db_url, "recruitee", "ghost")["last_status"] == "dead"
