"""The one base class every ATS spider derives from."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure

from crawler.items import JobPostingItem
from pipelines.rules.roles import title_is_ml

ROLES = ("ml", "all")


def positive_int(name: str, value: int | str, maximum: int | None = None) -> int:
    """A numeric spider argument (`-a page_size=2` arrives as a string), checked."""
    number = int(value)
    if number < 1 or (maximum is not None and number > maximum):
        raise ValueError(f"{name} must be between 1 and {maximum or 'any'}, got {value!r}")
    return number


@dataclass(frozen=True)
class BoardRef:
    """A board to crawl: its token, the employer to show, the platform region (`eu` or None), and its public
    career-page URL (the registry's `board_url`; the jsonld spider starts there)."""

    token: str
    employer: str | None = None
    region: str | None = None
    url: str | None = None


@dataclass
class BoardState:
    """What one crawl learned about one board; the crawl-run recorder reads it when the spider closes."""

    # pending: not read yet | ok: the listing was read | dead: 404 / unknown / empty | error: a request failed
    status: str = "pending"
    reason: str | None = None
    listed_ids: set[str] = field(default_factory=set)
    skipped_by_role: int = 0


class AtsSpider(scrapy.Spider):
    """Base spider for one applicant-tracking platform.

    To use, set:
        name: the platform, also every item's `ats` (`greenhouse`); the module is named the same.
        api_origin: the platform's real scheme and host (`https://boards-api.greenhouse.io`).
        api_origin_eu: the EU host, or None when the platform has none.
        board_format: a regex every board token must match; board_format_help says it in words.
    and implement:
        board_requests(board): the first request(s) for one board; their callbacks yield
        `self.posting(board, raw, **fields)` for each posting and call `self.listed(...)` for every id
        the listing showed (also those skipped by the role filter), so the crawl can close vanished ones.

    Arguments (`-a`): board (one token; default every registry board of this family), employer (display
    name), api_base (replaces scheme, host and port of every request, keeping the real paths), roles (`ml`
    keeps ML roles, decided from the title before any detail request; `all` keeps every posting).

    Tenant quirks go in the one hook, `adjust(item, raw)`, in a tiny subclass.
    """

    api_origin: ClassVar[str]
    api_origin_eu: ClassVar[str | None] = None
    board_format: ClassVar[str]
    board_format_help: ClassVar[str] = ""
    # Listing-entry fields left out of the listing hash because they change while the posting does not.
    listing_volatile: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        board: str | None = None,
        employer: str | None = None,
        api_base: str | None = None,
        roles: str = "ml",
        boards: Iterable[BoardRef] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if roles not in ROLES:
            raise ValueError(f"{self.name}: roles must be one of {ROLES}, got {roles!r}")
        if api_base is not None:
            parts = urlsplit(api_base)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"{self.name}: api_base must look like http://host:port, got {api_base!r}")
        self.api_base = api_base.rstrip("/") if api_base else None
        self.roles = roles
        self.employer_override = employer
        self._board_arg = board
        self._boards = list(boards) if boards is not None else None
        if board is not None:
            self.check_token(board)
        self.board_states: dict[str, BoardState] = {}
        self._known_listings: dict[str, dict[str, str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> AtsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._callback_failed, signal=signals.spider_error)
        return spider

    # --- configuration -------------------------------------------------------------------------------

    @classmethod
    def check_token(cls, token: str) -> None:
        if not re.fullmatch(cls.board_format, token):
            expected = cls.board_format_help or cls.board_format
            raise ValueError(f"{cls.name}: board token {token!r} does not match the format {expected}")

    def boards(self) -> list[BoardRef]:
        """Boards of this run: given ones, else `-a board`, else every active registry board of this family."""
        if self._boards is not None:
            return self._boards
        from crawler import registry

        if self._board_arg is not None:
            known = registry.lookup(self.name, self._board_arg, self.settings.get("JOBAGG_DATABASE_URL"))
            return [known or BoardRef(self._board_arg)]
        return registry.boards_for(self.name, self.settings.get("JOBAGG_DATABASE_URL"))

    def origin(self, board: BoardRef) -> str:
        """Scheme and host for a board's requests; the platform's EU host when the board lives there."""
        if self.api_base:
            return self.api_base
        if board.region == "eu" and self.api_origin_eu:
            return self.api_origin_eu
        return self.api_origin

    def url(self, board: BoardRef, path: str) -> str:
        return self.origin(board) + path

    # --- crawling ------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        shared = bool(self.settings.get("JOBAGG_REDIS_URL"))
        for board in self.boards():
            if shared:
                # Workers share whole boards; the one that takes this seed reads the board (crawler/scheduler.py).
                yield self.board_seed(board)
                continue
            for request in self.open_board(board):
                yield request

    def open_board(self, board: BoardRef) -> Iterable[scrapy.Request]:
        """Start reading a board: its state, then its first request(s)."""
        self.board_states[board.token] = BoardState()
        return self.board_requests(board)

    def board_seed(self, board: BoardRef) -> scrapy.Request:
        """A placeholder the shared scheduler hands to one worker; it is never downloaded."""
        url = f"https://jobagg.invalid/{self.name}/board?token={quote(board.token, safe='')}"
        return scrapy.Request(url, meta={"jobagg_board_seed": True}, cb_kwargs={"board": board})

    def board_requests(self, board: BoardRef) -> Iterable[scrapy.Request]:
        raise NotImplementedError

    def list_request(self, board: BoardRef, url: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A listing request: its failure marks the board `dead` (404/410) or `error` (anything else).

        A custom `errback` should call `listing_failed(failure)` first."""
        cb_kwargs = {"board": board, **kwargs.pop("cb_kwargs", {})}
        errback = kwargs.pop("errback", self.listing_failed)
        return scrapy.Request(url, callback=callback, errback=errback, cb_kwargs=cb_kwargs, **kwargs)

    def listing_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        board: BoardRef = request.cb_kwargs["board"]
        response = getattr(failure.value, "response", None)
        if response is not None and response.status in (404, 410):
            self.mark_board(board, "dead", f"HTTP {response.status} at {request.url}")
        else:
            what = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()
            self.mark_board(board, "error", f"{what} at {request.url}")

    def mark_board(self, board: BoardRef, status: str, reason: str | None = None) -> None:
        """Record a board's state; error outranks dead outranks ok, so one bad page is never forgotten."""
        state = self.board_states.setdefault(board.token, BoardState())
        rank = {"pending": 0, "ok": 1, "dead": 2, "error": 3}
        if rank[status] >= rank[state.status]:
            state.status, state.reason = status, reason
        self.crawler.stats.inc_value(f"jobagg/boards/{status}")
        if status != "ok":
            self.logger.warning("board %s/%s is %s: %s", self.name, board.token, status, reason)

    def listed(self, board: BoardRef, source_id: str, title: str) -> bool:
        """Record a listed posting; True when its title passes the role filter and it should be followed."""
        state = self.board_states.setdefault(board.token, BoardState())
        state.listed_ids.add(source_id)
        if self.roles == "all" or title_is_ml(title):
            return True
        state.skipped_by_role += 1
        self.crawler.stats.inc_value("jobagg/roles/skipped")
        return False

    def listing_digest(self, entry: Any) -> str:
        """A hash of a posting's listing entry, without the fields that change on their own (`listing_volatile`)."""
        payload = (
            {k: v for k, v in entry.items() if k not in self.listing_volatile} if isinstance(entry, dict) else entry
        )
        return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]

    def unchanged_since_stored(self, board: BoardRef, source_id: str, entry: Any) -> JobPostingItem | None:
        """A 'still listed, unchanged' item when the entry hashes as stored (storage only touches it), else None.

        Known hashes come from the callable named by JOBAGG_LISTING_HASHES, loaded once per board."""
        if board.token not in self._known_listings:
            loader = self.settings.get("JOBAGG_LISTING_HASHES")
            self._known_listings[board.token] = (
                load_object(loader)(self.name, board.token, self.settings.get("JOBAGG_DATABASE_URL")) if loader else {}
            )
        if self._known_listings[board.token].get(source_id) != self.listing_digest(entry):
            return None
        self.crawler.stats.inc_value("jobagg/incremental/unchanged")
        return JobPostingItem(ats=self.name, board=board.token, source_id=source_id, listing_unchanged=True)

    def posting(self, board: BoardRef, raw: Any, **fields: Any) -> JobPostingItem | None:
        """Build an item for a posting and pass it through the tenant hook."""
        platform_employer = fields.pop("employer_name", None)
        item = JobPostingItem(
            ats=self.name,
            board=board.token,
            employer_name=self.employer_override or board.employer or platform_employer or board.token,
            **{k: v for k, v in fields.items() if v is not None},
        )
        adjusted = self.adjust(item, raw)
        if adjusted is None:
            self.crawler.stats.inc_value("jobagg/adjust/dropped")
        return adjusted

    def adjust(self, item: JobPostingItem, raw: Any) -> JobPostingItem | None:
        """The one hook for tenant quirks: change the item, or return None to drop it."""
        return item

    def read_json(self, response: Response, board: BoardRef) -> Any:
        """The response's JSON, or None after marking the board `error` (a listing we cannot read is no listing)."""
        try:
            return response.json()
        except ValueError as exc:
            self.mark_board(board, "error", f"invalid JSON at {response.url}: {exc}")
            return None

    def _callback_failed(self, failure: Failure, response: Response, spider: scrapy.Spider) -> None:
        # A parse error may have hidden postings, so the board must not count as fully read.
        board = response.request.cb_kwargs.get("board") if response.request else None
        if spider is self and isinstance(board, BoardRef):
            self.mark_board(board, "error", f"{failure.type.__name__} while parsing {response.url}")
