"""`jobagg why`: a posting's tags explained in words and figures, found by id, URL or ats/board/source_id."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler import db as dbmod
from crawler.models import Posting, PostingSponsorship
from tests.conftest import demo_sqlite_url
from tests.crawling import jobagg


@pytest.fixture(scope="module")
def why_demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_sqlite_url(tmp_path_factory)


def tagged(db_url: str, visa: str, tag: str) -> Posting:
    with dbmod.session_scope(db_url) as s:
        posting = s.scalars(
            select(Posting)
            .join(PostingSponsorship, PostingSponsorship.posting_id == Posting.id)
            .where(PostingSponsorship.visa == visa, PostingSponsorship.tag == tag)
            .order_by(Posting.id)
        ).first()
        assert posting is not None, f"the demo has no {visa} {tag} posting"
        s.expunge(posting)
        return posting


def test_why_explains_a_likely_tag_with_its_figures(why_demo: str) -> None:
    posting = tagged(why_demo, "green_card", "likely")
    out = jobagg("--db", why_demo, "why", str(posting.id))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert posting.title in text and "green card (PERM): likely" in text
    assert re.search(r"\d+ certified PERM cases? for", text)  # the one-line reason
    assert "similar roles" in text and "any occupation" in text  # the three levels
    assert "FEIN" in text and "matched by" in text
    # Where the joined filer is, what it does and when it filed: what a reader checks the join by.
    (about,) = [ln for ln in text.splitlines() if ln.startswith("the filer's city, industry and filing years: ")][:1]
    assert re.search(r"years: [A-Z][a-z]+.*; [a-z ,]+; FY20\d\d", about), about
    # How the name was joined, in words beside the stored code.
    from crawler.web.labels import JOIN_METHOD

    assert any(f"{code} ({words})" in " ".join(text.split()) for code, words in JOIN_METHOD.items())
    # The figures by fiscal year as a table, and case numbers of the section's own kind only.
    assert "by fiscal year" in text and "of them ML" in text and "{" not in text
    gc, h1b = text.split("H-1B (LCA, USCIS hub)")
    assert "PERM case numbers to look up" in gc and "PERM case numbers" not in h1b
    # On an 80-column terminal nothing is cut short.
    narrow = jobagg("--db", why_demo, "why", str(posting.id), env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 80 and "…" not in narrow
    # The same posting by URL and by its natural key.
    by_url = jobagg("--db", why_demo, "why", posting.url)
    by_key = jobagg("--db", why_demo, "why", f"{posting.ats}/{posting.board}/{posting.source_id}")
    assert by_url.stdout.splitlines()[0] == by_key.stdout.splitlines()[0] == text.splitlines()[0]


def test_why_json_is_the_stored_evidence(why_demo: str) -> None:
    posting = tagged(why_demo, "h1b", "likely")
    out = jobagg("--db", why_demo, "why", str(posting.id), "--json")
    evidence = json.loads(out.stdout)
    assert evidence["h1b"]["tag"] == "likely" and evidence["h1b"]["reason"]
    assert evidence["h1b"]["window"][1] - evidence["h1b"]["window"][0] == 3


def test_why_says_when_a_posting_gets_no_us_tag(why_demo: str) -> None:
    with dbmod.session_scope(why_demo) as s:
        abroad = s.scalars(select(Posting).where(Posting.country == "GB").order_by(Posting.id)).first()
        assert abroad is not None
        posting_id = abroad.id
    out = jobagg("--db", why_demo, "why", str(posting_id))
    assert out.returncode == 0 and "outside the US" in out.stdout


def test_why_unknown_posting_is_one_clear_line(why_demo: str, tmp_path: Path) -> None:
    out = jobagg("--db", why_demo, "why", "greenhouse/nope/123")
    assert out.returncode != 0
    assert "no posting 'greenhouse/nope/123'" in out.stderr and "Traceback" not in out.stderr


def test_why_shows_the_nearest_filer_of_an_unsure_join() -> None:
    from io import StringIO

    from rich.console import Console

    from crawler.cli.why import render

    evidence = {
        "reason": "employer join unsure: no tag from filings",
        "ad": {"statement": "not_mentioned"},
        "employer": {"query": "Delta", "outcome": "unsure", "entities": [], "runner_up": None},
        "window": [2025, 2027],
        "as_of": "2026-11-30",
        "data": {},
    }
    nearest = {"name": "DELTA GROUP USA INC", "fein": None, "score": 88.0, "method": "fuzzy"}
    posting = Posting(id=1, title="ML Engineer", employer_name="Delta", url="https://example.test/1", country="US")

    def shown(runner_up: dict | None) -> str:
        out = StringIO()
        tag = PostingSponsorship(visa="green_card", tag="unknown", reason=evidence["reason"])
        tag.evidence = {**evidence, "employer": {**evidence["employer"], "runner_up": runner_up}}
        render(Console(file=out, width=80), posting, {"green_card": tag})
        return out.getvalue()

    assert "nearest other DOL filer: DELTA GROUP USA INC (fuzzy 88.0), not used" in shown(nearest)
    assert "nearest other DOL filer" not in shown(None)


def test_why_says_when_similar_roles_were_filed_outside_ml_codes() -> None:
    from io import StringIO

    from rich.console import Console

    from crawler.cli.why import render
    from matching.evidence import PostingFacts
    from tests.matching.test_tagging import cases, score

    mts = PostingFacts("Member of Technical Staff, Pretraining", "research_engineer", None, True, country="US")
    filed = cases(("perm", 2026, "certified", False, "Member of Technical Staff", "Level III", 2))
    posting = Posting(id=1, title=mts.title, employer_name="Acme AI", url="https://example.test/1", country="US")
    tags = {}
    for visa, (tag, evidence) in score(mts, {1: filed}).items():
        tags[visa] = PostingSponsorship(visa=visa, tag=tag, reason=evidence["reason"])
        tags[visa].evidence = evidence
    out = StringIO()
    render(Console(file=out, width=80), posting, tags)
    text = " ".join(out.getvalue().split())
    assert "of the similar roles, 2 certified under this job's title outside ML occupation codes" in text
