"""What the launchers share: finding the binary, spawning detached from any tty, stopping, and
:class:`LocalServer`, the start-with-port-retry, readiness wait and stop/cleanup every launcher runs.

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
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from linewatch.errors import ServerError

if TYPE_CHECKING:
    from linewatch.servers.account import ServiceAccount

PORT_RETRIES = 3  # fresh ports after a bind race, then give up

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


def log_size(path: Path) -> int:
    """The current size of a log file (0 when there is none yet): where the next start's lines begin."""
    return path.stat().st_size if path.exists() else 0


def log_since(path: Path, offset: int) -> str:
    """What a log file gained after ``offset`` (empty when it cannot be read)."""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
    except OSError:
        return ""


def wait_until_ready(
    process: ServerProcess, probe: Callable[[], bool], *, timeout_s: float, poll_s: float
) -> bool:
    """True once ``probe()`` is; False when the process exits or ``timeout_s`` passes first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process.running:
            return False
        if probe():
            return True
        time.sleep(poll_s)
    return False


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


class LocalServer:
    """The lifecycle every launcher shares: ``start()`` with port retry, ``stop()``, ``restart()``,
    ``cleanup()``, the context manager, ``running`` and ``pid``.

    A launcher sets ``log_path``, ``start_timeout_s``, ``stop_timeout_s``, ``_process`` and
    ``_ports_chosen_by_us`` in ``__init__``, and implements ``start()`` (calling
    :meth:`_start_with_port_retry`) and the hooks below. Launchers whose server runs as a
    :class:`ServiceAccount` make their work folder with :meth:`_adopt_work_dir`, so ``cleanup()`` removes it
    when they made it.
    """

    log_path: Path
    start_timeout_s: float
    stop_timeout_s: float
    _process: ServerProcess
    _ports_chosen_by_us: bool
    _own_work_dir: bool = False
    work_dir: Path
    account: ServiceAccount
    _not_ready = "did not become ready"  # "... within N s" when the probe never succeeded
    _poll_s = 0.1  # between two failed probes

    # -- what each launcher supplies -------------------------------------------------------------------

    def start(self) -> Self:
        raise NotImplementedError

    def _spawn(self) -> None:
        """Write what one attempt needs (config with the current ports) and spawn the server."""
        raise NotImplementedError

    def _probe(self) -> bool:
        """True when the server answers now (one quick try)."""
        raise NotImplementedError

    def _wait_ready(self) -> bool:
        """True once the server answers; False when it exits or ``start_timeout_s`` passes first."""
        return wait_until_ready(
            self._process, self._probe, timeout_s=self.start_timeout_s, poll_s=self._poll_s
        )

    def _port_taken(self, *, exited: bool, new_log: str) -> bool:
        """True when a failed attempt lost a port race (the server exited, or its log says so)."""
        raise NotImplementedError

    def _fresh_ports(self) -> None:
        """Pick new free ports for the next attempt."""
        raise NotImplementedError

    def _where(self) -> str:
        """The server, its address and its folder, for error messages."""
        raise NotImplementedError

    def _stop_process(self) -> None:
        self._process.stop(timeout_s=self.stop_timeout_s)

    # -- shared ----------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def stop(self) -> None:
        """SIGTERM, wait, SIGKILL if needed; what the server keeps in its folder stays."""
        self._stop_process()

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        """Stop, and remove the work folder when the launcher made it (a given ``work_dir`` stays)."""
        self.stop()
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            atexit.unregister(self.cleanup)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    def _adopt_work_dir(self, work_dir: Path | None, *, prefix: str) -> Path:
        """``work_dir``, or a new private folder of ``self.account`` that ``cleanup()`` (or exit) removes."""
        self._own_work_dir = work_dir is None
        if work_dir is not None:
            return Path(work_dir).resolve()
        # A forgotten server does not leave its folder (a cluster is ~40 MB) in /tmp.
        atexit.register(self.cleanup)
        return self.account.private_dir(prefix=prefix)

    def _start_with_port_retry(self) -> None:
        """Spawn and wait until ready; after a lost port race on ports we chose, retry on fresh ones.

        Raises ServerError saying whether the server exited or did not answer, with the tail of its log.
        """
        for attempt in range(1, PORT_RETRIES + 1):
            log_start = log_size(self.log_path)
            self._spawn()
            if self._wait_ready():
                return
            exited = self._process.returncode is not None
            new_log = log_since(self.log_path, log_start)
            self._stop_process()
            lost_race = self._ports_chosen_by_us and self._port_taken(exited=exited, new_log=new_log)
            if lost_race and attempt < PORT_RETRIES:
                self._fresh_ports()  # someone took a port between free_*_port() and the server's bind
                continue
            state = (
                f"exited with code {self._process.returncode}"
                if exited
                else f"{self._not_ready} within {self.start_timeout_s} s"
            )
            raise ServerError(
                f"{self._where()} {state}; last lines of {self.log_path}:\n{log_tail(self.log_path)}"
            )
        raise AssertionError("unreachable")  # pragma: no cover


@atexit.register
def _stop_all_at_exit() -> None:
    for server in list(_running):
        try:
            server.stop(timeout_s=5.0)
        except ServerError:
            pass
