"""Scale-out on scrapy-redis: worker processes sharing the real Redis and one PostgreSQL over a local corpus server."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy_redis import picklecompat
from scrapy_redis.queue import FifoQueue
from sqlalchemy import func, select

from crawler import db as dbmod
from crawler.models import CrawlRun, Posting
from crawler.offline.server import CorpusServer
from tests.conftest import IN_CI, _truncate_all
from tests.crawling import NO_DELAY, REPO, cli
from tests.opsboards import listing_ids, write_boards

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
FAST = [*NO_DELAY, "-s", "JOBAGG_STORE_BATCH_SIZE=20"]


def _require_redis() -> None:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return
    except OSError:
        if IN_CI:
            pytest.fail(f"Redis at {REDIS_HOST}:{REDIS_PORT} is unreachable, and CI=true requires it")
        pytest.skip(f"Redis at {REDIS_HOST}:{REDIS_PORT} is unreachable (set CI=true to make this a failure)")


class SlowServer(CorpusServer):
    """The corpus server with a fixed delay per request, so a crawl lasts long enough to be interrupted."""

    delay = 0.0

    def finish_request(self, request: Any, client_address: Any) -> None:
        time.sleep(self.delay)
        super().finish_request(request, client_address)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    _require_redis()
    import redis

    prefix = f"jobagg-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    server = redis.Redis(REDIS_HOST, REDIS_PORT)
    for key in server.scan_iter(match=f"{prefix}:*"):
        server.delete(key)
    server.close()


@pytest.fixture
def pg(pg_url: str) -> Iterator[str]:
    yield pg_url
    _truncate_all(dbmod.get_engine(pg_url))


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, list[tuple[str, str, int]]]:
    """56 generated boards: Greenhouse (one listing request) and SmartRecruiters (paged listing + details)."""
    rng = random.Random(13)
    boards = [("greenhouse", f"gh{i:02d}", rng.randint(5, 25)) for i in range(36)]
    boards += [("smartrecruiters", f"sr{i:02d}", rng.randint(5, 30)) for i in range(17)]
    boards += [("smartrecruiters", f"srbig{i}", 130 + 40 * i) for i in range(3)]  # two or three listing pages
    write_boards(tmp_path / "corpus", boards)
    return tmp_path / "corpus", boards


def _serve(root: Path, delay: float) -> SlowServer:
    import threading

    server = SlowServer(root)
    server.delay = delay
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _seed_stale_postings(db_url: str, boards: list[tuple[str, str, int]]) -> None:
    """One open posting per board that its listing no longer shows: only a full read of that board may close it."""
    with dbmod.session_scope(db_url) as session:
        for ats, token, _ in boards:
            session.add(Posting(ats=ats, board=token, source_id=f"stale-{token}", url=f"https://x/{token}",
                                title="Old ML Engineer", content_hash="0" * 40))  # fmt: skip


def _worker(db_url: str, prefix: str, base_url: str, tmp_path: Path, name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "JOBAGG_REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/0", "JOBAGG_REDIS_PREFIX": prefix,
           "JOBAGG_REDIS_LEASE_SECONDS": "3", "COLUMNS": "200"}  # fmt: skip
    log = (tmp_path / f"{name}.log").open("w")
    cmd = [sys.executable, "-m", "crawler", "--db", db_url, "crawl", "--roles", "all", "--api-base", base_url, *FAST]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    log.close()
    return proc


def _finish(proc: subprocess.Popen[str], tmp_path: Path, name: str, timeout: float = 400) -> None:
    code = proc.wait(timeout=timeout)
    assert code == 0, (tmp_path / f"{name}.log").read_text()[-4000:]


def _check_store(db_url: str, root: Path, boards: list[tuple[str, str, int]]) -> None:
    expected = {(ats, token, sid) for ats, token, _ in boards for sid in listing_ids(root, ats, token)}
    with dbmod.session_scope(db_url) as session:
        rows = session.execute(select(Posting.ats, Posting.board, Posting.source_id, Posting.closed_at)).all()
    stored = [(a, b, s) for a, b, s, _ in rows if not s.startswith("stale-")]
    assert len(stored) == len(set(stored)) == len(expected)  # every posting stored exactly once
    assert set(stored) == expected
    assert all(closed is None for a, b, s, closed in rows if not s.startswith("stale-"))  # nothing listed was closed
    assert all(closed is not None for a, b, s, closed in rows if s.startswith("stale-"))  # every board was closed


def _board_owners(db_url: str) -> dict[tuple[str, str], list[tuple[int, dict[str, Any]]]]:
    owners: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
    with dbmod.session_scope(db_url) as session:
        for run in session.scalars(select(CrawlRun).where(CrawlRun.finished_at.is_not(None))):
            for token, info in (run.boards or {}).items():
                owners.setdefault((run.spider, token), []).append((run.id, info))
    return owners


@pytest.mark.redis
@pytest.mark.postgres
def test_two_workers_share_the_boards_each_read_and_closed_by_one(
    pg: str, redis_prefix: str, corpus: tuple[Path, list[tuple[str, str, int]]], tmp_path: Path
) -> None:
    root, boards = corpus
    assert cli("--db", pg, "boards", "import", str(root / "boards.csv")).returncode == 0
    _seed_stale_postings(pg, boards)
    server = _serve(root, delay=0.01)
    try:
        workers = [_worker(pg, redis_prefix, server.base_url, tmp_path, f"w{i}") for i in range(2)]
        for i, proc in enumerate(workers):
            _finish(proc, tmp_path, f"w{i}")
    finally:
        server.shutdown()
        server.server_close()
    _check_store(pg, root, boards)
    owners = _board_owners(pg)
    assert set(owners) == {(ats, token) for ats, token, _ in boards}
    for (ats, token), seen in owners.items():
        # One worker read the board and closed its stale posting, after reading the whole listing.
        assert len(seen) == 1, (ats, token, seen)
        info = seen[0][1]
        assert info["status"] == "ok" and info["closed"] == 1
        assert info["listed"] == len(listing_ids(root, ats, token))
    runs_with_boards = {run_id for seen in owners.values() for run_id, _ in seen}
    with dbmod.session_scope(pg) as session:
        per_spider = dict(session.execute(select(CrawlRun.spider, func.count()).group_by(CrawlRun.spider)).all())
    assert per_spider == {"greenhouse": 2, "smartrecruiters": 2}  # each worker ran each platform's crawler
    assert len(runs_with_boards) >= 3  # the boards were spread over the workers, not all taken by one


@pytest.mark.redis
@pytest.mark.postgres
def test_a_killed_worker_loses_nothing(
    pg: str, redis_prefix: str, corpus: tuple[Path, list[tuple[str, str, int]]], tmp_path: Path
) -> None:
    root, boards = corpus
    assert cli("--db", pg, "boards", "import", str(root / "boards.csv")).returncode == 0
    _seed_stale_postings(pg, boards)
    total = sum(n for _, _, n in boards)
    server = _serve(root, delay=0.05)
    try:
        first = _worker(pg, redis_prefix, server.base_url, tmp_path, "first")
        deadline = time.monotonic() + 120
        stored = 0
        while stored < 60 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.3)
            with dbmod.session_scope(pg) as session:
                stored = session.scalar(
                    select(func.count()).select_from(Posting).where(Posting.last_run_id.is_not(None))
                )
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert 0 < stored < total, f"the first worker was not interrupted mid-crawl ({stored} of {total} stored)"
        time.sleep(4)  # its heartbeat (3 s lease) expires
        second = _worker(pg, redis_prefix, server.base_url, tmp_path, "second")
        _finish(second, tmp_path, "second")
    finally:
        server.shutdown()
        server.server_close()
    _check_store(pg, root, boards)
    for (ats, token), seen in _board_owners(pg).items():
        assert [info["status"] for _, info in seen] == ["ok"], (ats, token, seen)
        assert seen[0][1]["listed"] == len(listing_ids(root, ats, token))
    # When the kill lands while the first worker holds boards, the second puts them back (and says so); when it
    # lands between two boards there is nothing to put back. Either way every board was read once, above.
    log = (tmp_path / "second.log").read_text()
    if "put back" in log:
        assert "whose heartbeat expired" in log


@pytest.mark.redis
def test_a_board_popped_from_the_shared_queue_is_held_before_its_worker_can_die(redis_prefix: str) -> None:
    """A worker dying right after it pops a board seed (here: while decoding it) leaves the seed in its in-flight
    set, where another worker puts it back once the heartbeat is gone; a pop then a separate add would lose it."""
    import redis
    from scrapy.utils.test import get_crawler

    from crawler.boards import BoardRef
    from crawler.scheduler import BoardScheduler
    from spiders.greenhouse import GreenhouseSpider

    server = redis.Redis(REDIS_HOST, REDIS_PORT)
    crawler = get_crawler(GreenhouseSpider)
    spider = GreenhouseSpider(boards=[BoardRef("lumenlabs")])
    schedulers = []
    for _ in range(2):
        scheduler = BoardScheduler(server, crawler, redis_prefix, lease_seconds=3, round_seconds=60)
        scheduler.stats = crawler.stats
        scheduler.spider = spider
        scheduler.queue = FifoQueue(server, spider, scheduler.key("boards"), serializer=picklecompat)
        schedulers.append(scheduler)
    dying, other = schedulers
    dying.queue.push(spider.board_seed(BoardRef("lumenlabs")))

    def die(_: bytes) -> None:
        raise SystemExit("killed")

    dying.queue._decode_request = die  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        dying.next_request()
    assert len(dying.queue) == 0
    # No heartbeat for the dead worker: the other puts its board back and reads it.
    assert other.recover() == 1
    request = other.next_request()
    assert request is not None and request.url.startswith("https://boards-api.greenhouse.io/")
    assert other.boards_taken == 1


@pytest.mark.redis
def test_a_board_is_marked_seen_for_the_round_only_together_with_its_place_in_the_queue(redis_prefix: str) -> None:
    """Seeding runs lazily beside crawling, so a worker can die mid-seed: a board marked seen for the round but never
    queued would be skipped by every worker until the round expires. Seen and queued happen in one step."""
    import redis
    from scrapy.utils.test import get_crawler

    from crawler.boards import BoardRef
    from crawler.scheduler import BoardScheduler
    from spiders.greenhouse import GreenhouseSpider

    server = redis.Redis(REDIS_HOST, REDIS_PORT)
    crawler = get_crawler(GreenhouseSpider)
    spider = GreenhouseSpider(boards=[BoardRef("lumenlabs"), BoardRef("quillpay")])
    workers = []
    for _ in range(2):
        scheduler = BoardScheduler(server, crawler, redis_prefix, lease_seconds=3, round_seconds=60)
        scheduler.stats = crawler.stats
        scheduler.open(spider)
        workers.append(scheduler)
    dying, other = workers

    # The push fails after the fingerprint was computed: the board must not be marked seen.
    def die(_: Any) -> bytes:
        raise SystemExit("killed")

    real_encode = dying.queue._encode_request
    dying.queue._encode_request = die  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        dying.enqueue_request(spider.board_seed(BoardRef("lumenlabs")))
    dying.queue._encode_request = real_encode  # type: ignore[method-assign]
    assert server.scard(dying.df.key) == 0 and len(dying.queue) == 0

    # Every worker seeds every board; each board enters the queue once, and the round's set expires.
    for scheduler in workers:
        for token in ("lumenlabs", "quillpay"):
            scheduler.enqueue_request(spider.board_seed(BoardRef(token)))
    assert len(other.queue) == 2 and server.scard(other.df.key) == 2
    assert 0 < server.ttl(other.df.key) <= 60
    # A seed that was put back (dont_filter) is queued again although the round has seen it.
    assert other.enqueue_request(spider.board_seed(BoardRef("lumenlabs")).replace(dont_filter=True))
    assert len(other.queue) == 3
    for scheduler in workers:
        scheduler.close("finished")
