"""One demo database per backend for the front-end tests: the real offline demo (corpus crawl, DOL sample, tags)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from crawler import db as dbmod
from crawler.demo import run_demo
from tests.conftest import _truncate_all


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'jobagg.db'}"
    run_demo(url, Console(quiet=True))
    return url


@pytest.fixture(scope="session")
def demo_pg(pg_url: str) -> Iterator[str]:
    engine = dbmod.get_engine(pg_url)
    _truncate_all(engine)
    run_demo(pg_url, Console(quiet=True))
    yield pg_url
    _truncate_all(engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_db(request: pytest.FixtureRequest) -> str:
    """The demo database of each kind (read-only for tests: never write to it)."""
    return request.getfixturevalue("demo_sqlite" if request.param == "sqlite" else "demo_pg")


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg itself takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))
