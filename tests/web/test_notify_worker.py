"""The worker (web/notify/worker.py, ``linewatch_worker``): jobs from every AppConfig, a failing job isolated,
one worker per database (a file lock beside the SQLite database, an advisory lock on PostgreSQL)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from web_test_setup import web_env

from web.notify.worker import ADVISORY_LOCK_KEY, Job, WorkerLock, collect_jobs, run_job

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
_MANAGE = [sys.executable, "-m", "web.manage"]
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


@pytest.fixture(scope="module")
def worker_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A migrated SQLite database of its own, and the settings with the test app's slow job."""
    folder = tmp_path_factory.mktemp("worker")
    (folder / "linewatch.yaml").write_text(f"state_dir: {folder / 'var'}\n")
    env = web_env(LINEWATCH_CONFIG=str(folder / "linewatch.yaml"), LW_TEST_JOB_LOG=str(folder / "runs.log"),
                  DJANGO_SETTINGS_MODULE="notify_worker_app.settings", PYTHONPATH=f"{HERE}:{ROOT}")
    result = subprocess.run(_MANAGE + ["migrate"], env=env, cwd=ROOT, check=False, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return {"folder": folder, "env": env}


def _manage(site: dict[str, object], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_MANAGE + list(args), env=site["env"], cwd=ROOT, check=False, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_a_second_worker_started_while_the_first_runs_its_jobs_runs_none(worker_site):
    """Each job runs once: the first worker holds the lock while its slow job runs; the second exits."""
    log = worker_site["folder"] / "runs.log"
    release = log.with_name(log.name + ".release")
    log.unlink(missing_ok=True)
    release.unlink(missing_ok=True)
    first = subprocess.Popen(_MANAGE + ["linewatch_worker", "--once"], env=worker_site["env"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (log.exists() and log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        second = _manage(worker_site, "linewatch_worker", "--once")
    finally:
        release.touch()
        out, _ = first.communicate(timeout=300)
    assert "another worker holds the lock; nothing run" in second.stdout and "ran " not in second.stdout
    assert "ran notify_worker_app.jobs:slow_job" in out
    assert len(log.read_text().splitlines()) == 1


@pytest.mark.slow
def test_linewatch_worker_once_runs_nothing_while_another_worker_holds_the_lock(worker_site):
    tmp_path = worker_site["folder"]

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return _manage(worker_site, *args)
    lock_file = tmp_path / "var" / "web.sqlite3.worker.lock"
    with lock_file.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        blocked = manage("linewatch_worker", "--once")
        fcntl.flock(held, fcntl.LOCK_UN)
    assert "another worker holds the lock; nothing run" in blocked.stdout and "ran " not in blocked.stdout
    free = manage("linewatch_worker", "--once")
    assert "ran web.notify.jobs:deliver_outbox" in free.stdout, free.stderr[-2000:]


RAN: list[str] = []


def record_run() -> None:
    """A job for the scheduler test: notes that it ran."""
    RAN.append("ran")


def test_every_job_runs_when_the_worker_starts_whatever_its_interval():
    """Regression: jobs of more than 60 s were scheduled with ``next_run_time=None`` — APScheduler 3's *paused* —
    so the reminders, the audit, the KPIs and the figures never ran in the worker. Each job now first runs at once,
    then every interval."""
    import time

    from apscheduler.schedulers.background import BackgroundScheduler

    from web.notify.management.commands.linewatch_worker import build_scheduler
    from web.notify.worker import Job

    RAN.clear()
    scheduler = build_scheduler([Job(f"{__name__}:record_run", 3600, "test")], BackgroundScheduler())
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while not RAN and time.monotonic() < deadline:
            time.sleep(0.05)
        assert RAN == ["ran"], "a 3,600-s job did not run at the worker's start"
        (job,) = scheduler.get_jobs()
        assert job.next_run_time is not None, "the job is paused"
    finally:
        scheduler.shutdown(wait=False)
