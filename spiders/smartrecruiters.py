"""SmartRecruiters companies: a paged postings list without descriptions, then one detail request per kept
posting for the ad text and the public page."""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.base import AtsSpider, BoardRef, positive_int

# The ad's sections in the order the public page shows them.
SECTIONS = ("companyDescription", "jobDescription", "qualifications", "additionalInformation")


def full_location(location: dict[str, Any]) -> str | None:
    """`fullLocation` without the empty parts SmartRecruiters leaves in ("Warsaw, , Poland")."""
    text = location.get("fullLocation") or ", ".join(
        str(location[k]) for k in ("city", "region", "country") if location.get(k)
    )
    cleaned = ", ".join(p.strip() for p in str(text or "").split(",") if p.strip())
    return cleaned or None


def remote_mode(location: dict[str, Any]) -> str | None:
    if location.get("remote") is True:
        return "remote"
    if location.get("hybrid") is True:
        return "hybrid"
    if location.get("remote") is False and location.get("hybrid") is False:
        return "onsite"
    return None


def ad_html(detail: dict[str, Any]) -> str | None:
    sections = ((detail.get("jobAd") or {}).get("sections")) or {}
    parts = []
    for key in SECTIONS:
        section = sections.get(key) or {}
        if section.get("text"):
            title = f"<h2>{html.escape(section['title'])}</h2>" if section.get("title") else ""
            parts.append(title + section["text"])
    return "".join(parts) or None


class SmartrecruitersSpider(AtsSpider):
    """SmartRecruiters companies (`jobs.smartrecruiters.com/<company>`), via the public Posting API."""

    name = "smartrecruiters"
    api_origin = "https://api.smartrecruiters.com"
    board_format = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
    board_format_help = "the company identifier, e.g. `hirevue` (from jobs.smartrecruiters.com/<company>)"
    # The API's largest page.
    page_size: int = 100

    def __init__(self, *args: Any, page_size: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if page_size is not None:
            self.page_size = positive_int("page_size", page_size, 100)

    def board_requests(self, board: BoardRef) -> Iterable[scrapy.Request]:
        yield self.page_request(board, 0)

    def page_request(self, board: BoardRef, offset: int) -> scrapy.Request:
        path = f"/v1/companies/{board.token}/postings?limit={self.page_size}&offset={offset}"
        return self.list_request(board, path, self.parse_page, cb_kwargs={"offset": offset})

    def parse_page(self, response: Response, board: BoardRef, offset: int) -> Iterator[Any]:
        # totalFound is 0 both for an unknown company and for one with no open postings: either way, dead.
        listing = self.listing(response, board, "content", decides=offset == 0, title_of="name")
        if listing is None:
            return
        if offset == 0:
            total = int(listing.data.get("totalFound") or 0)
            for next_offset in range(self.page_size, total, self.page_size):
                yield self.page_request(board, next_offset)
        for source_id, entry in listing:
            if (unchanged := self.unchanged_since_stored(board, source_id, entry)) is not None:
                yield unchanged
                continue
            path = f"/v1/companies/{board.token}/postings/{source_id}"
            yield self.detail_request(board, path, self.parse_detail, cb_kwargs={"entry": entry})

    def parse_detail(self, response: Response, board: BoardRef, entry: dict[str, Any]) -> Any:
        detail = self.read_detail(response)
        if detail is None:
            return None
        posting = {**entry, **detail}
        location = posting.get("location") or {}
        company = posting.get("company") or {}
        employment = [(posting.get("typeOfEmployment") or {}).get("label")]
        # An internship is an experience level here, not a type of employment.
        if (posting.get("experienceLevel") or {}).get("id") == "internship":
            employment.append("Internship")
        pay: dict[str, Any] = posting["compensation"] if isinstance(posting.get("compensation"), dict) else {}
        public = f"https://jobs.smartrecruiters.com/{company.get('identifier') or board.token}/{posting['id']}"
        extra = {
            "experience_level": (posting.get("experienceLevel") or {}).get("label"),
            "function": (posting.get("function") or {}).get("label"),
            "industry": (posting.get("industry") or {}).get("label"),
            "language": (posting.get("language") or {}).get("code"),
            "listing_hash": self.listing_digest(entry),
        }
        return self.posting(
            board,
            posting,
            source_id=str(posting["id"]),
            url=posting.get("postingUrl") or public,
            apply_url=posting.get("applyUrl"),
            title=posting.get("name"),
            employer_name=company.get("name"),
            department=(posting.get("department") or {}).get("label"),
            requisition_id=posting.get("refNumber"),
            locations=[loc] if (loc := full_location(location)) else [],
            remote=remote_mode(location),
            employment_type_raw=", ".join(e for e in employment if e) or None,
            posted_at_raw=posting.get("releasedDate"),
            salary_min=pay.get("min", pay.get("minValue")),
            salary_max=pay.get("max", pay.get("maxValue")),
            salary_currency=pay.get("currency"),
            salary_period=pay.get("period") or pay.get("interval"),
            description_raw=ad_html(posting),
            extra={k: v for k, v in extra.items() if v is not None} or None,
        )
