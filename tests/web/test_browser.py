"""The management application in a real browser: Debian's chromium driven by Playwright against the demo's own
server (web/demo.py: gunicorn on a free port, the demo inventory, one user per role from ``web-users.txt``).

Never downloads a browser (``executable_path`` is the system chromium). One browser per session; screenshots
are kept under ``tests/artifacts/browser/`` (``$LW_TEST_ARTIFACTS`` to change; the folder is printed).
In the PostgreSQL run of tests/web the server uses that run's PostgreSQL database.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_support import CHROMIUM, HANGUL, ROOT, TIMEOUT_MS, _login, _page  # noqa: F401  (fixtures: conftest.py)

from linewatch.choices import InventorySource as SourceKind
from linewatch.choices import Role
from linewatch.inventory_source import InventorySource
from linewatch.settings import InventorySettings, load_settings

# web_database: the server uses the run's database; xdist_group: one worker starts the browser and the server.
pytestmark = [pytest.mark.slow, pytest.mark.web_database, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("role", [r.value for r in Role], ids=[r.value for r in Role])
def test_every_role_logs_in_and_sees_the_lines(browser, app, artifacts, role) -> None:
    page = _login(browser, app, role)
    assert f"Signed in as {role}" in page.inner_text("header")
    assert "FRA-MPLS-1" in page.inner_text("#line-table")
    page.screenshot(path=str(artifacts / f"lines-{role}.png"), full_page=True)
    page.context.close()


def test_wrong_password_is_refused_in_the_browser(browser, app) -> None:
    page = _page(browser)
    page.goto(app["url"] + "/login/")
    page.fill("#id_username", "engineer")
    page.fill("#id_password", "not-" + app["users"]["engineer"])
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/login/" in page.url and page.locator("#id_password").count() == 1
    page.context.close()


def test_engineer_adds_a_line_changes_its_capacity_and_sees_the_audit_entry(browser, app, artifacts) -> None:
    page = _login(browser, app, "engineer")
    page.get_by_role("link", name="Add line").click()
    page.wait_for_url(re.compile(r"/inventory/lines/add/"))
    page.fill("#id_name", "SEL-BROWSER-1")
    page.select_option("#id_carrier", index=1)
    page.fill("#id_circuit_id", "BROWSER-CID-1")
    page.select_option("#id_type", "internet")
    page.select_option("#id_status", "active")
    page.select_option("#id_site", index=1)
    page.select_option("#id_department", index=1)
    page.fill("#id_capacity_bps", "100000000")
    # An active line is polled: it needs an interface (the core's rule over a line's members, checked by the form).
    page.select_option("#id_members-0-device", index=1)
    page.fill("#id_members-0-interface", "ge-9/9/9")
    page.screenshot(path=str(artifacts / "line-add-engineer.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/inventory/lines/\d+/$"))
    assert "SEL-BROWSER-1" in page.inner_text("h1")
    line_url = page.url

    page.get_by_role("link", name="Edit line").click()
    page.wait_for_url(re.compile(r"/inventory/lines/\d+/edit/$"))
    assert page.input_value("#id_capacity_bps") == "100000000"
    page.fill("#id_capacity_bps", "250000000")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(line_url)
    assert "250000000" in page.inner_text("main dl")
    page.screenshot(path=str(artifacts / "line-changed-engineer.png"), full_page=True)

    line_id = re.search(r"/lines/(\d+)/", line_url).group(1)
    page.goto(f"{app['url']}/audit/history/inventory/line/{line_id}/")
    history = page.inner_text("main table")
    assert re.search(r"capacity_bps\s*:\s*100000000\s*→\s*250000000", history), history
    assert "engineer" in history and "127.0.0.1" in history, history
    page.screenshot(path=str(artifacts / "line-history-engineer.png"), full_page=True)
    page.context.close()


def test_a_capacity_changed_in_the_browser_reaches_the_collectors_inventory(browser, app, artifacts) -> None:
    """The collector reads its inventory each cycle through InventorySource (inventory.source: http): the
    application's endpoint serves the capacity the engineer just saved, no restart."""
    settings = load_settings(ROOT / "config" / "linewatch.yaml")
    settings = settings.model_copy(update={"inventory": InventorySettings(
        source=SourceKind.HTTP, url=f"{app['url']}/api/inventory.json", token=app["inventory_token"],
        cache_path=app["run_dir"] / "collector-inventory-cache.json")})
    source = InventorySource(settings)

    def capacity_bps() -> int:
        return next(line.capacity_bps for line in source.current().lines if line.id == "LON-LL-1")

    before = capacity_bps()
    page = _login(browser, app, "engineer")
    page.get_by_role("link", name="LON-LL-1").first.click()
    page.wait_for_url(re.compile(r"/inventory/lines/\d+/$"))
    page.get_by_role("link", name="Edit line").click()
    page.fill("#id_capacity_bps", str(before * 2))
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/inventory/lines/\d+/$"))
    page.screenshot(path=str(artifacts / "line-capacity-for-collector.png"), full_page=True)
    page.context.close()
    assert capacity_bps() == before * 2
    assert source.stale_s == 0


