import os
import time
from pathlib import Path


def slow_job() -> None:
    """Record the run, then hold the worker (and its lock) until the test lets go (``<log>.release``, at most 60 s)."""
    log = Path(os.environ["LW_TEST_JOB_LOG"])
    with log.open("a", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\n")
    release = log.with_name(log.name + ".release")
    deadline = time.monotonic() + 60
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
