"""SIPp runs for the voice tests and the demo PBX: callers (UAC) placing known calls and a carrier (UAS).

Debian's ``sip-tester`` (SIPp 3.6) with the scenarios in ``collector/voice/pbx/`` (``caller.xml``, ``carrier.xml``).
A run lives in its own folder: the calls CSV (``-inf``), SIPp's log, its statistics (``-trace_stat``, one CSV row
per dump, the last row the totals) and its per-message counts (``-trace_counts``), both dumped every second
(``-fd 1``) and at exit. :meth:`SippRun.counts` reads them back as :class:`SippCounts`: what SIPp itself saw,
the reference the tests compare linewatch's figures with.

SIPp needs no privilege (ports above 1024), so it runs as the caller; ``-nostdin``: no terminal.
"""

from __future__ import annotations

import csv
import errno
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from linewatch.errors import ServerError
from linewatch.servers.ports import LOOPBACK, free_udp_port
from linewatch.servers.process import ServerProcess, clean_env, find_executable, log_tail


@dataclass(frozen=True)
class SippCall:
    """One call a caller places: from the extension ``caller`` to ``callee``, held ``hold_s`` once answered."""

    caller: str
    callee: str
    hold_s: float = 1.0


def write_calls_csv(path: Path, calls: Sequence[SippCall]) -> Path:
    """SIPp's ``-inf`` file for ``caller.xml``: one row per call, in order (caller;callee;hold in ms)."""
    rows = ["SEQUENTIAL"] + [f"{c.caller};{c.callee};{round(c.hold_s * 1000)}" for c in calls]
    path.write_text("\n".join(rows) + "\n")
    return path


@dataclass(frozen=True)
class SippCounts:
    """SIPp's own figures for a run: calls created / successful / failed (its verdicts on the scenario), and the
    messages received and sent by name ("INVITE", "200", "503": summed over the scenario's steps)."""

    created: int = 0
    successful: int = 0
    failed: int = 0
    received: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    retransmissions: int = 0


class SippRun:
    """One SIPp process: ``start()`` (returns once its UDP port is bound), ``wait()`` for a run with a call limit,
    ``stop()`` (SIGTERM) for an open-ended one (the carrier), ``counts()`` at any time.

    ``remote`` is where the scenario sends (``host:port``; none for a UAS); ``calls`` the CSV rows (``-inf``)
    and ``-m`` their number; ``rate_per_s`` new calls per second (``-r``, with ``-rp 1000``; fractions are fine),
    ``max_concurrent`` at most so many calls at once (``-l``; default: no limit below the number of calls).
    """

    def __init__(
        self,
        scenario: Path,
        *,
        work_dir: Path,
        name: str = "sipp",
        remote: str | None = None,
        port: int | None = None,
        calls: Sequence[SippCall] | None = None,
        rate_per_s: float = 10.0,
        max_concurrent: int | None = None,
        extra_args: Sequence[str] = (),
    ):
        self.scenario = Path(scenario).resolve()
        self.work_dir = Path(work_dir).resolve()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.remote = remote
        self.host = LOOPBACK
        self.port = port or free_udp_port()
        self.calls = tuple(calls or ())
        self.rate_per_s = rate_per_s
        self.max_concurrent = max_concurrent
        self.extra_args = tuple(extra_args)
        self.log_path = self.work_dir / f"{name}.log"
        self.stat_path = self.work_dir / f"{name}-stat.csv"
        self._process = ServerProcess(name=f"sipp {name}", log_path=self.log_path)

    def __repr__(self) -> str:
        return f"SippRun(name={self.name!r}, scenario={self.scenario.name!r}, port={self.port}, calls={len(self.calls)})"

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def call_id_suffix(self) -> str:
        """SIPp's Call-IDs are ``<call number>-<pid>@<local ip>``: every call of this run ends with this."""
        if self._process.pid is None:
            raise ServerError(f"{self!r} has not been started")
        return f"-{self._process.pid}@{self.host}"

    def argv(self) -> list[str]:
        sipp = find_executable("sipp", debian_package="sip-tester")
        argv = [sipp, "-nostdin", "-sf", str(self.scenario), "-i", self.host, "-p", str(self.port),
                "-trace_stat", "-stf", str(self.stat_path), "-trace_counts", "-fd", "1",
                "-r", str(self.rate_per_s), "-rp", "1000"]  # fmt: skip
        if self.calls:
            csv_path = write_calls_csv(self.work_dir / f"{self.name}-calls.csv", self.calls)
            argv += ["-inf", str(csv_path), "-m", str(len(self.calls))]
        limit = self.max_concurrent or len(self.calls)  # SIPp's default limit (3 x rate x -d) would queue calls
        if limit:
            argv += ["-l", str(limit)]
        argv += list(self.extra_args)
        if self.remote:
            argv.append(self.remote)
        return argv

    def start(self, *, timeout_s: float = 5.0) -> SippRun:
        self._process.spawn(self.argv(), env=clean_env(drop_prefixes=()), cwd=self.work_dir)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self._process.running:
                raise ServerError(f"{self!r} exited with code {self._process.returncode}; last lines of "
                                  f"{self.log_path}:\n{log_tail(self.log_path)}")
            if _udp_bound(self.host, self.port):
                return self
            time.sleep(0.05)
        self._process.stop()
        raise ServerError(f"{self!r} did not bind udp {self.host}:{self.port} within {timeout_s} s")

    def wait(self, *, timeout_s: float) -> SippCounts:
        """Wait for a run with calls to finish (SIPp exits after its ``-m`` calls); its counts."""
        deadline = time.monotonic() + timeout_s
        while self._process.running and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._process.running:
            self._process.stop()
            raise ServerError(f"{self!r} still placing calls after {timeout_s} s; stopped. Counts so far: "
                              f"{self.counts()}")
        return self.counts()

    def stop(self) -> SippCounts:
        """SIGTERM (SIPp writes its statistics as it exits); its counts."""
        self._process.stop(timeout_s=5.0)
        return self.counts()

    def counts(self) -> SippCounts:
        """SIPp's figures from the last rows of its statistics and counts files (zeros before the first dump)."""
        stats = _last_row(self.stat_path)
        received: dict[str, int] = {}
        sent: dict[str, int] = {}
        retrans = 0
        counts_files = sorted(self.work_dir.glob(f"{self.scenario.stem}_*_counts.csv"),
                              key=lambda p: p.stat().st_mtime)  # fmt: skip
        counts = _last_row(counts_files[-1]) if counts_files else {}
        for column, value in counts.items():
            parts = column.split("_")
            if len(parts) != 3 or not parts[0].isdigit() or not value.isdigit():
                continue
            _, message, kind = parts
            if kind == "Recv":
                received[message] = received.get(message, 0) + int(value)
            elif kind == "Sent":
                sent[message] = sent.get(message, 0) + int(value)
            elif kind == "Retrans":
                retrans += int(value)
        return SippCounts(created=_int(stats, "TotalCallCreated"), successful=_int(stats, "SuccessfulCall(C)"),
                          failed=_int(stats, "FailedCall(C)"), received=received, sent=sent,
                          retransmissions=retrans)  # fmt: skip


def _last_row(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], rows[-1], strict=False))


def _int(row: dict[str, str], key: str) -> int:
    value = row.get(key, "")
    return int(value) if value.isdigit() else 0


def _udp_bound(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False
