"""The fault ticket's main path in Chromium (Playwright, the system chromium) against the demo's own server: a NOC
operator reports a fault with the form, notifies the carrier, and resolves the ticket with a cause; the page in
Korean. The server and the browser are test_browser.py's fixtures (one browser worker: xdist_group)."""

from __future__ import annotations

import re

import pytest
from browser_support import HANGUL, _login

pytestmark = [pytest.mark.slow, pytest.mark.web_database, pytest.mark.xdist_group("browser")]


def test_noc_reports_a_fault_notifies_the_carrier_and_resolves_it_with_a_cause(browser, app, artifacts) -> None:
    page = _login(browser, app, "noc")
    page.get_by_role("link", name="Faults").click()
    page.wait_for_url(re.compile(r"/faults/$"))
    assert "DEMO-4711" in page.inner_text("main")  # the demo's ticket in progress, with the carrier's reference
    page.get_by_role("link", name="Report a fault").click()
    page.wait_for_url(re.compile(r"/faults/add/$"))
    page.select_option("#id_kind", "line_down")
    page.select_option("#id_line", label="FRA-MPLS-1")
    page.fill("#id_affected_service", "ERP access of the Frankfurt office")
    page.fill("#id_description", "No traffic since 09:12; the router shows the port down.")
    page.check("#id_outage")
    page.screenshot(path=str(artifacts / "fault-report-noc.png"), full_page=True)
    page.get_by_role("button", name="Report").click()
    page.wait_for_url(re.compile(r"/faults/\d+/$"))
    ticket_url = page.url
    assert "Open" in page.inner_text(".ticket-state")

    page.get_by_role("button", name="Notify the carrier").click()
    page.wait_for_url(ticket_url)
    assert "Carrier notified" in page.inner_text(".ticket-state")
    assert "Carrier notified by email" in page.inner_text(".timeline")

    page.locator(".step-resolve select[name=cause]").select_option("cpe")
    page.locator(".step-resolve textarea[name=review_note]").fill("Router port replaced; spare ordered.")
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_url(ticket_url)
    assert "Resolved" in page.inner_text(".ticket-state")
    assert "Customer premises equipment" in page.inner_text(".cause")
    page.screenshot(path=str(artifacts / "fault-resolved-noc.png"), full_page=True)
    page.context.close()

    korean = _login(browser, app, "noc", locale="ko-KR")
    korean.goto(ticket_url)
    text = korean.inner_text("main")
    assert HANGUL.search(text) and "해결됨" in text and "고객 구내 장비" in text
    korean.screenshot(path=str(artifacts / "fault-resolved-noc-ko.png"), full_page=True)
    korean.context.close()
