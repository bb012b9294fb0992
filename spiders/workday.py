"""Workday career sites: a POSTed search paged 20 at a time, capped at 2,000 results per query (split by facet
past that), relative "Posted ..." dates in the list, and one detail request per kept posting for the
description and the real start date."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from pipelines.dates import relative_date
from spiders.base import AtsSpider, BoardRef, positive_int

REMOTE_TYPES = {"onsite": "onsite", "on-site": "onsite", "remote": "remote", "hybrid": "hybrid", "flex": "hybrid"}
# "3 Locations" is a count, not a place; the detail names the places.
_LOCATION_COUNT = re.compile(r"^\s*\d+\s+locations?\s*$", re.I)
_TOKEN = re.compile(r"(?P<tenant>[A-Za-z0-9_-]+)\.(?P<shard>wd\d+)/(?P<site>[A-Za-z0-9_.-]+)")


@dataclass(frozen=True)
class Facet:
    """One facet a search can be narrowed by, with the number of postings behind each value."""

    parameter: str
    counts: dict[str, int]

    @property
    def largest(self) -> int:
        return max(self.counts.values(), default=0)


def flatten_facets(facets: Any) -> list[Facet]:
    """Facets as Workday nests them (groups such as `locationMainGroup` hold facets of their own)."""
    out: list[Facet] = []
    for facet in facets if isinstance(facets, list) else []:
        if not isinstance(facet, dict):
            continue
        values = [v for v in facet.get("values") or [] if isinstance(v, dict)]
        nested = [v for v in values if v.get("facetParameter")]
        if nested:
            out.extend(flatten_facets(nested))
        leaves = {str(v["id"]): int(v.get("count") or 0) for v in values if v.get("id") and not v.get("facetParameter")}
        if facet.get("facetParameter") and leaves:
            out.append(Facet(str(facet["facetParameter"]), leaves))
    return out


def choose_split(facets: list[Facet], total: int, applied: dict[str, list[str]]) -> Facet | None:
    """The facet that covers every posting in the fewest, smallest slices; None if no facet covers them all.

    A facet whose counts add up to less than the total leaves postings without a value unreachable.
    """
    usable = [f for f in facets if f.parameter not in applied and len(f.counts) > 1 and sum(f.counts.values()) >= total]
    return min(usable, key=lambda f: (f.largest, len(f.counts)), default=None)


@dataclass
class Search:
    """One search of a board: the facets applied and where its results stand."""

    applied: dict[str, list[str]] = field(default_factory=dict)

    def body(self, offset: int, limit: int) -> str:
        return json.dumps({"appliedFacets": self.applied, "limit": limit, "offset": offset, "searchText": ""})


class WorkdaySpider(AtsSpider):
    """Workday career sites (`<tenant>.<wdN>.myworkdayjobs.com/<site>`), via the site's own JSON search API."""

    name = "workday"
    api_origin = "https://{tenant}.{wdN}.myworkdayjobs.com"
    board_format = _TOKEN.pattern
    board_format_help = "`<tenant>.<wdN>/<site>`, e.g. `nvidia.wd5/NVIDIAExternalCareerSite`"
    # Workday rejects a limit above 20.
    page_size: ClassVar[int] = 20
    # Results one search can page through; past this the search is split by a facet.
    result_cap: ClassVar[int] = 2000
    # "Posted 3 Days Ago" changes every day while the posting does not.
    listing_volatile = ("postedOn",)

    def __init__(
        self, *args: Any, page_size: int | str | None = None, result_cap: int | str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if page_size is not None:
            self.page_size = positive_int("page_size", page_size, 20)
        if result_cap is not None:
            self.result_cap = positive_int("result_cap", result_cap)
        # Postings already followed per board: facet slices overlap.
        self._seen: dict[str, set[str]] = {}

    @staticmethod
    def parts(board: BoardRef) -> re.Match[str]:
        m = _TOKEN.fullmatch(board.token)
        if m is None:
            raise ValueError(f"workday: bad board token {board.token!r}")
        return m

    def origin(self, board: BoardRef) -> str:
        if self.api_base:
            return self.api_base
        m = self.parts(board)
        return f"https://{m['tenant']}.{m['shard']}.myworkdayjobs.com"

    def public_url(self, board: BoardRef, external_path: str) -> str:
        m = self.parts(board)
        return f"https://{m['tenant']}.{m['shard']}.myworkdayjobs.com/{m['site']}{external_path}"

    def board_requests(self, board: BoardRef) -> Iterable[scrapy.Request]:
        self._seen[board.token] = set()
        yield self.search_request(board, Search(), 0)

    def search_request(self, board: BoardRef, search: Search, offset: int) -> scrapy.Request:
        m = self.parts(board)
        return self.list_request(
            board,
            self.url(board, f"/wday/cxs/{m['tenant']}/{m['site']}/jobs"),
            self.parse_search,
            method="POST",
            body=search.body(offset, self.page_size),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            cb_kwargs={"search": search, "offset": offset},
            dont_filter=True,  # the same URL with different bodies is a different page
        )

    def parse_search(self, response: Response, board: BoardRef, search: Search, offset: int) -> Iterator[Any]:
        data = self.read_json(response, board)
        if data is None:
            return
        postings = data.get("jobPostings") if isinstance(data, dict) else None
        if not isinstance(postings, list):
            self.mark_board(board, "error", f"no `jobPostings` list at {response.url}")
            return
        if offset == 0:
            # Only the first page reports the total; later pages may say 0.
            total = int(data.get("total") or 0)
            if not search.applied and total == 0 and not postings:
                self.mark_board(board, "dead", "the career site lists no postings")
                return
            if not search.applied:
                self.mark_board(board, "ok")
            yield from self.plan(board, search, total, data.get("facets"))
        yield from self.listing(board, postings)

    def plan(self, board: BoardRef, search: Search, total: int, facets: Any) -> Iterator[scrapy.Request]:
        """After a search's first page: page through it, or split it by a facet if it passes the cap."""
        if total > self.result_cap:
            facet = choose_split(flatten_facets(facets), total, search.applied)
            if facet is not None:
                self.crawler.stats.inc_value("jobagg/workday/facet_splits")
                for value in facet.counts:
                    yield self.search_request(board, Search({**search.applied, facet.parameter: [value]}), 0)
                return
            self.mark_board(board, "error", f"{total} results pass the {self.result_cap} cap and no facet splits them")
        for offset in range(self.page_size, min(total, self.result_cap), self.page_size):
            yield self.search_request(board, search, offset)

    def listing(self, board: BoardRef, postings: list[Any]) -> Iterator[scrapy.Request]:
        seen = self._seen.setdefault(board.token, set())
        for entry in postings:
            path = entry.get("externalPath") if isinstance(entry, dict) else None
            if not path:
                self.crawler.stats.inc_value("jobagg/workday/posting_without_path")
                continue
            source_id = path.rstrip("/").rsplit("/", 1)[-1]
            # Facet slices overlap (a posting in two locations is in both), so each posting is followed once.
            if source_id in seen:
                continue
            seen.add(source_id)
            if not self.listed(board, source_id, str(entry.get("title") or "")):
                continue
            if (unchanged := self.unchanged_since_stored(board, source_id, entry)) is not None:
                yield unchanged
                continue
            m = self.parts(board)
            yield scrapy.Request(
                self.url(board, f"/wday/cxs/{m['tenant']}/{m['site']}{path}"),
                callback=self.parse_detail,
                errback=self.detail_failed,
                headers={"Accept": "application/json"},
                cb_kwargs={"board": board, "entry": entry, "source_id": source_id},
            )

    def detail_failed(self, failure: Failure) -> None:
        # The listing was read, so nothing wrongly closes; the posting is simply not refreshed this run.
        self.crawler.stats.inc_value("jobagg/detail/failed")
        self.logger.warning("workday detail failed: %s (%s)", failure.request.url, failure.getErrorMessage())  # type: ignore[attr-defined]

    def parse_detail(self, response: Response, board: BoardRef, entry: dict[str, Any], source_id: str) -> Any:
        try:
            data = response.json()
        except ValueError:
            self.crawler.stats.inc_value("jobagg/detail/failed")
            return None
        info = data.get("jobPostingInfo") or {}
        path = entry["externalPath"]
        locations = [info.get("location"), *(info.get("additionalLocations") or [])]
        if not any(locations) and not _LOCATION_COUNT.match(entry.get("locationsText") or ""):
            locations = [entry.get("locationsText")]
        remote_raw = info.get("remoteType") or entry.get("remoteType")
        posted_on = info.get("postedOn") or entry.get("postedOn")
        posted_at_raw: Any = info.get("startDate")
        if not posted_at_raw and posted_on:
            # Relative text is resolved here, once, so no relative phrase ever leaves the spider.
            day = relative_date(posted_on)
            posted_at_raw = day.isoformat() if day else None
        requisition = info.get("jobReqId") or next(iter(entry.get("bulletFields") or []), None)
        extra = {
            "posted_on": posted_on,
            # "Posted 30+ Days Ago" is a lower bound: the posting is at least that old.
            "posted_on_is_lower_bound": True if posted_on and "+" in posted_on else None,
            "country": (info.get("country") or {}).get("descriptor"),
            "time_type": info.get("timeType"),
            "job_posting_id": info.get("jobPostingId"),
            "listing_hash": self.listing_digest(entry),
        }
        return self.posting(
            board,
            data,
            source_id=source_id,
            url=info.get("externalUrl") or self.public_url(board, path),
            apply_url=(info.get("externalUrl") or self.public_url(board, path)) + "/apply",
            title=info.get("title") or entry.get("title"),
            employer_name=(data.get("hiringOrganization") or {}).get("name"),
            requisition_id=requisition,
            locations=[loc for loc in dict.fromkeys(locations) if loc],
            remote=REMOTE_TYPES.get(str(remote_raw or "").lower()),
            remote_raw=remote_raw,
            employment_type_raw=info.get("timeType"),
            posted_at_raw=posted_at_raw,
            description_raw=info.get("jobDescription"),
            extra={k: v for k, v in extra.items() if v is not None} or None,
        )
