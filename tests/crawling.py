"""Run real crawls in a subprocess (the Twisted reactor starts once per process) against local servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
ATS_FIXTURES = FIXTURES / "ats"
# A local server needs no politeness delay (tests/spiders/test_politeness.py checks the settings themselves).
NO_DELAY = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")


@dataclass
class CrawlOutput:
    items: list[dict[str, Any]]
    returncode: int
    log: str


def scrapy_crawl(
    spider: str, out_dir: Path, db_url: str, *args: str, timeout: float = 120, runspider: Path | None = None
) -> CrawlOutput:
    """`scrapy crawl SPIDER ARGS -O items.jsonl` from the repository root (`scrapy runspider FILE ...` for a
    spider file outside the project's spiders); returns the exported items."""
    out = out_dir / f"{spider}-items.jsonl"
    out.unlink(missing_ok=True)
    command = ["runspider", str(runspider)] if runspider else ["crawl", spider]
    # An argument of the test's own comes later and wins.
    cmd = [sys.executable, "-m", "scrapy", *command, *NO_DELAY, *args, "-O", str(out)]
    cmd += ["-s", f"JOBAGG_DATABASE_URL={db_url}"]
    env = {**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning:scrapy"}
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    items = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return CrawlOutput(items, proc.returncode, proc.stderr + proc.stdout)


def jobagg(*args: str, cwd: Path | None = None, timeout: float = 300, env: dict[str, str] | None = None):
    """Run the installed command line in a subprocess."""
    cmd = [sys.executable, "-m", "crawler", *args]
    return subprocess.run(cmd, cwd=cwd or REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})  # fmt: skip


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command that crawls nothing in this process, without an interpreter's start-up (most of such a
    command's cost): for set-up steps, whose own behaviour other tests check through `jobagg`."""
    from click.testing import CliRunner

    from crawler.cli import main

    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200", **(env or {})}, catch_exceptions=False)
    return subprocess.CompletedProcess(["jobagg", *args], result.exit_code, result.stdout, result.stderr)
