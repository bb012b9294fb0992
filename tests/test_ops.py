"""Operating unattended: the run lock (two real processes, crash release), run summary and exit codes, monitors,
and `jobagg status` telling a human when to look."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler import db as dbmod
from crawler.models import Board, CrawlRun
from crawler.monitors import BoardCounts, Thresholds, assess
from crawler.offline.server import serve
from crawler.runlock import EXIT_LOCKED
from spiders.base import BoardState
from tests.crawling import REPO, cli, jobagg
from tests.opsboards import greenhouse_board, write_boards

HOLDER = """
import sys, time
from crawler.runlock import run_lock
with run_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


def _hold_lock(db_url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, db_url], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_run_refuses_while_the_first_holds_the_lock_and_a_killed_holder_frees_it(
    db_url: str, tmp_path: Path
) -> None:
    holder = _hold_lock(db_url)
    try:
        refused = jobagg("--db", db_url, "run", cwd=tmp_path)
        assert refused.returncode == EXIT_LOCKED, refused.stderr[-2000:]
        assert "jobagg run: not started: another `jobagg.run` holds" in refused.stderr
        assert f"pid {holder.pid}" in refused.stderr or "server pid" in refused.stderr
        assert "Crawl summary" not in refused.stdout  # nothing was done
    finally:
        holder.send_signal(signal.SIGKILL)  # a crash: no cleanup code runs
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    after = jobagg("--db", db_url, "run", cwd=tmp_path)
    assert after.returncode == 0, after.stderr[-2000:]
    assert "jobagg run: ok" in after.stdout


