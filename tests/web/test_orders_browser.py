"""The orders' main paths in a real browser (the demo application of tests/web/test_browser.py, with the demo's
orders of web/orders/demo.py): a new line installed into acceptance, a change requested to applied, a
termination from its checked notice to the equipment recovered."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_support import _login

pytestmark = [pytest.mark.slow, pytest.mark.web_database, pytest.mark.xdist_group("browser")]


def _open_order(page: Any, app: dict[str, Any], kind: str, line: str) -> None:
    page.goto(f"{app['url']}/orders/?kind={kind}")
    page.locator("tr.order", has_text=line).locator("a[href*='/orders/']").first.click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))


def _move(page: Any, name: str, **fields: str) -> None:
    form = page.locator(f"form.move-{name}")
    for field, value in fields.items():
        target = form.locator(f"[name={name}-{field}]")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(label=value)
        else:
            target.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))


def test_engineer_installs_the_ordered_line_and_its_acceptance_starts(browser, app, artifacts) -> None:
    page = _login(browser, app, "engineer")
    page.get_by_role("link", name="Orders").click()
    page.wait_for_url(re.compile(r"/orders/$"))
    _open_order(page, app, "new_line", "PAR-INET-2")
    assert "Ordered from the carrier" in page.inner_text(".stages")
    page.screenshot(path=str(artifacts / "order-new-line-ordered.png"), full_page=True)
    _move(page, "install", device="par-branch-1", interface="eth2")
    assert page.inner_text("strong.state") == "In acceptance"
    page.screenshot(path=str(artifacts / "order-new-line-in-acceptance.png"), full_page=True)
    page.locator("main h1 a").click()  # the line's page: its lifecycle timeline, status provisioning
    page.wait_for_url(re.compile(r"/inventory/lines/\d+/$"))
    assert "Provisioning" in page.inner_text("h1")
    assert "In acceptance" in page.inner_text("#lifecycle")
    page.context.close()


def test_a_change_is_requested_agreed_scheduled_and_applied(browser, app, artifacts) -> None:
    page = _login(browser, app, "engineer")
    page.goto(f"{app['url']}/orders/new/change/")
    page.select_option("#id_line", label="PAR-INET-1")
    page.select_option("#id_change_kind", "bandwidth_up")
    page.fill("#id_capacity_bps", "200000000")
    page.fill("#id_justification", "browser test: more bandwidth")
    page.get_by_role("button", name="Submit the request").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    _move(page, "agree")
    _move(page, "schedule", effective_at="2026-12-01T09:00")
    _move(page, "apply")
    assert page.inner_text("strong.state") == "Applied"
    assert "200000000" in page.inner_text("main dl")
    page.screenshot(path=str(artifacts / "order-change-applied.png"), full_page=True)
    page.context.close()


def test_a_termination_is_confirmed_deprovisioned_and_its_equipment_recovered(browser, app, artifacts) -> None:
    page = _login(browser, app, "finance")
    _open_order(page, app, "termination", "LON-MPLS-1")
    assert "Early-termination fee" in page.inner_text("#terms")
    _move(page, "confirm_carrier", carrier_confirmation_ref="OBS-CEASE-1")
    page.context.close()
    page = _login(browser, app, "engineer")
    _open_order(page, app, "termination", "LON-MPLS-1")
    _move(page, "deprovision")
    for _ in range(page.locator("#recovery ul.checklist button").count()):
        page.locator("#recovery ul.checklist button", has_text="☐").first.click()
        page.wait_for_url(re.compile(r"/orders/\d+/$"))
    _move(page, "recover_equipment")
    assert page.inner_text("strong.state") == "Equipment recovered"
    page.screenshot(path=str(artifacts / "order-termination-recovered.png"), full_page=True)
    page.context.close()
