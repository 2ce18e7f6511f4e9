"""`make run`'s management application (web/demo.py): a real gunicorn on a free port, the demo database under the
run directory, one demo user per role whose password is printed once and kept in a 0600 file."""

from __future__ import annotations

import re
import socket
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from linewatch.choices import Role
from linewatch.demo import DEMO_SETUP, demo_settings
from linewatch.servers.ports import free_tcp_port
from linewatch.settings import load_settings
from web import demo as web_demo

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _ctx(run_dir: Path) -> SimpleNamespace:
    run_dir.mkdir(parents=True, exist_ok=True)
    return SimpleNamespace(settings=demo_settings(load_settings(REPO / "config" / "linewatch.yaml"), run_dir),
                           run_dir=run_dir)


def _users(path: Path) -> dict[str, str]:
    return dict(line.split() for line in path.read_text().splitlines() if line and not line.startswith("#"))


def _login(base: str, user: str, password: str) -> requests.Response:
    s = requests.Session()
    s.get(base + "login/", timeout=30)
    return s.post(base + "login/", data={"username": user, "password": password,
                                         "csrfmiddlewaretoken": s.cookies["csrftoken"]},
                  headers={"Referer": base + "login/"}, allow_redirects=False, timeout=30)


@pytest.fixture
def web_addr(monkeypatch) -> str:
    addr = f"127.0.0.1:{free_tcp_port()}"
    monkeypatch.setenv(web_demo.ADDR_ENV, addr)
    for name in ("LINEWATCH_STATE_DIR", "LINEWATCH_CONFIG", "DJANGO_SETTINGS_MODULE"):
        monkeypatch.delenv(name, raising=False)
    return addr


def test_demo_web_is_a_setup_entry() -> None:
    """Set up before the stages start, so a stage reading the inventory from the application finds it."""
    assert "web.demo:demo_web" in DEMO_SETUP


def test_demo_web_serves_the_login_page_with_one_private_user_per_role(tmp_path, web_addr, capfd) -> None:
    run_dir = tmp_path / "run"
    base = f"http://{web_addr}/"
    with web_demo.demo_web(_ctx(run_dir)):
        page = requests.get(base + "login/", timeout=30)
        assert page.status_code == 200 and 'name="password"' in page.text
        users_file = run_dir / web_demo.USERS_FILE
        assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
        users = _users(users_file)
        assert sorted(users) == sorted(r.value for r in Role)
        for user, password in users.items():  # every printed password works
            assert _login(base, user, password).status_code == 302, user
        assert _login(base, "engineer", "not-the-password").status_code == 200  # refused: the form again
        lines = requests.Session()
        r = _login(base, "viewer", users["viewer"])
        lines.cookies.update(r.cookies)
        assert "FRA-MPLS-1" in lines.get(base + "inventory/lines/", timeout=30).text  # the demo inventory
    out = capfd.readouterr().out
    assert f"management application: {base}" in out
    for user, password in users.items():
        assert re.search(rf"demo user {user}\s+password {re.escape(password)}", out), out
    assert (run_dir / "var" / "web.sqlite3").exists()
    assert "management application stopped" in out
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "login/", timeout=5)


def test_demo_web_second_start_prints_no_password_and_keeps_them(tmp_path, web_addr, capfd) -> None:
    """Passwords are generated at the FIRST start only: a restart keeps the file, the users and the inventory."""
    run_dir = tmp_path / "run"
    with web_demo.demo_web(_ctx(run_dir)):
        pass
    first = (run_dir / web_demo.USERS_FILE).read_text()
    capfd.readouterr()
    with web_demo.demo_web(_ctx(run_dir)):
        users = _users(run_dir / web_demo.USERS_FILE)
        assert _login(f"http://{web_addr}/", "admin", users["admin"]).status_code == 302
    out = capfd.readouterr().out
    assert (run_dir / web_demo.USERS_FILE).read_text() == first
    assert "password" not in out.replace("users and passwords:", ""), out
    assert "demo inventory imported" not in out, out


def test_demo_web_on_a_taken_port_is_reported_and_the_demo_goes_on(tmp_path, web_addr, capfd) -> None:
    host, port = web_addr.split(":")
    with socket.socket() as taken:
        taken.bind((host, int(port)))
        taken.listen()
        with web_demo.demo_web(_ctx(tmp_path / "run")):
            pass  # entered: the other stages would run
    out = capfd.readouterr().out
    assert "management application not started" in out and web_demo.ADDR_ENV in out, out
