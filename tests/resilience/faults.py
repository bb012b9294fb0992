"""A corpus server that misbehaves on purpose: per path, the faults real job boards and proxies produce.

`FaultServer(root, faults={path: Fault(kind, times)})` answers a request to `path` with the fault `times` times
(None: every time), then as the corpus server would. Kinds:

- `429`, `500`, `503`: that status (`429` and `503` with `Retry-After: 1`), an error body.
- `hang`: accepts the request and says nothing for `HANG_SECONDS` (set the crawl's DOWNLOAD_TIMEOUT below it).
- `truncate`: the real body announced in full but cut mid-body and the connection closed (data loss).
- `cut_json`: the first half of the real body with a matching length (the server itself sent broken JSON).
- `html200`: a proxy's HTML error page with status 200.
- `oversize`: the real body padded past the crawl's DOWNLOAD_MAXSIZE.
- `login`: a 302 to a login page that answers 200 with an HTML form.
- `content_type`: the real body labelled `application/octet-stream`.
- `reset`: the connection reset (TCP RST) before any reply.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from crawler.offline.server import CorpusHandler, CorpusServer, Reply

HANG_SECONDS = 4.0
LOGIN_PATH = "/login"
KINDS = ("429", "500", "503", "hang", "truncate", "cut_json", "html200", "oversize", "login", "content_type", "reset")
# What Scrapy's retry middleware retries (status codes in RETRY_HTTP_CODES, timeouts, lost connections).
TRANSIENT_KINDS = ("429", "500", "503", "hang", "truncate", "reset")


@dataclass
class Fault:
    kind: str
    times: int | None = None  # None: always
    oversize_bytes: int = 300_000


class FaultHandler(CorpusHandler):
    server: FaultServer

    def _answer(self, method: str) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.hits[path] += 1
        if self.server.delay and path != "/robots.txt":
            time.sleep(self.server.delay)  # a slow server, so that a crawl can be interrupted mid-way
        if path == LOGIN_PATH:
            self.send_reply(Reply(200, b"<html><body><form action='/login'>Sign in</form></body></html>", "text/html"))
            return
        fault = self.server.take_fault(path)
        if fault is None:
            self.server.requests.append((method, self.path))
            self.send_reply(self.routed_reply(method, body))
            return
        self.inject(fault, method, body)

    def inject(self, fault: Fault, method: str, body: bytes) -> None:
        kind = fault.kind
        if kind in ("429", "503"):
            self.send_reply(Reply(int(kind), b'{"error": "slow down"}', headers={"Retry-After": "1"}))
        elif kind == "500":
            self.send_reply(Reply(500, b'{"error": "internal"}'))
        elif kind == "hang":
            time.sleep(HANG_SECONDS)
            self.close_connection = True
        elif kind == "reset":
            # SO_LINGER 0: close() sends RST instead of FIN, as a crashing proxy or a middlebox does.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif kind == "html200":
            page = b"<!DOCTYPE html><html><body><h1>We'll be right back</h1><p>Maintenance</p></body></html>"
            self.send_reply(Reply(200, page, "text/html; charset=utf-8"))
        elif kind == "login":
            self.send_reply(Reply(302, b"", "text/html", headers={"Location": f"{LOGIN_PATH}?next={self.path}"}))
        else:
            real = self.routed_reply(method, body)
            if kind == "truncate":
                self.send_response(real.status)
                self.send_header("Content-Type", real.content_type)
                self.send_header("Content-Length", str(len(real.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(real.body[: len(real.body) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif kind == "cut_json":
                self.send_reply(Reply(real.status, real.body[: len(real.body) // 2], real.content_type))
            elif kind == "oversize":
                padding = b" " * fault.oversize_bytes  # JSON allows trailing whitespace: only the size is wrong
                self.send_reply(Reply(real.status, real.body + padding, real.content_type))
            elif kind == "content_type":
                self.send_reply(Reply(real.status, real.body, "application/octet-stream"))
            else:
                raise ValueError(f"unknown fault kind {kind!r}")


class FaultServer(CorpusServer):
    handler_class = FaultHandler

    def __init__(self, root: Path, faults: dict[str, Fault] | None = None) -> None:
        super().__init__(root)
        self.faults = dict(faults or {})
        self.hits: Counter[str] = Counter()
        self.delay = 0.0
        self._fault_lock = threading.Lock()

    def take_fault(self, path: str) -> Fault | None:
        with self._fault_lock:
            fault = self.faults.get(path)
            if fault is None:
                return None
            if fault.times is not None:
                if fault.times <= 0:
                    return None
                fault.times -= 1
            return fault

    def set_faults(self, faults: dict[str, Fault]) -> None:
        with self._fault_lock:
            self.faults = dict(faults)
            self.hits.clear()
