"""The process handling both launchers share: finding the binary, spawning detached from any tty, stopping.

Servers run in their own session (so a Ctrl-C in the terminal running pytest or the demo reaches only us,
and we stop them in order), with stdin from /dev/null and stdout/stderr appended to a log file. Every
running server is remembered and stopped at interpreter exit, so a crashed test session does not leave
daemons behind.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from linewatch.errors import ServerError

_SYSTEM_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
_running: set[ServerProcess] = set()  # strong refs: a forgotten server is still stopped at exit


def find_executable(name: str, *, debian_package: str) -> str:
    """Absolute path of ``name`` (PATH first, then the sbin/bin dirs a non-root PATH may lack)."""
    found = shutil.which(name)
    if found:
        return found
    for directory in _SYSTEM_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ServerError(
        f"{name} not found (looked in PATH and {', '.join(_SYSTEM_DIRS)}): install Debian's "
        f"{debian_package!r} package; `make test` and `make run` do it through scripts/ensure-sysdeps.sh"
    )


def log_tail(path: Path, *, lines: int = 25) -> str:
    """The last ``lines`` lines of a log file, or a note saying why there are none."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


class ServerProcess:
    """One child process, detached from the tty, logging to ``log_path``; stopped by SIGTERM, then SIGKILL."""

    def __init__(self, *, name: str, log_path: Path):
        self.name = name
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def spawn(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> None:
        if self.running:
            raise ServerError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            try:
                self._proc = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=dict(env),
                    cwd=cwd,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                raise ServerError(f"{self.name}: cannot start {argv[0]}: {exc}") from exc
        _running.add(self)

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """SIGTERM, wait up to ``timeout_s``, then SIGKILL. Safe to call when not running."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                try:
                    proc.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired as exc:
                    raise ServerError(
                        f"{self.name} (pid {proc.pid}) survived SIGKILL for {timeout_s} s"
                    ) from exc
        _running.discard(self)


def clean_env(*, drop_prefixes: Sequence[str], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment without variables that would override our generated config."""
    env = {k: v for k, v in os.environ.items() if not any(k.startswith(p) for p in drop_prefixes)}
    env.update(extra or {})
    return env


@atexit.register
def _stop_all_at_exit() -> None:
    for server in list(_running):
        try:
            server.stop(timeout_s=5.0)
        except ServerError:
            pass
