"""Spiders learn their boards from the callable named by JOBAGG_BOARD_SOURCE, never from the registry itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler.boards import BoardRef
from crawler.offline.server import serve
from tests.crawling import ATS_FIXTURES, scrapy_crawl
from tests.spiders.conftest import board_row


def fixture_boards(ats: str, token: str | None, settings: Any) -> list[BoardRef]:
    """A board source that is not the database: two fixture boards, the employer named here."""
    assert settings.get("JOBAGG_BOARD_SOURCE") == f"{__name__}.fixture_boards"
    return [BoardRef("lumenlabs", "Lumen Labs (from the source)"), BoardRef("emptyco")] if token is None else []


def test_boards_come_from_the_setting(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'source.db'}"
    with serve(ATS_FIXTURES) as server:
        out = scrapy_crawl("greenhouse", tmp_path, db_url, "-a", f"api_base={server.base_url}", "-a", "roles=all",
                           "-s", f"JOBAGG_BOARD_SOURCE={__name__}.fixture_boards")  # fmt: skip
    assert out.returncode == 0 and "Traceback" not in out.log, out.log[-3000:]
    assert len(out.items) == 4 and {i["employer_name"] for i in out.items} == {"Lumen Labs (from the source)"}
    # Nothing registered these boards: the crawl added them, with the state it found.
    assert board_row(db_url, "greenhouse", "lumenlabs")["last_status"] == "ok"
    assert board_row(db_url, "greenhouse", "emptyco")["last_status"] == "dead"


def test_the_default_source_is_the_registry(tmp_path: Path) -> None:
    from scrapy.settings import Settings

    from crawler import registry

    settings = Settings({"JOBAGG_DATABASE_URL": f"sqlite:///{tmp_path / 'reg.db'}"})
    settings.setmodule("crawler.settings", priority="default")
    assert settings.get("JOBAGG_BOARD_SOURCE") == "crawler.registry.board_source"
    # An unregistered token is crawled as given; no registry boards means nothing to crawl.
    assert registry.board_source("lever", "acme", settings) == [BoardRef("acme")]
    assert registry.board_source("lever", None, settings) == []
