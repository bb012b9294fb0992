"""One structural test over every spider: it imports, is named after its file, declares its board format,
and parses its fixture boards (tests/fixtures/ats/<spider>/) into items with the contract fields."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
from scrapy.spiderloader import SpiderLoader

from crawler.crawl import project_settings
from crawler.items import CONTRACT_FIELDS
from crawler.offline.server import serve
from spiders.base import AtsSpider
from tests.crawling import ATS_FIXTURES, scrapy_crawl

LOADER = SpiderLoader.from_settings(project_settings())
SPIDERS = sorted(LOADER.list())
EXPECTED = json.loads((ATS_FIXTURES / "expected.json").read_text())
ATS_SPIDERS = [n for n in SPIDERS if issubclass(LOADER.load(n), AtsSpider)]


def test_every_design_platform_has_a_spider() -> None:
    assert {"greenhouse", "lever", "ashby", "workday", "smartrecruiters", "jsonld"} <= set(SPIDERS)


@pytest.mark.parametrize("name", SPIDERS)
def test_spider_shape(name: str) -> None:
    cls = LOADER.load(name)
    assert Path(inspect.getfile(cls)).stem == name, "a spider's module is named after the spider"
    assert cls.__doc__ or inspect.getmodule(cls).__doc__, "a spider says what it crawls"
    if issubclass(cls, AtsSpider):
        assert cls.board_format and re.compile(cls.board_format)
        assert cls.api_origin.startswith("https://")
        # One hook for tenant quirks, with the base signature.
        assert inspect.signature(cls.adjust) == inspect.signature(AtsSpider.adjust)


@pytest.mark.parametrize("name", ATS_SPIDERS)
def test_spider_parses_its_fixture_boards(name: str, tmp_path: Path) -> None:
    boards = EXPECTED.get(name)
    assert boards, f"tests/fixtures/ats/expected.json lists no fixture board for {name}"
    db_url = f"sqlite:///{tmp_path / 'structure.db'}"
    with serve(ATS_FIXTURES) as server:
        for token, expect in boards.items():
            # Fixture-specific arguments (a small page size or result cap, a jsonld start URL) come from expected.json.
            extra = [arg for value in expect.get("args", []) for arg in ("-a", value)]
            out = scrapy_crawl(name, tmp_path, db_url, "-a", f"board={token}", "-a", f"api_base={server.base_url}",
                               "-a", "roles=all", *extra)  # fmt: skip
            assert out.returncode == 0, out.log[-3000:]
            assert "Traceback" not in out.log, out.log[-3000:]
            items = out.items
            assert len(items) == expect["listed"], f"{name}/{token}: {len(items)} items\n{out.log[-2000:]}"
            ids = [i["source_id"] for i in items]
            assert len(ids) == len(set(ids)), "source ids are unique"
            assert sum(1 for i in items if i["is_ml"]) == expect["ml"]
            for item in items:
                assert set(CONTRACT_FIELDS) <= set(item), set(CONTRACT_FIELDS) - set(item)
                assert item["ats"] == name and item["board"] == token
                assert item["title"] and item["url"].startswith("http") and item["employer_name"]
                if item["posted_at"] is not None:
                    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["posted_at"])
                assert "<script" not in (item["description_html"] or "")
                assert "<" not in (item["description_text"] or "")
            if expect.get("status"):
                assert f"is {expect['status']}" in out.log
