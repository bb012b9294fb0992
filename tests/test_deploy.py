"""Scheduling recipes in deploy/: systemd units verified by systemd-analyze, the cron line run as cron would, and
a scrapyd deployment (scrapyd-deploy, then schedule.json) that lands postings in the database."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler import db as dbmod
from crawler.models import Posting
from crawler.offline.server import serve
from tests.conftest import free_port
from tests.crawling import ATS_FIXTURES, REPO

DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent
INSTALLED = "/opt/jobagg/.venv/bin/jobagg"


def test_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    for name in ("jobagg.service", "jobagg.timer"):
        # The units name the installed path; point them at this checkout's command so verify can check it exists.
        text = (DEPLOY / name).read_text().replace(INSTALLED, str(BIN / "jobagg"))
        (tmp_path / name).write_text(text)
    out = subprocess.run([analyze, "verify", str(tmp_path / "jobagg.service"), str(tmp_path / "jobagg.timer")],
                         capture_output=True, text=True)  # fmt: skip
    problems = [line for line in (out.stdout + out.stderr).splitlines() if "jobagg" in line]
    assert out.returncode == 0 and not problems, out.stdout + out.stderr
    service = (DEPLOY / "jobagg.service").read_text()
    assert f"ExecStart={INSTALLED} run" in service
    assert "SuccessExitStatus=75" in service  # a run skipped because another holds the lock is not a failure


def test_cron_line_is_valid_and_runs(tmp_path: Path) -> None:
    lines = [line for line in (DEPLOY / "jobagg.cron").read_text().splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(maxsplit=5)
    ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    for value, (low, high) in zip(fields[:5], ranges, strict=True):
        assert value == "*" or (value.isdigit() and low <= int(value) <= high), fields
    # Run the command as cron would (sh), with the install paths pointed at this checkout and a temp directory.
    env_file = tmp_path / "env"
    env_file.write_text(f"JOBAGG_DATABASE_URL=sqlite:///{tmp_path / 'cron.db'}\n")
    (tmp_path / "log").mkdir()
    command = (
        fields[5].replace("/var/lib/jobagg", str(tmp_path)).replace("/etc/jobagg/env", str(env_file))
        .replace(INSTALLED, str(BIN / "jobagg")).replace("/var/log/jobagg", str(tmp_path / "log"))
    )  # fmt: skip
    out = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin"}
    )
    log = (tmp_path / "log" / "run.log").read_text()
    assert out.returncode == 0, log[-3000:]
    assert "jobagg run: ok" in log
    assert (tmp_path / "cron.db").exists()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _post(url: str, fields: list[tuple[str, str]]) -> dict:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    if shutil.which("scrapyd", path=str(BIN)) is None:
        pytest.skip("scrapyd is not installed (pip install -e '.[test]')")
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = {home / 'eggs'}\n"
        f"logs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\nitems_dir =\nmax_proc = 1\npoll_interval = 0.5\n"
    )
    log = (home / "scrapyd.out").open("w")
    proc = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(url + "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, (home / "scrapyd.out").read_text()
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_scrapyd_deploy_and_schedule_lands_postings(scrapyd: str, tmp_path: Path) -> None:
    deployed = subprocess.run([str(BIN / "scrapyd-deploy"), "env"], cwd=REPO, capture_output=True, text=True,
                              timeout=300, env={"PATH": f"{BIN}:/usr/bin:/bin", "SCRAPYD_URL": scrapyd})  # fmt: skip
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert '"status": "ok"' in deployed.stdout + deployed.stderr
    assert "greenhouse" in _get(scrapyd + "listspiders.json?project=jobagg")["spiders"]

    db_url = f"sqlite:///{tmp_path / 'scrapyd.db'}"
    with serve(ATS_FIXTURES) as server:
        job = _post(scrapyd + "schedule.json", [
            ("project", "jobagg"), ("spider", "greenhouse"), ("board", "lumenlabs"), ("roles", "all"),
            ("api_base", server.base_url), ("setting", f"JOBAGG_DATABASE_URL={db_url}"),
        ])  # fmt: skip
        assert job["status"] == "ok", job
        deadline = time.monotonic() + 180
        while not any(j["id"] == job["jobid"] for j in _get(scrapyd + "listjobs.json?project=jobagg")["finished"]):
            assert time.monotonic() < deadline, "the scrapyd job did not finish"
            time.sleep(0.5)
    logs = list((tmp_path / "scrapyd" / "logs").rglob("*.log"))
    log = logs[0].read_text() if logs else ""
    assert "Traceback" not in log, log[-3000:]
    jobs = json.loads((ATS_FIXTURES / "greenhouse" / "lumenlabs.json").read_text())["jobs"]
    expected = {str(j["id"]) for j in jobs if isinstance(j, dict) and j.get("id") is not None}
    with dbmod.session_scope(db_url) as session:
        stored = set(session.scalars(select(Posting.source_id).where(Posting.board == "lumenlabs")))
    assert stored == expected, log[-3000:]
    assert re.search(rf"'item_scraped_count': {len(expected)}\b", log), log[-3000:]
