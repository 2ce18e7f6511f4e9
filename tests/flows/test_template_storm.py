"""`linewatch flows listen` as a real process under a template storm, and where it puts its spool (issue 9).

The trial: 30,176 templates from 9 sources, 8 of them not configured -> 1.2 GB RSS, a 115 MB template file rewritten
on every change, 50 s to exit on SIGTERM. Here: ~30,000 templates from 40 unconfigured loopback addresses plus a
configured exporter sending far more than its cap, while the process is measured (RSS from /proc) and stopped with
SIGTERM in the middle of the flood.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import stat
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.flows.config import FlowsConfig
from collector.flows.netflow import V9_HEADER
from collector.flows.service import FlowService
from collector.flows.synth import SynthFlow, ipfix_packet
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.inventory import Inventory
from linewatch.servers.ports import free_tcp_port, free_udp_port

REPO = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000
FIELDS_PER_TEMPLATE = 256
TEMPLATES_PER_DATAGRAM = 30
UNCONFIGURED_SOURCES = [f"127.0.0.{i}" for i in range(2, 42)]  # 40 addresses, none in flows.yaml or the inventory
DATAGRAMS_PER_SOURCE = 25  # 40 x 25 x 30 = 30,000 templates
CONFIGURED_DATAGRAMS = 60  # 1,800 templates from 127.0.0.1, the probe of L-PROBE: more than its cap
MAX_FIELDS = 32768  # the default max_template_fields_per_exporter: 128 templates of 256 fields


def _template_storm_datagram(first_id: int, sequence: int) -> bytes:
    """One v9 datagram of TEMPLATES_PER_DATAGRAM distinct templates of FIELDS_PER_TEMPLATE fields each."""
    body = b""
    for tid in range(first_id, first_id + TEMPLATES_PER_DATAGRAM):
        fields = struct.pack("!HH", tid, FIELDS_PER_TEMPLATE) + b"".join(
            struct.pack("!HH", 1000 + (tid + i) % 30000, 4) for i in range(FIELDS_PER_TEMPLATE))
        body += fields
    flowset = struct.pack("!HH", 0, len(body) + 4) + body
    return V9_HEADER.pack(9, TEMPLATES_PER_DATAGRAM, 3_600_000, T0, sequence, 0) + flowset


def _rss_kb(pid: int, key: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {key} for pid {pid}")


def _write_config(folder: Path, *, influx_url: str, database: str, port: int, extra_influx: str = "",
                  spool: str | None = None, state_dir: str | None = None) -> Path:
    (folder / "flows.yaml").write_text((folder / "flows.yaml").read_text()
                                       + f"listen: {{address: 127.0.0.1, port: {port}}}\n")
    config = folder / "linewatch.yaml"
    config.write_text(f"influx: {{url: '{influx_url}', database: {database}{extra_influx}, "
                      f"spool: {{path: {spool or folder / 'spool'}}}}}\n"
                      f"inventory_path: lines.yaml\nstate_dir: {state_dir or folder / 'var'}\n")
    return config


class Listener:
    """`linewatch -c CONFIG flows listen` in a child process, ready once it printed its port."""

    def __init__(self, config: Path, port: int, *, cwd: Path = REPO):
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWATCH_")}
        env["PYTHONPATH"] = str(REPO)
        self.proc = subprocess.Popen([sys.executable, "-m", "linewatch.cli", "-c", str(config), "flows", "listen"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert f"UDP port {port}" in line, (line, self.proc.stderr.read() if self.proc.poll() is not None else "")

    def stop(self, timeout_s: float = 60.0) -> tuple[float, str]:
        """SIGTERM; (seconds until the process ended, its stderr)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=timeout_s)
        return time.monotonic() - started, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=30)


@pytest.fixture
def listener_factory() -> Iterator[list[Listener]]:
    started: list[Listener] = []
    yield started
    for listener in started:
        listener.kill()


