"""Any career site that marks its job pages up with schema.org `JobPosting` in JSON-LD.

A "board" here is a site: its token is the host (`careers.example.com`), so registry rows, board health and
closing vanished postings work as for the API platforms. The crawl starts at `-a url=` (a job page or a
listing page) and/or `-a sitemap=`; for a registry board at its `board_url`; else at `https://<host>/sitemap.xml`.
Listing pages are followed one level (same host, job-looking links); sitemaps (and sitemap indexes) are read
in full. A posting's id is its `identifier.value`, else its `url`, else the page URL (with `#n` when one page
holds several postings without either). Pages are the details, so `roles=ml` filters after each page is read:
there is no title to check before.
"""

from __future__ import annotations

import html
import json
import re
import struct
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from spiders.base import AtsSpider, BoardRef, BoardState

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_HTML_COMMENT = re.compile(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$")
_JOB_LINK = re.compile(r"job|career|position|opening|vacanc|posting|role", re.I)
_SKIP_LINK = re.compile(r"\.(?:pdf|jpe?g|png|gif|svg|css|js|zip|docx?)(?:$|\?)|^(?:mailto|tel|javascript):", re.I)
# schema.org `unitText` / our salary periods.
_UNITS = {"YEAR": "year", "MONTH": "month", "WEEK": "week", "DAY": "day", "HOUR": "hour"}
_MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_XML_ENTITY = re.compile(rb"<!ENTITY|<!DOCTYPE[^>]*\[", re.I)


def parse_block(text: str) -> tuple[Any, bool]:
    """JSON from one ld+json block: (data, repaired). Lenient about raw control characters in strings,
    trailing commas and HTML comment wrappers; raises ValueError when even that fails."""
    try:
        return json.loads(text), False
    except ValueError:
        pass
    cleaned = _HTML_COMMENT.sub("", text.strip())
    if cleaned.startswith("{&quot;") or cleaned.startswith("[&quot;"):
        # Some templates HTML-escape the whole block.
        cleaned = html.unescape(cleaned)
    cleaned = _TRAILING_COMMA.sub(r"\1", cleaned)
    # strict=False accepts raw newlines and tabs inside strings, the commonest breakage.
    return json.loads(cleaned, strict=False), True


def type_names(node: dict[str, Any]) -> set[str]:
    types = node.get("@type")
    names = types if isinstance(types, list) else [types]
    # "JobPosting", "schema:JobPosting" and "https://schema.org/JobPosting" all name the same type.
    return {re.split(r"[/:#]", str(t))[-1] for t in names if t}


def job_postings(data: Any) -> Iterator[dict[str, Any]]:
    """Every JobPosting node in a JSON-LD document: top level, lists, `@graph`, or nested in other nodes."""
    if isinstance(data, list):
        for element in data:
            yield from job_postings(element)
    elif isinstance(data, dict):
        if "JobPosting" in type_names(data):
            yield data
            return
        for value in data.values():
            if isinstance(value, dict | list):
                yield from job_postings(value)


def first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else (None if isinstance(value, list) else value)


def name_of(value: Any) -> str | None:
    """A Thing's name, whether given as a string or as an object with `name`."""
    value = first(value)
    if isinstance(value, dict):
        value = value.get("name")
    return str(value).strip() if value else None


def place_text(place: Any) -> str | None:
    if not isinstance(place, dict):
        return str(place).strip() if place else None
    address = place.get("address", place)
    if not isinstance(address, dict):
        return str(address).strip() if address else None
    parts = [name_of(address.get(k)) for k in ("addressLocality", "addressRegion", "addressCountry")]
    return ", ".join(p for p in parts if p) or name_of(place)


def identifier_of(posting: dict[str, Any]) -> str | None:
    ident = first(posting.get("identifier"))
    if isinstance(ident, dict):
        ident = ident.get("value") or ident.get("@id")
    return str(ident).strip() if ident not in (None, "") else None


def salary_fields(posting: dict[str, Any]) -> dict[str, Any]:
    salary = first(posting.get("baseSalary") or posting.get("estimatedSalary"))
    if not isinstance(salary, dict):
        return {"salary_raw": str(salary)} if salary else {}
    value = salary.get("value")
    unit = salary.get("unitText")
    low = high = None
    if isinstance(value, dict):
        low = value.get("minValue", value.get("value"))
        high = value.get("maxValue", value.get("value"))
        unit = value.get("unitText") or unit
    elif value is not None:
        low = high = value
    currency = salary.get("currency") or (value.get("currency") if isinstance(value, dict) else None)
    return {
        "salary_min": low,
        "salary_max": high,
        "salary_currency": currency,
        "salary_period": _UNITS.get(str(unit or "").upper()),
        "salary_raw": json.dumps(salary, ensure_ascii=False)[:500],
    }


class JsonldSpider(AtsSpider):
    """Career sites with schema.org JobPosting JSON-LD: pages, listing pages and sitemaps."""

    name = "jsonld"
    # Each site is its own origin; this is the pattern, resolved per board by real_origin().
    api_origin = "https://{host}"
    board_format = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d+)?"
    board_format_help = "the site's host name, e.g. `careers.example.com`"
    # Links followed from a listing page must look like job pages; `-a follow=REGEX` overrides.
    follow_pattern: re.Pattern[str] = _JOB_LINK

    def __init__(self, url: str | None = None, sitemap: str | None = None, follow: str | None = None, **kwargs: Any):
        start = [u for u in (url, sitemap) if u]
        if start and not kwargs.get("board"):
            kwargs["board"] = urlsplit(start[0]).netloc
        super().__init__(**kwargs)
        for value in start:
            if urlsplit(value).scheme not in ("http", "https"):
                raise ValueError(f"jsonld: {value!r} is not an http(s) URL")
        self.start_url, self.start_sitemap = url, sitemap
        if follow:
            self.follow_pattern = re.compile(follow)
        self._seen: dict[str, set[str]] = {}
        self._pending: dict[str, int] = {}
        self._hosts: dict[str, set[str]] = {}

    # --- where requests go -----------------------------------------------------------------------------

    def real_origin(self, board: BoardRef) -> str:
        return f"https://{board.token}"

    def fetch_url(self, real_url: str) -> str:
        """The URL to request: the real one, or with api_base its path on the api_base origin."""
        if not self.api_base:
            return real_url
        parts = urlsplit(real_url)
        return self.api_base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def starts(self, board: BoardRef) -> list[tuple[str, str]]:
        """(kind, real URL) pairs a board's crawl begins with; kind is `page` or `sitemap`."""
        given = [(kind, u) for kind, u in (("page", self.start_url), ("sitemap", self.start_sitemap)) if u]
        if given:
            return given
        if board.url:
            return [("sitemap" if re.search(r"\.xml(?:\.gz)?$", board.url) else "page", board.url)]
        return [("sitemap", f"https://{board.token}/sitemap.xml")]

    def board_requests(self, board: BoardRef) -> Iterable[scrapy.Request]:
        self._seen[board.token] = set()
        self._pending[board.token] = 0
        starts = self.starts(board)
        # A registry board_url may sit on another host than the token (www.example.com/careers).
        self._hosts[board.token] = {board.token, *(urlsplit(u).netloc for _, u in starts)}
        for kind, real in starts:
            callback = self.parse_sitemap if kind == "sitemap" else self.parse_start_page
            request = self.page_request(board, real, callback, start=True)
            if request is not None:
                yield request

    def page_request(self, board: BoardRef, real_url: str, callback: Any, start: bool = False) -> scrapy.Request | None:
        real_url = real_url.split("#", 1)[0]
        if real_url in self._seen[board.token]:
            return None
        self._seen[board.token].add(real_url)
        self._pending[board.token] += 1
        return scrapy.Request(
            self.fetch_url(real_url),
            headers=self.routing_headers(real_url),
            callback=callback,
            errback=self.start_failed if start else self.page_failed,
            cb_kwargs={"board": board, "real_url": real_url},
            # The spider keeps its own seen-set so that every request it counts is also answered.
            dont_filter=True,
        )

    # --- board health ----------------------------------------------------------------------------------

    def done(self, board: BoardRef) -> None:
        """One request of a board finished; after the last one, a site without postings is dead."""
        self._pending[board.token] -= 1
        state = self.board_states.setdefault(board.token, BoardState())
        if self._pending[board.token] == 0 and state.status == "pending":
            if state.listed_ids:
                self.mark_board(board, "ok")
            else:
                self.mark_board(board, "dead", "no schema.org JobPosting found")

    def start_failed(self, failure: Failure) -> None:
        self.listing_failed(failure)
        self.done(failure.request.cb_kwargs["board"])  # type: ignore[attr-defined]

    def page_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        board: BoardRef = request.cb_kwargs["board"]
        response = getattr(failure.value, "response", None)
        if response is not None and response.status in (404, 410):
            # A stale link or sitemap entry: the posting is gone, which closing will record.
            self.crawler.stats.inc_value("jsonld/page/gone")
        else:
            self.listing_failed(failure)
        self.done(board)

    # --- parsing ---------------------------------------------------------------------------------------

    def parse_sitemap(self, response: Response, board: BoardRef, real_url: str) -> Iterator[Any]:
        body = response.body
        limit = self.settings.getint("DOWNLOAD_MAXSIZE") or _MAX_SITEMAP_BYTES
        if body[:2] == b"\x1f\x8b":
            try:
                # Size-limited: a few KB of gzip can inflate to gigabytes (a gzip bomb); stop at the limit.
                body = gunzip(body, max_size=limit)
            except ValueError:  # Scrapy's (private) size-exceeded error is a ValueError
                self.refuse_sitemap(board, real_url, "too_large", f"inflates past {limit} bytes (gzip bomb?)")
                return
            except (OSError, EOFError, struct.error) as exc:
                self.refuse_sitemap(board, real_url, "bad_gzip", f"not readable gzip ({exc})")
                return
        if _XML_ENTITY.search(body[:65536]):
            # A sitemap has no use for a DTD; entity declarations only serve expansion or file-reading tricks.
            self.refuse_sitemap(board, real_url, "entities", "declares XML entities (refused)")
            return
        try:
            sitemap = Sitemap(body)
            entries = list(sitemap)
        except Exception as exc:  # lxml raises several types on garbage; any of them means "not a sitemap"
            self.mark_board(board, "error", f"unreadable sitemap at {real_url}: {exc}")
            self.done(board)
            return
        for entry in entries:
            loc = urljoin(real_url, entry.get("loc", "").strip())
            if sitemap.type == "sitemapindex":
                request = self.page_request(board, loc, self.parse_sitemap)
            elif self.same_site(board, loc) and self.follow_pattern.search(urlsplit(loc).path):
                request = self.page_request(board, loc, self.parse_job_page)
            else:
                continue
            if request is not None:
                yield request
        self.done(board)

    def refuse_sitemap(self, board: BoardRef, real_url: str, why: str, reason: str) -> None:
        self.crawler.stats.inc_value(f"jobagg/jsonld/sitemap_refused/{why}")
        self.mark_board(board, "error", f"sitemap at {real_url} {reason}")
        self.done(board)

    def parse_start_page(self, response: Response, board: BoardRef, real_url: str) -> Iterator[Any]:
        """A job page or a listing page: read its postings, then follow its job links one level."""
        yield from self.page_postings(response, board, real_url)
        if isinstance(response, TextResponse):
            for href in response.css("a::attr(href)").getall():
                link = urljoin(real_url, href.strip())
                if _SKIP_LINK.search(href.strip()) or not self.same_site(board, link):
                    continue
                if self.follow_pattern.search(urlsplit(link).path):
                    request = self.page_request(board, link, self.parse_job_page)
                    if request is not None:
                        yield request
        self.done(board)

    def parse_job_page(self, response: Response, board: BoardRef, real_url: str) -> Iterator[Any]:
        yield from self.page_postings(response, board, real_url)
        self.done(board)

    def same_site(self, board: BoardRef, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and parts.netloc in self._hosts.get(board.token, {board.token})

    def page_postings(self, response: Response, board: BoardRef, real_url: str) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            return
        blocks = response.xpath(
            "//script[contains(translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),"
            " 'ld+json')]/text()"
        ).getall()
        postings: list[dict[str, Any]] = []
        for block in blocks:
            try:
                data, repaired = parse_block(block)
            except ValueError:
                self.crawler.stats.inc_value("jobagg/jsonld/blocks_unparseable")
                self.logger.info("unparseable JSON-LD block at %s", real_url)
                continue
            if repaired:
                self.crawler.stats.inc_value("jobagg/jsonld/blocks_repaired")
            postings.extend(job_postings(data))
        found = []
        for index, posting in enumerate(postings):
            source_id = identifier_of(posting) or self.posting_url(posting, real_url)
            if len(postings) > 1 and not identifier_of(posting) and not posting.get("url"):
                source_id = f"{real_url}#{index + 1}"
            title = str(posting.get("title") or posting.get("name") or "").strip()
            if not title:
                self.crawler.stats.inc_value("jobagg/jsonld/posting_without_title")
                continue
            found.append({"id": source_id, "title": title, "posting": posting})
        for source_id, entry in self.follow(board, found):
            yield self.job_item(board, entry["posting"], source_id, entry["title"], real_url)

    @staticmethod
    def posting_url(posting: dict[str, Any], real_url: str) -> str:
        url = first(posting.get("url"))
        return urljoin(real_url, str(url)) if url else real_url

    def job_item(self, board: BoardRef, posting: dict[str, Any], source_id: str, title: str, real_url: str) -> Any:
        places = posting.get("jobLocation")
        places = places if isinstance(places, list) else [places]
        locations = [p for p in (place_text(x) for x in places if x) if p]
        raw_type = posting.get("jobLocationType")
        location_type = " ".join(map(str, raw_type)) if isinstance(raw_type, list) else str(raw_type or "")
        telecommute = "TELECOMMUTE" in location_type.upper()
        requirements = posting.get("applicantLocationRequirements")
        requirement_names = [name_of(r) for r in (requirements if isinstance(requirements, list) else [requirements])]
        if telecommute and not locations:
            locations = [f"Remote ({n})" for n in requirement_names if n] or ["Remote"]
        employment = posting.get("employmentType")
        extra = {
            "valid_through": posting.get("validThrough"),
            "education_requirements": posting.get("educationRequirements"),
            "experience_requirements": posting.get("experienceRequirements"),
            "applicant_location_requirements": [n for n in requirement_names if n] or None,
            "page": real_url,
        }
        return self.posting(
            board,
            posting,
            source_id=source_id,
            url=self.posting_url(posting, real_url),
            title=title,
            employer_name=name_of(posting.get("hiringOrganization")),
            requisition_id=identifier_of(posting),
            locations=locations,
            remote="remote" if telecommute else None,
            remote_raw=location_type or None,
            employment_type_raw=employment if isinstance(employment, list | str) else None,
            posted_at_raw=posting.get("datePosted"),
            description_raw=posting.get("description"),
            **salary_fields(posting),
            extra={k: json.loads(json.dumps(v, default=str)) for k, v in extra.items() if v} or None,
        )
