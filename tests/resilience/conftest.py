"""Fixtures of the resilience suite: a fault-injecting corpus server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.offline.server import running
from tests.resilience.faults import FaultServer


@pytest.fixture
def fault_server(tmp_path: Path) -> Iterator[FaultServer]:
    """An empty corpus under tmp_path/corpus served with a fault table the test fills (`server.faults[path]`)."""
    root = tmp_path / "corpus"
    root.mkdir()
    with running(FaultServer(root)) as server:
        yield server


@pytest.fixture
def pg_clean(pg_url: str) -> Iterator[str]:
    """The session's PostgreSQL schema, emptied before and after the test (other tests share it)."""
    from crawler import db as dbmod
    from tests.conftest import _truncate_all

    _truncate_all(dbmod.get_engine(pg_url))
    yield pg_url
    _truncate_all(dbmod.get_engine(pg_url))
