"""The job posting item: a typed dataclass whose fields document themselves.

Field names are a contract. Each field's metadata carries its description (`doc`), its group (`contract`
fields are exported; `raw` values sit beside the normalised ones; `internal` bookkeeping is never exported;
`extra` holds the platform's other values) and, for a closed vocabulary, the allowed `values`.
`docs/fields.md` is generated from these (`python -m crawler.items > docs/fields.md`); a test fails when the
two drift apart.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Any

CONTRACT, RAW, INTERNAL, EXTRA = "contract", "raw", "internal", "extra"

# Vocabularies the reading rules, the database and the front ends share; defined once, here.
ROLE_FAMILIES: tuple[str, ...] = (
    "ml_engineer",
    "research_scientist",
    "research_engineer",
    "applied_scientist",
    "data_scientist",
    "ml_infra",
    "perception",
    "nlp",
    "speech",
    "recsys",
)
# In order of rank: individual levels, then management.
SENIORITIES: tuple[str, ...] = (
    "intern",
    "junior",
    "mid",
    "senior",
    "staff",
    "senior_staff",
    "principal",
    "distinguished",
    "manager",
    "director",
    "executive",
)
REMOTE_MODES: tuple[str, ...] = ("remote", "hybrid", "onsite")


def _doc(group: str, doc: str, values: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A field's metadata: its group, what it means and, for a closed vocabulary, the allowed values."""
    return {"group": group, "doc": doc, **({"values": values} if values else {})}


