"""The read API over real databases, called over HTTP as another program would."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.web.conftest import LiveServer


def get(server: LiveServer, path: str, **params: Any) -> tuple[int, Any, dict[str, str]]:
    url = server.base_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            body = resp.read()
            return resp.status, json.loads(body) if "json" in resp.headers["content-type"] else body, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read()), dict(exc.headers)


def all_pages(server: LiveServer, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        status, body, _ = get(server, "/postings", **params, **({"cursor": cursor} if cursor else {}))
        assert status == 200, body
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


def test_filters_narrow_to_what_they_name(api: LiveServer) -> None:
    status, body, _ = get(api, "/postings", visa="green_card", tag="likely", ml="true", limit=200)
    assert status == 200
    items = body["items"]
    assert items, "the demo has green-card-likely ML postings"
    assert all(i["green_card_tag"] == "likely" and i["is_ml"] == 1 for i in items)
    assert all(re.search(r"\d+ certified PERM cases? for", i["green_card_reason"]) for i in items)
    _, everything, _ = get(api, "/postings", limit=200)
    assert len(everything["items"]) > len(items)
    # visa alone: that visa's likely or possible postings
    _, gc_any, _ = get(api, "/postings", visa="h1b", limit=200)
    assert {i["h1b_tag"] for i in gc_any["items"]} <= {"likely", "possible"}


def test_each_filter_applies(api: LiveServer) -> None:
    everything = all_pages(api, limit=200)
    sample = next(i for i in everything if i["seniority"] and i["role_family"] and i["city"] and i["salary_max"])
    checks = {
        "seniority": (sample["seniority"], lambda i: i["seniority"] == sample["seniority"]),
        "role": (sample["role_family"], lambda i: i["role_family"] == sample["role_family"]),
        "city": (sample["city"].upper(), lambda i: (i["city"] or "").lower() == sample["city"].lower()),
        "country": (sample["country"].lower(), lambda i: i["country"] == sample["country"]),
        "employer": (sample["employer"][:4].lower(), lambda i: sample["employer"][:4].lower() in i["employer"].lower()),
        "salary_at_least": (
            sample["salary_max"],
            lambda i: (i["salary_max"] or i["salary_min"]) >= sample["salary_max"],
        ),
        "q": (sample["title"].split()[0], lambda i: True),
    }
    for name, (value, ok) in checks.items():
        got = all_pages(api, **{name: value})
        assert got and all(ok(i) for i in got), name
        expected = [i for i in everything if ok(i)] if name != "q" else None
        if expected is not None:
            assert {i["posting_id"] for i in got} == {i["posting_id"] for i in expected}, name
    dated = sorted(i["posted_at"] for i in everything if i["posted_at"])
    since = dated[len(dated) // 2]
    got = all_pages(api, posted_since=since)
    assert {i["posting_id"] for i in got} == {i["posting_id"] for i in everything if (i["posted_at"] or "") >= since}


def test_keyset_pages_cover_everything_once_in_a_stable_order(api: LiveServer) -> None:
    paged = all_pages(api, limit=7)
    _, whole, _ = get(api, "/postings", limit=200)
    assert [i["posting_id"] for i in paged] == [i["posting_id"] for i in whole["items"]]
    assert len({i["posting_id"] for i in paged}) == len(paged)
    keys = [(i["posted_at"] is None, "" if i["posted_at"] is None else i["posted_at"], i["posting_id"]) for i in paged]
    dated = [k for k in keys if not k[0]]
    assert dated == sorted(dated, key=lambda k: (k[1], k[2]), reverse=True)
    assert all(k[0] for k in keys[len(dated) :]), "undated postings come last"


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"visa": "o1"}, "visa"),
        ({"tag": "certain"}, "tag"),
        ({"seniority": "guru"}, "seniority"),
        ({"posted_since": "last week"}, "posted_since"),
        ({"salary_at_least": "lots"}, "salary_at_least"),
        ({"country": "USA"}, "country"),
        ({"limit": "0"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"senority": "staff"}, "senority"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(api: LiveServer, params: dict[str, str], name: str) -> None:
    status, body, _ = get(api, "/postings", **params)
    assert status == 422
    assert body["detail"][0]["loc"] == ["query", name]


def test_posting_detail_has_the_full_evidence(api: LiveServer) -> None:
    _, body, _ = get(api, "/postings", visa="green_card", tag="likely", limit=1)
    pid = body["items"][0]["posting_id"]
    status, detail, _ = get(api, f"/postings/{pid}")
    assert status == 200
    gc = detail["sponsorship"]["green_card"]
    assert gc["tag"] == "likely" and gc["reason"] == body["items"][0]["green_card_reason"]
    ev = gc["evidence"]
    assert ev["employer"]["entities"] and ev["by_fiscal_year"] and ev["similar_role"]["certified"] >= 1
    assert detail["description_text"]
    assert get(api, "/postings/999999")[0] == 404


def test_employer_has_filings_by_fiscal_year(api: LiveServer) -> None:
    _, body, _ = get(api, "/postings", visa="green_card", tag="likely", limit=1)
    eid = body["items"][0]["employer_id"]
    status, emp, _ = get(api, f"/employers/{eid}")
    assert status == 200
    years = emp["filings_by_fiscal_year"]
    assert years and [y["fiscal_year"] for y in years] == sorted(y["fiscal_year"] for y in years)
    assert sum(y["perm_certified"] for y in years) >= 3
    assert any(m["role"] == "match" for m in emp["dol_matches"])
    assert get(api, "/employers/999999")[0] == 404


def test_stats_and_openapi(api: LiveServer) -> None:
    _, stats, _ = get(api, "/stats")
    _, everything, _ = get(api, "/postings", limit=200)
    assert stats["open_postings"] == len(everything["items"])
    # Postings outside the US get no US visa tag.
    abroad = sum(1 for i in everything["items"] if i["country"] not in (None, "US"))
    assert abroad and sum(stats["tags"]["green_card"].values()) == stats["open_postings"] - abroad
    status, spec, _ = get(api, "/openapi.json")
    assert status == 200
    names = {p["name"] for p in spec["paths"]["/postings"]["get"]["parameters"]}
    assert {"visa", "tag", "role", "seniority", "remote", "country", "region", "city", "employer"} <= names
    assert {"posted_since", "salary_at_least", "q", "cursor", "limit"} <= names
    assert {"/postings/{posting_id}", "/employers/{employer_id}", "/stats"} <= set(spec["paths"])


def test_read_only(api: LiveServer) -> None:
    req = urllib.request.Request(api.base_url + "/postings", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    exc.value.close()
    assert exc.value.code == 405


def test_atom_feed_for_a_filter(api: LiveServer) -> None:
    from xml.etree import ElementTree as ET

    status, body, headers = get(api, "/feeds/postings.atom", visa="green_card", tag="likely")
    assert status == 200 and headers["content-type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(body)
    entries = feed.findall("a:entry", ns)
    _, listing, _ = get(api, "/postings", visa="green_card", tag="likely", limit=50)
    assert len(entries) == len(listing["items"])
    first = entries[0]
    assert first.find("a:id", ns).text == f"urn:jobagg:posting:{listing['items'][0]['posting_id']}"
    assert first.find("a:link", ns).get("href").endswith(f"/jobs/{listing['items'][0]['posting_id']}")
    assert "Green card: likely" in first.find("a:summary", ns).text
    assert get(api, "/feeds/postings.atom", tag="nope")[0] == 422


def test_docs_list_every_filter() -> None:
    from pathlib import Path

    from crawler.web.query import FILTER_SPECS

    doc = (Path(__file__).parents[2] / "docs" / "web.md").read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in doc for name in FILTER_SPECS)
