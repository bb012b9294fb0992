"""The typed item: its field groups, its generated documentation, mapping access and shallow copies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from itemadapter import ItemAdapter

from crawler import items
from crawler.items import JobPostingItem, fields_markdown, fields_of
from pipelines.rules.roles import FAMILIES
from pipelines.rules.seniority import LEVELS
from pipelines.validate import ENUMS

REPO = Path(__file__).resolve().parent.parent


def test_docs_fields_md_is_generated_from_the_item() -> None:
    on_disk = (REPO / "docs" / "fields.md").read_text(encoding="utf-8")
    assert on_disk == fields_markdown(), "docs/fields.md is stale: run `python -m crawler.items > docs/fields.md`"


def test_the_regenerate_command_prints_the_page() -> None:
    out = subprocess.run([sys.executable, "-m", "crawler.items"], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout == fields_markdown()


def test_every_field_is_documented_once_in_its_group_and_order() -> None:
    page = fields_markdown()
    for f in items.FIELDS:
        assert f.metadata["doc"].strip(), f"{f.name} has no description"
        assert page.count(f"| `{f.name}` |") == 1
    names = [f.name for f in items.FIELDS]
    assert names == [*items.CONTRACT_FIELDS, *items.RAW_FIELDS, *items.INTERNAL_FIELDS, items.EXTRA_FIELD]
    # Export order is part of the contract: it starts with the posting's identity.
    assert items.CONTRACT_FIELDS[:4] == ("ats", "board", "source_id", "url")


def test_vocabularies_are_the_ones_the_rules_and_validation_use() -> None:
    assert items.VOCABULARIES["role_family"] == FAMILIES
    assert items.VOCABULARIES["seniority"] == LEVELS
    assert items.VOCABULARIES["remote"] == ("remote", "hybrid", "onsite")
    for name, allowed in ENUMS.items():
        assert set(allowed) == set(items.VOCABULARIES[name])


def test_mapping_access_on_declared_fields_only() -> None:
    item = JobPostingItem(title="ML Engineer")
    item["city"] = "Austin"
    assert (item["title"], item.city, item.get("country", "?")) == ("ML Engineer", "Austin", "?")
    with pytest.raises(KeyError):
        item["salary"] = 1
    with pytest.raises(KeyError):
        _ = item["salary"]
    with pytest.raises(TypeError):
        JobPostingItem(salary=1)  # type: ignore[call-arg]
    assert ItemAdapter(item)["city"] == "Austin"


def test_fields_of_is_a_shallow_copy() -> None:
    locations = ["Austin, TX"]
    item = JobPostingItem(title="ML Engineer", locations=locations)
    fields = fields_of(item)
    fields["title"] = "changed"
    assert item.title == "ML Engineer"  # a copy of the mapping...
    assert fields["locations"] is locations  # ...that shares the values (no deep copy per item)
    assert set(fields) == {f.name for f in items.FIELDS}
    plain = {"title": "x", "locations": locations}
    assert fields_of(plain) == plain and fields_of(plain) is not plain


def test_as_mapping_gives_our_item_and_dicts_back_and_adapts_the_rest() -> None:
    from dataclasses import dataclass

    from crawler.items import as_mapping

    item, plain = JobPostingItem(title="x"), {"title": "x"}
    assert as_mapping(item) is item and as_mapping(plain) is plain

    @dataclass
    class Other:
        title: str | None = None

    other = Other()
    as_mapping(other)["title"] = "y"
    assert other.title == "y"
