"""``linewatch web manage linewatch_worker [--once]``: the application's periodic jobs and the outbox delivery."""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from web.notify.worker import WorkerLock, collect_jobs, run_job

log = logging.getLogger("web.notify.worker")
STANDBY_POLL_S = 5.0


class Command(BaseCommand):
    help = "Run every app's periodic jobs (linewatch_jobs) and the outbox delivery; one worker per database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true",
                            help="run every job once and exit (exits without running if another worker holds the lock)")

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        try:
            jobs = collect_jobs()
        except (ValueError, ImportError, AttributeError) as exc:
            raise CommandError(str(exc)) from None
        lock = WorkerLock()
        with lock:
            if not lock.try_acquire():
                if once:
                    self.stdout.write("linewatch_worker: another worker holds the lock; nothing run")
                    return
                log.info("another worker holds the lock; standing by")
                while not lock.try_acquire():
                    time.sleep(STANDBY_POLL_S)
            if once:
                failed = [job.path for job in jobs if not run_job(job)]
                for job in jobs:
                    self.stdout.write(f"ran {job.path}" + (" (failed)" if job.path in failed else ""))
                if failed:
                    raise CommandError(f"job(s) failed: {', '.join(failed)}")
                return
            self._schedule(jobs)

    def _schedule(self, jobs: list[Any]) -> None:
        scheduler = build_scheduler(jobs)
        signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
        log.info("linewatch_worker: %d job(s): %s", len(jobs),
                 ", ".join(f"{j.path} every {j.interval_s:g} s" for j in jobs))
        try:
            scheduler.start()
        except KeyboardInterrupt:
            pass


def build_scheduler(jobs: list[Any], scheduler: Any = None) -> Any:
    """Every job on an interval, each first run as the worker starts (then every ``interval_s``): a worker
    restarted more often than a job's interval still runs it. ``scheduler`` (a BlockingScheduler by default) is
    returned unstarted.

    Regression: jobs of more than 60 s were added with ``next_run_time=None``, which APScheduler 3 takes for
    *paused*: the reminders, the audit, the KPIs and the figures never ran in the worker."""
    if scheduler is None:
        from apscheduler.schedulers.blocking import BlockingScheduler

        scheduler = BlockingScheduler()
    scheduler.configure(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    now = _now()
    for job in jobs:
        scheduler.add_job(run_job, "interval", args=[job], seconds=job.interval_s, id=job.path, next_run_time=now)
    return scheduler


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()
