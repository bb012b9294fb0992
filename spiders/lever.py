"""Lever postings: a bare JSON array paged with `skip`/`limit`, dates in epoch milliseconds, one posting per
location (the same job posted in three cities is three postings with three ids)."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import AtsSpider, BoardRef, Listing, positive_int

# Lever documents `on-site`; the API sends `onsite`; `unspecified` says nothing.
WORKPLACE = {"onsite": "onsite", "on-site": "onsite", "hybrid": "hybrid", "remote": "remote"}
# salaryRange.interval values as Lever sends them.
INTERVALS = {
    "per-year-salary": "year",
    "per-month-salary": "month",
    "per-week-salary": "week",
    "per-day-wage": "day",
    "per-hour-wage": "hour",
}


def plain_to_html(text: str) -> str:
    """Paragraphs of escaped text, for postings that carry only the plain-text description."""
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n") if p.strip())


def description_html(posting: dict[str, Any]) -> str | None:
    """The whole ad as Lever's job page shows it: opening, requirement lists, closing."""
    parts: list[str] = []
    if posting.get("description"):
        parts.append(posting["description"])
    elif posting.get("descriptionPlain"):
        parts.append(plain_to_html(posting["descriptionPlain"]))
    for block in posting.get("lists") or []:
        if isinstance(block, dict) and (block.get("text") or block.get("content")):
            parts.append(f"<h3>{html.escape(block.get('text') or '')}</h3><ul>{block.get('content') or ''}</ul>")
    if posting.get("additional"):
        parts.append(posting["additional"])
    elif posting.get("additionalPlain"):
        parts.append(plain_to_html(posting["additionalPlain"]))
    return "".join(parts) or None


class LeverSpider(AtsSpider):
    """Lever boards (`jobs.lever.co/<site>`), read from the public postings API page by page."""

    name = "lever"
    api_origin = "https://api.lever.co"
    api_origin_eu = "https://api.eu.lever.co"
    board_format = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
    board_format_help = "the site slug, e.g. `outreach` (from jobs.lever.co/<slug>)"
    page_size: int = 100

    def __init__(self, *args: Any, page_size: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if page_size is not None:
            self.page_size = positive_int("page_size", page_size)

    def board_requests(self, board: BoardRef) -> Iterable[scrapy.Request]:
        yield self.page_request(board, 0, [])

    def page_request(self, board: BoardRef, skip: int, pages: list[Listing]) -> scrapy.Request:
        path = f"/v0/postings/{board.token}?mode=json&skip={skip}&limit={self.page_size}"
        return self.list_request(
            board, path, self.parse_page, errback=self.page_failed, cb_kwargs={"skip": skip, "pages": pages}
        )

    def parse_page(self, response: Response, board: BoardRef, skip: int, pages: list[Listing]) -> Iterator[Any]:
        listing = self.listing(response, board, None, decides=skip == 0, title_of="text")
        if listing is None:
            yield from self.emit(board, pages)
            return
        pages.append(listing)
        # No total: a full page may be followed by more, a short or empty one is the last.
        if len(listing.data) >= self.page_size:
            yield self.page_request(board, skip + len(listing.data), pages)
        else:
            yield from self.emit(board, pages)

    def page_failed(self, failure: Failure) -> Iterator[Any]:
        self.listing_failed(failure)
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        # What the earlier pages showed is still true; the error state keeps anything from being closed.
        yield from self.emit(kwargs["board"], kwargs["pages"])

    def emit(self, board: BoardRef, pages: list[Listing]) -> Iterator[Any]:
        """Items for a board's postings, once every page is in, so per-location copies can name each other."""
        copies: dict[tuple[str, str], list[str]] = defaultdict(list)
        for page in pages:
            for posting in page.data:
                if isinstance(posting, dict) and posting.get("id"):
                    copies[self.job_key(posting)].append(str(posting["id"]))
        for page in pages:
            for source_id, posting in page:
                siblings = [i for i in copies[self.job_key(posting)] if i != source_id]
                yield self.posting_item(board, source_id, posting, siblings)

    @staticmethod
    def job_key(posting: dict[str, Any]) -> tuple[str, str]:
        categories = posting.get("categories") or {}
        return (str(posting.get("text") or "").strip().casefold(), str(categories.get("team") or "").casefold())

    def posting_item(self, board: BoardRef, source_id: str, posting: dict[str, Any], siblings: list[str]) -> Any:
        categories = posting.get("categories") or {}
        locations = categories.get("allLocations") or [categories.get("location")]
        salary = posting.get("salaryRange") or {}
        workplace = str(posting.get("workplaceType") or "").lower()
        extra = {
            "team": categories.get("team"),
            "country": posting.get("country"),
            "workplace_type": posting.get("workplaceType"),
            "same_job_other_locations": siblings or None,
        }
        return self.posting(
            board,
            posting,
            source_id=source_id,
            url=posting.get("hostedUrl"),
            apply_url=posting.get("applyUrl"),
            title=posting.get("text"),
            department=categories.get("department") or categories.get("team"),
            locations=[loc for loc in locations if loc],
            remote=WORKPLACE.get(workplace),
            remote_raw=posting.get("workplaceType"),
            employment_type_raw=categories.get("commitment"),
            posted_at_raw=posting.get("createdAt"),
            updated_at_raw=posting.get("updatedAt"),
            salary_min=salary.get("min"),
            salary_max=salary.get("max"),
            salary_currency=salary.get("currency"),
            salary_period=INTERVALS.get(str(salary.get("interval") or "")) if salary else None,
            salary_raw=posting.get("salaryDescriptionPlain") or self.salary_text(salary),
            description_raw=description_html(posting),
            extra={k: v for k, v in extra.items() if v is not None} or None,
        )

    @staticmethod
    def salary_text(salary: dict[str, Any]) -> str | None:
        if salary.get("min") is None and salary.get("max") is None:
            return None
        return f"{salary.get('min')}-{salary.get('max')} {salary.get('currency') or ''} {salary.get('interval') or ''}"
