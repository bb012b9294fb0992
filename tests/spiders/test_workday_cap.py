"""Workday past the 2,000 cap, against an emulator that caps `total` as the service does: the spider reads the
real size from the facets, splits until every slice is under the cap, and follows each posting once; when the
slices cannot show every posting, the board is `error` and nothing closes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crawler.offline.server import serve
from tests.crawling import scrapy_crawl
from tests.spiders.conftest import board_row, last_run

# The local server is ours (scrapy_crawl asks no politeness delay of it): no retries, so that the requests it
# counts are the spider's plan.
FAST = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "RETRY_ENABLED=False"]


def tenant(postings: list[dict[str, Any]], descriptors: dict[str, dict[str, str]], cap: int = 2000) -> dict[str, Any]:
    """A tenant file for the local server: list entries with their facet values, and a detail for each."""
    entries, details = [], {}
    for p in postings:
        path = f"/job/{p['place']}/{p['slug']}_{p['req']}"
        entries.append({"title": p["title"], "externalPath": path, "locationsText": p["place"],
                        "postedOn": "Posted Today", "bulletFields": [p["req"]], "facets": p["facets"]})  # fmt: skip
        details[path] = {
            "jobPostingInfo": {"title": p["title"], "jobDescription": f"<p>{p['title']}.</p>", "location": p["place"],
                               "startDate": "2026-11-02", "jobReqId": p["req"], "timeType": "Full time"},
            "hiringOrganization": {"name": "Big Tenant Inc."},
        }  # fmt: skip
    facet_descriptors = {k: {"descriptor": k, "values": v} for k, v in descriptors.items()}
    return {"jobPostings": entries, "facetDescriptors": facet_descriptors, "details": details, "resultCap": cap}


def big_tenant(n: int = 4500) -> tuple[dict[str, Any], set[str]]:
    """n postings: job families 60/22/18 %, time types 70/30 %, and one to three overlapping locations each.

    Every facet's largest value passes 2,000 (Engineering 2,700, Full time 3,150, USA 3,000), so one split
    is not enough: Engineering must be split again (Full time 1,890 + Part time 810)."""
    postings, ml = [], set()
    for i in range(n):
        family = "ENG" if i % 50 < 30 else "SAL" if i % 50 < 41 else "OPS"
        places = [
            p for p, keep in (("USA", i % 3 != 2), ("CAN", i % 3 == 2 or i % 4 == 0), ("DEU", i % 7 == 0)) if keep
        ]
        is_ml = i % 45 == 0
        title = f"Machine Learning Engineer {i}" if is_ml else f"Account Executive {i}"
        req = f"JR-{i:05d}"
        if is_ml:
            ml.add(f"{title.replace(' ', '-')}_{req}")
        postings.append({"title": title, "slug": title.replace(" ", "-"), "req": req, "place": places[0],
                         "facets": {"jobFamilyGroup": [family], "timeType": ["PT" if i % 10 < 3 else "FT"],
                                    "locations": places}})  # fmt: skip
    descriptors = {"jobFamilyGroup": {"ENG": "Engineering", "SAL": "Sales", "OPS": "Operations"},
                   "timeType": {"FT": "Full time", "PT": "Part time"},
                   "locations": {"USA": "United States", "CAN": "Canada", "DEU": "Germany"}}  # fmt: skip
    return tenant(postings, descriptors), ml


def write_tenant(root: Path, token: str, board: dict[str, Any]) -> None:
    (root / "workday").mkdir(parents=True, exist_ok=True)
    (root / "workday" / f"{token.replace('/', '__')}.json").write_text(json.dumps(board))


def test_a_tenant_past_the_cap_is_split_twice_and_every_posting_listed_once(tmp_path: Path) -> None:
    token = "bigco.wd5/BigCareers"
    board, ml_ids = big_tenant()
    write_tenant(tmp_path / "corpus", token, board)
    db_url = f"sqlite:///{tmp_path / 'cap.db'}"
    with serve(tmp_path / "corpus") as server:
        out = scrapy_crawl("workday", tmp_path, db_url, "-a", f"board={token}", "-a", f"api_base={server.base_url}",
                           *FAST, timeout=600)  # fmt: skip
        searches = [r for r in server.requests if r[0] == "POST"]
    assert out.returncode == 0 and "Traceback" not in out.log, out.log[-3000:]
    run = last_run(db_url, "workday")
    state = run.boards[token]
    assert state["status"] == "ok", state
    # Every posting was listed exactly once (the role filter skipped the non-ML ones before any detail request).
    assert state["listed"] == 4500 and state["skipped_by_role"] == 4500 - len(ml_ids)
    ids = [i["source_id"] for i in out.items]
    assert len(ids) == len(set(ids)) and set(ids) == ml_ids
    assert run.stats["jobagg/workday/facet_splits"] == 2
    # First pages of the root and of Engineering (both split, not paged), then 20 a page through the slices
    # under the cap: Engineering/Full time 1,890 (95 pages), Engineering/Part time 810 (41), Sales 990 (50),
    # Operations 810 (41).
    assert len(searches) == 2 + 95 + 41 + 50 + 41


def test_slices_that_miss_postings_leave_the_board_in_error(tmp_path: Path) -> None:
    # 50 postings; one time type says so. The only facet that splits is locations: A holds 0-29, B 20-39, and
    # postings 40-49 have no location. The slices (30 + 20, overlapping) show 40 of the 50.
    token = "gapco.wd1/GapJobs"
    postings = []
    for i in range(50):
        places = [p for p, keep in (("A", i < 30), ("B", 20 <= i < 40)) if keep]
        postings.append({"title": f"ML Engineer {i}", "slug": f"ML-Engineer-{i}", "req": f"R{i}", "place": "X",
                         "facets": {"timeType": ["FT"], "locations": places}})  # fmt: skip
    write_tenant(tmp_path / "corpus", token, tenant(postings, {"timeType": {"FT": "Full time"},
                                                              "locations": {"A": "A", "B": "B"}}, cap=30))  # fmt: skip
    db_url = f"sqlite:///{tmp_path / 'gap.db'}"
    with serve(tmp_path / "corpus") as server:
        out = scrapy_crawl("workday", tmp_path, db_url, "-a", f"board={token}", "-a", f"api_base={server.base_url}",
                           "-a", "result_cap=30", "-a", "roles=all", *FAST)  # fmt: skip
    assert out.returncode == 0 and "Traceback" not in out.log, out.log[-3000:]
    assert len(out.items) == 40
    row = board_row(db_url, "workday", token)
    assert row["last_status"] == "error" and "40 of 50" in row["last_error"]
    assert last_run(db_url, "workday").closed_count == 0
