"""Every command the README shows, run in order as a new user would, offline, so the README cannot rot.

Commands that need the internet run with their documented offline outcome: the request origin is replaced by a
local port nothing listens on, and the test asserts the one-line failure the README promises.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text

from crawler import db as dbmod
from tests.conftest import PG_HOST, PG_PORT, _pg_reachable, free_port
from tests.crawling import REPO, jobagg

README = REPO / "README.md"
# The set-up commands are run by whoever runs this suite; they must stay exactly as documented.
SETUP = {
    ("python3", "-m", "venv", ".venv"),
    (".venv/bin/pip", "install", "-q", "-e", "."),
    (".venv/bin/pip", "install", "-q", "-e", ".[test]"),
}
NETWORK = {"crawl", "run"}


def readme_commands() -> list[list[str]]:
    """Each command of every ```sh block, as argv lists (`a && b` gives two; comments dropped)."""
    commands: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S):
        for line in block.splitlines():
            tokens = shlex.split(line, comments=True)
            while tokens:
                cut = tokens.index("&&") if "&&" in tokens else len(tokens)
                commands.append(tokens[:cut])
                tokens = tokens[cut + 1 :]
    return commands


@dataclass
class Session:
    """The user's shell: a working directory and the environment `export` lines change."""

    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    dead: str = ""  # an origin where every connection is refused: offline, as far as a crawl can tell

    def jobagg(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return jobagg(*args, cwd=self.cwd, env=self.env, timeout=timeout)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = Session(tmp_path, {"JOBAGG_DATABASE_URL": "", "COLUMNS": "120"}, f"http://127.0.0.1:{free_port()}")
    yield s
    dbmod.dispose_all()


def _no_traceback(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stdout + out.stderr, out.stderr[-3000:]


def _run_jobagg(s: Session, args: list[str]) -> None:
    if args[0] in NETWORK:
        out = s.jobagg(*args, "--api-base", s.dead)
        _no_traceback(out)
        assert out.returncode == 1, (args, out.stdout[-2000:], out.stderr[-2000:])
        assert "stopped crawling" in out.stdout and "skipped" in out.stdout, out.stdout[-3000:]
        return
    if args[:2] == ["dol", "download"]:
        out = s.jobagg(*args, "--base-url", s.dead, "--dest", str(s.cwd))
        _no_traceback(out)
        assert out.returncode == 1 and out.stderr.count("Error:") == 1 and s.dead in out.stderr, out.stderr
        return
    if args[:2] == ["dol", "ingest"]:
        from matching.demo import sample_files

        for name in args[2:]:  # the file "you downloaded": the bundled sample of that exact name
            shutil.copy(next(p for p in sample_files() if p.name == name), s.cwd / name)
    if "serve" in args:
        _serve(s, args)
        return
    out = s.jobagg(*args)
    _no_traceback(out)
    if args[-1:] == ["status"]:
        # After the offline crawls above, boards are failing: status says so and exits 3 for a human to look.
        assert out.returncode in (0, 3) and ("needs attention" in out.stdout or out.returncode == 0), out.stdout
        return
    assert out.returncode == 0, (args, out.stdout[-2000:], out.stderr[-2000:])
    if args == ["demo"]:
        assert (s.cwd / "jobagg-demo.db").exists() and not (s.cwd / "jobagg.db").exists()
    if "export" in args and "--out" in args:
        assert (s.cwd / args[args.index("--out") + 1]).read_text().startswith("posting_id,ats,")
    if "why" in args:
        assert "green card" in out.stdout or "no sponsorship tags" in out.stdout, out.stdout


def _serve(s: Session, args: list[str]) -> None:
    """`serve` runs until stopped: start it on a free port, load the page and the API, then stop it."""
    import time
    import urllib.request

    port = str(free_port())
    argv = [*args[: args.index("--port") + 1], port] if "--port" in args else [*args, "--port", port]
    cmd = [sys.executable, "-m", "crawler", *argv]
    proc = subprocess.Popen(cmd, cwd=s.cwd, env={**os.environ, **s.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/postings", timeout=5) as resp:
                    assert resp.status == 200 and b"items" in resp.read()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "jobagg serve did not answer within 60 s"
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            assert resp.status == 200 and b"jobs" in resp.read().lower()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)  # reaps it and closes its pipes


def _run_scrapy(s: Session, args: list[str]) -> None:
    # No scrapy.cfg in the user's directory: the project settings come from the installed package.
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings", "PYTHONWARNINGS": "ignore"}
    db = f"sqlite:///{s.cwd / 'scrapy.db'}"
    cmd = [sys.executable, "-m", "scrapy", *args, "-a", f"api_base={s.dead}", "-s", f"JOBAGG_DATABASE_URL={db}"]
    out = subprocess.run(cmd, cwd=s.cwd, capture_output=True, text=True, timeout=300, env=env)
    # Scrapy's own log keeps its tracebacks (robots.txt errors); what counts is the exit and the board's reason.
    assert out.returncode == 0, out.stderr[-3000:]
    board = next(a.split("=", 1)[1] for a in args if a.startswith("board="))
    assert re.search(rf"board {args[1]}/{re.escape(board)} is error: .*refused", out.stderr), out.stderr[-3000:]
    assert (s.cwd / args[args.index("-O") + 1]).exists()


def _export(s: Session, assignment: str) -> None:
    name, _, _value = assignment.partition("=")
    assert name == "JOBAGG_DATABASE_URL"
    # The documented server is not ours: the same commands run on a PostgreSQL database of this test's own.
    if _pg_reachable():
        schema = f"jobagg_readme_{uuid.uuid4().hex[:8]}"
        admin = dbmod.make_engine(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test")
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        s.env[name] = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test?options=-csearch_path%3D{schema}"
    else:
        s.env[name] = f"sqlite:///{s.cwd / 'server.db'}"


def _completion(s: Session, argv: list[str]) -> None:
    inner = re.fullmatch(r"\$\((\w+)=(\w+) \.venv/bin/jobagg\)", argv[1])
    assert inner, argv
    script = Path(sys.executable).parent / "jobagg"  # the installed command, as the README's .venv/bin/jobagg
    out = subprocess.run([str(script)], env={**os.environ, inner[1]: inner[2]}, capture_output=True, text=True)
    assert out.returncode == 0 and "complete" in out.stdout and "_jobagg_completion" in out.stdout, out.stderr


def test_readme_keeps_the_two_setup_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/jobagg demo" in text
    assert "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest" in text


def test_every_readme_command_works_offline(session: Session) -> None:
    commands = readme_commands()
    assert len(commands) > 15
    ran = skipped = 0
    try:
        for argv in commands:
            if tuple(argv) in SETUP or argv == [".venv/bin/pytest"]:
                skipped += 1  # this suite runs inside the environment they make
                continue
            if argv[0] == ".venv/bin/jobagg":
                _run_jobagg(session, argv[1:])
            elif argv[0] == ".venv/bin/scrapy":
                _run_scrapy(session, argv[1:])
            elif argv[0] == "export":
                _export(session, argv[1])
            elif argv[0] == "eval":
                _completion(session, argv)
            else:
                pytest.fail(f"README shows a command this test cannot run: {shlex.join(argv)}")
            ran += 1
    finally:
        url = session.env.get("JOBAGG_DATABASE_URL", "")
        if url.startswith("postgresql"):
            schema = url.rsplit("%3D", 1)[1]
            admin = dbmod.make_engine(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test")
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    assert skipped == 5 and ran == len(commands) - skipped