def test_two_runs_started_together_one_runs_one_refuses(sqlite_url: str, tmp_path: Path) -> None:
    dbmod.get_engine(sqlite_url).dispose()  # `run` never creates a database: make it first, as an operator would
    procs = [
        subprocess.Popen([sys.executable, "-m", "crawler", "--db", sqlite_url, "run"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    outputs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    # Either they overlapped (one refused) or the first finished before the second started (both ran).
    assert codes in ([0, EXIT_LOCKED], [0, 0]), outputs


def test_run_summary_counts_what_changed_and_exit_status(db_url: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    registry = write_boards(corpus, [("greenhouse", "alpha", 12), ("greenhouse", "beta", 5)])
    (corpus / "greenhouse" / "gone.json").unlink(missing_ok=True)
    assert cli("--db", db_url, "boards", "import", str(registry)).returncode == 0
    assert cli("--db", db_url, "boards", "add", "greenhouse", "gone", "--employer", "Gone").returncode == 0
    with serve(corpus) as srv:
        first = jobagg("--db", db_url, "run", "--roles", "all", "--api-base", srv.base_url, cwd=tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "boards ok / dead / failed / skipped" in first.stdout
        assert "2 / 1 / 0 / 0" in first.stdout and "17 / 0 / 0" in first.stdout
        # Three postings vanish and one changes; every board is made due again.
        board = greenhouse_board("alpha", 12, 5_000_000)
        board["jobs"] = board["jobs"][3:]
        board["jobs"][0]["title"] += " (Senior)"
        (corpus / "greenhouse" / "alpha.json").write_text(json.dumps(board))
        _make_due(db_url)
        second = jobagg("--db", db_url, "run", "--roles", "all", "--api-base", srv.base_url, cwd=tmp_path)
        assert second.returncode == 0, second.stderr[-3000:]
        assert "0 / 1 / 3" in second.stdout
    # The server is gone: every board fails, and the exit status says so.
    _make_due(db_url)
    failed = jobagg("--db", db_url, "run", "--api-base", srv.base_url, cwd=tmp_path)
    assert failed.returncode == 1
    # The first boards of the unreachable host fail; the rest are skipped (the host is given up), still due.
    assert "FAILED" in failed.stdout and "0 / 0 / 2 / 1" in failed.stdout


def _make_due(db_url: str) -> None:
    with dbmod.session_scope(db_url) as session:
        for board in session.scalars(select(Board)):
            board.last_crawled_at = None


def test_progress_is_log_lines_when_not_a_terminal(sqlite_url: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    registry = write_boards(corpus, [("greenhouse", f"b{i}", 3) for i in range(4)])
    assert cli("--db", sqlite_url, "boards", "import", str(registry)).returncode == 0
    with serve(corpus) as srv:
        out = jobagg("--db", sqlite_url, "crawl", "--roles", "all", "--api-base", srv.base_url, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "\r" not in out.stderr and "━" not in out.stderr  # no bars in a log
    lines = [line for line in out.stderr.splitlines() if "jobagg.progress" in line]
    assert any("start step=crawl boards_done=0 boards_total=4" in line for line in lines), out.stderr
    assert any("done step=crawl boards_done=4 boards_total=4 items=12 errors=0" in line for line in lines), lines
    for step, done in (("reclassify", "postings_done=12 postings_total=12"), ("match", "steps_done=1 steps_total=1")):
        out = jobagg("--db", sqlite_url, step, cwd=tmp_path)
        assert out.returncode == 0, out.stderr[-2000:]
        assert f"done step={step} {done} items=12 errors=0" in out.stderr, out.stderr


def test_progress_is_a_bar_on_a_terminal(sqlite_url: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    registry = write_boards(corpus, [("greenhouse", f"b{i}", 2) for i in range(3)])
    assert cli("--db", sqlite_url, "boards", "import", str(registry)).returncode == 0
    with serve(corpus) as srv:
        out = jobagg("--db", sqlite_url, "crawl", "--roles", "all", "--api-base", srv.base_url, cwd=tmp_path,
                     env={"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"})  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "3/3" in out.stdout and "6 items" in out.stdout and "0 errors" in out.stdout
    assert "jobagg.progress" not in out.stderr  # the bar replaces the log lines


def _thresholds(**changes: object) -> Thresholds:
    from crawler.crawl import project_settings

    t = Thresholds.from_settings(project_settings())
    for key, value in changes.items():
        setattr(t, key, value)
    return t


def _state(status: str, listed: int) -> BoardState:
    return BoardState(status=status, listed_ids={str(i) for i in range(listed)})


def test_assess_flags_collapse_failures_rates_and_coverage() -> None:
    counts = {
        "steady": BoardCounts(requests=20, responses=20, items=20, fields={"title": 20, "url": 20, "description": 20,
                                                                         "posted_at": 20, "salary": 0}),
        "flaky": BoardCounts(requests=20, responses=15, retries=8, items=0),
        "thin": BoardCounts(requests=12, responses=12, items=12, fields={"title": 12, "url": 12, "description": 2,
                                                                        "posted_at": 12}),
    }  # fmt: skip
    states = {"steady": _state("ok", 40), "collapsed": _state("ok", 4), "flaky": _state("error", 0),
              "thin": _state("ok", 12), "new": _state("ok", 3)}  # fmt: skip
    history = {"steady": [41, 39, 40], "collapsed": [50, 48, 52], "thin": [12], "new": []}
    stats = {"downloader/request_count": 52, "downloader/exception_count": 5, "retry/count": 8}
    a = assess("greenhouse", "finished", stats, states, counts, history, _thresholds())
    assert set(a.findings["collapsed"]) == {"collapsed"}
    assert "typically 50" in a.findings["collapsed"]["collapsed"]
    assert set(a.findings["failed"]) == {"flaky"}
    assert set(a.findings["error_rate"]) == {"flaky"} and set(a.findings["retry_rate"]) == {"flaky"}
    assert set(a.findings["coverage"]) == {"thin"} and "description" in a.findings["coverage"]["thin"]
    assert a.run["error_rate"] == round(5 / 52, 4)
    # Salary is judged only where the platform publishes it.
    assert "salary" not in a.run["coverage"]
    assert "salary" in assess("ashby", "finished", stats, states, counts, history, _thresholds()).run["coverage"]
    # A looser collapse ratio accepts the same drop.
    assert not assess("greenhouse", "finished", stats, states, counts, history,
                      _thresholds(collapse_ratio=0.05)).findings.get("collapsed")  # fmt: skip


def test_monitors_are_stored_with_the_run_and_status_flags_a_collapse(db_url: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    registry = write_boards(corpus, [("greenhouse", "steady", 20), ("greenhouse", "shrinking", 30)])
    assert cli("--db", db_url, "boards", "import", str(registry)).returncode == 0
    with serve(corpus) as srv:
        for _ in range(2):
            out = jobagg("--db", db_url, "crawl", "--roles", "all", "--api-base", srv.base_url)
            assert out.returncode == 0, out.stderr[-2000:]
        healthy = jobagg("--db", db_url, "status")
        assert healthy.returncode == 0 and "nothing needs attention" in healthy.stdout
        board = greenhouse_board("shrinking", 30, 5_010_000)
        board["jobs"] = board["jobs"][:4]
        (corpus / "greenhouse" / "shrinking.json").write_text(json.dumps(board))
        assert jobagg("--db", db_url, "crawl", "--roles", "all", "--api-base", srv.base_url).returncode == 0
    with dbmod.session_scope(db_url) as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert run is not None and run.monitors is not None
        assert run.monitors["passed"] is False
        assert run.monitors["checks"]["Boards/count collapsed"]["status"] == "FAIL"
        assert run.monitors["checks"]["Run/finish reason"]["status"] == "OK"
        assert set(run.monitors["boards"]) == {"shrinking"}
        assert run.monitors["run"]["coverage"]["title"] == 1.0
    status = jobagg("--db", db_url, "status")
    assert status.returncode == 3, status.stdout[-2000:]
    assert "count collapsed" in status.stdout and "shrinking" in status.stdout
    assert "listed 4, typically 30" in status.stdout


def test_status_flags_failing_and_stale_boards_with_last_success(sqlite_url: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    registry = write_boards(corpus, [("greenhouse", "fine", 3), ("greenhouse", "flaky", 3)])
    assert cli("--db", sqlite_url, "boards", "import", str(registry)).returncode == 0
    with serve(corpus) as srv:
        assert jobagg("--db", sqlite_url, "crawl", "--roles", "all", "--api-base", srv.base_url).returncode == 0
    from datetime import timedelta

    from crawler.models import utcnow

    with dbmod.session_scope(sqlite_url) as session:
        flaky = session.scalar(select(Board).where(Board.token == "flaky"))
        assert flaky is not None and flaky.last_ok_at is not None
        flaky.last_status, flaky.last_error = "error", "HTTP 503 at http://x/v1/boards/flaky/jobs"
        flaky.last_ok_at = utcnow() - timedelta(days=5)
    out = jobagg("--db", sqlite_url, "status")
    assert out.returncode == 3
    text = " ".join(out.stdout.replace("│", " ").split())
    assert "failing greenhouse flaky" in text and "HTTP 503" in text
    assert "stale greenhouse flaky" in text and "no complete listing for 120 h" in text
    assert "fine" not in out.stdout.split("Needs attention")[1]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="flock needs a POSIX system")
def test_sqlite_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    from crawler.runlock import RunLocked, run_lock, sqlite_lock_path

    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert sqlite_lock_path(url) == tmp_path / "x.db.run.lock"
    holder = _hold_lock(url)
    try:
        started = time.monotonic()
        with pytest.raises(RunLocked, match=r"x\.db\.run\.lock"), run_lock(url):
            pass
        assert time.monotonic() - started < 5  # refuses at once, never waits
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    with run_lock(url):
        pass
