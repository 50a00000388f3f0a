"""report.html in a real browser: Debian's headless Chromium, driven by Playwright.

The page is opened from disk (file://) on a laptop-sized window; the test asserts that
every chart rendered (its bars and points have a size), that the browser logged no error
and asked for nothing but the page itself, that nothing overflows the window, and saves
a screenshot (``report.png`` in the test's tmp folder) for people to look at.

Chromium comes from Debian (``apt-get install -y chromium``; ``.ci/run`` installs it).
Without it the test is skipped, except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from .conftest import Reported

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Headless, and none of Chromium's own network traffic (updates, sync, first-run pages).
ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
LAPTOP = {"width": 1366, "height": 768}

if CHROMIUM is None and os.environ.get("CI"):
    pytest.fail("chromium is missing in CI: .ci/run must install it", pytrace=False)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)"
)


@pytest.fixture
def browser(reported: Reported) -> Iterator[Browser]:
    """Headless Chromium from Debian (never a browser Playwright would download); after
    the report is made, as Playwright's loop then runs in this thread until it closes."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=list(ARGS))
        yield launched
        launched.close()


@pytest.fixture
def opened(
    browser: Browser, reported: Reported, tmp_path: Path
) -> Iterator[tuple[Page, list[str], list[str]]]:
    """report.html opened from disk; the errors the page logged and the URLs it asked for."""
    page = browser.new_page(viewport=LAPTOP)
    errors: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto((Path(reported.summary.out_dir) / "report.html").as_uri(), wait_until="load")
    yield page, errors, requests
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    page.close()


def _sizes(page: Page, selector: str) -> list[float]:
    """The rendered width × height of every element matching *selector*."""
    boxes: list[float] = page.locator(selector).evaluate_all(
        "els => els.map(e => { const b = e.getBoundingClientRect(); return b.width * b.height; })"
    )
    return boxes


def test_every_chart_renders_with_bars_and_points(
    opened: tuple[Page, list[str], list[str]], reported: Reported
) -> None:
    """Six charts (voucher, audience, level, district, per day, cumulative), each with
    drawn bars or points, one per voucher, value and day."""
    page, _errors, _requests = opened
    summary = reported.summary
    names = page.locator("svg.chart").evaluate_all("els => els.map(e => e.dataset.chart)")
    assert names == [
        "rate-by-voucher",
        "rate-by-audience",
        "rate-by-level",
        "rate-by-district",
        "used-per-day",
        "cumulative-discount",
    ]
    assert len(_sizes(page, '[data-chart="rate-by-voucher"] rect.bar')) == len(summary.by_voucher)
    districts = [s for s in summary.by_segment if s.column == "district"]
    assert len(_sizes(page, '[data-chart="rate-by-district"] rect.bar')) == len(districts)
    days = len(summary.by_day)  # 2027-01-05 to 01-07: every day had some use
    assert [d > 0 for d in _sizes(page, '[data-chart="used-per-day"] rect.bar')] == [True] * days
    points = _sizes(page, '[data-chart="cumulative-discount"] circle.point')
    assert len(points) == days
    assert all(size > 0 for size in points)
    for chart in _sizes(page, "svg.chart"):
        assert chart > 300 * 100  # drawn at a readable size


def test_the_page_logs_no_error_fetches_nothing_and_fits_a_laptop(
    opened: tuple[Page, list[str], list[str]], reported: Reported
) -> None:
    """No console error, no request but the file itself, no sideways scrolling at
    1366 px; the headline figures show the summary's."""
    page, errors, requests = opened
    assert errors == []
    assert requests == [(Path(reported.summary.out_dir) / "report.html").as_uri()]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= LAPTOP["width"]
    granted = page.locator('[data-figure="granted"]').inner_text()
    assert granted == f"{reported.summary.totals.granted:,}"
    assert page.locator("#no-usage").count() == 0