@dataclass(eq=False)
class JobPostingItem:
    """One posting. Spiders fill platform values; pipelines fill the normalised and derived ones.

    Every field defaults to None. Besides attribute access, `item["name"]` and `item.get("name")` work for
    declared fields (an unknown name is a KeyError), so tenant hooks and tests can treat it like a mapping.
    """

    ats: str | None = field(
        default=None,
        metadata=_doc(
            CONTRACT, "Platform family that served the posting: the spider name (`greenhouse`, `lever`, `workday`...)."
        ),
    )
    board: str | None = field(
        default=None,
        metadata=_doc(
            CONTRACT, "Board token on that platform, e.g. `anthropic` or `nvidia.wd5/NVIDIAExternalCareerSite`."
        ),
    )
    source_id: str | None = field(
        default=None,
        metadata=_doc(CONTRACT, "The platform's own id of the posting; unique together with `ats` and `board`."),
    )
    url: str | None = field(default=None, metadata=_doc(CONTRACT, "Public page of the posting (http or https)."))
    apply_url: str | None = field(
        default=None, metadata=_doc(CONTRACT, "Application page, when the platform gives one apart from `url`.")
    )
    title: str | None = field(default=None, metadata=_doc(CONTRACT, "Job title as shown, whitespace cleaned."))
    employer_name: str | None = field(
        default=None,
        metadata=_doc(
            CONTRACT, "Employer as displayed by the board or the registry; kept exactly, since matching needs it."
        ),
    )
    department: str | None = field(default=None, metadata=_doc(CONTRACT, "Department or team as shown."))
    requisition_id: str | None = field(
        default=None, metadata=_doc(CONTRACT, "The employer's requisition number, when shown.")
    )
    locations: list[str] | None = field(
        default=None, metadata=_doc(CONTRACT, "Location strings as shown, in the platform's order.")
    )
    city: str | None = field(
        default=None, metadata=_doc(CONTRACT, "City of the primary location, normalised (`NYC` -> `New York`).")
    )
    region: str | None = field(
        default=None,
        metadata=_doc(
            CONTRACT, "Region of the primary location: state/province code in US/CA/AU (`CA`), the name elsewhere."
        ),
    )
    country: str | None = field(
        default=None, metadata=_doc(CONTRACT, "Country of the primary location, ISO 3166 alpha-2 (`US`).")
    )
    remote: str | None = field(
        default=None,
        metadata=_doc(CONTRACT, "Where the work is done; null when nothing says.", REMOTE_MODES),
    )
    employment_type: str | None = field(
        default=None,
        metadata=_doc(
            CONTRACT,
            "Kind of employment; null when not stated.",
            ("full_time", "part_time", "contract", "intern", "temporary"),
        ),
    )
    posted_at: str | None = field(
        default=None,
        metadata=_doc(CONTRACT, "Date posted, ISO 8601 (`2026-11-02`); never a relative phrase; null when unknown."),
    )
    salary_min: float | None = field(
        default=None,
        metadata=_doc(CONTRACT, "Lower end of the pay range, a number in `salary_currency` per `salary_period`."),
    )
    salary_max: float | None = field(
        default=None, metadata=_doc(CONTRACT, "Upper end of the pay range (equal to `salary_min` for a single figure).")
    )
    salary_currency: str | None = field(
        default=None, metadata=_doc(CONTRACT, "Currency of the pay range, ISO 4217 (`USD`).")
    )
    salary_period: str | None = field(
        default=None,
        metadata=_doc(CONTRACT, "Period the pay figures are for.", ("year", "month", "week", "day", "hour")),
    )
    description_text: str | None = field(
        default=None, metadata=_doc(CONTRACT, "The ad as plain text, paragraphs and bullets kept as lines.")
    )
    description_html: str | None = field(
        default=None, metadata=_doc(CONTRACT, "The ad as sanitised HTML: no script, style, iframe or event handlers.")
    )
    is_ml: bool | None = field(
        default=None,
        metadata=_doc(
            CONTRACT, "Whether the role is an ML role (title first; department and description settle open cases)."
        ),
    )
    role_family: str | None = field(
        default=None,
        metadata=_doc(
            CONTRACT,
            "Family of an ML role; null when not ML.",
            ROLE_FAMILIES,
        ),
    )
    seniority: str | None = field(
        default=None,
        metadata=_doc(
            CONTRACT,
            "Level read from the title; null when it names none.",
            SENIORITIES,
        ),
    )
    degree_min: str | None = field(
        default=None,
        metadata=_doc(
            CONTRACT, "Lowest degree the ad requires; null when it names none.", ("bachelor", "master", "phd")
        ),
    )
    eb_category_hint: str | None = field(
        default=None,
        metadata=_doc(
            CONTRACT,
            "Green-card category the requirements point to: `EB-2` (advanced degree, or bachelor + 5 years),"
            " `EB-3`; null when unclear.",
            ("EB-2", "EB-3"),
        ),
    )
    years_experience_min: float | None = field(
        default=None, metadata=_doc(CONTRACT, "Fewest years of experience the ad asks for.")
    )
    sponsorship_statement: str | None = field(
        default=None,
        metadata=_doc(
            CONTRACT,
            'What the ad itself says about visa sponsorship (a title ruling visa holders out, "ML Engineer '
            '(TS/SCI Required)", is a refusal too); null when there is neither a description to read nor such a '
            "title.",
            ("offered", "refused", "not_mentioned"),
        ),
    )
    sponsorship_sentence: str | None = field(
        default=None, metadata=_doc(CONTRACT, "The sentence of the ad that says it.")
    )

    posted_at_raw: Any = field(
        default=None, metadata=_doc(RAW, "Posting date as the platform sent it (timestamp, epoch or relative text).")
    )
    updated_at_raw: Any = field(default=None, metadata=_doc(RAW, "Last-updated date as the platform sent it."))
    remote_raw: Any = field(default=None, metadata=_doc(RAW, "Remote/workplace value as the platform sent it."))
    employment_type_raw: Any = field(default=None, metadata=_doc(RAW, "Employment type as the platform sent it."))
    salary_raw: str | None = field(
        default=None, metadata=_doc(RAW, "Pay as the platform wrote it, when it gave text rather than numbers.")
    )
    description_raw: str | None = field(
        default=None,
        metadata=_doc(
            RAW, "The ad's HTML as sent (possibly escaped); consumed by normalisation, never stored or exported."
        ),
    )

    raw_hash: str | None = field(
        default=None, metadata=_doc(INTERNAL, "Hash of the item as the spider sent it (plus the rules' version).")
    )
    unchanged_id: int | None = field(
        default=None,
        metadata=_doc(
            INTERNAL, "Stored posting id when `raw_hash` equals the stored one: normalising and reading are skipped."
        ),
    )
    listing_unchanged: bool | None = field(
        default=None,
        metadata=_doc(
            INTERNAL,
            "Set by a spider that skipped the detail request because the listing entry hashes as stored: the stored"
            " row is the posting.",
        ),
    )

    extra: dict[str, Any] | None = field(
        default=None,
        metadata=_doc(EXTRA, "Platform values with no field of their own (e.g. Greenhouse metadata), stored as JSON."),
    )

    def __getitem__(self, name: str) -> Any:
        if name not in FIELD_NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def __setitem__(self, name: str, value: Any) -> None:
        if name not in FIELD_NAMES:
            raise KeyError(f"JobPostingItem does not support field: {name}")
        setattr(self, name, value)

    def get(self, name: str, default: Any = None) -> Any:
        value = getattr(self, name, None) if name in FIELD_NAMES else None
        return default if value is None else value


