"""The browser tests' shared parts: the demo's application on a free port, one Chromium per session (Debian's,
never downloaded), screenshots' folder, login helpers. The fixtures are registered once, in tests/web/conftest.py:
a session fixture imported into several test modules would start once per module, and a second Playwright sync
instance in the same process fails ("using Playwright Sync API inside the asyncio loop")."""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_test_setup import TEST_DATABASE_URL, web_env

from linewatch.servers.ports import free_tcp_port
from web import demo as web_demo

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 60_000  # two shared cores
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="session")
def artifacts(request) -> Path:
    folder = Path(os.environ.get("LW_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts") / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    yield folder
    if reporter is not None:
        reporter.write_line(f"browser test screenshots: {folder}")


@pytest.fixture(scope="session")
def app(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The demo's application on a free port: its base URL and the demo users' passwords."""
    run_dir = tmp_path_factory.mktemp("browser-run")
    extra = {"LINEWATCH_CONFIG": str(ROOT / "config" / "linewatch.yaml"),  # the demo inventory; test keys
             "LINEWATCH_STATE_DIR": str(run_dir / "var"), "DJANGO_SETTINGS_MODULE": "web.settings"}
    if TEST_DATABASE_URL:
        extra["LINEWATCH_WEB__DATABASE_URL"] = TEST_DATABASE_URL
    extra["LINEWATCH_WEB__INVENTORY_TOKEN"] = token = secrets.token_urlsafe(24)  # the collectors' endpoint
    addr = f"127.0.0.1:{free_tcp_port()}"
    proc = web_demo.start_app(env=web_env(**extra), addr=addr, run_dir=run_dir)
    try:
        users = dict(line.split() for line in (run_dir / web_demo.USERS_FILE).read_text().splitlines()
                     if line and not line.startswith("#"))
        yield {"url": f"http://{addr}", "users": users, "inventory_token": token, "run_dir": run_dir}
    finally:
        web_demo.stop_app(proc)


@pytest.fixture(scope="session")
def browser(tmp_path_factory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: make sysdeps (scripts/ensure-sysdeps.sh)"
    with sync_playwright() as p:
        # Playwright gives the browser a fresh temporary --user-data-dir of its own (launch, not persistent).
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _page(browser: Any, *, locale: str = "en-GB") -> Any:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def _login(browser: Any, app: dict[str, Any], role: str, *, locale: str = "en-GB") -> Any:
    page = _page(browser, locale=locale)
    page.goto(app["url"] + "/login/")
    page.fill("#id_username", role)
    page.fill("#id_password", app["users"][role])
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/inventory/lines/"))
    return page
