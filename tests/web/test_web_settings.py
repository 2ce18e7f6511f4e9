"""Settings: database from linewatch's settings, production settings clean under ``check --deploy``, the CLI."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from web_test_setup import web_env

from web.settings_common import database

ROOT = Path(__file__).resolve().parents[2]
PROD_KEY = "prod-" + "x" * 60


def _config(tmp_path: Path, extra: str = "") -> Path:
    cfg = tmp_path / "linewatch.yaml"
    cfg.write_text(f"state_dir: {tmp_path / 'var'}\n{extra}")
    return cfg


def _run(args: list[str], env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=False, capture_output=True, text=True,
                          timeout=timeout)


DB_CASES = [
    pytest.param(None, "django.db.backends.sqlite3", id="default-sqlite-under-state-dir"),
    pytest.param("postgresql://lw:pw@db.example:5433/linewatch", "django.db.backends.postgresql", id="postgresql"),
    pytest.param("sqlite:////srv/lw/web.sqlite3", "django.db.backends.sqlite3", id="sqlite-url"),
]


@pytest.mark.parametrize(("url", "engine"), DB_CASES)
def test_database_from_settings(url, engine, tmp_path):
    db = database(url, state_dir=tmp_path)
    assert db["ENGINE"] == engine
    if url is None:
        assert db["NAME"] == str(tmp_path / "web.sqlite3")
    if url and url.startswith("postgresql"):
        assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == ("db.example", 5433, "linewatch", "lw")


@pytest.mark.parametrize("source", ["env", "yaml"])
def test_database_url_from_the_environment_or_linewatch_yaml(tmp_path, source):
    """LINEWATCH_WEB__DATABASE_URL or ``web: {database_url: …}`` selects the database; the URL is a secret."""
    url = f"sqlite:///{tmp_path / 'chosen.sqlite3'}"
    extra = f"web:\n  database_url: {url}\n" if source == "yaml" else ""
    env = web_env(LINEWATCH_CONFIG=str(_config(tmp_path, extra)), DJANGO_SETTINGS_MODULE="web.settings")
    if source == "env":
        env["LINEWATCH_WEB__DATABASE_URL"] = url
    code = "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['NAME'])"
    result = _run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "chosen.sqlite3")


def _prod_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return web_env(**{
        "LINEWATCH_CONFIG": str(_config(tmp_path)), "DJANGO_SETTINGS_MODULE": "web.settings_production",
        "LINEWATCH_WEB__SECRET_KEY": PROD_KEY, "LINEWATCH_WEB__CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "LINEWATCH_WEB__ALLOWED_HOSTS": '["lines.example.com"]', **extra})


@pytest.mark.slow
def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = _run(["-m", "web.manage", "check", "--deploy", "--fail-level", "DEBUG"], _prod_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["LINEWATCH_WEB__SECRET_KEY", "LINEWATCH_WEB__CREDENTIALS_KEY"])
def test_production_settings_refuse_generated_keys(tmp_path, missing):
    env = _prod_env(tmp_path)
    del env[missing]
    result = _run(["-m", "web.manage", "check"], env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert not (tmp_path / "var").exists() or not any((tmp_path / "var").iterdir())


def test_bad_credentials_key_is_named_and_not_echoed(tmp_path):
    env = _prod_env(tmp_path, LINEWATCH_WEB__CREDENTIALS_KEY="not-a-fernet-key-s3cret")
    result = _run(["-m", "web.manage", "check"], env)
    assert result.returncode != 0
    assert "web.credentials_key: key 1 is not a Fernet key" in result.stderr
    assert "s3cret" not in result.stderr


def test_development_keys_are_generated_once_and_private(tmp_path):
    from web.keys import credentials_keys, secret_key

    first = (secret_key(None, state_dir=tmp_path), credentials_keys(None, state_dir=tmp_path))
    assert first == (secret_key(None, state_dir=tmp_path), credentials_keys(None, state_dir=tmp_path))
    for name in ("web-secret-key", "web-credentials-key"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_linewatch_web_migrate_creates_the_database_and_roles(tmp_path):
    cfg = _config(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINEWATCH_", "DJANGO_"))}
    linewatch = str(Path(sys.executable).with_name("linewatch"))
    result = subprocess.run([linewatch, "-c", str(cfg), "web", "migrate"], env=env, cwd=tmp_path,
                            check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(tmp_path / "var" / "web.sqlite3") as db:
        groups = {name for (name,) in db.execute("SELECT name FROM auth_group")}
    assert groups == {"viewer", "noc", "engineer", "finance", "admin"}


def test_linewatch_web_runserver_is_registered():
    from linewatch.cli import build_parser

    args = build_parser().parse_args(["web", "runserver"])
    assert args.django_args(args) == ["runserver", "127.0.0.1:18000"]


def test_web_secrets_are_masked_in_the_printed_settings(tmp_path, monkeypatch):
    from linewatch.settings import load_settings

    monkeypatch.setenv("LINEWATCH_WEB__DATABASE_URL", "postgresql://lw:db-s3cret@db/lw")
    monkeypatch.setenv("LINEWATCH_WEB__SECRET_KEY", "signing-s3cret")
    monkeypatch.setenv("LINEWATCH_WEB__CREDENTIALS_KEY", Fernet.generate_key().decode())
    shown = str(load_settings(_config(tmp_path)).redacted())
    assert "s3cret" not in shown and os.environ["LINEWATCH_WEB__CREDENTIALS_KEY"] not in shown


def test_django_log_output_masks_the_database_password(tmp_path):
    """A database error logged by Django names the server, never the password from web.database_url."""
    env = web_env(LINEWATCH_CONFIG=str(_config(tmp_path)), DJANGO_SETTINGS_MODULE="web.settings",
                  LINEWATCH_WEB__DATABASE_URL="postgresql://lw:db-pa55word-x@127.0.0.1:1/lw")
    code = ("import logging, django; django.setup()\n"
            "from django.conf import settings\n"
            "logging.getLogger('django.db').error('cannot use %s', settings.DATABASES['default']['PASSWORD'])\n")
    result = _run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert "cannot use" in result.stderr and "db-pa55word-x" not in result.stderr


def test_production_flag_wins_over_a_settings_module_in_the_shell(tmp_path):
    """``linewatch web --production`` must not quietly run the development settings."""
    env = web_env(DJANGO_SETTINGS_MODULE="web.settings")
    for name in ("LINEWATCH_WEB__SECRET_KEY", "LINEWATCH_WEB__CREDENTIALS_KEY"):
        env.pop(name)
    result = _run(["-m", "linewatch.cli", "-c", str(_config(tmp_path)), "web", "--production", "manage", "check"],
                  env)
    assert result.returncode != 0 and "production settings need" in result.stderr


@pytest.mark.slow
def test_linewatch_web_runserver_serves_the_login_page(tmp_path):
    import time

    import requests

    from linewatch.servers.ports import free_tcp_port

    cfg = _config(tmp_path)
    env = web_env(LINEWATCH_CONFIG=str(cfg))
    assert _run(["-m", "linewatch.cli", "web", "migrate"], env).returncode == 0
    port = free_tcp_port()
    proc = subprocess.Popen([sys.executable, "-m", "linewatch.cli", "web", "runserver", f"127.0.0.1:{port}",
                             "--noreload"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/login/", headers={"Accept-Language": "ko"}, timeout=10)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "runserver did not start"
                time.sleep(0.5)
        assert page.status_code == 200 and "본문으로 건너뛰기" in page.text
        lines = requests.get(f"http://127.0.0.1:{port}/inventory/lines/", allow_redirects=False, timeout=10)
        assert lines.status_code == 302 and lines.headers["X-Request-ID"]
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        proc.stderr.close()


def test_migrate_with_given_keys_creates_a_missing_state_dir(tmp_path):
    """Regression: with both keys given nothing else created state_dir, and SQLite cannot create a folder
    ('unable to open database file')."""
    env = web_env(LINEWATCH_CONFIG=str(_config(tmp_path)))
    result = _run(["-m", "linewatch.cli", "web", "migrate"], env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "var" / "web.sqlite3").is_file()



WRITERS = """
import threading, time
import django
django.setup()
from django.db import connection, transaction

