"""The SNMP collector end to end: simulated routers answering real SNMP, a real influxd, rates checked in InfluxDB."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from collector_support import Clock

from collector.service import Collector, format_report
from collector.simagent.agent import SimAgent
from collector.simagent.model import SimDevice
from collector.state import CounterState
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.inventory import Inventory
from linewatch.settings import CollectorSettings

GBIT = 1_000_000_000
STEP_S = 60.0


@dataclass
class Net:
    agent: SimAgent
    devices: dict[str, SimDevice]
    inventory: Inventory
    clock: Clock = field(default_factory=Clock)


def make_inventory(ports: dict[str, int], *, timeout_s: float = 0.5) -> Inventory:
    devices = [{"name": n, "address": "127.0.0.1", "port": p, "snmp": {"version": "2c", "community": f"c-{n}"},
                "timeout_s": timeout_s, "retries": 1} for n, p in ports.items()]
    lines = []
    for dev, count in (("r1", 3), ("r2", 2)):
        for i in range(count):
            lines.append({"id": f"{dev}-L{i}", "carrier": "Telia", "circuit_id": f"{dev}-C{i}", "type": "internet",
                          "site": "Frankfurt", "department": "Eng", "device": dev, "interface": f"ge-0/0/{i}",
                          "capacity_bps": 100_000_000})
    lines.append({"id": "r3-L0", "carrier": "Colt", "circuit_id": "r3-C0", "type": "mpls", "site": "London",
                  "department": "Ops", "device": "r3", "interface": "ge-0/0/0", "capacity_bps": 50_000_000})
    return Inventory.model_validate({"devices": devices, "lines": lines})


@pytest.fixture
def net() -> Iterator[Net]:
    # Booted 1,000 s ago, so a reboot in a test always makes sysUpTime go back, however fast the test runs.
    devs = {n: SimDevice.with_interfaces(n, 6, community=f"c-{n}", uptime_base_s=time.monotonic() - 1000)
            for n in ("r1", "r2", "r3")}
    with SimAgent(devs.values()) as agent:
        yield Net(agent, devs, make_inventory(agent.ports))


def make_collector(net: Net, influx: InfluxSettings | None, state_path: Path | None) -> Collector:
    writer = PointWriter.from_settings(influx, max_retry_s=0.5) if influx is not None else None
    if writer is not None:
        writer.client.ensure_database()
    state = CounterState(state_path)
    state.load()
    return Collector(settings=CollectorSettings(name="test", interval_s=STEP_S), inventory=net.inventory,
                     writer=writer, state=state, clock=net.clock)


def advance(net: Net, bps_by_line: dict[str, tuple[float, float]]) -> None:
    """Advance the test clock one step and every named line's counters by the given in/out rates."""
    net.clock.now += STEP_S
    for line_id, (in_bps, out_bps) in bps_by_line.items():
        (member,) = net.inventory.lines_by_id[line_id].members
        dev = net.devices[member.device]
        ix = next(i for i, itf in dev.interfaces.items() if itf.name == member.interface)
        dev.advance(ix, in_octets=int(in_bps * STEP_S / 8), out_octets=int(out_bps * STEP_S / 8), in_errors=30)


_RUNNERS: dict[int, asyncio.Runner] = {}


def cycle(collector: Collector):  # noqa: ANN201
    """One cycle on the collector's own event loop (its UDP sockets belong to one loop, as in production)."""
    runner = _RUNNERS.setdefault(id(collector), asyncio.Runner())
    return runner.run(collector.run_cycle())


def close(collector: Collector) -> None:
    runner = _RUNNERS.pop(id(collector), None) or asyncio.Runner()
    runner.run(collector.close())
    runner.close()


def influx_settings(url: str, db: str, tmp_path: Path) -> InfluxSettings:
    return InfluxSettings(url=url, database=db, spool={"path": tmp_path / "spool", "max_bytes": 10_000_000})


def query_rates(url: str, db: str, line: str) -> list[tuple[float, float]]:
    client = InfluxClient(InfluxSettings(url=url, database=db))
    series = client.query(f'SELECT in_bps, out_bps FROM line_traffic WHERE "line" = \'{line}\' AND in_bps >= 0')
    client.close()
    return [v for s in series for row in s["values"] for v in (row[1], row[2])]


