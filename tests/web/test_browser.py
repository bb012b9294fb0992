"""A person in a browser: headless Chromium (Debian's package, driven by Playwright) on the demo database.

Skips when Chromium or Playwright is missing, except with CI=true, where the browser must be there.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.web.conftest import LiveServer

CHROMIUM = os.environ.get("JOBAGG_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(f"browser tests must run under CI=true: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # A phone-sized window: the page must be usable there.
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.errors = errors
    yield pg
    context.close()


def test_find_green_card_likely_roles_open_one_and_its_employer(
    page: Any, server_sqlite: LiveServer, tmp_path: Path
) -> None:
    page.goto(server_sqlite.base_url + "/")
    assert page.locator("h1").inner_text() == "All jobs"
    all_count = page.locator("#count").inner_text()
    page.screenshot(path=str(tmp_path / "1-listing.png"), full_page=True)

    # Apply filters as a person would: pick from the form, submit.
    page.select_option("select[name=visa]", "green_card")
    page.select_option("select[name=tag]", "likely")
    page.select_option("select[name=role]", "ml_engineer")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Green card likely · Machine Learning Engineer jobs"
    assert "visa=green_card" in page.url and "tag=likely" in page.url and "role=ml_engineer" in page.url
    count = page.locator("#count").inner_text()
    assert count != all_count and count.startswith("Showing ")
    shown, total = (int(x) for x in count.removeprefix("Showing ").split(" of "))
    assert 0 < shown == total == page.locator("li.posting").count()
    badges = page.locator("li.posting .badge.tag-likely")
    assert badges.count() >= shown and "Green card: likely" in badges.first.inner_text()
    assert re.search(r"certified PERM cases?\b", page.locator("li.posting .evidence").first.inner_text())
    # Nothing wider than the phone screen: no sideways scrolling on the listing.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "2-filtered.png"), full_page=True)

    # The shared URL reproduces the page.
    shared = page.url
    page.goto(shared)
    assert page.locator("#count").inner_text() == count

    # Open a posting: the ad, and the figures behind the tag.
    title = page.locator("li.posting a.title").first.inner_text()
    page.locator("li.posting a.title").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == title
    evidence = page.locator("#evidence-green_card")
    assert "likely" in evidence.locator("h3").inner_text()
    shown = evidence.inner_text()
    assert "similar roles" in shown and "Newest decision loaded" in shown
    # A likely green card rests on certified cases for similar roles: the levels table's first figure says so.
    certified = re.search(r"^certified\t(\d+)\t", shown, re.M)
    assert certified is not None and int(certified.group(1)) >= 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator(".ad").inner_text().strip()
    page.screenshot(path=str(tmp_path / "3-posting.png"), full_page=True)

    # Open its employer: the chart of filings by fiscal year.
    page.locator("p.meta a").first.click()
    page.wait_for_load_state()
    assert page.locator("#filings-chart svg rect").count() > 0
    assert page.locator("#filings-table tbody tr").count() > 0
    assert "PERM certified" in page.locator("#filings-chart figcaption").inner_text()
    page.screenshot(path=str(tmp_path / "4-employer.png"), full_page=True)

    # The strict CSP blocked nothing the pages need (a violation shows as a console error).
    assert not [e for e in page.errors if "Content Security Policy" in e]
    for name in ("1-listing", "2-filtered", "3-posting", "4-employer"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_subscribe_link_gives_the_feed_of_the_same_filter(page: Any, server_sqlite: LiveServer) -> None:
    page.goto(server_sqlite.base_url + "/?visa=h1b&tag=likely")
    href = page.locator(".feed a").get_attribute("href")
    assert href.startswith("/feeds/postings.atom?") and "visa=h1b" in href
    response = page.request.get(server_sqlite.base_url + href)
    assert response.ok and "<feed" in response.text()
    assert response.text().count("<entry>") == min(50, page.locator("li.posting").count())