with connection.cursor() as cur:
    cur.execute("CREATE TABLE t (n INTEGER)")
held, errors = threading.Event(), []

def first_writer():
    try:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SELECT count(*) FROM t")  # a read first, as the audit's transactions do
                cur.execute("INSERT INTO t VALUES (1)")
            held.set()
            time.sleep(1.0)
    except Exception as exc:
        errors.append(exc)
    finally:
        connection.close()

thread = threading.Thread(target=first_writer)
thread.start()
held.wait(10)
with transaction.atomic():
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM t")
        cur.execute("INSERT INTO t VALUES (2)")
thread.join()
with connection.cursor() as cur:
    cur.execute("SELECT n FROM t ORDER BY n")
    rows = [r[0] for r in cur.fetchall()]
    cur.execute("PRAGMA journal_mode")
    print(rows, cur.fetchone()[0], errors)
"""


def test_sqlite_writers_wait_for_each_other_instead_of_failing(tmp_path):
    """Regression: the demo's finance walk failed with "database is locked" while the worker's audit wrote the same
    SQLite file. With IMMEDIATE transactions, a busy timeout and WAL, the second writer (another thread, so another
    connection, as another process would be) waits for the first and both commit."""
    env = web_env(LINEWATCH_CONFIG=str(_config(tmp_path, "")), DJANGO_SETTINGS_MODULE="web.settings",
                  LINEWATCH_STATE_DIR=str(tmp_path / "var"))
    result = _run(["-c", WRITERS], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[1, 2] wal []"
