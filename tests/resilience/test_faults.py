"""Every fault a board's server can throw, in one crawl: bounded retries, recorded failures, nothing lost,
nothing duplicated, nothing closed on a board that was not read in full."""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import built_once
from tests.crawling import CrawlOutput, jobagg, scrapy_crawl
from tests.resilience.boards import board_state, duplicate_keys, greenhouse_job, postings, register, write_board
from tests.resilience.faults import KINDS, TRANSIENT_KINDS, Fault, FaultServer
from tests.spiders.conftest import last_run

JOBS = 4
RETRY_TIMES = 2
# Small limits so a hang and an oversized body are cheap to provoke; the real defaults are in crawler/settings.py.
FAULT_SETTINGS = {
    "DOWNLOAD_TIMEOUT": "1",
    "DOWNLOAD_MAXSIZE": "100000",
    "RETRY_TIMES": str(RETRY_TIMES),
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "RETRY_AFTER_MAX": "0.2",  # Retry-After: 1 is honoured, capped so the suite stays fast
}


def list_path(token: str) -> str:
    return f"/v1/boards/{token}/jobs"


@dataclass
class FaultyCrawl:
    db_url: str
    hits: dict[str, int]  # requests per path during the faulty crawl
    second: CrawlOutput
    status: str


def persistent(kind: str) -> str:
    return f"always-{kind.replace('_', '-')}"


def transient(kind: str) -> str:
    return f"once-{kind.replace('_', '-')}"


def crawl(server: FaultServer, out_dir: Path, db_url: str) -> CrawlOutput:
    args = ["-a", "roles=all", "-a", f"api_base={server.base_url}"]
    for name, value in FAULT_SETTINGS.items():
        args += ["-s", f"{name}={value}"]
    return scrapy_crawl("greenhouse", out_dir, db_url, *args, "-s", "LOG_LEVEL=INFO", timeout=120)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> FaultyCrawl:
    folder, built = built_once(tmp_path_factory, "faults", build_faulty)
    second = CrawlOutput(**built["second"])
    return FaultyCrawl(f"sqlite:///{folder / 'faults.db'}", built["hits"], second, built["status"])


def build_faulty(tmp: Path) -> dict[str, Any]:
    """Crawl N boards cleanly, then again with one fault per board and a changed listing on every board:
    posting 0 retitled, posting 3 gone."""
    root = tmp / "corpus"
    db_url = f"sqlite:///{tmp / 'faults.db'}"
    tokens = ["healthy", *(persistent(k) for k in KINDS), *(transient(k) for k in TRANSIENT_KINDS)]
    for token in tokens:
        write_board(root, token, [greenhouse_job(token, n) for n in range(JOBS)])
    register(db_url, tokens)
    server = FaultServer(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        first = crawl(server, tmp, db_url)
        assert first.returncode == 0, first.log[-3000:]
        for token in tokens:
            jobs = [greenhouse_job(token, n) for n in range(JOBS - 1)]
            jobs[0]["title"] = "Staff Machine Learning Engineer (retitled)"
            write_board(root, token, jobs)
        faults = {list_path(persistent(k)): Fault(k) for k in KINDS}
        faults.update({list_path(transient(k)): Fault(k, times=1) for k in TRANSIENT_KINDS})
        server.set_faults(faults)
        second = crawl(server, tmp, db_url)
        status = jobagg("--db", db_url, "status", "--runs", "3", "--limit", "20")
        assert status.returncode == 3, status.stdout + status.stderr  # 3: a human is needed
        return {"hits": dict(server.hits), "second": asdict(second), "status": status.stdout}
    finally:
        server.shutdown()
        server.server_close()


def test_the_faulty_crawl_finishes_and_records_a_failed_run(faulty: FaultyCrawl) -> None:
    assert faulty.second.returncode == 0, faulty.second.log[-3000:]
    assert "Traceback" not in faulty.second.log, faulty.second.log[-5000:]
    run = last_run(faulty.db_url, "greenhouse")
    assert run.status == "failed" and run.finish_reason == "finished"
    failed = {token for token, b in run.boards.items() if b["status"] == "error"}
    expected = {persistent(k) for k in KINDS if k != "content_type"}
    assert failed == expected, run.boards
    assert run.stats["jobagg/boards/error"] >= len(expected)
    assert run.stats["retry/count"] >= len(TRANSIENT_KINDS)
    assert duplicate_keys(faulty.db_url) == 0


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "content_type"])
def test_a_board_that_always_fails_keeps_what_it_had(faulty: FaultyCrawl, kind: str) -> None:
    token = persistent(kind)
    status, error, open_count = board_state(faulty.db_url, token)
    assert status == "error" and error, (status, error)
    # What the operator reads names the URL that failed.
    assert list_path(token) in error
    stored = postings(faulty.db_url, token)
    # Not read in full: nothing closed, nothing changed, nothing duplicated.
    assert len(stored) == JOBS and open_count == JOBS
    assert not any(p["closed"] for p in stored)
    assert "Staff Machine Learning Engineer (retitled)" not in {p["title"] for p in stored}
    # Retries are bounded: at most RETRY_TIMES more requests than the first, and none for a refusal.
    hits = faulty.hits[list_path(token)]
    expected = range(2, RETRY_TIMES + 2) if kind in TRANSIENT_KINDS else range(1, 2)
    assert hits in expected, hits
    run = last_run(faulty.db_url, "greenhouse")
    assert run.boards[token]["status"] == "error"


