"""Saved searches: new matches reach a real local webhook once each, retried on failure, never twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from crawler import db as dbmod
from crawler.models import AlertDelivery, Employer, Posting, PostingSponsorship
from crawler.web.alerts import add_search, deliver_new_matches, list_searches, mask_url
from tests.crawling import cli, jobagg

SECRET = "T0ps3cr3tT0k3n"


class Hook:
    """A webhook receiver on 127.0.0.1 that records bodies and can fail its next N requests."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.fail_next = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.fail_next:
                    hook.fail_next -= 1
                    self.send_response(503)
                else:
                    hook.bodies.append(json.loads(body))
                    hook.keys.append(self.headers["Idempotency-Key"])
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{SECRET}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def posted_ids(self) -> list[int]:
        return [p["posting_id"] for b in self.bodies for p in b["postings"]]


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    h.thread.start()
    yield h
    h.server.shutdown()
    h.server.server_close()


_n = 0


def add_posting(db_url: str, gc_tag: str, seniority: str = "staff") -> int:
    global _n
    _n += 1
    with dbmod.session_scope(db_url) as s:
        emp = s.scalar(select(Employer).where(Employer.name == "Acme AI")) or Employer(name="Acme AI")
        p = Posting(
            ats="greenhouse", board="acme", source_id=str(_n), url=f"https://example.com/{_n}",
            title=f"Staff ML Engineer {_n}", employer_name="Acme AI", content_hash="x", seniority=seniority,
            is_ml=True, country="US", posted_at=date(2026, 11, 1),
        )  # fmt: skip
        s.add(emp)
        s.flush()
        p.employer_id = emp.id
        s.add(p)
        s.flush()
        for visa, tag in (("green_card", gc_tag), ("h1b", "likely")):
            s.add(PostingSponsorship(posting_id=p.id, visa=visa, tag=tag, reason=f"{tag} because", evidence={}))
        return p.id


FILTERS = {"visa": "green_card", "tag": "likely", "seniority": "staff"}


def test_new_matches_are_posted_once_each(db_url: str, hook: Hook) -> None:
    old = add_posting(db_url, "likely")
    _, baseline = add_search(db_url, "gc-staff", hook.url, FILTERS)
    assert baseline == 1
    new = add_posting(db_url, "likely")
    add_posting(db_url, "possible")  # not a match
    add_posting(db_url, "likely", seniority="senior")  # not a match
    [report] = deliver_new_matches(db_url, backoff=0)
    assert (report.new, report.delivered, report.failed) == (1, 1, 0)
    assert hook.posted_ids() == [new] and old not in hook.posted_ids()
    posted = hook.bodies[0]["postings"][0]
    assert posted["green_card_tag"] == "likely" and posted["title"].startswith("Staff ML Engineer")
    assert hook.bodies[0]["search"] == "gc-staff"
    # A second run with nothing new posts nothing.
    [again] = deliver_new_matches(db_url, backoff=0)
    assert (again.new, again.delivered) == (0, 0) and len(hook.bodies) == 1


def test_failures_are_retried_then_left_pending_never_sent_twice(db_url: str, hook: Hook) -> None:
    add_search(db_url, "gc-staff", hook.url, FILTERS)
    first = add_posting(db_url, "likely")
    hook.fail_next = 2  # two 503s, then success within the same run's three attempts
    [report] = deliver_new_matches(db_url, backoff=0)
    assert report.delivered == 1 and hook.posted_ids() == [first]
    second = add_posting(db_url, "likely")
    hook.fail_next = 3  # every attempt of this run fails
    [report] = deliver_new_matches(db_url, backoff=0)
    assert report.failed == 1 and report.errors == ["HTTP 503"]
    with dbmod.session_scope(db_url) as s:
        d = s.scalar(select(AlertDelivery).where(AlertDelivery.posting_id == second))
        assert d is not None and (d.status, d.attempts, d.last_error) == ("pending", 1, "HTTP 503")
    [report] = deliver_new_matches(db_url, backoff=0)  # the next run delivers it
    assert report.delivered == 1 and report.new == 0
    assert hook.posted_ids() == [first, second]
    deliver_new_matches(db_url, backoff=0)
    assert hook.posted_ids() == [first, second]


