"""Against a real influxd: `linewatch flows pcap` writes the schema, `linewatch flows top` reads it back, the
dashboard's InfluxQL returns the rows, and the demo stage fills the demo lines."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from collector.flows.query import APP_MIX_INFLUXQL, OTHER_INFLUXQL, TOP_TALKERS_INFLUXQL, parse_time, render
from collector.flows.synth import pcap_bytes, traffic
from linewatch.cli import main
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.inventory import load_inventory

REPO = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000


@pytest.fixture
def setup(tmp_path: Path, flow_files: Path, influx_db: tuple[str, str]) -> tuple[Path, InfluxClient]:
    url, db = influx_db
    (tmp_path / "linewatch.yaml").write_text(
        f"influx: {{url: '{url}', database: {db}, spool: {{path: {tmp_path / 'spool'}}}}}\n"
        f"inventory_path: lines.yaml\nstate_dir: {tmp_path / 'var'}\n")
    client = InfluxClient(InfluxSettings(url=url, database=db))
    yield tmp_path / "linewatch.yaml", client
    client.close()


@pytest.fixture
def capture_file(tmp_path: Path) -> Path:
    packets = traffic(seed=3, packets=4000, start_s=T0, duration_s=240, heavy=[("10.1.0.9", "203.0.113.5", 443, 25.0)])
    path = tmp_path / "line.pcap"
    path.write_bytes(pcap_bytes(packets))
    return path


def test_pcap_command_writes_summaries_that_top_reads_back(setup, capture_file: Path, capsys) -> None:
    config, client = setup
    assert main(["-c", str(config), "flows", "pcap", str(capture_file), "--line", "L-PROBE"]) == 0
    assert "4000 frames" in capsys.readouterr().out
    # Every minute adds up: ranked rows + other == the flow_proto total.
    top = client.query('SELECT sum("bytes") FROM "flow_top" WHERE "line" = \'L-PROBE\' GROUP BY time(1m), "direction"'
                       " fill(none)")
    proto = client.query('SELECT sum("bytes") FROM "flow_proto" WHERE "line" = \'L-PROBE\' GROUP BY time(1m), '
                         '"direction" fill(none)')
    assert {(s["tags"]["direction"], tuple(map(tuple, s["values"]))) for s in top} == \
        {(s["tags"]["direction"], tuple(map(tuple, s["values"]))) for s in proto}
    tags = client.query('SHOW TAG VALUES FROM "flow_top" WITH KEY = "rank"')
    assert {v[1] for v in tags[0]["values"]} == {"1", "2", "3", "other"}  # top_n: 3 in this flows.yaml

    assert main(["-c", str(config), "flows", "top", "--line", "L-PROBE", "--from", str(T0 - 60),
                 "--to", str(T0 + 600), "--direction", "out", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    first_row = out.splitlines()[3]
    assert first_row.split()[:5] == ["out", "10.1.0.9", "203.0.113.5", "6", "443"]
    assert "out  total" in out


def test_top_rejects_an_inverted_window(setup, capsys) -> None:
    config, _ = setup
    assert main(["-c", str(config), "flows", "top", "--line", "L-PROBE", "--from", "now", "--to=-1h"]) == 2
    assert "must be after" in capsys.readouterr().err


def test_pcap_command_names_an_unknown_line(setup, capture_file: Path, capsys) -> None:
    config, _ = setup
    assert main(["-c", str(config), "flows", "pcap", str(capture_file), "--line", "NOPE"]) == 2
    assert "unknown line 'NOPE'" in capsys.readouterr().err


@pytest.mark.parametrize("query", [
    pytest.param(TOP_TALKERS_INFLUXQL, id="top-talkers-table"),
    pytest.param(OTHER_INFLUXQL, id="other-remainder"),
    pytest.param(APP_MIX_INFLUXQL, id="app-mix"),
])
def test_dashboard_queries_return_rows(setup, capture_file: Path, query: str) -> None:
    config, client = setup
    assert main(["-c", str(config), "flows", "pcap", str(capture_file), "--line", "L-PROBE"]) == 0
    series = client.query(render(query, line="L-PROBE", start_s=T0 - 60, end_s=T0 + 600))
    assert {s["tags"]["direction"] for s in series} == {"in", "out"}
    assert all(s["values"] for s in series)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("now", 1_000_000, id="now"),
    pytest.param("-15m", 1_000_000 - 900, id="relative-minutes"),
    pytest.param("2h", 1_000_000 - 7200, id="relative-hours-without-sign"),
    pytest.param("1700000000", 1_700_000_000, id="epoch"),
    pytest.param("2023-11-14T22:13:20Z", 1_700_000_000, id="iso-utc"),
    pytest.param("2023-11-14 22:13:20", 1_700_000_000, id="iso-naive-is-utc"),
])
def test_time_arguments(text: str, expected: int) -> None:
    assert parse_time(text, now_s=1_000_000) == expected


def test_demo_stage_backfills_and_exports_live_flows(influx_db: tuple[str, str], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from collector.flows import demo
    from collector.flows.demo import demo_stage
    from linewatch.settings import load_settings

    url, db = influx_db
    config = tmp_path / "linewatch.yaml"
    for name in ("lines.yaml", "flows.yaml"):
        (tmp_path / name).write_text((REPO / "config" / name).read_text())
    config.write_text(f"influx: {{url: '{url}', database: {db}}}\ninventory_path: lines.yaml\n")
    settings = load_settings(config)
    monkeypatch.setattr(demo, "BACKFILL_S", 1800)

    class OneRound(threading.Event):
        """Not set until the stage first waits for the next minute: exactly one live export, no timers."""

        def wait(self, timeout: float | None = None) -> bool:
            self.set()
            return True

    stop = OneRound()

    class Ctx:
        pass

    ctx = Ctx()
    ctx.settings, ctx.run_dir, ctx.stop_event = settings, tmp_path, stop
    ctx.inventory = load_inventory(tmp_path / "lines.yaml")
    ctx.influx = InfluxClient(InfluxSettings(url=url, database=db))
    try:
        demo_stage(ctx)
    finally:
        ctx.influx.close()
    client = InfluxClient(InfluxSettings(url=url, database=db))
    lines = {v[1] for v in client.query('SHOW TAG VALUES FROM "flow_top" WITH KEY = "line"')[0]["values"]}
    assert {"FRA-MPLS-1", "FRA-INET-1", "LON-LL-1", "PAR-INET-1"} <= lines
    assert "PAR-INET-2" not in lines  # planned, not polled
    # The saturated line carries ~88 % of 100 Mbit/s inbound in the flow view too.
    rows = client.query('SELECT sum("bytes") FROM "flow_proto" WHERE "line" = \'FRA-MPLS-1\' AND "direction" = \'in\''
                        " AND time > now() - 25m AND time < now() - 5m GROUP BY time(1m) fill(none)")
    rates = [v[1] * 8 / 60 for v in rows[0]["values"]]
    assert rates and all(70e6 < r < 100e6 for r in rates)
    # The live part went through the real UDP receiver: the flow_exporter counters were written.
    exporters = client.query('SELECT last("records") FROM "flow_exporter" GROUP BY "exporter"')
    assert exporters and exporters[0]["values"][0][1] > 0
    client.close()


def test_listen_command_receives_udp_and_writes_on_shutdown(tmp_path: Path, flow_files: Path,
                                                            influx_db: tuple[str, str]) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys

    from collector.flows.synth import SynthFlow, ipfix_packet
    from linewatch.servers.ports import free_udp_port

    url, db = influx_db
    port = free_udp_port()
    (tmp_path / "flows.yaml").write_text((tmp_path / "flows.yaml").read_text()
                                         + f"listen: {{address: 127.0.0.1, port: {port}}}\n")
    config = tmp_path / "linewatch.yaml"
    config.write_text(f"influx: {{url: '{url}', database: {db}, spool: {{path: {tmp_path / 'spool'}}}}}\n"
                      f"inventory_path: lines.yaml\nstate_dir: {tmp_path / 'var'}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWATCH_")}
    proc = subprocess.Popen([sys.executable, "-m", "linewatch.cli", "-c", str(config), "flows", "listen"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        assert proc.stdout is not None
        assert f"UDP port {port}" in proc.stdout.readline()
        flows = [SynthFlow("10.0.0.1", "198.51.100.9", 6, 40000, 443, 7000, 7, 0, 0, T0)]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # 127.0.0.1 is the probe of L-PROBE
            sock.sendto(ipfix_packet(flows, export_s=T0, sequence=0), ("127.0.0.1", port))
            sock.sendto(b"\x00\x0agarbage", ("127.0.0.1", port))
    finally:
        time_limit = 20
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=time_limit)
    assert proc.returncode == 0, err
    client = InfluxClient(InfluxSettings(url=url, database=db))
    rows = client.query('SELECT "src", "dst", "bytes" FROM "flow_top" WHERE "rank" = \'1\'')
    assert rows[0]["tags"] == {} and rows[0]["values"][0][1:] == ["10.0.0.1", "198.51.100.9", 7000]
    counters = client.query('SELECT "records", "malformed_packets" FROM "flow_exporter"')
    assert counters[0]["values"][-1][1:] == [1, 1]
    state = tmp_path / "var" / "flow-templates.sqlite3"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600 and stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    client.close()
