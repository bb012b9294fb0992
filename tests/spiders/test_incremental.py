"""Incremental re-crawls: a listed posting whose listing entry is unchanged since it was stored needs no detail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler import db as dbmod
from crawler.models import Posting
from crawler.offline.server import serve
from tests.crawling import ATS_FIXTURES
from tests.spiders.conftest import Crawl

CASES = [
    ("smartrecruiters", "meridianhealth", "meridianhealth.json", "/v1/companies/meridianhealth/postings/"),
    ("workday", "terrafab.wd1/TerraFabJobs", "terrafab.wd1__TerraFabJobs.json", "/wday/cxs/terrafab/TerraFabJobs/job/"),
]


def _stored(db_url: str) -> dict[str, dict]:
    with dbmod.session_scope(db_url) as session:
        return {
            p.source_id: {"title": p.title, "description": p.description_text, "seen": p.last_seen_at,
                          "closed": p.closed_at, "posted_at": p.posted_at}
            for p in session.scalars(select(Posting))
        }  # fmt: skip


@pytest.mark.parametrize(("spider", "token", "fixture", "detail_path"), CASES)
def test_recrawl_of_an_unchanged_board_costs_only_its_list_requests(
    crawl: Crawl, spider_db: str, tmp_path: Path, spider: str, token: str, fixture: str, detail_path: str
) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(ATS_FIXTURES / spider, root / spider)
    with serve(root) as server:
        first = crawl(spider, f"board={token}", "roles=all", srv=server)
        details_first = [p for _, p in server.requests if p.startswith(detail_path)]
        assert details_first and len(first.items) == len(details_first)
        before = _stored(spider_db)

        server.requests.clear()
        second = crawl(spider, f"board={token}", "roles=all", srv=server)
        assert [p for _, p in server.requests if p.startswith(detail_path)] == []  # only list requests
        after = _stored(spider_db)
        # Every posting is still open, refreshed, and keeps what the detail said; the export still has them all.
        assert set(after) == set(before)
        for sid, row in after.items():
            assert row["closed"] is None and row["seen"] > before[sid]["seen"]
            assert {k: row[k] for k in ("title", "description", "posted_at")} == {
                k: before[sid][k] for k in ("title", "description", "posted_at")
            }
        assert sorted(i["source_id"] for i in second.items) == sorted(i["source_id"] for i in first.items)
        assert all(i["title"] and i["url"] for i in second.items)

        # A changed listing entry costs exactly its own detail request.
        path = root / spider / fixture
        board = json.loads(path.read_text())
        key = "content" if spider == "smartrecruiters" else "jobPostings"
        title_key = "name" if spider == "smartrecruiters" else "title"
        entry = board[key][0]
        entry[title_key] = entry[title_key] + " II"
        path.write_text(json.dumps(board))
        server.requests.clear()
        crawl(spider, f"board={token}", "roles=all", srv=server)
        assert len([p for _, p in server.requests if p.startswith(detail_path)]) == 1
