"""Property tests: parsers, normalisers and reading rules take any input without raising, and their outputs stay
in their vocabularies. Example counts are modest so the suite stays fast."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.items import VOCABULARIES
from matching.normalize import clean_name, core_key, normalize_fein
from matching.values import parse_date
from pipelines.dates import to_date
from pipelines.normalize import MAX_SALARY, normalize, plausible_posting_date
from pipelines.rules.read import read_posting
from pipelines.text import clean_line, clean_text, sanitize_html, sanitized_html_to_text, unescape_markup
from spiders.jsonld import job_postings, parse_block, salary_fields

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# JSON-like values, as a platform may send in any field.
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
# Markup built from the pieces attackers use, shuffled with text.
hostile_bits = st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>", "<iframe src=//e></iframe>", "<p onclick='x'>", "</p>", "<style>*{}</style>",
    '<a href="  JaVaScRiPt:alert(1)">', "&lt;script&gt;alert(1)&lt;/script&gt;", "<math><mi>x</mi></math>",
    "<object data=x>", '<a href="data:text/html;base64,PHNjcmlwdD4=">', "<!--", "-->", "<![CDATA[", "<", ">", "&",
])  # fmt: skip
markup = st.lists(hostile_bits | st.text(max_size=20), max_size=12).map("".join)
UNSAFE = re.compile(r"<\s*(script|svg|iframe|style|object|embed|math|img)\b|\son[a-z]+\s*=|javascript:|data:", re.I)

FIELD_NAMES = ("title", "employer_name", "department", "locations", "description_raw", "posted_at_raw",
               "salary_min", "salary_max", "salary_currency", "salary_period", "employment_type_raw", "remote_raw",
               "source_id", "board", "requisition_id")  # fmt: skip


@FAST
@given(markup)
def test_sanitised_html_has_nothing_executable(value: str) -> None:
    for html in (sanitize_html(value), sanitize_html(unescape_markup(value))):
        assert not UNSAFE.search(html), html
        sanitized_html_to_text(html)


@FAST
@given(st.dictionaries(st.sampled_from(FIELD_NAMES), json_values | markup, max_size=len(FIELD_NAMES)))
def test_normalize_takes_any_field_values(fields: dict[str, Any]) -> None:
    out, invalid = normalize(fields)
    assert set(invalid) <= set(out) | {"locations", "description_html", "updated_at"}
    for name in ("employment_type", "remote", "salary_period"):
        assert out.get(name) is None or out[name] in VOCABULARIES[name], (name, out.get(name))
    for name in ("salary_min", "salary_max"):
        value = out.get(name)
        assert value is None or (isinstance(value, float) and math.isfinite(value) and 0 < value < MAX_SALARY)
    assert out.get("posted_at") is None or plausible_posting_date(out["posted_at"])
    assert out.get("salary_currency") is None or re.fullmatch(r"[A-Z]{3}", out["salary_currency"])
    assert isinstance(out["locations"], list) and all(isinstance(x, str) for x in out["locations"])
    assert out["description_html"] is None or not UNSAFE.search(out["description_html"])


@FAST
@given(st.dictionaries(st.sampled_from(FIELD_NAMES), json_values | markup, max_size=len(FIELD_NAMES)))
def test_the_reading_rules_stay_in_their_vocabularies(raw: dict[str, Any]) -> None:
    fields, _ = normalize(raw)
    out = read_posting(fields)
    for name, allowed in VOCABULARIES.items():
        if name in out:
            assert out[name] is None or out[name] in allowed, (name, out[name])
    assert isinstance(out["is_ml"], bool)
    assert out.get("country") is None or re.fullmatch(r"[A-Z]{2}", out["country"])


@FAST
@given(json_values | st.text(max_size=30) | st.datetimes().map(str))
@example("\u00b2")  # a superscript two: str.isdigit says yes, int() says no
def test_dates_never_raise(value: Any) -> None:
    for parsed in (to_date(value), parse_date(value)):
        assert parsed is None or isinstance(parsed, date)


@FAST
@given(st.text(max_size=200) | markup)
def test_json_ld_blocks_raise_only_value_error(text: str) -> None:
    try:
        data, _ = parse_block(text)
    except ValueError:
        return
    for posting in job_postings(data):
        assert isinstance(posting, dict)


@FAST
@given(json_values)
def test_json_ld_containers_and_salaries_take_any_json(data: Any) -> None:
    for posting in job_postings(data):
        salary_fields(posting)
    if isinstance(data, dict):
        salary_fields(data)


@FAST
@given(st.text(alphabet=" \t\n\r\f\v\u00a0\u2003\u200b\u202f\u3000\u2028\x85ab", max_size=40))
def test_clean_text_has_no_space_runs_blank_line_runs_or_edge_spaces(text: str) -> None:
    cleaned = clean_text(text)
    assert "  " not in cleaned and "\n\n\n" not in cleaned and cleaned == cleaned.strip()
    assert not any(line != line.strip() for line in cleaned.split("\n"))
    assert cleaned.split() == text.replace("\u200b", " ").split()  # words survive, in order


@FAST
@given(st.text(max_size=60) | markup)
def test_text_cleaners_and_employer_names_never_raise(text: str) -> None:
    assert "\n" not in clean_line(text)
    clean_name(text)
    core_key(text)
    fein = normalize_fein(text)
    assert fein is None or re.fullmatch(r"\d{2}-?\d{7}", fein)