@pytest.mark.parametrize("kind", TRANSIENT_KINDS)
def test_a_board_that_fails_once_is_read_in_full_on_retry(faulty: FaultyCrawl, kind: str) -> None:
    token = transient(kind)
    status, error, open_count = board_state(faulty.db_url, token)
    assert (status, error) == ("ok", None)
    assert faulty.hits[list_path(token)] == 2
    stored = {p["source_id"]: p for p in postings(faulty.db_url, token)}
    assert len(stored) == JOBS
    # The update is not lost, the vanished posting is closed, the others stay open.
    assert stored["7000000"]["title"] == "Staff Machine Learning Engineer (retitled)"
    assert stored["7000003"]["closed"] and open_count == JOBS - 1


def test_a_json_listing_with_the_wrong_content_type_is_still_read(faulty: FaultyCrawl) -> None:
    token = persistent("content_type")
    assert board_state(faulty.db_url, token)[:2] == ("ok", None)
    stored = {p["source_id"]: p for p in postings(faulty.db_url, token)}
    assert stored["7000000"]["title"] == "Staff Machine Learning Engineer (retitled)"
    run = last_run(faulty.db_url, "greenhouse")
    assert run.stats["jobagg/http/unexpected_content_type"] >= 1


def test_the_healthy_board_is_unaffected(faulty: FaultyCrawl) -> None:
    assert board_state(faulty.db_url, "healthy") == ("ok", None, JOBS - 1)


def test_status_shows_the_injected_faults(faulty: FaultyCrawl) -> None:
    out = faulty.status
    # The boards table counts them, the run table says the run failed, and each failing board says why.
    row = next(line for line in out.splitlines() if re.search(r"\bgreenhouse\b", line) and "│" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    total = 1 + len(KINDS) + len(TRANSIENT_KINDS)
    assert cells[:5] == ["greenhouse", str(total), str(total - len(KINDS) + 1), "0", str(len(KINDS) - 1)], row
    assert "failed" in out
    assert f"needs attention: {len(KINDS) - 1} failing" in out
    for kind in ("429", "503", "500", "hang", "reset", "login"):
        assert persistent(kind) in out, out
    reasons = {
        "429": "HTTP 429", "500": "HTTP 500", "503": "HTTP 503", "hang": "timed out", "truncate": "cut short",
        "reset": "connection failed", "cut_json": "invalid JSON", "html200": "an HTML page (HTTP 200)",
        "oversize": "larger than download max size", "login": "redirected from",
    }  # fmt: skip
    lines = {kind: next(line for line in out.splitlines() if persistent(kind) in line) for kind in reasons}
    for kind, reason in reasons.items():
        assert reason in lines[kind], (kind, lines[kind])


def test_retry_after_was_honoured(faulty: FaultyCrawl) -> None:
    stats: dict[str, Any] = last_run(faulty.db_url, "greenhouse").stats
    assert stats["jobagg/retry_after/waits"] >= 2
