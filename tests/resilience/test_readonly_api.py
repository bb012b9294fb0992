"""The API and web pages are read-only: they work for a PostgreSQL role granted only SELECT, escape what they
show and send a strict Content-Security-Policy."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy import exc, select, text

from crawler import db as dbmod
from crawler.models import Posting
from pipelines.store import PostingWriter, row_from_item
from tests.conftest import pg_role
from tests.web.conftest import LiveServer

TITLE = "ML Engineer <script>alert('t')</script><img src=x onerror=alert(1)>"
EMPLOYER = "Evil \"Corp\" <b onmouseover='x'>"


@pytest.fixture
def readonly_url(pg_url: str) -> Iterator[str]:
    """A login role with USAGE on the test schema and SELECT on its tables, nothing else."""
    with pg_role(pg_url, "jobagg_ro", ["SELECT ON ALL TABLES"]) as url:
        yield url


def test_the_api_and_pages_need_only_select(pg_clean: str, readonly_url: str) -> None:
    pg_url = pg_clean
    item = {"ats": "greenhouse", "board": "evil", "source_id": "1", "url": "https://x.example/jobs/1",
            "title": TITLE, "employer_name": EMPLOYER, "description_html": "<p>Build</p>", "is_ml": True,
            "country": "US", "locations": ["Austin, TX"]}  # fmt: skip
    PostingWriter(dbmod.get_engine(pg_url)).write([row_from_item(item)])
    with dbmod.session_scope(pg_url) as session:
        posting = session.scalar(select(Posting))
        assert posting is not None
        pid, eid = posting.id, posting.employer_id

    live = LiveServer(readonly_url)
    app = live.server.config.app
    methods = {m for r in app.routes for m in getattr(r, "methods", ())}
    assert methods <= {"GET", "HEAD"}, methods  # nothing that could write
    with live:
        for path in ("/postings", f"/postings/{pid}", f"/employers/{eid}", "/stats", "/", f"/jobs/{pid}",
                     f"/companies/{eid}"):  # fmt: skip
            with urllib.request.urlopen(live.base_url + path, timeout=10) as response:
                assert response.status == 200, path
                body = response.read().decode()
                csp = response.headers["content-security-policy"]
                kind = response.headers["content-type"]
            assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert "frame-ancestors 'none'" in csp
            if kind.startswith("text/html"):
                assert "<script>alert" not in body and "<img src=x" not in body and "<b onmouseover" not in body
                assert "<script" not in body  # no script at all, not even ours
            if path == "/postings":
                assert json.loads(body)["items"][0]["title"] == TITLE  # JSON carries it unchanged
        request = urllib.request.Request(live.base_url + "/postings", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        assert refused.value.code == 405

    # The role really is read-only: a write through its own connection is refused.
    engine = dbmod.get_engine(readonly_url)
    with pytest.raises(exc.ProgrammingError, match="permission denied"), engine.begin() as conn:
        conn.execute(text("UPDATE postings SET title = 'x'"))
