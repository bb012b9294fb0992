"""A few text queries straight through libpq (ctypes), for a quick command that only has to ask PostgreSQL a
question or two: importing psycopg takes longer than the rest of such a command's start-up. Optional: `connect`
gives None whenever libpq cannot be loaded or the connection fails, and the caller uses psycopg, which also
reports what went wrong. Values come back as PostgreSQL's text, NULL as None.
"""

from __future__ import annotations

import ctypes
from functools import cache
from pathlib import Path
from types import TracebackType

_CONNECTION_OK = 0
_PGRES_TUPLES_OK = 2

Rows = list[tuple[str | None, ...]]


def _candidates() -> list[str]:
    """The libpq of psycopg's binary wheel (the one psycopg itself loads), then the system's."""
    from importlib.util import find_spec

    found = []
    # find_spec of a top-level package locates it without running it.
    spec = find_spec("psycopg_binary")
    for where in (spec.submodule_search_locations or []) if spec else []:
        found += sorted(str(p) for p in (Path(where).parent / "psycopg_binary.libs").glob("libpq-*.so*"))
    return [*found, "libpq.so.5"]


@cache
def _lib() -> ctypes.CDLL | None:
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        p, s, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        for name, res, args in (
            ("PQconnectdb", p, [s]),
            ("PQstatus", i, [p]),
            ("PQfinish", None, [p]),
            ("PQsendQuery", i, [p, s]),
            ("PQgetResult", p, [p]),
            ("PQresultStatus", i, [p]),
            ("PQntuples", i, [p]),
            ("PQnfields", i, [p]),
            ("PQgetisnull", i, [p, i, i]),
            ("PQgetvalue", s, [p, i, i]),
            ("PQclear", None, [p]),
            ("PQhost", s, [p]),
            ("PQport", s, [p]),
            ("PQdb", s, [p]),
        ):
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
        return lib
    return None


class Connection:
    """One libpq connection; a query is sent, then its rows collected (meanwhile the caller may work)."""

    def __init__(self, lib: ctypes.CDLL, handle: int) -> None:
        self._lib = lib
        self._handle: int | None = handle

    def send(self, sql: str) -> bool:
        """Send one query without waiting for it."""
        return bool(self._handle and self._lib.PQsendQuery(self._handle, sql.encode()))

    def rows(self) -> Rows | None:
        """The rows of the query sent last (waiting for them), or None when it failed."""
        lib, out, ok = self._lib, None, True
        while self._handle and (res := lib.PQgetResult(self._handle)):
            try:
                if lib.PQresultStatus(res) != _PGRES_TUPLES_OK:
                    ok = False
                elif out is None:
                    out = [
                        tuple(
                            None if lib.PQgetisnull(res, r, c) else lib.PQgetvalue(res, r, c).decode()
                            for c in range(lib.PQnfields(res))
                        )
                        for r in range(lib.PQntuples(res))
                    ]
            finally:
                lib.PQclear(res)
        return out if ok else None

    def query(self, sql: str) -> Rows | None:
        return self.rows() if self.send(sql) else None

    def server(self) -> tuple[str, str, str]:
        """(host, port, database) of this connection, as psycopg's ConnectionInfo gives them."""
        lib, h = self._lib, self._handle
        return tuple((fn(h) or b"").decode() for fn in (lib.PQhost, lib.PQport, lib.PQdb))  # type: ignore[return-value]

    def close(self) -> None:
        if self._handle:
            self._lib.PQfinish(self._handle)
            self._handle = None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def connect(uri: str, timeout: int = 10) -> Connection | None:
    """A connection for a libpq URI (postgresql://...), or None (no libpq here, or it did not connect)."""
    lib = _lib()
    if lib is None:
        return None
    handle = lib.PQconnectdb(f"{uri}{'&' if '?' in uri else '?'}connect_timeout={timeout}".encode())
    if not handle:
        return None
    if lib.PQstatus(handle) != _CONNECTION_OK:
        lib.PQfinish(handle)
        return None
    return Connection(lib, handle)
