"""A local HTTP server that answers at the platforms' real API paths from a corpus folder.

The offline demo, the tests and the benchmarks point spiders at it with `-a api_base=http://127.0.0.1:PORT`.
Corpus layout, one file per board under `<root>/<platform>/`:

- greenhouse: `<token>.json`, the list response (`{"jobs": [...], "meta": {...}}`, content included).
- lever: `<site>.json`, the bare array of postings; `skip`/`limit` page it like the real API.
- ashby: `<org>.json`, the job-board response (`{"apiVersion": "1", "jobs": [...]}`, compensation included).
- workday: `<tenant>.<wdN>__<site>.json` (the board token with `/` as `__`):
  `{"jobPostings": [list entries, each with an extra "facets": {param: [value id, ...]}],
  "facetDescriptors": {param: {"descriptor": str, "values": {value id: str}}},
  "details": {externalPath: detail response}, "resultCap"?: int}`. The list answers like the real one:
  `limit` above 20 is a 400, `appliedFacets` filter, at most `resultCap` (default 2,000) results reachable by
  paging, and `total` (first page only) is capped at `resultCap` as the service's is; facet counts are over the
  postings matching the applied facets, a posting counting once per value (so location values overlap).
  The tenant's file is chosen by the real host (`<tenant>.<wdN>.myworkdayjobs.com`).
- smartrecruiters: `<company>.json`, `{"content": [list entries], "details": {id: detail response}}`; an
  unknown company answers `totalFound: 0` as the real API does.
- jsonld: static pages and sitemaps at `<root>/jsonld/<host>/<path>` for GET `<path>` on `<host>` (`.../` serves
  `index.html`); many sites share one server, told apart by the real host.
- recruitee (the worked example of docs/adding-a-spider.md): `<company>.json`, the offers response.

Spiders under `api_base` send the real host in `X-Forwarded-Host`; routes read it (else `Host`) as `host`.

`CorpusServer(root, rate_limit_once={path, ...})` answers the first request to each listed path with
429 and `Retry-After: 1`, to exercise the politeness settings.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

BUNDLED_CORPUS = Path(__file__).parent / "corpus"


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload).encode())


NOT_FOUND = Reply(404, b'{"status": 404, "error": "Not found"}')

# A route answers (corpus root, path match, query, request body, real host) -> Reply. The real host is the
# X-Forwarded-Host a spider sends under api_base (else the Host header): it tells tenants and sites apart.
Handler = Callable[[Path, re.Match[str], dict[str, list[str]], bytes, str], Reply]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append((method, re.compile(pattern), handler))
        return handler

    return register


def board_bytes(root: Path, platform: str, token: str) -> bytes | None:
    """A corpus file as stored, so that a deliberately broken fixture reaches the spider broken."""
    path = root / platform / f"{token}.json"
    return path.read_bytes() if path.is_file() else None


def load_board(root: Path, platform: str, token: str) -> Any | None:
    raw = board_bytes(root, platform, token)
    return None if raw is None else json.loads(raw)


@route("GET", r"/robots\.txt")
def robots(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    return Reply(200, b"User-agent: *\nAllow: /\n", "text/plain")


@route("GET", r"/v1/boards/(?P<token>[^/]+)/jobs")
def greenhouse_list(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    if query.get("content", ["false"])[0] == "true":
        raw = board_bytes(root, "greenhouse", m["token"])
        return NOT_FOUND if raw is None else Reply(200, raw)
    board = load_board(root, "greenhouse", m["token"])
    if board is None:
        return NOT_FOUND
    # Without content=true the real API omits descriptions and departments.
    jobs = [{k: v for k, v in j.items() if k not in ("content", "departments", "offices")} for j in board["jobs"]]
    return json_reply({**board, "jobs": jobs})


@route("GET", r"/v1/boards/(?P<token>[^/]+)/jobs/(?P<id>\d+)")
def greenhouse_job(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    board = load_board(root, "greenhouse", m["token"])
    for job in (board or {}).get("jobs", []):
        if str(job["id"]) == m["id"]:
            return json_reply(job)
    return NOT_FOUND


def _int_arg(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(query.get(name, [str(default)])[0])
    except ValueError:
        return default


@route("GET", r"/v0/postings/(?P<site>[^/]+)")
def lever_list(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    postings = load_board(root, "lever", m["site"])
    if postings is None:
        return Reply(404, b'{"ok": false, "error": "Document not found"}')
    skip = _int_arg(query, "skip", 0)
    limit = _int_arg(query, "limit", len(postings))
    return json_reply(postings[skip : skip + limit])


@route("GET", r"/v0/postings/(?P<site>[^/]+)/(?P<id>[^/]+)")
def lever_posting(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    for posting in load_board(root, "lever", m["site"]) or []:
        if posting.get("id") == m["id"]:
            return json_reply(posting)
    return Reply(404, b'{"ok": false, "error": "Document not found"}')


@route("GET", r"/posting-api/job-board/(?P<org>[^/]+)")
def ashby_board(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    board = load_board(root, "ashby", unquote(m["org"]))  # names with spaces arrive as %20
    if board is None:
        return NOT_FOUND
    if query.get("includeCompensation", ["false"])[0] != "true":
        board = {**board, "jobs": [{k: v for k, v in j.items() if k != "compensation"} for j in board["jobs"]]}
    return json_reply(board)


_WORKDAY_HOST = re.compile(r"(?P<tenant>[^.]+)\.(?P<shard>wd\d+)\.myworkdayjobs\.com", re.I)


_PARSED: dict[tuple[Path, int], Any] = {}


def _parsed(path: Path) -> Any:
    """A tenant file, parsed once while unchanged: a big tenant answers hundreds of searches."""
    key = (path, path.stat().st_mtime_ns)
    if key not in _PARSED:
        _PARSED[key] = json.loads(path.read_text(encoding="utf-8"))
    return _PARSED[key]


def _workday_board(root: Path, tenant: str, site: str, host: str) -> Any | None:
    m = _WORKDAY_HOST.fullmatch(host.split(":")[0])
    if m is not None:
        path = root / "workday" / f"{m['tenant']}.{m['shard']}__{site}.json"
        return _parsed(path) if path.is_file() else None
    # Without the real host the path has tenant and site but not the wdN shard, so the file is found by pattern.
    for path in sorted((root / "workday").glob(f"{tenant}.wd*__{site}.json")):
        return _parsed(path)
    return None


def _workday_facets(postings: list[dict[str, Any]], descriptors: dict[str, Any]) -> list[dict[str, Any]]:
    """Facet counts over the postings that match the applied facets, as the service computes them: a posting
    counts once per value it has, so location values overlap (a posting in two places counts in both)."""
    facets = []
    for param, spec in descriptors.items():
        counts: dict[str, int] = {}
        for posting in postings:
            for value in posting.get("facets", {}).get(param, []):
                counts[value] = counts.get(value, 0) + 1
        values = [{"descriptor": spec["values"].get(v, v), "id": v, "count": n} for v, n in sorted(counts.items())]
        facets.append({"facetParameter": param, "descriptor": spec.get("descriptor", param), "values": values})
    return facets


@route("POST", r"/wday/cxs/(?P<tenant>[^/]+)/(?P<site>[^/]+)/jobs")
def workday_jobs(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    board = _workday_board(root, m["tenant"], m["site"], host)
    if board is None:
        return NOT_FOUND
    try:
        search = json.loads(body or b"{}")
        limit, offset = int(search.get("limit", 20)), int(search.get("offset", 0))
        applied: dict[str, list[str]] = search.get("appliedFacets") or {}
    except (ValueError, TypeError, AttributeError):
        return Reply(400, b'{"errorCode": "HTTP_400", "message": "bad request body"}')
    if not 0 < limit <= 20:
        return Reply(400, b'{"errorCode": "HTTP_400", "message": "limit must be between 1 and 20"}')
    matching = [
        p for p in board["jobPostings"]
        if all(set(values) & set(p.get("facets", {}).get(param, [])) for param, values in applied.items() if values)
    ]  # fmt: skip
    cap = board.get("resultCap", 2000)
    page = [{k: v for k, v in p.items() if k != "facets"} for p in matching[:cap][offset : offset + limit]]
    # Like the service's, the reported total is capped too: at the cap it means "this many or more".
    payload: dict[str, Any] = {"total": min(len(matching), cap) if offset == 0 else 0, "jobPostings": page}
    payload["facets"] = _workday_facets(matching, board.get("facetDescriptors", {})) if offset == 0 else []
    payload["userAuthenticated"] = False
    return json_reply(payload)


@route("GET", r"/wday/cxs/(?P<tenant>[^/]+)/(?P<site>[^/]+)(?P<path>/job/.+)")
def workday_detail(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    board = _workday_board(root, m["tenant"], m["site"], host)
    detail = (board or {}).get("details", {}).get(m["path"])
    return json_reply(detail) if detail is not None else NOT_FOUND


@route("GET", r"/v1/companies/(?P<company>[^/]+)/postings")
def smartrecruiters_list(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    limit, offset = _int_arg(query, "limit", 10), _int_arg(query, "offset", 0)
    if not 0 < limit <= 100:
        return Reply(400, b'{"code": "BAD_REQUEST", "message": "limit must be between 1 and 100"}')
    content = (load_board(root, "smartrecruiters", m["company"]) or {}).get("content", [])
    return json_reply({"offset": offset, "limit": limit, "totalFound": len(content),
                       "content": content[offset : offset + limit]})  # fmt: skip


@route("GET", r"/v1/companies/(?P<company>[^/]+)/postings/(?P<id>[^/]+)")
def smartrecruiters_posting(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    detail = (load_board(root, "smartrecruiters", m["company"]) or {}).get("details", {}).get(m["id"])
    return json_reply(detail) if detail is not None else NOT_FOUND


_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".xml": "application/xml"}


@route("GET", r"/api/offers/")
def recruitee_offers(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    # docs/adding-a-spider.md's worked example: one host per company, `<company>.recruitee.com`.
    raw = board_bytes(root, "recruitee", host.split(".")[0])
    return NOT_FOUND if raw is None else Reply(200, raw)


@route("GET", r"/(?P<path>(?:[^/]+/)*(?:[^/]+\.(?:html|htm|xml))?)")
def jsonld_static(root: Path, m: re.Match[str], query: dict[str, list[str]], body: bytes, host: str) -> Reply:
    base = (root / "jsonld").resolve()
    site = (base / host.split(":")[0]).resolve()
    path = (site / (m["path"] or "")).resolve()
    if path.is_dir():
        path = path / "index.html"
    if not site.is_relative_to(base) or not path.is_file() or not path.is_relative_to(site):
        return Reply(404, b"<html><body>Not found</body></html>", "text/html")
    return Reply(200, path.read_bytes(), _STATIC_TYPES.get(path.suffix, "application/octet-stream"))


class CorpusHandler(BaseHTTPRequestHandler):
    server: CorpusServer

    def _answer(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((method, self.path))
        if self.server.take_rate_limit(parts.path):
            reply = Reply(429, b'{"error": "Too Many Requests"}', headers={"Retry-After": "1"})
        else:
            reply = self.routed_reply(method, body)
        self.send_reply(reply)

    def routed_reply(self, method: str, body: bytes) -> Reply:
        """What the corpus answers for this request (404 when no route matches)."""
        parts = urlsplit(self.path)
        for route_method, pattern, handler in ROUTES:
            m = pattern.fullmatch(parts.path)
            if m and route_method == method:
                host = self.headers.get("X-Forwarded-Host") or self.headers.get("Host") or ""
                return handler(self.server.root, m, parse_qs(parts.query), body, host)
        return NOT_FOUND

    def send_reply(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        # One request per connection, said out loud: Twisted would otherwise pool the connection, and a POST
        # sent on it after this server closed it fails without a retry.
        self.send_header("Connection", "close")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the crawl logs what matters
        pass


class CorpusServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a crawl's burst of connections overflows it, and each dropped
    # connection waits out TCP's one-second retransmit (a 214-request board took 12.4 s instead of 2.5 s).
    request_queue_size = 128
    handler_class: type[CorpusHandler] = CorpusHandler  # a subclass may answer differently (fault injection)

    def __init__(self, root: Path, port: int = 0, rate_limit_once: Iterable[str] = (), host: str = "127.0.0.1") -> None:
        super().__init__((host, port), self.handler_class)
        self.root = root
        self.requests: list[tuple[str, str]] = []
        self._rate_limited = set(rate_limit_once)
        self._lock = threading.Lock()

    def take_rate_limit(self, path: str) -> bool:
        """True the first time a path listed in `rate_limit_once` is requested."""
        with self._lock:
            if path in self._rate_limited:
                self._rate_limited.discard(path)
                return True
            return False

    @property
    def base_url(self) -> str:
        return f"http://{self.server_address[0]}:{self.server_address[1]}"


S = TypeVar("S", bound=CorpusServer)


@contextmanager
def serve(root: Path = BUNDLED_CORPUS, port: int = 0, rate_limit_once: Iterable[str] = ()) -> Iterator[CorpusServer]:
    """Serve `root` on 127.0.0.1 in a background thread for the duration of the block."""
    with running(CorpusServer(root, port, rate_limit_once)) as server:
        yield server


@contextmanager
def running(server: S) -> Iterator[S]:
    """Run an already bound server (any CorpusServer, subclasses included) in a background thread for the block."""
    thread = threading.Thread(target=server.serve_forever, name="corpus-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
