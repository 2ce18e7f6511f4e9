"""Planned maintenance in a real browser (the demo's server and Debian's chromium, tests/web/test_browser.py's
fixtures): the demo's window is listed and shown on its line, and the NOC records a window whose lines list
follows the carrier chosen (htmx)."""

from __future__ import annotations

import re

import pytest
from browser_support import _login

pytestmark = [pytest.mark.slow, pytest.mark.web_database, pytest.mark.xdist_group("browser")]


def test_demo_window_is_listed_and_shown_on_its_line(browser, app, artifacts) -> None:
    page = _login(browser, app, "viewer")
    page.goto(app["url"] + "/inventory/maintenance/")
    row = page.locator("table.maintenance tr.window", has_text="DT-CHG-4471")
    assert "FRA-VOICE-1" in row.inner_text() and "upcoming" in row.inner_text()
    row.get_by_role("link", name="FRA-VOICE-1").click()
    assert "DT-CHG-4471" in page.inner_text("#maintenance")
    page.screenshot(path=str(artifacts / "maintenance-line.png"), full_page=True)
    page.context.close()


def test_noc_records_a_window_on_lines_of_the_carrier_chosen(browser, app, artifacts) -> None:
    page = _login(browser, app, "noc", locale="ko-KR")
    page.goto(app["url"] + "/inventory/maintenance/add/")
    page.select_option("#id_carrier", label="Colt")
    page.wait_for_function("() => [...document.querySelectorAll('#id_lines option')].every("
                           "o => !o.textContent.startsWith('FRA-'))")
    options = page.locator("#id_lines option").all_inner_texts()
    assert options and all(not name.startswith("FRA-") for name in options), options
    page.select_option("#id_lines", label=options[0])
    page.fill("#id_starts", "2027-03-02T01:00")
    page.fill("#id_ends", "2027-03-02T03:00")
    page.fill("#id_carrier_reference", "COLT-CR-5512")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/inventory/maintenance/\d+/$"))
    body = page.inner_text("main")
    assert "COLT-CR-5512" in body and options[0] in body and "계획 작업" in body
    page.screenshot(path=str(artifacts / "maintenance-added.png"), full_page=True)
    page.context.close()
