"""The application's worker: periodic jobs of every app plus the outbox delivery, one worker per database.

Each app lists its jobs in its ``AppConfig`` as ``linewatch_jobs = [("web.orders.jobs:send_reminders", 300), ...]``
(a dotted ``module:function`` taking no argument, and the interval in seconds). :func:`collect_jobs` gathers them;
:func:`run_job` runs one, logging (not raising) what it raises, so the other jobs go on and the failed one is tried
again at its next interval.

Only one worker runs the jobs of a database: :class:`WorkerLock` is ``pg_try_advisory_lock`` on PostgreSQL (held by
the worker's own connection; it ends with the process) and an exclusive ``flock`` on a file beside the SQLite
database otherwise. A second worker waits for the lock (a standby), or with ``--once`` exits without running.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Self

from django.apps import apps
from django.db import close_old_connections, connections

log = logging.getLogger(__name__)
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"linewatch_worker").digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class Job:
    path: str  # "module:function"
    interval_s: float
    app: str

    def function(self) -> Callable[[], Any]:
        module, _, name = self.path.partition(":")
        if not module or not name:
            raise ValueError(f"linewatch_jobs of {self.app}: {self.path!r} is not 'module:function'")
        return getattr(importlib.import_module(module), name)


def collect_jobs() -> list[Job]:
    """Every app's ``linewatch_jobs``, checked: a bad entry is an error naming the app and the entry."""
    jobs: list[Job] = []
    for config in apps.get_app_configs():
        for entry in getattr(config, "linewatch_jobs", ()):
            try:
                path, interval_s = entry
                interval = float(interval_s)
            except (TypeError, ValueError):
                raise ValueError(f"linewatch_jobs of {config.label}: {entry!r} is not (\"module:function\", "
                                 "interval_s)") from None
            if interval <= 0:
                raise ValueError(f"linewatch_jobs of {config.label}: {path}: interval_s must be > 0")
            job = Job(path=path, interval_s=interval, app=config.label)
            job.function()  # import now: a typo fails at start, not at the first run
            jobs.append(job)
    return jobs


def _close_old_connections() -> None:
    """Django's per-request connection hygiene, for each job run; skipped inside a transaction (a caller's, a
    test's), which closing would end."""
    if not any(c.in_atomic_block for c in connections.all(initialized_only=True)):
        close_old_connections()


def run_job(job: Job) -> bool:
    """Run ``job`` once; False (logged with its traceback) if it raised."""
    started = time.monotonic()
    try:
        _close_old_connections()
        job.function()()
    except Exception:
        log.exception("job %s failed after %.1f s; next try in %.0f s", job.path, time.monotonic() - started,
                      job.interval_s)
        return False
    finally:
        _close_old_connections()
    log.debug("job %s done in %.2f s", job.path, time.monotonic() - started)
    return True


class WorkerLock:
    """One worker per database (see the module docstring)."""

    def __init__(self, alias: str = "default"):
        self.alias = alias
        self._file: IO[str] | None = None
        self._held = False

    @property
    def vendor(self) -> str:
        return connections[self.alias].vendor

    def lock_file(self) -> Path:
        name = Path(str(connections[self.alias].settings_dict["NAME"]))
        return name.with_name(name.name + ".worker.lock")

    def try_acquire(self) -> bool:
        if self._held:
            return True
        if self.vendor == "postgresql":
            with connections[self.alias].cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
                self._held = bool(cursor.fetchone()[0])
            return self._held
        path = self.lock_file()
        f = path.open("a")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            return False
        self._file, self._held = f, True
        return True

    def release(self) -> None:
        if not self._held:
            return
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        else:
            with connections[self.alias].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        self._held = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
