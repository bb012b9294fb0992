"""Shared fixtures: real databases (SQLite always, PostgreSQL when reachable) and local HTTP servers."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from crawler import db as dbmod
from tests.crawling import jobagg

FIXTURES = Path(__file__).parent / "fixtures"
PG_HOST, PG_PORT = "127.0.0.1", 5432
IN_CI = os.environ.get("CI", "").lower() == "true"


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Any]) -> tuple[Path, Any]:
    """Something slow (a crawl, the demo) built once per test run for every worker: the first worker to ask builds
    it in a folder the workers share, under a lock, and the others read the same folder and the JSON `build`
    returned. What is built there is read-only for the tests."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    folder, summary = root / f"built-{name}", root / f"built-{name}.json"
    with FileLock(str(root / f"built-{name}.lock")):
        if not summary.exists():  # a failed build leaves none, so the next worker tries again and fails alike
            folder.mkdir(exist_ok=True)
            summary.write_text(json.dumps(build(folder)))
    return folder, json.loads(summary.read_text())


def run_demo(url: str) -> None:
    # A subprocess, as a user runs it: Scrapy's reactor cannot start twice in one test process.
    out = jobagg("--db", url, "demo")
    assert out.returncode == 0, out.stderr[-3000:]


def demo_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo (corpus crawl, DOL sample, tags) in a SQLite file, built once per test run for every worker."""
    folder, _ = built_once(tmp_path_factory, "demo-sqlite", lambda folder: run_demo(f"sqlite:///{folder / 'demo.db'}"))
    return f"sqlite:///{folder / 'demo.db'}"


def _pg_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def _require_postgres() -> None:
    if _pg_reachable():
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable, and CI=true requires it")
    pytest.skip(f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable (set CI=true to make this a failure)")


@contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """A migrated PostgreSQL URL whose search_path is a schema of its own, dropped after the block."""
    _require_postgres()
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = dbmod.make_engine(f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/test")
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/test?options=-csearch_path%3D{schema}"
    try:
        migrator = dbmod.make_engine(url)
        dbmod.upgrade(migrator)  # explicit, as `jobagg db upgrade`: nothing migrates PostgreSQL on first use
        migrator.dispose()
        yield url
    finally:
        dbmod.dispose_all()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def pg_role(owner_url: str, prefix: str, grants: list[str]) -> Iterator[str]:
    """A login role on the schema of `owner_url` with USAGE on it and `grants` (each "PRIVILEGES ON ALL ... IN
    SCHEMA" gets the schema and role appended); its URL, and the role dropped after the block."""
    import re

    schema = re.search(r"search_path%3D([A-Za-z0-9_]+)", owner_url).group(1)  # type: ignore[union-attr]
    role = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = dbmod.get_engine(owner_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        for grant in grants:
            conn.execute(text(f'GRANT {grant} IN SCHEMA "{schema}" TO "{role}"'))
    url = owner_url.replace("postgres@", f"{role}@")
    try:
        yield url
    finally:
        engine = dbmod._engines.pop(dbmod.resolve_url(url), None)
        if engine is not None:
            engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Local caches (the match index copied from PostgreSQL) go under the session's temporary folder, never the
    user's own cache directory; commands run in subprocesses inherit it."""
    old = os.environ.get("JOBAGG_CACHE_DIR")
    os.environ["JOBAGG_CACHE_DIR"] = str(tmp_path_factory.mktemp("jobagg-cache"))
    yield
    if old is None:
        os.environ.pop("JOBAGG_CACHE_DIR", None)
    else:
        os.environ["JOBAGG_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema private to this test session (parallel runs don't clash)."""
    with pg_schema("jobagg_test") as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobagg.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind; committed writes are wiped after the test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobagg.db'}"
        dbmod.get_engine(url)
        yield url
        dbmod.get_engine(url).dispose()
        return
    url = request.getfixturevalue("pg_url")
    engine = dbmod.get_engine(url)
    yield url
    _truncate_all(engine)


def _truncate_all(engine: Engine) -> None:
    from crawler.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def engine(db_url: str) -> Engine:
    return dbmod.get_engine(db_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back at the end, whatever the test committed."""
    with engine.connect() as conn:
        trans = conn.begin()
        sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield sess
        finally:
            sess.close()
            trans.rollback()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