@pytest.mark.slow
def test_template_storm_from_unconfigured_sources_stays_bounded_and_exits_fast_on_sigterm(
        flow_files: Path, influx_db: tuple[str, str], listener_factory: list[Listener]) -> None:
    url, db = influx_db
    port = free_udp_port()
    config = _write_config(flow_files, influx_url=url, database=db, port=port)
    listener = Listener(config, port)
    listener_factory.append(listener)
    pid = listener.proc.pid
    rss_start_kb = _rss_kb(pid)

    stop_flood = threading.Event()
    sent = {"unconfigured": 0, "configured": 0}

    def flood() -> None:
        socks = {}
        try:
            for source in ["127.0.0.1", *UNCONFIGURED_SOURCES]:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((source, 0))
                socks[source] = s
            rounds = max(DATAGRAMS_PER_SOURCE, CONFIGURED_DATAGRAMS)
            lap = 0
            while not stop_flood.is_set():  # after one full storm, keep it going until SIGTERM is sent
                for n in range(rounds):
                    for source, s in socks.items():
                        configured = source == "127.0.0.1"
                        if n >= (CONFIGURED_DATAGRAMS if configured else DATAGRAMS_PER_SOURCE):
                            continue
                        first = 256 + (n * TEMPLATES_PER_DATAGRAM + lap * 7) % 60000
                        try:
                            s.sendto(_template_storm_datagram(first, n), ("127.0.0.1", port))
                        except OSError:
                            pass  # buffer full: UDP drops, like a real flood
                        sent["configured" if configured else "unconfigured"] += TEMPLATES_PER_DATAGRAM
                        if stop_flood.is_set():
                            return
                    time.sleep(0.002)
                lap += 1
                flooded.set()
        finally:
            for s in socks.values():
                s.close()

    flooded = threading.Event()
    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    try:
        assert flooded.wait(120), "the storm was not sent in time"
        assert sent["unconfigured"] >= 30_000
        # One flow from the configured probe after the storm: the receiver still works.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            flow = SynthFlow("10.0.0.1", "198.51.100.9", 6, 40000, 443, 7000, 7, 0, 0, T0)
            sock.sendto(ipfix_packet([flow], export_s=T0, sequence=0), ("127.0.0.1", port))
        time.sleep(0.5)
        rss_peak_kb = _rss_kb(pid, "VmHWM")
        elapsed_s, err = listener.stop()  # SIGTERM while the flood goes on
    finally:
        stop_flood.set()
        sender.join(30)
    assert listener.proc.returncode == 0, err
    growth_mb = (rss_peak_kb - rss_start_kb) / 1024
    print(f"\nRSS {rss_start_kb / 1024:.0f} MB at start, peak {rss_peak_kb / 1024:.0f} MB (+{growth_mb:.0f} MB); "
          f"exit {elapsed_s:.2f} s after SIGTERM; templates sent {sent}")
    assert growth_mb < 300, f"RSS grew by {growth_mb:.0f} MB"
    assert elapsed_s < 10, f"{elapsed_s:.1f} s to exit on SIGTERM"

    state = flow_files / "var" / "flow-templates.sqlite3"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600 and stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    with sqlite3.connect(state) as conn:
        per_exporter = dict(conn.execute("SELECT exporter, count(*) FROM templates GROUP BY exporter"))
    assert set(per_exporter) == {"127.0.0.1"}  # nothing learned from unconfigured sources
    assert per_exporter["127.0.0.1"] <= MAX_FIELDS // FIELDS_PER_TEMPLATE
    assert state.stat().st_size < 10 * 1024 * 1024

    client = InfluxClient(InfluxSettings(url=url, database=db))
    try:
        rows = client.query('SELECT last("template_sets_refused"), last("templates_over_limit") FROM '
                            '"flow_exporter" GROUP BY "exporter"')
    finally:
        client.close()
    counted = {r["tags"]["exporter"]: r["values"][0][1:] for r in rows}
    refused = sum(v[0] for e, v in counted.items() if e != "127.0.0.1")
    assert refused > 0 and counted["127.0.0.1"][0] == 0  # the rest is counted, per exporter
    assert counted["127.0.0.1"][1] > 0  # over the per-exporter cap: counted, not kept


def test_template_changes_are_persisted_incrementally(tmp_path: Path, inventory: Inventory) -> None:
    cfg = FlowsConfig(interval_s=60, flush_delay_s=0, exporters=[{"address": "127.0.0.1", "line": "L-PROBE"}])
    path = tmp_path / "state" / "flow-templates.sqlite3"
    service = FlowService(cfg, inventory, sink=lambda points: None, template_path=path, clock=lambda: float(T0))
    for n in range(4):  # 120 templates of 256 fields
        service.handle_datagram(_template_storm_datagram(256 + n * TEMPLATES_PER_DATAGRAM, n), ("127.0.0.1", 5000))
    service.tick()
    assert service.store is not None and service.store.rows_written == 120
    inode = path.stat().st_ino
    service.handle_datagram(_template_storm_datagram(256, 9), ("127.0.0.1", 5000))  # the same templates again
    service.tick()
    assert service.store.rows_written == 120
    one_new = _template_storm_datagram(256 + 4 * TEMPLATES_PER_DATAGRAM, 10)
    service.handle_datagram(one_new[:V9_HEADER.size] + struct.pack("!HH", 0, 4 + 4 + 4 * FIELDS_PER_TEMPLATE)
                            + one_new[V9_HEADER.size + 4:V9_HEADER.size + 8 + 4 * FIELDS_PER_TEMPLATE],
                            ("127.0.0.1", 5000))
    service.tick(final=True)
    assert service.store.rows_written == 120 + 1  # the new template only
    assert path.stat().st_ino == inode  # updated in place, never rewritten whole
    restarted = FlowService(cfg, inventory, sink=lambda points: None, template_path=path, clock=lambda: float(T0))
    assert len(restarted.decoder.templates) == 121


def test_listen_spools_next_to_its_config_file_not_in_the_working_folder(
        flow_files: Path, tmp_path_factory: pytest.TempPathFactory, listener_factory: list[Listener]) -> None:
    # InfluxDB unreachable (a closed port): the flows written at shutdown go to the spool, which linewatch.yaml
    # gives as a relative path: relative to linewatch.yaml's folder, like every path there.
    port = free_udp_port()
    config = _write_config(flow_files, influx_url=f"http://127.0.0.1:{free_tcp_port()}", database="lw", port=port,
                           extra_influx=", max_retry_s: 0, max_attempts: 1, timeout_s: 2", spool="spool",
                           state_dir="var")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    listener = Listener(config, port, cwd=elsewhere)
    listener_factory.append(listener)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flow = SynthFlow("10.0.0.1", "198.51.100.9", 6, 40000, 443, 7000, 7, 0, 0, time.time())
        sock.sendto(ipfix_packet([flow], export_s=int(time.time()), sequence=0), ("127.0.0.1", port))
    time.sleep(0.5)
    _, err = listener.stop()
    assert listener.proc.returncode == 0, err
    assert not (elsewhere / "spool").exists(), "spooled relative to the working folder"
    spooled = [p for p in (flow_files / "spool").rglob("*") if p.is_file()]
    assert spooled, err
    assert (flow_files / "var" / "flow-templates.sqlite3").exists()
