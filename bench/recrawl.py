"""Incremental re-crawls: requests per board on a first and a second crawl of the same Workday and SmartRecruiters
boards (one detail request per posting on the first), served from the local corpus server.

On the second crawl an unchanged board should cost only its list requests: each listed posting whose listing
entry hashes as stored is emitted as 'still listed, unchanged' without a detail request. One board has one
posting changed between the crawls, which must cost exactly one detail. Exits non-zero on a miss, or if the
second crawl closed or lost anything.

    .venv/bin/python bench/recrawl.py
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from registry_crawl import TEMPLATES, make_board  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from crawler import db as dbmod  # noqa: E402
from crawler.models import Posting, utcnow  # noqa: E402
from crawler.offline.server import serve  # noqa: E402

BOARDS = [("smartrecruiters", "srsmall", 30), ("smartrecruiters", "srmid", 120), ("smartrecruiters", "srbig", 250),
          ("workday", "wdsmall.wd1/Careers", 40), ("workday", "wdbig.wd5/External", 300)]  # fmt: skip
CHANGED = ("smartrecruiters", "srmid")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def board_of(path: str) -> tuple[str, str, str] | None:
    """(platform, board, kind) of a request path; kind is `list` or `detail`."""
    if m := re.match(r"/v1/companies/([^/?]+)/postings(/[^?]+)?", path):
        return "smartrecruiters", m[1], "detail" if m[2] else "list"
    if m := re.match(r"/wday/cxs/([^/]+)/([^/]+)/(jobs$|job/)", path):
        token = next(t for p, t, _ in BOARDS if p == "workday" and t.startswith(m[1] + ".") and t.endswith("/" + m[2]))
        return "workday", token, "list" if m[3] == "jobs" else "detail"
    return None


def count(requests: list[tuple[str, str]]) -> Counter[tuple[str, str, str]]:
    return Counter(key for _, path in requests if (key := board_of(path.split("?")[0])) is not None)


def crawl(db_url: str, base: str) -> None:
    cmd = [sys.executable, "-m", "crawler", "--db", db_url, "crawl", "--roles", "all", "--api-base", base, *FAST]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"crawl failed:\n{out.stderr[-3000:]}")


def main() -> int:
    rng = random.Random(5)
    templates = {p: json.loads((REPO / "tests" / "fixtures" / "ats" / f).read_text()) for p, f in TEMPLATES.items()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        rows = ["employer,ats,board,region,board_url"]
        for platform, token, n in BOARDS:
            (root / platform).mkdir(parents=True, exist_ok=True)
            board = make_board(platform, token, n, rng, templates[platform])
            (root / platform / (token.replace("/", "__") + ".json")).write_text(json.dumps(board))
            rows.append(f"{token.split('.')[0].title()},{platform},{token},,")
        (root / "boards.csv").write_text("\n".join(rows) + "\n")
        db_url = f"sqlite:///{Path(tmp) / 'recrawl.db'}"
        subprocess.run([sys.executable, "-m", "crawler", "--db", db_url, "boards", "import", str(root / "boards.csv")],
                       cwd=REPO, check=True, capture_output=True)  # fmt: skip
        with serve(root) as server:
            crawl(db_url, server.base_url)
            first = count(server.requests)
            # One posting of one board changes its listing entry (a new title) between the crawls.
            path = root / CHANGED[0] / f"{CHANGED[1]}.json"
            board = json.loads(path.read_text())
            board["content"][0]["name"] += " (Remote)"
            board["details"][board["content"][0]["id"]]["name"] += " (Remote)"
            path.write_text(json.dumps(board))
            server.requests.clear()
            second_started = utcnow()
            crawl(db_url, server.base_url)
            second = count(server.requests)
        with dbmod.session_scope(db_url) as session:
            stored = session.scalar(select(func.count()).select_from(Posting)) or 0
            closed = session.scalar(select(func.count()).select_from(Posting).where(Posting.closed_at.is_not(None)))
            query = select(func.count()).select_from(Posting).where(Posting.last_seen_at < second_started)
            stale = session.scalar(query)
            changed_title = session.scalar(
                select(func.count()).select_from(Posting).where(Posting.title.like("% (Remote)"))
            )  # fmt: skip
        dbmod.dispose_all()

    print(f"{'board':<28} {'postings':>8} {'list':>5} {'1st crawl':>10} {'2nd crawl':>10} {'target':>7}")
    ok = True
    for platform, token, n in BOARDS:
        lists = second[(platform, token, "list")]
        total1 = first[(platform, token, "list")] + first[(platform, token, "detail")]
        total2 = lists + second[(platform, token, "detail")]
        target = lists + (1 if (platform, token) == CHANGED else 0)
        ok &= total2 == target
        print(f"{platform + '/' + token:<28} {n:>8} {lists:>5} {total1:>10} {total2:>10} {target:>7}"
              f"{'' if total2 == target else '  MISS'}")  # fmt: skip
    requests1, requests2 = sum(first.values()), sum(second.values())
    print(f"requests: first crawl {requests1}, second {requests2} ({requests2 / requests1:.1%} of the first)")
    expected = sum(n for _, _, n in BOARDS)
    print(f"stored {stored} postings (expected {expected}), closed {closed}, not refreshed by the 2nd crawl {stale}, "
          f"changed title picked up: {changed_title == 1}")  # fmt: skip
    ok &= stored == expected and closed == 0 and stale == 0 and changed_title == 1
    print("OK" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
