"""Scale-out scheduler: whole boards are shared through scrapy-redis, each board's own requests stay with its reader.

Enabled by `JOBAGG_REDIS_URL` (see docs/scaling.md). Every worker seeds the due boards into one scrapy-redis queue;
the shared scrapy-redis dupefilter lets each board in once per round however many workers seed it. A worker that
pops a board seed owns that board: it asks the spider for the board's requests and keeps them (listing pages,
details) in a local queue, so the board's whole listing is read by one process and only that process may close
postings the listing no longer shows.

A killed worker must lose nothing: the seeds it owns are kept in `<prefix>:<spider>:inflight:<worker>` while a
heartbeat key `<prefix>:alive:<worker>` is refreshed. When a worker starts or runs out of work it puts back the
seeds of every worker whose heartbeat has expired; their boards are crawled again from the start.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import socket
import uuid
from typing import Any, Self

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import FifoQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task

logger = logging.getLogger(__name__)

BOARD_SEED = "jobagg_board_seed"
# Take the next board seed and hold it in this worker's in-flight set in one step: a worker killed between a pop
# and a separate add would lose the board (no queue, no in-flight set, and the round's dupefilter stops re-seeding).
POP_AND_HOLD = """
local seed = redis.call('RPOP', KEYS[1])
if seed then redis.call('SADD', KEYS[2], seed) end
return seed
"""
# Mark a board seen for the round and queue it in one step: seeding runs lazily beside crawling, so a worker killed
# between a separate SADD and LPUSH would leave the board seen by the round yet in no queue and no in-flight set.
SEE_AND_PUSH = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
redis.call('LPUSH', KEYS[2], ARGV[3])
return 1
"""


def redis_server(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


class BoardScheduler(RedisScheduler):
    """scrapy-redis scheduler that shares board seeds and keeps every other request in the worker that owns it."""

    def __init__(self, server: Any, crawler: Crawler, prefix: str, lease_seconds: int, round_seconds: int) -> None:
        super().__init__(server, persist=True, queue_cls="scrapy_redis.queue.FifoQueue", serializer=picklecompat)
        self.crawler = crawler
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        self.round_seconds = round_seconds
        self.worker = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._local: list[tuple[int, int, Request]] = []
        self._order = itertools.count()
        self._local_seen: set[bytes] = set()
        self._heartbeat: task.LoopingCall | None = None
        self._pop_and_hold = server.register_script(POP_AND_HOLD)
        self._see_and_push = server.register_script(SEE_AND_PUSH)
        self.boards_taken = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        server = redis_server(settings["JOBAGG_REDIS_URL"])
        server.ping()
        scheduler = cls(
            server, crawler, settings.get("JOBAGG_REDIS_PREFIX") or "jobagg",
            settings.getint("JOBAGG_REDIS_LEASE_SECONDS"), settings.getint("JOBAGG_REDIS_ROUND_SECONDS"),
        )  # fmt: skip
        scheduler.stats = crawler.stats
        # Connected after the run recorder, so the seeds are released only once the run's results are stored.
        crawler.signals.connect(scheduler.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    # --- keys ---------------------------------------------------------------------------------------------

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, self.spider.name, *parts))

    @property
    def alive_key(self) -> str:
        return f"{self.prefix}:alive:{self.worker}"

    # --- Scrapy scheduler interface -----------------------------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = FifoQueue(self.server, spider, self.key("boards"), serializer=picklecompat)
        # scrapy-redis's shared fingerprint set; seeds are added to it (with the round's expiry) as they are queued.
        self.df = RFPDupeFilter(self.server, key=self.key("seen"))
        self._beat()
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(max(1, self.lease_seconds // 3), now=False)
        self.recover()

    def close(self, reason: str) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()

    def enqueue_request(self, request: Request) -> bool:
        if request.meta.get(BOARD_SEED):
            return self._enqueue_seed(request)
        if not request.dont_filter:
            fingerprint = self.crawler.request_fingerprinter.fingerprint(request)
            if fingerprint in self._local_seen:
                return False
            self._local_seen.add(fingerprint)
        # Higher priority first, then first in first out, like Scrapy's own queues.
        heapq.heappush(self._local, (-request.priority, next(self._order), request))
        self.stats.inc_value("scheduler/enqueued/local")
        return True

    def _enqueue_seed(self, seed: Request) -> bool:
        """Queue a board seed once per round across all workers (FifoQueue pushes on the left)."""
        if seed.dont_filter:
            self.queue.push(seed)
        elif not self._see_and_push(
            keys=[self.df.key, self.queue.key],
            args=[self.df.request_fingerprint(seed), self.round_seconds, self.queue._encode_request(seed)],
        ):
            self.df.log(seed, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        while not self._local:
            # FifoQueue pushes on the left and pops on the right; the script pops the same end.
            encoded = self._pop_and_hold(keys=[self.queue.key, self.key("inflight", self.worker)])
            if encoded is None:
                return None
            self.take(self.queue._decode_request(encoded))
        return heapq.heappop(self._local)[2]

    def has_pending_requests(self) -> bool:
        return bool(self._local) or len(self.queue) > 0

    def __len__(self) -> int:
        return len(self._local) + len(self.queue)

    # --- ownership ----------------------------------------------------------------------------------------

    def take(self, seed: Request) -> None:
        """Own a board (its seed is already held in the in-flight set until the run is stored): queue the board's
        requests here."""
        self.boards_taken += 1
        self.stats.inc_value("scheduler/dequeued/redis")
        for request in self.spider.open_board(seed.cb_kwargs["board"]):
            self.enqueue_request(request)

    def _beat(self) -> None:
        self.server.set(self.alive_key, "1", ex=self.lease_seconds)

    def recover(self) -> int:
        """Put back the seeds of workers whose heartbeat expired; returns how many boards were put back."""
        returned = 0
        for raw_key in self.server.scan_iter(match=self.key("inflight", "*"), count=200):
            key = raw_key.decode()
            worker = key.rsplit(":", 1)[-1]
            if worker == self.worker or self.server.exists(f"{self.prefix}:alive:{worker}"):
                continue
            claim = f"{key}:claimed-by:{self.worker}"
            try:
                self.server.rename(key, claim)  # atomic: only one recovering worker gets the seeds
            except Exception:  # another worker claimed them first
                continue
            for encoded in self.server.smembers(claim):
                seed = self.queue._decode_request(encoded)
                self.queue.push(seed.replace(dont_filter=True))
                returned += 1
            self.server.delete(claim)
            logger.warning("put back %d board(s) of worker %s, whose heartbeat expired", returned, worker)
        if returned:
            self.stats.inc_value("jobagg/redis/boards_recovered", returned)
        return returned

    def spider_idle(self, spider: Spider) -> None:
        if self.recover() or len(self.queue):
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason == "finished":
            self.server.delete(self.key("inflight", self.worker), self.alive_key)
        else:
            # Stopped early (e.g. SIGTERM): some boards were not read in full, so let the next worker take them.
            self.server.delete(self.alive_key)
