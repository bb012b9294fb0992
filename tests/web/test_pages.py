"""The web page over HTTP: headings, shareable filters, escaping, a strict Content-Security-Policy."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import date

from crawler import db as dbmod
from crawler.models import Employer, Posting, PostingSponsorship
from tests.web.conftest import LiveServer


def fetch(server: LiveServer, path: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(server.base_url + path, timeout=30) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode(), dict(exc.headers)


def test_listing_heading_count_and_shareable_filters(server_sqlite: LiveServer) -> None:
    query = urllib.parse.urlencode(
        {"visa": "green_card", "tag": "likely", "seniority": "senior", "role": "ml_engineer"}
    )
    status, html, headers = fetch(server_sqlite, "/?" + query)
    assert status == 200
    assert "<h1>Green card likely · Senior Machine Learning Engineer jobs</h1>" in html
    m = re.search(r"Showing (\d+) of (\d+)", html)
    assert m and int(m.group(1)) == int(m.group(2)) > 0
    assert html.count('class="posting"') == int(m.group(1))
    # The form shows the filters it was given, so the URL alone reproduces the page.
    assert '<option value="senior" selected>' in html and '<option value="green_card" selected>' in html
    feed = re.search(r'href="/feeds/postings.atom\?([^"]+)"', html.replace("&amp;", "&"))
    assert feed and urllib.parse.parse_qs(feed.group(1)) == urllib.parse.parse_qs(query)
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "'unsafe-inline'" not in csp
    assert "<script" not in html and "style=" not in html


def test_posting_and_employer_pages(server_sqlite: LiveServer) -> None:
    _, html, _ = fetch(server_sqlite, "/?visa=green_card&tag=likely")
    pid = re.search(r'href="/jobs/(\d+)"', html).group(1)  # type: ignore[union-attr]
    status, page, _ = fetch(server_sqlite, f"/jobs/{pid}")
    assert status == 200 and "Why these tags" in page and 'id="evidence-green_card"' in page
    assert re.search(r"certified PERM cases?\b", page) and "The ad" in page
    # The stored evidence as it is now: the three levels side by side, the data's age, figures by fiscal year.
    evidence = page.split('id="evidence-green_card"')[1].split("</section>")[0]
    assert all(f"<th>{level}</th>" in evidence for level in ("similar roles", "any ML occupation", "any occupation"))
    assert re.search(r"Newest decision loaded</th><td>\d{4}-\d\d-\d\d \([\d,]+ days old\)", evidence)
    assert "<th>of them ML</th>" in evidence and "Recent PERM cases to look up" in evidence
    assert "Recent LCA cases" not in evidence and "{" not in evidence and ".0\u2013" not in evidence
    eid = re.search(r'href="/companies/(\d+)"', page).group(1)  # type: ignore[union-attr]
    status, emp, _ = fetch(server_sqlite, f"/companies/{eid}")
    assert status == 200 and "<svg" in emp and "Filings by fiscal year" in emp and "<rect" in emp
    assert fetch(server_sqlite, "/jobs/999999")[0] == 404
    assert fetch(server_sqlite, "/?seniority=wizard")[0] == 422


def test_everything_shown_is_escaped(sqlite_url: str) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with dbmod.session_scope(sqlite_url) as s:
        emp = Employer(name=f"Evil {evil} Inc")
        s.add(emp)
        s.flush()
        p = Posting(
            ats="greenhouse", board="evil", source_id="1", url="javascript:alert(1)", title=f"ML {evil}",
            employer_id=emp.id, employer_name=emp.name, content_hash="x", posted_at=date(2026, 11, 1),
            description_html=f"<p>Build models.</p>{evil}", city=evil, sponsorship_sentence=evil,
        )  # fmt: skip
        s.add(p)
        s.flush()
        s.add(PostingSponsorship(posting_id=p.id, visa="green_card", tag="likely", reason=evil, evidence={}))
        pid, eid = p.id, emp.id
    with LiveServer(sqlite_url) as server:
        for path in ("/", f"/jobs/{pid}", f"/companies/{eid}", "/feeds/postings.atom"):
            status, body, _ = fetch(server, path)
            assert status == 200, path
            assert (
                "<script>" not in body
                and "<img src=x" not in body
                and "onerror" not in body.replace("onerror=alert", "")
            ), path
            assert "&lt;script&gt;" in body, path
        _, page, _ = fetch(server, f"/jobs/{pid}")
        assert "<p>Build models.</p>" in page  # the sanitised ad keeps its markup
        assert 'href="javascript:' not in page


def test_jobagg_serve_answers_on_the_given_port(demo_sqlite: str) -> None:
    import subprocess
    import sys
    import time

    from tests.conftest import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--db", demo_sqlite, "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "jobagg serve did not answer within 60 s"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?visa=green_card", timeout=10) as resp:
            assert "Green card" in resp.read().decode()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in err