def test_unreachable_webhook_error_hides_the_url(db_url: str, hook: Hook) -> None:
    url = hook.url
    hook.server.shutdown()
    hook.server.server_close()
    add_search(db_url, "down", url, FILTERS)
    add_posting(db_url, "likely")
    [report] = deliver_new_matches(db_url, backoff=0, attempts=1)
    assert report.failed == 1 and SECRET not in report.errors[0] and SECRET not in report.webhook
    hook.server = type(hook.server)(("127.0.0.1", 0), hook.server.RequestHandlerClass)  # restart for teardown
    hook.thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    hook.thread.start()


def test_webhook_is_never_printed_in_full(sqlite_url: str, hook: Hook) -> None:
    dbmod.get_engine(sqlite_url)
    out = jobagg("--db", sqlite_url, "alerts", "add", "--name", "gc", "--webhook", hook.url, "--visa", "green_card",
                 "--tag", "likely", "--seniority", "staff")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "saved 'gc'" in out.stdout and SECRET not in out.stdout + out.stderr
    listed = jobagg("--db", sqlite_url, "alerts", "list")
    assert "gc" in listed.stdout and "visa=green_card" in listed.stdout
    assert SECRET not in listed.stdout + listed.stderr and "127.0.0.1" in listed.stdout
    assert list_searches(sqlite_url)[0]["webhook"] == mask_url(hook.url)
    dup = jobagg("--db", sqlite_url, "alerts", "add", "--name", "gc", "--webhook", hook.url)
    assert dup.returncode != 0 and "already exists" in dup.stderr and SECRET not in dup.stderr
    bad = jobagg("--db", sqlite_url, "alerts", "add", "--name", "x", "--webhook", "ftp://h/" + SECRET)
    assert bad.returncode != 0 and SECRET not in bad.stderr
    assert jobagg("--db", sqlite_url, "alerts", "remove", "gc").returncode == 0
    assert list_searches(sqlite_url) == []
    assert jobagg("--db", sqlite_url, "alerts", "remove", "gc").returncode != 0


def test_jobagg_run_posts_new_matches(sqlite_url: str, hook: Hook) -> None:
    """What a scheduler calls: crawl, match and tag, then each saved search's new matches go out once."""
    from crawler.offline.server import BUNDLED_CORPUS, serve
    from matching.demo import sample_files

    assert cli("--db", sqlite_url, "boards", "import", str(BUNDLED_CORPUS / "boards.csv")).returncode == 0
    assert jobagg("--db", sqlite_url, "dol", "ingest", *map(str, sample_files())).returncode == 0
    add = jobagg("--db", sqlite_url, "alerts", "add", "--name", "gc", "--webhook", hook.url, "--visa", "green_card")
    assert add.returncode == 0 and "0 posting(s) already match" in add.stdout
    with serve(BUNDLED_CORPUS) as server:
        run = jobagg("--db", sqlite_url, "run", "--roles", "all", "--api-base", server.base_url)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Alerts" in run.stdout and SECRET not in run.stdout
        first = hook.posted_ids()
        assert first and len(first) == len(set(first))
        with dbmod.session_scope(sqlite_url) as s:
            tags = s.scalars(
                select(PostingSponsorship.tag).where(
                    PostingSponsorship.visa == "green_card", PostingSponsorship.posting_id.in_(first)
                )
            ).all()
        assert set(tags) <= {"likely", "possible"}
        again = jobagg("--db", sqlite_url, "run", "--roles", "all", "--api-base", server.base_url)
        assert again.returncode == 0, again.stderr[-3000:]
    assert hook.posted_ids() == first
