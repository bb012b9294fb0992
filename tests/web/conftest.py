"""One demo database per backend for the front-end tests: the real offline demo (corpus crawl, DOL sample, tags)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import demo_sqlite_url, pg_schema, run_demo


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_sqlite_url(tmp_path_factory)


@pytest.fixture(scope="session")
def demo_pg() -> Iterator[str]:
    """The demo in a PostgreSQL schema of its own, so db_url tests (which truncate theirs) never touch it."""
    with pg_schema("jobagg_demo") as url:
        run_demo(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_db(request: pytest.FixtureRequest) -> str:
    """The demo database of each kind (read-only for tests: never write to it)."""
    return request.getfixturevalue("demo_sqlite" if request.param == "sqlite" else "demo_pg")


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg itself takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


class LiveServer:
    """`jobagg serve`'s app under uvicorn on a free 127.0.0.1 port, in a thread."""

    def __init__(self, db_url: str) -> None:
        import threading

        import uvicorn

        from crawler.web.app import create_app
        from tests.conftest import free_port

        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(db_url), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the web app did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def server_sqlite(demo_sqlite: str) -> Iterator[LiveServer]:
    with LiveServer(demo_sqlite) as server:
        yield server


@pytest.fixture(scope="session")
def server_pg(demo_pg: str) -> Iterator[LiveServer]:
    with LiveServer(demo_pg) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest) -> LiveServer:
    """The running app over the demo database of each kind."""
    return request.getfixturevalue("server_sqlite" if request.param == "sqlite" else "server_pg")
