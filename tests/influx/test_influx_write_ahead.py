"""Write-ahead spool: a batch is on disk before the first send attempt, so ``kill -9`` during an outage loses nothing.

The regression test runs the real collector (``linewatch collect``) against the simulated SNMP agent over UDP, with
InfluxDB unreachable, kills it with SIGKILL while it retries, restarts it against the session's real influxd and
counts the points of every line: every polled interval exactly once.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from influx_test_support import FakeClock, ScriptedInflux

from collector.simagent.agent import SimAgent
from collector.simagent.model import SimDevice
from linewatch.influx import DiskSpool, InfluxClient, InfluxSettings, Point, PointWriter

REPO = Path(__file__).resolve().parents[2]
LINES = ("L0", "L1")
TIMEOUT_S = 180  # generous: the machine is shared


def lp_files(spool: Path) -> list[Path]:
    return sorted(p for p in spool.glob("*.lp"))


def test_batch_is_on_disk_before_the_first_send_attempt(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path
) -> None:
    """What the server receives on the first attempt is already in the spool; it leaves once accepted."""
    seen_on_disk: list[list[bytes]] = []
    original = scripted_influx.next_status

    def status_after_looking(body: bytes) -> int:
        seen_on_disk.append([p.read_bytes() for p in lp_files(tmp_path)])
        return original(body)

    scripted_influx.next_status = status_after_looking  # type: ignore[method-assign]
    scripted_influx.statuses = [503]
    settings = InfluxSettings(url=scripted_influx.url, database="db", create_database=False)
    with PointWriter(InfluxClient(settings), DiskSpool(tmp_path, 10_000), max_attempts=3,
                     sleep=fake_clock.sleep, clock=fake_clock.clock) as writer:
        writer.write([Point("m", {"line": "L1"}, {"v": 1.0}, 1_000)])
        assert writer.stats().sent_batches == 1
    assert seen_on_disk[0] == [b"m,line=L1 v=1.0 1000\n"], "the first attempt must find the batch spooled"
    assert lp_files(tmp_path) == [], "an accepted batch leaves the spool"


def test_batches_larger_than_the_spool_are_still_sent_when_influxdb_is_up(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path
) -> None:
    """Write-ahead must not turn a small spool into data loss while InfluxDB is healthy."""
    settings = InfluxSettings(url=scripted_influx.url, database="db", create_database=False)
    points = [Point("m", {"line": "L1"}, {"v": float(i)}, 1_000 + i) for i in range(5)]
    with PointWriter(InfluxClient(settings), DiskSpool(tmp_path, 45), batch_size=1,
                     sleep=fake_clock.sleep, clock=fake_clock.clock) as writer:
        writer.write(points)  # 21 bytes a batch: two fit in the spool, three are sent from memory
        stats = writer.stats()
    assert (stats.sent_batches, stats.overflowed_batches, stats.spooled_batches) == (5, 0, 0)
    assert b"".join(scripted_influx.bodies) == b"".join(PointWriter.make_batches(points, 1))


@pytest.fixture
def sim_router() -> Iterator[SimAgent]:
    with SimAgent([SimDevice.with_interfaces("r1", 2, community="c-r1")]) as agent:
        yield agent


@pytest.fixture
def refused_url() -> Iterator[str]:
    """An HTTP URL on 127.0.0.1 whose port is bound but not listening: every connection is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def write_config(tmp: Path, *, port: int, url: str, database: str) -> Path:
    lines = ["devices:", "  - name: r1", "    address: 127.0.0.1", f"    port: {port}",
             "    snmp: {version: 2c, community: c-r1}", "    timeout_s: 2", "    retries: 2", "lines:"]
    for i, line_id in enumerate(LINES):
        lines += [f"  - id: {line_id}", "    carrier: Telia", f"    circuit_id: C{i}", "    type: internet",
                  "    site: Lab", "    department: Eng", "    device: r1", f"    interface: ge-0/0/{i}",
                  "    capacity_bps: 1000000"]
    (tmp / "lines.yaml").write_text("\n".join(lines) + "\n")
    cfg = tmp / "linewatch.yaml"
    cfg.write_text(
        f"influx: {{url: '{url}', database: {database}, timeout_s: 2, backoff_initial_s: 0.1, backoff_max_s: 0.2,"
        " max_attempts: 1000, spool: {path: spool}}\n"
        # interval 4 s: each cycle retries for a quarter of it (1 s), plenty of time to kill it mid-retry
        "collector: {name: t, interval_s: 4, state_path: state.json}\ninventory_path: lines.yaml\n"
    )
    return cfg


def _pump(stream: IO[str], out: queue.Queue[str]) -> None:
    for line in stream:
        out.put(line)
    out.put("")  # end of stream


@pytest.mark.slow
def test_collector_killed_during_influxdb_outage_loses_no_polled_interval(
    tmp_path: Path, sim_router: SimAgent, refused_url: str, influx_db: tuple[str, str]
) -> None:
    cmd = [sys.executable, "-m", "linewatch.cli", "-v", "-c"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cfg = write_config(tmp_path, port=sim_router.port("r1"), url=refused_url, database="lw")
    proc = subprocess.Popen([*cmd, str(cfg), "collect", "--quiet"], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stderr, stderr), daemon=True).start()
    # Everything is read from the writer's own log lines on stderr, one ordered stream: each cycle that could not
    # write ends with "InfluxDB unavailable after N attempts"; the next "retrying in" is the third cycle, which has
    # polled and is now retrying its write.
    given_up, log_text = 0, []
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            line = stderr.get(timeout=max(1.0, deadline - time.monotonic()))
            assert line, "collector exited early:\n" + "".join(log_text)
            log_text.append(line)
            given_up += "InfluxDB unavailable after" in line
            if given_up >= 2 and "retrying in" in line:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    polled = 3  # cycle 4 cannot have started: the scheduler runs one cycle at a time, 4 s apart
    spool = tmp_path / "spool"
    assert len(lp_files(spool)) == polled, "every polled cycle must be in the spool after SIGKILL"

    url, db = influx_db
    cfg = write_config(tmp_path, port=sim_router.port("r1"), url=url, database=db)
    done = subprocess.run([*cmd, str(cfg), "collect", "--once"], check=False, cwd=tmp_path, env=env, text=True,
                          capture_output=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr
    client = InfluxClient(InfluxSettings(url=url, database=db))
    counts = client.query('SELECT count(capacity_bps) FROM line_traffic GROUP BY "line"')
    client.close()
    assert {s["tags"]["line"]: s["values"][0][1] for s in counts} == dict.fromkeys(LINES, polled + 1)
    assert lp_files(spool) == []
    assert stat.S_IMODE(spool.stat().st_mode) == 0o700
