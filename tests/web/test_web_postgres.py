"""The web tests once more on PostgreSQL: a second pytest run of tests/web against a database of the session
PostgreSQL cluster (tests/conftest.py ``postgres_db``), so every model, migration, trigger and view is checked
on both backends. That run keeps the tests that touch the database (tests/web/conftest.py ``uses_the_database``);
the others (settings, catalogues, subprocesses on a SQLite file of their own) would only repeat the first run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from web_test_setup import TEST_DATABASE_ENV, TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(TEST_DATABASE_URL is not None, reason="this is the PostgreSQL run itself")
def test_web_suite_passes_on_postgresql(postgres_server, postgres_db):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINEWATCH_", "DJANGO_", "PYTEST_XDIST_"))}
    env[TEST_DATABASE_ENV] = postgres_server.dsn(postgres_db)
    # Its browser screenshots beside the first run's, not over them (the two may run at once under xdist).
    artifacts = Path(os.environ.get("LW_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    env["LW_TEST_ARTIFACTS"] = str(artifacts / "postgresql")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", str(ROOT / "tests" / "web"),
         "--deselect", "tests/web/test_web_postgres.py::test_web_suite_passes_on_postgresql"],
        cwd=ROOT, env=env, check=False, capture_output=True, text=True, timeout=1800)
    tail = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and "skipped" not in result.stdout.splitlines()[-1], tail


@pytest.mark.web_database
def test_postgresql_run_uses_postgresql():
    """In the PostgreSQL run, Django really talks to PostgreSQL (and to SQLite otherwise)."""
    from django.db import connection

    assert connection.vendor == ("postgresql" if TEST_DATABASE_URL else "sqlite")