FIELDS: tuple[dataclasses.Field[Any], ...] = dataclasses.fields(JobPostingItem)
FIELD_NAMES: frozenset[str] = frozenset(f.name for f in FIELDS)
# Fields every exported item carries, in export order.
CONTRACT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.metadata["group"] == CONTRACT)
# Raw values as the platform sent them, kept so that normalisation can be re-run or audited.
RAW_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.metadata["group"] == RAW)
# Bookkeeping between pipelines, never exported.
INTERNAL_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.metadata["group"] == INTERNAL)
# Platform values with no field of their own, stored as JSON in `postings.extra`.
EXTRA_FIELD = "extra"
# Closed vocabularies: field -> allowed values (null is always allowed).
VOCABULARIES: dict[str, tuple[str, ...]] = {f.name: f.metadata["values"] for f in FIELDS if "values" in f.metadata}

REQUIRED_FIELDS: tuple[str, ...] = ("ats", "board", "source_id", "title", "url")


def fields_of(item: Any) -> dict[str, Any]:
    """A shallow dict of an item's fields; ItemAdapter.asdict() deep-copies and costs a quarter of a crawl."""
    if isinstance(item, JobPostingItem):
        return item.__dict__.copy()
    if isinstance(item, dict):
        return item.copy()
    from itemadapter import ItemAdapter  # imports scrapy: paid only by callers with other item types

    return dict(ItemAdapter(item))


def as_mapping(item: Any) -> Any:
    """`item[name]`, `item[name] = value` and `item.get(name)` for any item type, without per-item cost for ours.

    Our item and dicts support these directly; building an ItemAdapter for a dataclass item walks its ~40 fields
    every time, which over six pipelines costs a tenth of a crawl. Other item types get an ItemAdapter.
    """
    if isinstance(item, JobPostingItem | dict):
        return item
    from itemadapter import ItemAdapter  # imports scrapy: paid only by callers with other item types

    return ItemAdapter(item)


_GROUP_TITLES = {
    CONTRACT: "Contract fields (exported, in this order)",
    RAW: "Raw values (as the platform sent them)",
    INTERNAL: "Internal bookkeeping (never exported)",
    EXTRA: "Everything else",
}


def fields_markdown() -> str:
    """docs/fields.md: one table per group, one row per field, in declaration (export) order."""
    lines = [
        "# Item fields",
        "",
        "Every posting a spider yields is a `crawler.items.JobPostingItem`. This page is generated from the",
        "descriptions declared on its fields: to change it, edit `crawler/items.py` and run",
        "`python -m crawler.items > docs/fields.md`.",
        "",
        "Every field may be null. `-O out.jsonl` exports the contract fields, then the raw values except",
        "`description_raw`, then `extra`.",
    ]
    for group, title in _GROUP_TITLES.items():
        lines += ["", f"## {title}", "", "| field | type | meaning | values |", "|---|---|---|---|"]
        for f in FIELDS:
            if f.metadata["group"] != group:
                continue
            values = ", ".join(f"`{v}`" for v in f.metadata.get("values", ()))
            kind = str(f.type).replace(" | None", "").replace("|", "\\|")
            lines.append(f"| `{f.name}` | `{kind}` | {f.metadata['doc']} | {values} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(fields_markdown())
