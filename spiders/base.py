"""The one base class every ATS spider derives from."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import scrapy

# Scrapy's deprecated-alias helper in this module walks the import stack with `inspect`: imported with the spiders,
# before the engine starts, it costs a tenth of what it costs when the downloader imports it (~400 ms) in every
# crawl process. Here rather than in the settings, which commands that crawl nothing load too.
import scrapy.core.downloader.contextfactory
from scrapy import signals
from scrapy.exceptions import DownloadTimeoutError, ResponseDataLossError
from scrapy.http import Response, TextResponse
from scrapy.utils.misc import load_object
from twisted.internet.error import TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import _DataLoss

from crawler.boards import BoardRef
from crawler.items import JobPostingItem
from crawler.middlewares import HostUnreachable
from pipelines.rules.roles import title_is_ml

__all__ = ["AtsSpider", "BoardRef", "BoardState", "Listing", "positive_int"]

ROLES = ("ml", "all")


def positive_int(name: str, value: int | str, maximum: int | None = None) -> int:
    """A numeric spider argument (`-a page_size=2` arrives as a string), checked."""
    number = int(value)
    if number < 1 or (maximum is not None and number > maximum):
        raise ValueError(f"{name} must be between 1 and {maximum or 'any'}, got {value!r}")
    return number


def failure_reason(failure: Failure) -> str:
    """A download failure in words an operator can act on (Twisted's own messages are often empty or a repr)."""
    exc = failure.value
    name = type(exc).__name__
    if failure.check(DownloadTimeoutError, TimeoutError, TCPTimedOutError):
        return f"timed out ({name})"
    if failure.check(ResponseDataLossError, _DataLoss):
        return f"response cut short by the server ({name})"
    # ResponseFailed / ResponseNeverReceived (or Scrapy's DownloadFailedError around them) list the causes.
    reasons = getattr(exc, "reasons", None) or getattr(exc.__cause__, "reasons", None)
    if not reasons and exc.args and isinstance(exc.args[0], list):
        reasons = exc.args[0]
    if reasons:
        causes = sorted({getattr(r, "type", type(r)).__name__ for r in reasons})
        return f"connection failed ({name}: {', '.join(causes)})"
    message = failure.getErrorMessage()
    return f"{name}: {message}"[:300] if message else name


@dataclass
class BoardState:
    """What one crawl learned about one board; the crawl-run recorder reads it when the spider closes."""

    # pending: not read yet | ok: the listing was read | dead: 404 / unknown / empty | error: a request failed
    # | skipped: not requested, its host was unreachable for the boards before it
    status: str = "pending"
    reason: str | None = None
    listed_ids: set[str] = field(default_factory=set)
    skipped_by_role: int = 0


@dataclass
class Listing:
    """One listing response, read: the whole JSON document, and the postings to follow as (source id, entry)
    pairs (each with an id, seen for the first time in this crawl, and past the role filter)."""

    data: Any
    follow: list[tuple[str, dict[str, Any]]]

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return iter(self.follow)


class AtsSpider(scrapy.Spider):
    """Base spider for one applicant-tracking platform.

    To use, set:
        name: the platform, also every item's `ats` (`greenhouse`); the module is named the same.
        api_origin: the platform's real scheme and host (`https://boards-api.greenhouse.io`).
        api_origin_eu: the EU host, or None when the platform has none.
        board_format: a regex every board token must match; board_format_help says it in words.
    and implement:
        board_requests(board): the first request(s) for one board, from `list_request(board, path, callback)`.
        Listing callbacks call `self.listing(response, board, key)`, which reads the JSON, checks its shape,
        marks the board `dead` or `ok`, drops postings without an id, records every id (so the crawl can close
        vanished postings) and applies the role filter; they then yield `self.posting(board, raw, **fields)`
        (or a `detail_request`) for each (source id, entry) it returns.
        real_origin(board) too, when the host depends on the board (Workday tenants, one site per board).

    Arguments (`-a`): board (one token; default every board the `JOBAGG_BOARD_SOURCE` callable lists for this
    family), employer (display name), api_base (replaces scheme, host and port of every request, keeping the
    real paths; the real host goes in an `X-Forwarded-Host` header so one local server can answer for many
    hosts), roles (`ml` keeps ML roles, decided from the title before any detail request; `all` keeps every
    posting).

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
        """Boards of this run: given ones, else what the `JOBAGG_BOARD_SOURCE` callable lists (`-a board` or all)."""
        if self._boards is not None:
            return self._boards
        source = load_object(self.settings.get("JOBAGG_BOARD_SOURCE", "crawler.registry.board_source"))
        return list(source(self.name, self._board_arg, self.settings))

    def real_origin(self, board: BoardRef) -> str:
        """The platform's scheme and host for a board; its EU host when the board lives there."""
        if board.region == "eu" and self.api_origin_eu:
            return self.api_origin_eu
        return self.api_origin

    def origin(self, board: BoardRef) -> str:
        """Where a board's requests go: `api_base` when given, else the real origin."""
        return self.api_base or self.real_origin(board)

    def url(self, board: BoardRef, path: str) -> str:
        return self.origin(board) + path

    def routing_headers(self, real_url: str) -> dict[str, str]:
        """Under `api_base`, the real host rides along so a mirror or the local server can tell tenants apart."""
        return {"X-Forwarded-Host": urlsplit(real_url).netloc} if self.api_base else {}

    def request(self, board: BoardRef, path: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A request for `path` on the board's origin, with `board` in cb_kwargs and the routing header."""
        headers = {**self.routing_headers(self.real_origin(board)), **kwargs.pop("headers", {})}
        cb_kwargs = {"board": board, **kwargs.pop("cb_kwargs", {})}
        return scrapy.Request(self.url(board, path), callback=callback, headers=headers, cb_kwargs=cb_kwargs, **kwargs)

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

    def list_request(self, board: BoardRef, path: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A listing request: its failure marks the board `dead` (404/410) or `error` (anything else).

        A custom `errback` should call `listing_failed(failure)` first."""
        kwargs.setdefault("errback", self.listing_failed)
        # A listing is always read again, even when a resumed crawl (JOBDIR) saw it before it was killed: the
        # board's state (what it listed) lived in the killed process, and without it nothing may be closed.
        kwargs.setdefault("dont_filter", True)
        return self.request(board, path, callback, **kwargs)

    def detail_request(self, board: BoardRef, path: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A request for one posting's detail; its failure costs that posting's refresh, not the board."""
        kwargs.setdefault("errback", self.detail_failed)
        return self.request(board, path, callback, **kwargs)

    def listing_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        board: BoardRef = request.cb_kwargs["board"]
        response = getattr(failure.value, "response", None)
        if failure.check(HostUnreachable):
            tried = failure.value.tried  # type: ignore[union-attr]
            reason = str(failure.value) if tried else f"{failure.value} at {request.url}"
            self.mark_board(board, "error" if tried else "skipped", reason)
        elif response is not None and response.status in (404, 410):
            self.mark_board(board, "dead", f"HTTP {response.status} at {request.url}")
        else:
            what = f"HTTP {response.status}" if response is not None else failure_reason(failure)
            self.mark_board(board, "error", f"{what} at {request.url}")

    def detail_failed(self, failure: Failure) -> None:
        # The listing was read, so nothing wrongly closes; the posting is simply not refreshed this run.
        self.crawler.stats.inc_value("jobagg/detail/failed")
        request = failure.request  # type: ignore[attr-defined]
        self.logger.warning("%s detail failed: %s (%s)", self.name, request.url, failure.getErrorMessage())

    def read_detail(self, response: Response) -> Any:
        """A detail response's JSON object, or None (counted) when it is not one."""
        try:
            data = response.json() if isinstance(response, TextResponse) else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self.crawler.stats.inc_value("jobagg/detail/failed")
            return None
        return data

    def mark_board(self, board: BoardRef, status: str, reason: str | None = None) -> None:
        """Record a board's state; error outranks dead outranks ok, so one bad page is never forgotten."""
        state = self.board_states.setdefault(board.token, BoardState())
        rank = {"pending": 0, "skipped": 1, "ok": 1, "dead": 2, "error": 3}
        if rank[status] >= rank[state.status]:
            state.status, state.reason = status, reason
        self.crawler.stats.inc_value(f"jobagg/boards/{status}")
        if status not in ("ok", "skipped"):  # the fail-fast middleware says once why a host's boards are skipped
            self.logger.warning("board %s/%s is %s: %s", self.name, board.token, status, reason)

    # --- listings ------------------------------------------------------------------------------------

    def listing(
        self,
        response: Response,
        board: BoardRef,
        key: str | None,
        *,
        decides: bool = True,
        id_of: str | Callable[[dict[str, Any]], Any] = "id",
        title_of: str | Callable[[dict[str, Any]], Any] = "title",
        public: Callable[[dict[str, Any]], bool] | None = None,
    ) -> Listing | None:
        """Read one listing response: JSON -> its postings list -> dead/ok -> id guard -> `listed`.

        key: where the postings list sits in the JSON object (None: the JSON is the list).
        decides: whether this response decides the board's health (the first page of the board's own listing,
            not a later page or a slice): empty means `dead`, else `ok`.
        id_of, title_of: a posting's id and title, as a key or a function of the entry.
        public: keeps the entries the public board shows; the others are counted and are not postings.
        Returns None after marking the board `error` when the response is not a listing.
        """
        data = self.read_json(response, board)
        if data is None:
            return None
        entries = data if key is None else (data.get(key) if isinstance(data, dict) else None)
        if not isinstance(entries, list):
            what = "a JSON array" if key is None else f"a `{key}` list"
            self.mark_board(board, "error", f"expected {what} at {response.url}")
            return None
        if public is not None:
            shown = [e for e in entries if not isinstance(e, dict) or public(e)]
            self.crawler.stats.inc_value(f"jobagg/{self.name}/unlisted", len(entries) - len(shown))
            entries = shown
        if decides:
            if not entries:
                self.mark_board(board, "dead", "the board lists no postings")
                return Listing(data, [])
            self.mark_board(board, "ok")
        return Listing(data, list(self.follow(board, entries, id_of, title_of)))

    def follow(
        self,
        board: BoardRef,
        entries: Iterable[Any],
        id_of: str | Callable[[dict[str, Any]], Any] = "id",
        title_of: str | Callable[[dict[str, Any]], Any] = "title",
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """The id guard and `listed` for a listing's entries: (source id, entry) for each one to follow."""
        for entry in entries:
            raw_id = (id_of(entry) if callable(id_of) else entry.get(id_of)) if isinstance(entry, dict) else None
            if raw_id is None or raw_id == "":
                self.crawler.stats.inc_value(f"jobagg/{self.name}/posting_without_id")
                continue
            title = title_of(entry) if callable(title_of) else entry.get(title_of)
            if self.listed(board, str(raw_id), str(title or "")):
                yield str(raw_id), entry

    def listed(self, board: BoardRef, source_id: str, title: str) -> bool:
        """Record a listed posting; True when it is new in this crawl and its title passes the role filter.

        A posting shown twice (overlapping Workday slices, two pages of one site) is followed once."""
        state = self.board_states.setdefault(board.token, BoardState())
        if source_id in state.listed_ids:
            return False
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
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if "json" not in content_type:
            # Mislabelled JSON (octet-stream, text/plain) is still read; an HTML page then fails as invalid JSON.
            self.crawler.stats.inc_value("jobagg/http/unexpected_content_type")
        try:
            if isinstance(response, TextResponse):
                return response.json()
            return json.loads(response.body)
        except ValueError as exc:
            redirects = response.meta.get("redirect_urls")
            if redirects:  # e.g. a board turned private sends the crawler to a sign-in page
                self.mark_board(board, "error", f"redirected from {redirects[0]} to {response.url}, not JSON")
                return None
            if response.body.lstrip()[:1] == b"<":
                what = f"an HTML page (HTTP {response.status}) where JSON was expected"
                self.mark_board(board, "error", f"{what} at {response.url}")
                return None
            self.mark_board(board, "error", f"invalid JSON at {response.url}: {exc}")
            return None

    def _callback_failed(self, failure: Failure, response: Response, spider: scrapy.Spider) -> None:
        # A parse error may have hidden postings, so the board must not count as fully read.
        board = response.request.cb_kwargs.get("board") if response.request else None
        if spider is self and isinstance(board, BoardRef):
            self.mark_board(board, "error", f"{failure.type.__name__} while parsing {response.url}")