def test_engineer_sees_field_errors_and_keeps_what_was_typed(browser, app) -> None:
    """The model's rules (the YAML's pydantic models) name the field; the other values stay in the form."""
    page = _login(browser, app, "engineer")
    page.goto(app["url"] + "/inventory/lines/add/")
    page.fill("#id_name", "SEL-BROWSER-BAD")
    page.fill("#id_circuit_id", "BROWSER-CID-BAD")
    page.fill("#id_capacity_bps", "0")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.url.endswith("/inventory/lines/add/")
    assert page.input_value("#id_circuit_id") == "BROWSER-CID-BAD"
    assert page.locator(".errorlist").count() >= 1
    page.context.close()


@pytest.mark.parametrize(("role", "may_add", "editable"), [
    ("viewer", False, None),
    ("finance", False, None),
    ("noc", False, ["status"]),
], ids=["viewer", "finance", "noc"])
def test_who_may_not_add_or_change_lines_gets_no_button_and_a_refusal(browser, app, role, may_add, editable) -> None:
    page = _login(browser, app, role)
    assert page.get_by_role("link", name="Add line").count() == 0
    assert page.goto(app["url"] + "/inventory/lines/add/").status == 403
    page.goto(app["url"] + "/inventory/lines/")
    page.get_by_role("link", name="FRA-MPLS-1").first.click()
    page.wait_for_url(re.compile(r"/inventory/lines/\d+/$"))
    edit_url = page.url + "edit/"
    if editable is None:
        assert page.get_by_role("link", name="Edit line").count() == 0
        assert page.goto(edit_url).status == 403
    else:  # the NOC changes a line's status, nothing else
        page.get_by_role("link", name="Edit line").click()
        page.wait_for_url(edit_url)
        names = page.eval_on_selector_all("main form [name]:not([type=hidden])", "els => els.map(e => e.name)")
        assert names == editable
    page.context.close()


def test_switching_to_korean_shows_hangul(browser, app, artifacts) -> None:
    page = _login(browser, app, "viewer")
    assert not HANGUL.search(page.inner_text("h1"))
    page.select_option("#language", "ko")
    page.locator("form.lang button[type=submit]").click()
    page.wait_for_load_state()
    assert page.inner_text("h1").strip() == "회선"
    assert page.evaluate("document.documentElement.lang") == "ko"
    page.screenshot(path=str(artifacts / "lines-ko.png"), full_page=True)
    page.context.close()


def test_a_korean_browser_gets_the_korean_login_page(browser, app, artifacts) -> None:
    page = _page(browser, locale="ko-KR")
    page.goto(app["url"] + "/login/")
    assert HANGUL.search(page.inner_text("main")), page.inner_text("main")
    page.screenshot(path=str(artifacts / "login-ko.png"), full_page=True)
    page.context.close()


# What a screen reader and a tablet need of every page: the page's language, one main landmark and a heading, a name
# for every form control and link, alternative text for images, and no sideways scrolling at a tablet's width.
_ACCESSIBILITY_PROBLEMS = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push('html without lang');
  if (document.querySelectorAll('main').length !== 1) problems.push('not exactly one <main>');
  if (!document.querySelector('h1')) problems.push('no <h1>');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || el.type === 'submit' || el.type === 'button') continue;
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
      || el.getAttribute('title');
    if (!named) problems.push('unlabelled ' + el.tagName.toLowerCase() + ' ' + (el.name || el.id));
  }
  for (const el of document.querySelectorAll('a[href], button')) {
    const name = (el.innerText || '').trim() || el.getAttribute('aria-label') || el.getAttribute('title');
    if (!name) problems.push('nameless ' + el.tagName.toLowerCase() + ' ' + (el.getAttribute('href') || ''));
  }
  for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) problems.push('img without alt');
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) problems.push('scrolls sideways: ' + root.scrollWidth + ' > ' + root.clientWidth);
  return problems;
}"""

_TABLET = {"width": 768, "height": 1024}


def _first_link(page: Any, pattern: str) -> str:
    href = page.eval_on_selector(f"a[href*='{pattern}']", "a => a.getAttribute('href')")
    assert href, f"no link to {pattern} on {page.url}"
    return href


@pytest.mark.parametrize("locale", ["en-GB", "ko-KR"])
def test_pages_are_accessible_and_fit_a_tablet(browser, app, artifacts, locale) -> None:
    """Line list, line page and form, carrier, site, device and contract pages, change log: at 768 px wide, in
    English and Korean, each has a language, a main landmark and a heading, names for its controls and links, and no
    sideways scrolling (wide tables scroll inside their own box)."""
    page = _login(browser, app, "admin", locale=locale)
    page.set_viewport_size(_TABLET)
    line = _first_link(page, "/inventory/lines/1")
    urls = ["/inventory/lines/", line, line + "edit/"]
    page.goto(app["url"] + line)
    for part in ("/inventory/carriers/", "/inventory/sites/", "/inventory/devices/", "/inventory/contracts/"):
        if page.locator(f"main a[href*='{part}']").count():
            urls.append(page.eval_on_selector(f"main a[href*='{part}']", "a => a.getAttribute('href')"))
    urls.append("/audit/changes/")
    assert len(urls) >= 7, urls  # the line page links its carrier, site, device and contract
    found = {}
    for url in urls:
        page.goto(app["url"] + url)
        page.wait_for_load_state()
        problems = page.evaluate(_ACCESSIBILITY_PROBLEMS)
        if problems:
            found[url] = problems
        name = url.strip("/").replace("/", "-") or "home"
        page.screenshot(path=str(artifacts / f"tablet-{locale}-{name}.png"), full_page=True)
    page.context.close()
    assert not found, "\n".join(f"{url}: {sorted(set(p))}" for url, p in found.items())
