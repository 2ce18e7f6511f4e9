"""The reports' pages in a real browser (the demo application of tests/web/test_browser.py): finance adds a
schedule and previews a built-in report in the page's frame; the pages pass the accessibility checks of
test_browser.py and fit a tablet, in both languages."""

from __future__ import annotations

import re

import pytest
from browser_support import _login
from test_browser import _ACCESSIBILITY_PROBLEMS, _TABLET

pytestmark = [pytest.mark.slow, pytest.mark.web_database, pytest.mark.xdist_group("browser")]


def test_finance_adds_a_schedule_and_previews_a_report_in_the_page(browser, app, artifacts) -> None:
    page = _login(browser, app, "finance")
    page.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url(re.compile(r"/reports/$"))
    assert "finance-monthly" in page.inner_text("main table")
    page.select_option("#id_report", "finance-monthly")
    page.fill("#id_period", "2026-10")
    page.select_option("#id_language", "ko")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url(re.compile(r"report=finance-monthly"))
    frame = page.frame_locator("main iframe")
    # The report's own page (or, without its data source, the page saying why): a heading either way.
    heading = frame.locator("h1").first.inner_text()
    assert "2026" in frame.locator("body").inner_text() or "보고서" in heading or "rendered" in heading
    page.screenshot(path=str(artifacts / "reports-preview-finance.png"), full_page=True)
    assert page.get_by_role("link", name="Download PDF").get_attribute("href").endswith("format=pdf")

    page.get_by_role("link", name="Schedules").first.click()
    page.get_by_role("link", name="Add report schedule").click()
    page.fill("#id_name", "finance monthly (browser)")
    page.select_option("#id_report", "finance-monthly")
    page.fill("#id_addresses", "cfo@example.com")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/reports/schedules/\d+/$"))
    main = page.inner_text("main")
    assert "finance monthly (browser)" in main and "cfo@example.com" in main
    page.screenshot(path=str(artifacts / "reports-schedule-finance.png"), full_page=True)
    page.context.close()


@pytest.mark.parametrize("locale", ["en-GB", "ko-KR"])
def test_reports_pages_are_accessible_and_fit_a_tablet(browser, app, artifacts, locale) -> None:
    page = _login(browser, app, "admin", locale=locale)
    page.set_viewport_size(_TABLET)
    found = {}
    for url in ("/reports/", "/reports/schedules/", "/reports/schedules/add/", "/reports/sent/", "/reports/outlook/"):
        page.goto(app["url"] + url)
        page.wait_for_load_state()
        problems = page.evaluate(_ACCESSIBILITY_PROBLEMS)
        if problems:
            found[url] = problems
        page.screenshot(path=str(artifacts / f"tablet-{locale}-{url.strip('/').replace('/', '-')}.png"),
                        full_page=True)
    assert found == {}
    page.context.close()
