"""One pure entry point: everything the ad-reading rules derive from a posting's fields.

Used by `ReadAdPipeline` on every crawled item and by `jobagg reclassify` on stored rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.rules.degree import read_degree
from pipelines.rules.pay import salary_from_text
from pipelines.rules.places import parse_place
from pipelines.rules.roles import classify_role
from pipelines.rules.seniority import seniority
from pipelines.rules.sponsorship import REFUSED, read_sponsorship

# Always returned: the fields these rules own.
DERIVED_FIELDS = (
    "is_ml",
    "role_family",
    "seniority",
    "sponsorship_statement",
    "sponsorship_sentence",
    "degree_min",
    "eb_category_hint",
    "years_experience_min",
)
# Returned only to fill gaps the platform's structured data left.
SALARY_FIELDS = ("salary_min", "salary_max", "salary_currency", "salary_period")
PLACE_FIELDS = ("city", "region", "country")


def read_posting(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Derived fields for one posting.

    Always: is_ml, role_family, seniority, and the sponsorship / degree fields (None when there is no
    description to read: the ad was not seen, which is not the same as "not mentioned"; a title that rules visa
    holders out is a refusal either way). Salary fields only
    when the input has no salary and the text states one; city/region/country only when the input has none of
    them (or agrees on the country); remote only when the input has none.
    """
    title = fields.get("title") or ""
    description = fields.get("description_text") or None
    role = classify_role(title, fields.get("department"), description)
    out: dict[str, Any] = {"is_ml": role.is_ml, "role_family": role.role_family, "seniority": seniority(title)}
    # A title can state a requirement the body never repeats: "Machine Learning Engineer (TS/SCI Required)".
    from_title = read_sponsorship(title)
    if description:
        sponsorship = read_sponsorship(description)
        if from_title.statement == REFUSED and sponsorship.statement != REFUSED:
            sponsorship = from_title
        degree = read_degree(description)
        out.update(
            sponsorship_statement=sponsorship.statement,
            sponsorship_sentence=sponsorship.sentence,
            degree_min=degree.degree_min,
            eb_category_hint=degree.eb_category_hint,
            years_experience_min=degree.years_experience_min,
        )
        if fields.get("salary_min") is None and fields.get("salary_max") is None:
            salary = salary_from_text(description)
            if salary is not None:
                out.update(zip(SALARY_FIELDS, salary, strict=True))
    else:
        out.update(dict.fromkeys(DERIVED_FIELDS[3:]))
        if from_title.statement == REFUSED:
            out.update(sponsorship_statement=from_title.statement, sponsorship_sentence=from_title.sentence)
    out.update(_place(fields))
    return out


def _place(fields: Mapping[str, Any]) -> dict[str, Any]:
    have = {key: fields.get(key) for key in PLACE_FIELDS}
    remote = fields.get("remote")
    if all(have.values()) and remote:
        return {}
    locations = fields.get("locations") or []
    if isinstance(locations, str):
        locations = [locations]
    place = parse_place(list(locations), remote_hint=remote)
    out: dict[str, Any] = {}
    # Fill gaps only from a reading that agrees with the country we already have.
    if have["country"] is None or place.country == have["country"]:
        for key in PLACE_FIELDS:
            value = getattr(place, key)
            if have[key] is None and value is not None:
                out[key] = value
    if remote is None and place.remote is not None:
        out["remote"] = place.remote
    return out
