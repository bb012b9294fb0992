"""Workday career sites: a POSTed search paged 20 at a time, capped at 2,000 results per query, relative
"Posted ..." dates in the list, and one detail request per kept posting for the description and the real
start date.

The cap: a search pages through at most 2,000 results and its `total` is capped too (2,000 means "2,000 or
more"), so the real size is read from the facet counts. Requisition facets (`timeType`, `jobFamilyGroup`, ...)
hold one value per posting, so each one's counts add up to the postings that have it; location facets overlap
(a posting in three places counts three times) and only bound the size from above. A search past the cap is
split by a facet, recursively, until every slice is under it; slices overlap, so each posting is followed once;
and when the slices together show fewer postings than the real size, the board is `error` and nothing closes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

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

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def overlapping(self) -> bool:
        """Location facets (`locations`, `locationCountry`, `locationHierarchy1`, ...) give a posting every place
        it is in; requisition facets give it one value."""
        return "location" in self.parameter.lower()


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


def real_size(total: int, facets: list[Facet], cap: int) -> int:
    """A search's real size: `total` below the cap; at the cap, the largest count a one-value facet adds up to."""
    if total < cap:
        return total
    return max([total, *(f.total for f in facets if not f.overlapping)])


def choose_split(facets: list[Facet], size: int, applied: dict[str, list[str]]) -> Facet | None:
    """The facet that covers every posting in the fewest, smallest slices; None if no facet covers them all.

    A one-value facet whose counts add up to the size partitions the search exactly, so it is preferred to a
    location facet, whose slices overlap. A facet adding up to less than the size would leave postings out.
    """
    usable = [f for f in facets if f.parameter not in applied and len(f.counts) > 1 and f.total >= size]
    return min(usable, key=lambda f: (f.overlapping, f.largest, len(f.counts)), default=None)


def posting_id(entry: dict[str, Any]) -> str | None:
    """The last segment of `externalPath` (`Machine-Learning-Engineer_JR-01001`): stable across slices."""
    path = entry.get("externalPath")
    return str(path).rstrip("/").rsplit("/", 1)[-1] or None if path else None


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
    page_size: int = 20
    # Results one search can page through; past this the search is split by a facet.
    result_cap: int = 2000
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
        # Per board: searches not answered yet, and the real size when the board had to be split.
        self._pending: dict[str, int] = {}
        self._expected: dict[str, int] = {}

    @staticmethod
    def parts(board: BoardRef) -> re.Match[str]:
        m = _TOKEN.fullmatch(board.token)
        if m is None:
            raise ValueError(f"workday: bad board token {board.token!r}")
        return m

    def real_origin(self, board: BoardRef) -> str:
        m = self.parts(board)
        return f"https://{m['tenant']}.{m['shard']}.myworkdayjobs.com"

    def public_url(self, board: BoardRef, external_path: str) -> str:
        return f"{self.real_origin(board)}/{self.parts(board)['site']}{external_path}"

    def board_requests(self, board: BoardRef) -> Iterable[scrapy.Request]:
        self._pending[board.token] = 0
        yield self.search_request(board, Search(), 0)

    def search_request(self, board: BoardRef, search: Search, offset: int) -> scrapy.Request:
        m = self.parts(board)
        self._pending[board.token] += 1
        return self.list_request(
            board,
            f"/wday/cxs/{m['tenant']}/{m['site']}/jobs",
            self.parse_search,
            errback=self.search_failed,
            method="POST",
            body=search.body(offset, self.page_size),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            cb_kwargs={"search": search, "offset": offset},
            dont_filter=True,  # the same URL with different bodies is a different page
        )

    def parse_search(self, response: Response, board: BoardRef, search: Search, offset: int) -> Iterator[Any]:
        try:
            listing = self.listing(
                response, board, "jobPostings", decides=offset == 0 and not search.applied, id_of=posting_id
            )
            if listing is None:
                return
            # Only the first page of a search reports the total and the facets; later pages may say 0.
            if offset == 0 and listing.data.get("jobPostings"):
                yield from self.plan(board, search, int(listing.data.get("total") or 0), listing.data.get("facets"))
            m = self.parts(board)
            for source_id, entry in listing:
                if (unchanged := self.unchanged_since_stored(board, source_id, entry)) is not None:
                    yield unchanged
                    continue
                path = f"/wday/cxs/{m['tenant']}/{m['site']}{entry['externalPath']}"
                yield self.detail_request(
                    board, path, self.parse_detail, headers={"Accept": "application/json"},
                    cb_kwargs={"entry": entry, "source_id": source_id},
                )  # fmt: skip
        finally:
            self.search_done(board)

    def search_failed(self, failure: Failure) -> None:
        self.listing_failed(failure)
        self.search_done(failure.request.cb_kwargs["board"])  # type: ignore[attr-defined]

    def plan(self, board: BoardRef, search: Search, total: int, facets: Any) -> Iterator[scrapy.Request]:
        """After a search's first page: page through it, or split it by a facet if it passes the cap."""
        flat = flatten_facets(facets)
        size = real_size(total, flat, self.result_cap)
        if size > self.result_cap:
            if not search.applied:
                self._expected[board.token] = size
            facet = choose_split(flat, size, search.applied)
            if facet is not None:
                self.crawler.stats.inc_value("jobagg/workday/facet_splits")
                for value in facet.counts:
                    yield self.search_request(board, Search({**search.applied, facet.parameter: [value]}), 0)
                return
            self.mark_board(board, "error", f"{size} results pass the {self.result_cap} cap and no facet splits them")
        for offset in range(self.page_size, min(total, self.result_cap), self.page_size):
            yield self.search_request(board, search, offset)

    def search_done(self, board: BoardRef) -> None:
        """One search page answered; after the last, a split board must have shown its real size."""
        self._pending[board.token] -= 1
        expected = self._expected.get(board.token)
        if self._pending[board.token] == 0 and expected is not None:
            found = len(self.board_states[board.token].listed_ids)
            self.crawler.stats.set_value("jobagg/workday/split_found", found)
            if found < expected:
                self.mark_board(board, "error", f"the facet slices showed {found} of {expected} postings")

    def parse_detail(self, response: Response, board: BoardRef, entry: dict[str, Any], source_id: str) -> Any:
        data = self.read_detail(response)
        if data is None:
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
