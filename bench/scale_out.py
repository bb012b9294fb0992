"""What one more worker buys: the same generated boards crawled by 1 and then 2 worker processes sharing Redis.

Each round gets a fresh PostgreSQL schema and Redis prefix, serves the boards from the local server with a fixed
added latency, starts N `jobagg crawl` workers with JOBAGG_REDIS_URL set, and reports wall time, postings stored,
requests served and the workers' CPU time. Exits non-zero if a round loses or duplicates a posting.

    .venv/bin/python bench/scale_out.py [--boards 40] [--latency 0.05] [--fast]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select, text  # noqa: E402

from crawler import db as dbmod  # noqa: E402
from crawler.models import Posting  # noqa: E402
from crawler.offline.server import CorpusServer  # noqa: E402
from tests.opsboards import listing_ids, write_boards  # noqa: E402


class LatencyServer(CorpusServer):
    delay = 0.0

    def finish_request(self, request: Any, client_address: Any) -> None:
        time.sleep(self.delay)
        super().finish_request(request, client_address)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_round(workers: int, root: Path, boards: list[tuple[str, str, int]], args: argparse.Namespace) -> dict:
    schema = f"jobagg_bench_{uuid.uuid4().hex[:8]}"
    admin = dbmod.make_engine(args.pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.pg}?options=-csearch_path%3D{schema}"
    dbmod.upgrade(dbmod.make_engine(url))  # migrations are explicit: a fresh schema starts empty
    prefix = f"jobagg-bench-{uuid.uuid4().hex[:8]}"
    server = LatencyServer(root)
    server.delay = args.latency
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "JOBAGG_REDIS_URL": args.redis, "JOBAGG_REDIS_PREFIX": prefix}
        subprocess.run([sys.executable, "-m", "crawler", "--db", url, "boards", "import", str(root / "boards.csv")],
                       cwd=REPO, check=True, capture_output=True, env=env)  # fmt: skip
        cmd = [sys.executable, "-m", "crawler", "--db", url, "crawl", "--roles", "all", "--api-base", server.base_url]
        if args.fast:
            cmd += ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
        cpu0, started = children_cpu(), time.perf_counter()
        procs = [subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(workers)]  # fmt: skip
        errors = [p.communicate()[1] for p in procs]
        wall = time.perf_counter() - started
        cpu = children_cpu() - cpu0
        failed = [e.decode()[-2000:] for p, e in zip(procs, errors, strict=True) if p.returncode != 0]
        with dbmod.session_scope(url) as session:
            stored = session.scalar(select(func.count()).select_from(Posting)) or 0
            distinct = session.scalar(
                select(func.count(func.distinct(Posting.ats + Posting.board + Posting.source_id)))
            )
        dbmod.dispose_all()
    finally:
        server.shutdown()
        server.server_close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        import redis

        r = redis.Redis.from_url(args.redis)
        for key in r.scan_iter(match=f"{prefix}:*"):
            r.delete(key)
    expected = sum(len(listing_ids(root, ats, token)) for ats, token, _ in boards)
    return {"workers": workers, "wall": wall, "cpu": cpu, "stored": stored, "distinct": distinct,
            "expected": expected, "requests": len(server.requests), "failed": failed}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boards", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every response")
    parser.add_argument("--fast", action="store_true", help="no download delay or AutoThrottle (latency only)")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    smartrecruiters = args.boards // 4
    boards = [("greenhouse", f"gh{i:03d}", 5 + (i * 7) % 40) for i in range(args.boards - smartrecruiters)]
    boards += [("smartrecruiters", f"sr{i:03d}", 5 + (i * 5) % 20) for i in range(smartrecruiters)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        write_boards(root, boards)
        rounds = [one_round(n, root, boards, args) for n in (1, 2)]
    print(f"{args.boards} boards, {rounds[0]['expected']} postings, {args.latency * 1000:.0f} ms added latency, "
          f"{'no delay' if args.fast else 'project politeness settings'}")  # fmt: skip
    print(f"{'workers':>8} {'wall s':>8} {'requests':>9} {'req/s':>7} {'postings':>9} {'CPU s':>7}")
    for r in rounds:
        print(f"{r['workers']:>8} {r['wall']:>8.1f} {r['requests']:>9} {r['requests'] / r['wall']:>7.1f} "
              f"{r['stored']:>9} {r['cpu']:>7.1f}")  # fmt: skip
    print(f"speed-up with 2 workers: {rounds[0]['wall'] / rounds[1]['wall']:.2f}x")
    ok = True
    for r in rounds:
        if r["failed"] or r["stored"] != r["expected"] or r["distinct"] != r["expected"]:
            print(f"MISS: {r['workers']} worker(s) stored {r['stored']} ({r['distinct']} distinct) of "
                  f"{r['expected']}; failures: {r['failed']}")  # fmt: skip
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
