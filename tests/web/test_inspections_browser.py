"""The inspections' main path in a real browser (the demo application of tests/web/test_browser.py): the NOC
performs a due inspection of the demo with a failed item, which opens a fault ticket."""

from __future__ import annotations

import re

import pytest
from browser_support import _login
from test_browser import _ACCESSIBILITY_PROBLEMS, _TABLET

pytestmark = [pytest.mark.slow, pytest.mark.web_database, pytest.mark.xdist_group("browser")]
ITEMS = 5  # web/inspections/demo.py CHECKLIST


def test_noc_performs_a_due_inspection_and_a_failed_item_opens_a_ticket(browser, app, artifacts) -> None:
    page = _login(browser, app, "noc")
    page.get_by_role("link", name="Inspections").click()
    page.wait_for_url(re.compile(r"/inspections/$"))
    assert "monthly inspection" in page.inner_text("main table")
    page.screenshot(path=str(artifacts / "inspections-due-noc.png"), full_page=True)
    page.get_by_role("link", name="Perform").first.click()
    page.wait_for_url(re.compile(r"/inspections/inspections/\d+/perform/$"))
    for n in range(ITEMS):
        page.check(f"input[name=outcome_{n}][value={'not_ok' if n == 2 else 'ok'}]")
    page.fill("#id_note_2", "UPS battery test failed at 61 %")
    page.check("#id_ticket_2")
    page.fill("#id_follow_up", "replace the UPS battery")
    page.screenshot(path=str(artifacts / "inspection-perform-noc.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/inspections/inspections/\d+/$"))
    main = page.inner_text("main")
    assert "Done" in main and "replace the UPS battery" in main and "UPS battery test failed at 61 %" in main
    page.screenshot(path=str(artifacts / "inspection-done-noc.png"), full_page=True)
    page.locator("main table a[href*='/faults/']").first.click()
    page.wait_for_url(re.compile(r"/faults/\d+/$"))
    assert "UPS: battery test passed" in page.inner_text("main")  # the item, in the ticket's description
    page.context.close()


def test_the_due_list_and_perform_form_in_korean(browser, app) -> None:
    page = _login(browser, app, "engineer", locale="ko-KR")
    page.goto(app["url"] + "/inspections/")
    assert "예정된 점검" in page.inner_text("main h1")
    page.get_by_role("link", name="수행").first.click()
    page.wait_for_url(re.compile(r"/perform/$"))
    assert "점검 수행" in page.inner_text("main h1") and "정상" in page.inner_text("main table")
    page.context.close()


@pytest.mark.parametrize("locale", ["en-GB", "ko-KR"])
def test_inspection_and_figures_pages_are_accessible_and_fit_a_tablet(browser, app, artifacts,
                                                                     locale) -> None:
    """The checks of test_browser.py (language, landmark, heading, named controls and links, no sideways scroll)."""
    page = _login(browser, app, "admin", locale=locale)
    page.set_viewport_size(_TABLET)
    page.goto(app["url"] + "/inspections/plans/")
    plan = page.eval_on_selector("main table a[href*='/inspections/plans/']", "a => a.getAttribute('href')")
    page.goto(app["url"] + plan)
    inspection = page.eval_on_selector("main table a[href*='/inspections/inspections/']", "a => a.getAttribute('href')")
    urls = ["/inspections/", "/inspections/plans/", plan, plan + "edit/", "/inspections/plans/add/", inspection,
            "/faults/figures/"]
    page.goto(app["url"] + "/inspections/")
    perform = page.locator("main a[href$='/perform/']")
    if perform.count():
        urls.append(perform.first.get_attribute("href"))
    found = {}
    for url in urls:
        page.goto(app["url"] + url)
        page.wait_for_load_state()
        problems = page.evaluate(_ACCESSIBILITY_PROBLEMS)
        if problems:
            found[url] = problems
        page.screenshot(path=str(artifacts / f"tablet-{locale}-{url.strip('/').replace('/', '-')}.png"),
                        full_page=True)
    page.context.close()
    assert not found, "\n".join(f"{url}: {sorted(set(p))}" for url, p in found.items())
