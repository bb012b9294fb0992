"""Security: SQL only through bound parameters, and secrets never in logs, stats or crawl_runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from crawler import db as dbmod
from crawler.models import CrawlRun, Posting
from crawler.offline.server import serve
from pipelines.store import PostingWriter, row_from_item
from tests.crawling import ATS_FIXTURES, cli, jobagg

HOSTILE = [
    "Robert'); DROP TABLE postings;--",
    "' OR '1'='1",
    '"; DELETE FROM crawl_runs WHERE ""="',
    "1; UPDATE boards SET active = false",
    "%s %(title)s ? :param $1 {0}",
    "\\' \\\\ \\x00 \\n",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "Ingénieur·e ML — 機械学習エンジニア — مهندس تعلم الآلة — 🤖\u202e\u200b",
    "$$ LANGUAGE plpgsql; $$",
    "*/ SELECT pg_sleep(10); /*",
]


def _item(n: int, value: str) -> dict[str, object]:
    return {
        "ats": "greenhouse", "board": value[:300] or "b", "source_id": f"{n}:{value}"[:200], "url": "https://x.example/j",
        "title": value[:500] or "t", "employer_name": value[:300] or None, "department": value[:300] or None,
        "description_text": value, "description_html": value, "locations": [value], "extra": {"raw": value},
    }  # fmt: skip


def _store_and_read(db_url: str, values: list[str]) -> list[tuple[str, ...]]:
    writer = PostingWriter(dbmod.get_engine(db_url))
    writer.write([row_from_item(_item(n, v)) for n, v in enumerate(values)])
    with dbmod.session_scope(db_url) as session:
        rows = session.execute(
            select(
                Posting.title,
                Posting.employer_name,
                Posting.description_text,
                Posting.board,
                Posting.extra,
                Posting.locations,
            ).order_by(Posting.id)
        ).all()
        return [(r[0], r[1], r[2], r[3], r[4]["raw"], r[5][0]) for r in rows]


def test_hostile_strings_are_stored_and_read_back_unchanged(db_url: str) -> None:
    stored = _store_and_read(db_url, HOSTILE)
    assert [row[2] for row in stored] == HOSTILE
    for value, row in zip(HOSTILE, stored, strict=True):
        assert set(row) == {value}, row
    with dbmod.session_scope(db_url) as session:  # and nothing ran: every table is still there, runs untouched
        assert session.scalar(text("SELECT count(*) FROM crawl_runs")) == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1,
                        max_size=80), min_size=1, max_size=5, unique=True))  # fmt: skip
def test_any_text_round_trips(sqlite_url: str, values: list[str]) -> None:
    with dbmod.session_scope(sqlite_url) as session:
        session.execute(text("DELETE FROM postings"))
    stored = _store_and_read(sqlite_url, values)
    assert sorted(row[2] for row in stored) == sorted(values)


def test_a_database_password_never_reaches_logs_stats_or_runs(pg_clean: str, tmp_path: Path) -> None:
    secret = "Sup3r-Secret-pw-0f9e"
    url = pg_clean.replace("postgres@", f"postgres:{secret}@")  # the server trusts local users; the password is inert
    assert secret in url
    env = {"JOBAGG_DATABASE_URL": url, "JOBAGG_CONTACT": "ops@example.org"}
    out = jobagg("boards", "add", "greenhouse", "lumenlabs", "--employer", "Lumen Labs", env=env)
    assert out.returncode == 0, out.stderr
    logs = [out.stdout + out.stderr]
    with serve(ATS_FIXTURES) as server:
        for board in ("lumenlabs", "doesnotexist"):
            out = jobagg("crawl", "--board", board, "--api-base", server.base_url, env=env, cwd=tmp_path)
            logs.append(out.stdout + out.stderr)
    out = jobagg("status", env=env, cwd=tmp_path)
    logs.append(out.stdout + out.stderr)
    # A connection that fails says where it failed, not with what password.
    bad = url.replace("127.0.0.1:5432", "127.0.0.1:1")
    out = jobagg("status", env={**env, "JOBAGG_DATABASE_URL": bad}, cwd=tmp_path)
    assert out.returncode != 0
    logs.append(out.stdout + out.stderr)
    for log in logs:
        assert secret not in log, log[-2000:]
    for name in os.listdir(tmp_path):
        path = tmp_path / name
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), name
    with dbmod.session_scope(pg_clean) as session:
        runs = list(session.scalars(select(CrawlRun)))
        assert runs
        for run in runs:
            dumped = json.dumps([run.stats, run.boards, run.board, run.finish_reason], default=str)
            assert secret not in dumped


def test_a_crawl_opens_no_way_into_itself(sqlite_url: str, tmp_path: Path) -> None:
    """Scrapy's remote-control server (it runs posted Python code) would announce itself with a job file in the
    user's state directory; the telnet console with a log line. A crawl starts neither."""
    state = tmp_path / "state"
    env = {"JOBAGG_DATABASE_URL": sqlite_url, "XDG_STATE_HOME": str(state)}
    assert cli("boards", "add", "greenhouse", "lumenlabs", "--employer", "Lumen Labs", env=env).returncode == 0
    with serve(ATS_FIXTURES) as server:
        out = jobagg("crawl", "--board", "lumenlabs", "--api-base", server.base_url, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "finished" in out.stdout  # the board was read
    assert not list(state.rglob("*")), list(state.rglob("*"))
    log = out.stdout + out.stderr
    assert "remote_control" not in log.lower() and "telnet" not in log.lower()


def test_nul_characters_and_overlong_values_do_not_fail_the_batch(db_url: str) -> None:
    long_id = "https://careers.example/jobs/" + "x" * 400
    good = row_from_item(_item(1, "Plain title"))
    odd = row_from_item({**_item(2, "ML\x00 Engineer " + "y" * 600), "source_id": long_id, "url": "u" * 3000})
    other = row_from_item({**_item(3, "Other"), "source_id": long_id[:-1] + "z"})
    PostingWriter(dbmod.get_engine(db_url)).write([good, odd, other])
    with dbmod.session_scope(db_url) as session:
        rows = {p.source_id: p for p in session.scalars(select(Posting))}
    assert len(rows) == 3  # two long ids that differ only at the end stay two postings
    stored = next(p for p in rows.values() if p.title.startswith("ML"))
    assert "\x00" not in stored.title and stored.title.startswith("ML Engineer yyy") and len(stored.title) <= 500
    assert all(len(sid) <= 200 for sid in rows)


def test_a_webhook_secret_never_reaches_output_or_delivery_records(sqlite_url: str) -> None:
    from io import StringIO

    from click.testing import CliRunner
    from rich.console import Console

    import crawler.cli.web  # noqa: F401  (registers the commands on `main`)
    from crawler.cli import main
    from crawler.cli.web import deliver_alerts_step
    from crawler.models import AlertDelivery
    from tests.conftest import free_port

    token = "T0k3n-9c1d-hook-secret"
    # Nothing listens there: every delivery fails, and the failure is reported and recorded.
    webhook = f"http://127.0.0.1:{free_port()}/hooks/{token}?key={token}"
    runner = CliRunner()
    added = runner.invoke(main, ["--db", sqlite_url, "alerts", "add", "--name", "mine"],
                          env={"JOBAGG_ALERT_WEBHOOK": webhook})  # fmt: skip
    assert added.exit_code == 0, added.output
    item = {**_item(1, "Machine Learning Engineer"), "is_ml": True, "country": "US", "board": "b"}
    PostingWriter(dbmod.get_engine(sqlite_url)).write([row_from_item(item)])
    shown = StringIO()
    assert deliver_alerts_step(sqlite_url, Console(file=shown, width=200)) is False
    listed = runner.invoke(main, ["--db", sqlite_url, "alerts", "list"])
    with dbmod.session_scope(sqlite_url) as session:
        errors = [d.last_error or "" for d in session.scalars(select(AlertDelivery))]
    assert any(errors), "the failed delivery was not recorded"
    for text_ in (added.output, shown.getvalue(), listed.output, *errors):
        assert token not in text_, text_
