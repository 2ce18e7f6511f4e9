"""The worker (web/notify/worker.py, ``linewatch_worker``): jobs from every AppConfig, a failing job isolated,
one worker per database (a file lock beside the SQLite database, an advisory lock on PostgreSQL)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest
from web_test_setup import web_env

from web.notify.worker import ADVISORY_LOCK_KEY, Job, WorkerLock, collect_jobs, run_job

ROOT = Path(__file__).resolve().parents[2]
RUNS: list[str] = []


def ok_job() -> None:
    RUNS.append("ok")


def failing_job() -> None:
    raise RuntimeError("boom")


def test_every_apps_jobs_are_collected_with_the_outbox_delivery_every_5_s():
    jobs = {j.path: j for j in collect_jobs()}
    assert jobs["web.notify.jobs:deliver_outbox"].interval_s == 5


@pytest.mark.django_db
def test_a_failing_job_is_logged_and_the_next_job_still_runs(caplog):
    RUNS.clear()
    results = [run_job(Job(path=f"test_notify_worker:{name}", interval_s=60, app="t"))
               for name in ("failing_job", "ok_job")]
    assert results == [False, True] and RUNS == ["ok"]
    assert "job test_notify_worker:failing_job failed" in caplog.text and "RuntimeError: boom" in caplog.text


@pytest.mark.parametrize("entry", [("no_colon", 5), ("web.notify.jobs:deliver_outbox", 0), ("x",)],
                         ids=["not-dotted", "zero-interval", "not-a-pair"])
def test_a_bad_job_entry_is_an_error_naming_the_app(monkeypatch, entry):
    from django.apps import apps

    monkeypatch.setattr(apps.get_app_config("notify"), "linewatch_jobs", [entry])
    with pytest.raises(ValueError, match="linewatch_jobs of notify"):
        collect_jobs()


@pytest.mark.web_database
@pytest.mark.django_db
def test_a_second_lock_on_the_same_database_is_refused():
    """SQLite: the file lock; PostgreSQL: the advisory lock, tried from a second connection."""
    from django.db import connection

    with WorkerLock() as first:
        if connection.vendor == "postgresql":
            import psycopg

            assert first.try_acquire()
            with psycopg.connect(**connection.get_connection_params()) as other:
                held = other.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY]).fetchone()[0]
            assert held is False
        else:
            pytest.skip("the in-memory test database has no file to lock: see the subprocess test")


@pytest.mark.slow
def test_linewatch_worker_once_runs_nothing_while_another_worker_holds_the_lock(tmp_path):
    (tmp_path / "linewatch.yaml").write_text(f"state_dir: {tmp_path / 'var'}\n")
    env = web_env(LINEWATCH_CONFIG=str(tmp_path / "linewatch.yaml"))

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "web.manage", *args], env=env, cwd=ROOT, check=False,
                              capture_output=True, text=True, timeout=300)

    assert manage("migrate").returncode == 0
    lock_file = tmp_path / "var" / "web.sqlite3.worker.lock"
    with lock_file.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        blocked = manage("linewatch_worker", "--once")
        fcntl.flock(held, fcntl.LOCK_UN)
    assert "another worker holds the lock; nothing run" in blocked.stdout and "ran " not in blocked.stdout
    free = manage("linewatch_worker", "--once")
    assert "ran web.notify.jobs:deliver_outbox" in free.stdout, free.stderr[-2000:]