def test_rates_across_several_polls_reach_influxdb(net: Net, influx_db: tuple[str, str], tmp_path: Path) -> None:
    url, db = influx_db
    collector = make_collector(net, influx_settings(url, db, tmp_path), None)
    first = cycle(collector)
    assert {r.note for r in first.lines if r.line.startswith("r1")} == {"first sample"}
    for in_bps, out_bps in ((80e6, 8e6), (40e6, 4e6), (90e6, 9e6)):
        advance(net, {"r1-L0": (in_bps, out_bps), "r2-L1": (in_bps / 2, out_bps / 2)})
        cycle(collector)
    assert query_rates(url, db, "r1-L0") == pytest.approx([80e6, 8e6, 40e6, 4e6, 90e6, 9e6], rel=1e-6)
    assert query_rates(url, db, "r2-L1") == pytest.approx([40e6, 4e6, 20e6, 2e6, 45e6, 4.5e6], rel=1e-6)
    client = InfluxClient(InfluxSettings(url=url, database=db))
    util = client.query("SELECT in_util_pct, in_errors_ps, oper_status, health FROM line_traffic "
                        "WHERE \"line\" = 'r1-L0' AND in_bps >= 0")
    assert [v for row in util[0]["values"] for v in row[1:]] == pytest.approx(
        [80.0, 0.5, 1, 1, 40.0, 0.5, 1, 1, 90.0, 0.5, 1, 1])
    polls = client.query('SELECT count(ok) FROM collector_poll GROUP BY "device"')
    assert {s["tags"]["device"]: s["values"][0][1] for s in polls} == {"r1": 4, "r2": 4, "r3": 4}
    client.close()
    close(collector)


def test_32bit_counter_wrap_gives_the_true_rate(net: Net) -> None:
    dev = net.devices["r1"]
    dev.interfaces[1].hc_counters = False
    dev.set_counters(1, in_octets=2**32 - 100_000)
    collector = make_collector(net, None, None)
    cycle(collector)
    advance(net, {"r1-L0": (50e6, 1e6)})
    report = cycle(collector)
    row = next(r for r in report.lines if r.line == "r1-L0")
    assert row.in_bps == pytest.approx(50e6, rel=1e-6)
    assert collector.state.get("r1", "r1-L0").counter_bits == 32
    assert dev.interfaces[1].in_octets % 2**32 < 2**32 - 100_000, "the counter really wrapped on the wire"


def test_reboot_discards_the_delta_instead_of_a_spike(net: Net) -> None:
    collector = make_collector(net, None, None)
    cycle(collector)
    advance(net, {"r2-L0": (10e6, 1e6)})
    cycle(collector)
    net.devices["r2"].reboot()
    advance(net, {"r2-L0": (10e6, 1e6)})
    report = cycle(collector)
    row = next(r for r in report.lines if r.line == "r2-L0")
    assert (row.in_bps, row.note) == (None, "reboot")
    assert report.discarded["reboot"] == 2
    advance(net, {"r2-L0": (10e6, 1e6)})
    row = next(r for r in cycle(collector).lines if r.line == "r2-L0")
    assert row.in_bps == pytest.approx(10e6, rel=1e-6), "rates resume on the poll after the reboot"


def test_moved_ifindex_is_reresolved_by_ifname(net: Net) -> None:
    collector = make_collector(net, None, None)
    cycle(collector)
    net.devices["r1"].move_interface(2, 17)  # ge-0/0/1 (line r1-L1) now at ifIndex 17
    advance(net, {"r1-L1": (30e6, 3e6)})
    row = next(r for r in cycle(collector).lines if r.line == "r1-L1")
    assert row.note == "index changed"
    advance(net, {"r1-L1": (30e6, 3e6)})
    row = next(r for r in cycle(collector).lines if r.line == "r1-L1")
    assert row.in_bps == pytest.approx(30e6, rel=1e-6)
    assert collector.pollers["r1"].index.by_name["ge-0/0/1"] == 17


def test_missing_interface_is_reported_and_the_other_lines_still_sampled(net: Net) -> None:
    net.devices["r1"].remove_interface(3)  # ge-0/0/2, line r1-L2
    collector = make_collector(net, None, None)
    report = cycle(collector)
    notes = {r.line: r.note for r in report.lines}
    assert notes["r1-L2"] == ("interface 'ge-0/0/2' not found on r1: checked its 5 ifName and 5 ifDescr values; "
                              "closest: 'ge-0/0/5', 'ge-0/0/4', 'ge-0/0/3'")
    assert notes["r1-L0"] == notes["r1-L1"] == "first sample"
    assert all(p.ok for p in report.polls)


