"""The pure functions under the pipelines: text, dates, normalisation, validation."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from crawler.middlewares import retry_after_seconds
from pipelines.dates import relative_date, to_date, to_iso_date
from pipelines.normalize import employment_type, normalize, remote_mode, salary_period, to_number
from pipelines.text import clean_line, clean_text, html_to_text, sanitize_html, sanitized_html_to_text, unescape_markup
from pipelines.validate import problems
from tests.crawling import ATS_FIXTURES


def test_escaped_markup_is_unescaped_exactly_once() -> None:
    assert unescape_markup("&lt;p&gt;Fish &amp;amp; chips&lt;/p&gt;") == "<p>Fish &amp; chips</p>"
    # Real markup that merely contains an entity is left alone.
    assert unescape_markup("<p>5 &lt; 6</p>") == "<p>5 &lt; 6</p>"
    assert unescape_markup("no markup at all") == "no markup at all"


def test_sanitize_drops_scripts_frames_handlers_and_js_urls() -> None:
    dirty = (
        '<p onclick="steal()">Hi <a href="javascript:alert(1)">x</a> <a href="https://ok.example/">y</a></p>'
        "<script>alert(1)</script><style>p{}</style><iframe src='https://evil.example'></iframe>"
        "<img src=x onerror=alert(1)><form><input name=a></form>"
    )
    clean = sanitize_html(dirty)
    for bad in ("onclick", "javascript:", "<script", "alert(1)", "<style", "<iframe", "onerror", "<img", "<form"):
        assert bad not in clean
    assert 'href="https://ok.example/"' in clean and "Hi" in clean


def _descriptions() -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and key.lower() in {"content", "description", "descriptionhtml",
                                                                "jobdescription", "text"}:  # fmt: skip
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(Path(ATS_FIXTURES).rglob("*.json")):
        try:
            walk(json.loads(path.read_text()))
        except ValueError:
            continue
    return found


def test_fast_text_matches_beautifulsoup_on_every_fixture_description() -> None:
    """The regex text path is only valid on sanitised HTML; BeautifulSoup is the oracle for its content."""
    docs = _descriptions()
    assert len(docs) >= 20
    for doc in docs:
        html = sanitize_html(unescape_markup(doc))
        fast, slow = sanitized_html_to_text(html), html_to_text(html)
        assert fast.split() == slow.split()
        assert "<" not in fast.replace("&lt;", "")


def test_text_keeps_paragraphs_and_bullets() -> None:
    text = sanitized_html_to_text(sanitize_html("<p>One&nbsp;two</p><ul><li>A</li><li>B</li></ul><p>Three</p>"))
    assert text == "One two\n\n• A\n• B\n\nThree"
    assert clean_line("  Senior\n  ML &amp; AI   Engineer ") == "Senior ML & AI Engineer"


def test_clean_text_folds_odd_spaces_runs_and_blank_lines() -> None:
    raw = "a\u00a0\u00a0 b\t\tc\u2009\u3000d \r\n  \n\u200b\n\f\nE\u202f  f    \n\n\n\ng\n"
    assert clean_text(raw) == "a b c d\n\nE f\n\ng"
    assert clean_line("x\u2003\u2003y\u00a0 z") == "x y z"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-10-14T10:03:11-04:00", "2026-10-14"),
        ("2026-10-30T16:20:00Z", "2026-10-30"),
        ("2026-10-30", "2026-10-30"),
        (1761830400000, "2025-10-30"),  # Lever: epoch milliseconds
        ("1761830400000", "2025-10-30"),
        (1761830400, "2025-10-30"),
        ("Posted 3 Days Ago", "2026-11-22"),
        ("Posted Today", "2026-11-25"),
        ("Posted Yesterday", "2026-11-24"),
        ("Posted 30+ Days Ago", "2026-10-26"),
        ("sometime soon", None),
        ("", None),
    ],
)
def test_dates(raw: object, expected: str | None) -> None:
    assert to_iso_date(raw, today=date(2026, 11, 25)) == expected


# Forms DOL disclosure files use; the one parser reads them for matching as well as for postings.
DOL_DATES = [
    ("10/01/2024", date(2024, 10, 1)),
    ("9/30/2024", date(2024, 9, 30)),
    ("9/30/24", date(2024, 9, 30)),
    ("01-OCT-24", date(2024, 10, 1)),
    ("1-Oct-2024", date(2024, 10, 1)),
    ("2024-09-30 00:00:00", date(2024, 9, 30)),
    ("2024-09-30 00:00:00.000 UTC", date(2024, 9, 30)),
    ("2024/09/30", date(2024, 9, 30)),
    ("Oct 1, 2024", date(2024, 10, 1)),
    ("20240930", date(2024, 9, 30)),
    (datetime(2024, 9, 30, 14, 5), date(2024, 9, 30)),  # a spreadsheet cell read as a datetime
    (date(2024, 9, 30), date(2024, 9, 30)),
    ("13/45/2024", None),
    ("N/A", None),
    (45566.0, None),  # a bare number that is no plausible epoch is unreadable, not 1970
]


@pytest.mark.parametrize(("raw", "expected"), DOL_DATES)
def test_dol_dates_and_posting_dates_go_through_one_parser(raw: object, expected: date | None) -> None:
    from matching.values import parse_date

    assert to_date(raw) == expected
    assert parse_date(raw) == expected


def test_posting_date_cases_read_the_same_through_the_matching_entry_point() -> None:
    from matching.values import parse_date

    for raw in ("2026-10-14T10:03:11-04:00", "2026-10-30T16:20:00Z", 1761830400000, "1761830400000", 1761830400):
        assert parse_date(raw) == to_date(raw) is not None


def test_relative_date_never_returns_the_phrase() -> None:
    assert relative_date("Posted 2 weeks ago", date(2026, 11, 25)) == date(2026, 11, 11)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("FullTime", "full_time"), ("Full-time", "full_time"), ("Intern", "intern"), ("Contract", "contract"),
     ("Part Time", "part_time"), ("Temporary", "temporary"), (["FULL_TIME"], "full_time"), ("", None)],
)  # fmt: skip
def test_employment_type(raw: object, expected: str | None) -> None:
    assert employment_type(raw) == expected


def test_remote_and_period_and_numbers() -> None:
    assert remote_mode("Hybrid") == "hybrid" and remote_mode("TELECOMMUTE") == "remote"
    assert remote_mode("on-site") == "onsite" and remote_mode("San Francisco") is None
    assert salary_period("per-year-salary") == "year" and salary_period("HOURLY") == "hour"
    assert to_number("$123,000.50") == 123000.5 and to_number("150k") == 150000 and to_number("n/a") is None


def test_normalize_reports_unreadable_values_and_keeps_going() -> None:
    raw = {
        "ats": "lever", "board": "x", "source_id": "1", "title": " ML  Engineer ", "url": "https://x.example/1",
        "posted_at_raw": "not a date", "salary_min": "lots", "salary_max": "200000", "locations": 42,
        "salary_currency": "usd", "description_raw": "&lt;p&gt;Hello&lt;/p&gt;",
    }  # fmt: skip
    fields, invalid = normalize(raw)
    assert set(invalid) == {"posted_at", "salary_min", "locations"}
    assert fields["title"] == "ML Engineer" and fields["posted_at"] is None
    assert fields["salary_min"] is None and fields["salary_max"] == 200000.0 and fields["salary_currency"] == "USD"
    assert fields["locations"] == [] and fields["description_html"] == "<p>Hello</p>"
    assert fields["description_text"] == "Hello" and "description_raw" not in fields


def test_normalize_swaps_an_inverted_salary_range() -> None:
    fields, _ = normalize({"salary_min": 200000, "salary_max": 150000})
    assert (fields["salary_min"], fields["salary_max"]) == (150000.0, 200000.0)


def test_validate_separates_unusable_from_incomplete() -> None:
    item = {"ats": "greenhouse", "board": "b", "source_id": "1", "title": "T", "url": "ftp://x", "remote": "sometimes"}
    unusable, missing, invalid = problems({**item, "is_ml": "yes"})
    assert unusable == ["url 'ftp://x' is not http(s)"]
    assert "salary_min" in missing and "title" not in missing
    assert set(invalid) == {"remote", "is_ml"}
    unusable, _, _ = problems({"ats": "greenhouse", "board": "b", "url": "https://x"})
    assert unusable == ["no source_id", "no title"]
    _, _, invalid = problems({**item, "url": "https://x", "remote": ["remote"], "seniority": "wizard"})
    assert set(invalid) == {"remote", "seniority"}  # a list is not a vocabulary value, and must not crash


def test_pipelines_are_listed_in_the_order_they_run_and_unusable_items_never_reach_the_reader() -> None:
    from crawler import settings

    order = list(settings.ITEM_PIPELINES)
    assert list(settings.ITEM_PIPELINES.values()) == sorted(settings.ITEM_PIPELINES.values())
    position = {path.rsplit(".", 1)[1]: i for i, path in enumerate(order)}
    normalize_, drop, read = (
        position[n] for n in ("NormalizeFieldsPipeline", "DropUnusableItemsPipeline", "ReadAdPipeline")
    )
    assert normalize_ < drop < read < position["ValidateItemPipeline"] < position["StorePostingsPipeline"]


def test_an_item_whose_title_is_only_whitespace_is_dropped_after_normalising() -> None:
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from crawler.items import JobPostingItem
    from pipelines.unusable import DropUnusableItemsPipeline

    crawler = get_crawler()
    pipeline = DropUnusableItemsPipeline.from_crawler(crawler)
    item = JobPostingItem(ats="lever", board="b", source_id="1", url="https://x.example/1", title=" \n ")
    fields, _ = normalize(vars(item))
    item.title = fields["title"]
    with pytest.raises(DropItem, match="lever/b/1: no title"):
        pipeline.process_item(item)
    assert crawler.stats.get_value("jobagg/dropped/unusable") == 1
    item.title = "ML Engineer"
    assert pipeline.process_item(item) is item


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_the_primary_place_is_parsed_once_per_item() -> None:
    from pipelines.rules.places import _parse_place
    from pipelines.rules.read import read_posting

    raw = {"title": "ML Engineer", "locations": ["Seattle, WA | Remote (US)"], "remote_raw": None}
    _parse_place.cache_clear()
    fields, _ = normalize(raw)
    fields.update(read_posting(fields))
    calls = _parse_place.cache_info()
    assert calls.hits + calls.misses == 1
    assert (fields["city"], fields["region"], fields["country"], fields["remote"]) == ("Seattle", "WA", "US", "remote")


def test_one_remote_classifier_for_platform_values_and_locations() -> None:
    from pipelines.rules import places

    assert remote_mode is places.remote_mode
    fields, _ = normalize({"remote_raw": ["Hybrid", "Remote"], "locations": []})
    assert fields["remote"] == "remote"  # remote wins, as it does among locations