def test_an_interface_that_appears_later_is_found_by_a_later_resolution(net: Net) -> None:
    removed = net.devices["r1"].remove_interface(3)  # ge-0/0/2, line r1-L2
    collector = make_collector(net, None, None)
    cycle(collector)
    net.devices["r1"].add_interface(40, removed)
    advance(net, {})
    notes = {r.line: r.note for r in cycle(collector).lines}
    assert notes["r1-L2"].startswith("interface 'ge-0/0/2' not found"), "not looked for again within 10 minutes"
    net.clock.now += 600
    notes = {r.line: r.note for r in cycle(collector).lines}
    assert notes["r1-L2"] == "first sample"
    assert collector.pollers["r1"].index.by_name["ge-0/0/2"] == 40
    close(collector)


def test_silent_device_fails_alone_within_its_own_timeout(net: Net, influx_db: tuple[str, str],
                                                           tmp_path: Path) -> None:
    url, db = influx_db
    net.devices["r3"].set_silent(True)
    net.devices["r2"].set_slow(0.2)
    collector = make_collector(net, influx_settings(url, db, tmp_path), None)
    started = time.monotonic()
    report = cycle(collector)
    elapsed = time.monotonic() - started
    by_dev = {p.device: p for p in report.polls}
    assert by_dev["r1"].ok and by_dev["r2"].ok
    assert not by_dev["r3"].ok and "r3" in by_dev["r3"].error
    # r3's budget is timeout 0.5 s × 2 attempts per request; r1 finishes long before r3 gives up.
    assert by_dev["r1"].duration_s < by_dev["r3"].duration_s
    assert elapsed < 30, "a silent device must not hang the cycle"
    assert "failed: " in format_report(report)
    client = InfluxClient(InfluxSettings(url=url, database=db))
    rows = client.query("SELECT ok, error FROM collector_poll WHERE \"device\" = 'r3'")[0]["values"]
    assert rows[0][1] == 0 and "r3" in rows[0][2]
    client.close()


def test_restart_with_persisted_state_keeps_the_sample_interval(net: Net, tmp_path: Path) -> None:
    state_path = tmp_path / "state.json"
    first = make_collector(net, None, state_path)
    cycle(first)
    close(first)
    advance(net, {"r1-L0": (20e6, 2e6)})
    second = make_collector(net, None, state_path)  # a new process would load the same file
    row = next(r for r in cycle(second).lines if r.line == "r1-L0")
    assert row.in_bps == pytest.approx(20e6, rel=1e-6)


def test_damaged_state_file_is_reported_and_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    state = CounterState(path)
    assert state.load() == 0
    assert str(path) in caplog.text


def test_influxdb_outage_spools_and_replays_every_point_exactly_once(net: Net, influxd_private,  # noqa: ANN001
                                                                      tmp_path: Path) -> None:
    settings = influx_settings(influxd_private.url, "lw", tmp_path)
    collector = make_collector(net, settings, tmp_path / "state.json")
    cycle(collector)
    for _ in range(2):
        advance(net, {"r1-L0": (10e6, 1e6)})
        cycle(collector)
    influxd_private.stop()
    for _ in range(3):
        advance(net, {"r1-L0": (10e6, 1e6)})
        cycle(collector)
    assert collector.writer.stats().spooled_batches > 0
    influxd_private.start()
    for _ in range(2):
        advance(net, {"r1-L0": (10e6, 1e6)})
        cycle(collector)
    assert collector.writer.stats().spooled_batches == 0
    client = InfluxClient(InfluxSettings(url=influxd_private.url, database="lw"))
    counts = client.query('SELECT count(capacity_bps) FROM line_traffic GROUP BY "line"')
    # 8 cycles; r3 is polled too. Each line exactly once per cycle: nothing lost, nothing doubled.
    assert {s["tags"]["line"]: s["values"][0][1] for s in counts} == {
        line.id: 8 for line in net.inventory.lines}
    rates = client.query("SELECT in_bps FROM line_traffic WHERE \"line\" = 'r1-L0' AND in_bps >= 0")
    assert [r[1] for r in rates[0]["values"]] == pytest.approx([10e6] * 7, rel=1e-6)
    client.close()


def test_a_cycle_that_overruns_its_interval_logs_the_slow_devices(net: Net, caplog: pytest.LogCaptureFixture) -> None:
    net.devices["r2"].set_slow(1.5)
    collector = Collector(settings=CollectorSettings(name="test", interval_s=1), inventory=net.inventory,
                          writer=None, state=CounterState(None), clock=net.clock)
    report = cycle(collector)
    by_dev = {p.device: p for p in report.polls}
    assert by_dev["r1"].ok and not by_dev["r2"].ok, "the slow device hits its budget, the others do not wait"
    assert "longer than the 1 s interval; slowest devices: r2" in caplog.text
    close(collector)
