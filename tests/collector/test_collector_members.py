"""A line carried by several interfaces (a LAG, a primary/backup pair, ports on two routers billed as one circuit):
the collector polls every member on its own device and writes one ``line_traffic`` point per member per poll, whose
sum per sample is the line's traffic (docs/schema.md). Simulated routers answer real SNMP; points go to real influxd.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from collector_support import Clock

from collector.service import Collector, CycleReport
from collector.simagent import SimAgent, SimDevice
from collector.state import CounterState
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.inventory import Inventory
from linewatch.settings import CollectorSettings

STEP_S = 60.0
CAPACITY_BPS = 2_000_000_000


@dataclass
class Source:
    """The inventory the collector is handed each cycle (pure stand-in for InventorySource: only ``current``)."""

    inventory: Inventory
    stale_s: float = 0.0

    def current(self) -> Inventory:
        return self.inventory


def inventory(ports: dict[str, int], members: list[dict[str, Any]]) -> Inventory:
    return Inventory.model_validate({
        "devices": [{"name": n, "address": "127.0.0.1", "port": p, "snmp": {"version": "2c", "community": "public"},
                     "timeout_s": 2.0, "retries": 2} for n, p in ports.items()],
        "lines": [{"id": "LAG-1", "carrier": "Telia", "circuit_id": "C-LAG", "type": "internet", "site": "Seoul",
                   "department": "Eng", "capacity_bps": CAPACITY_BPS, "members": members},
                  {"id": "ONE-1", "carrier": "Telia", "circuit_id": "C-ONE", "type": "internet", "site": "Seoul",
                   "department": "Eng", "capacity_bps": 10**9, "device": "r1", "interface": "ge-0/0/3"}],
    })


def devices(*names: str) -> dict[str, SimDevice]:
    # Booted 1,000 s ago: sysUpTime moves with the monotonic clock, never backwards within a test.
    return {n: SimDevice.with_interfaces(n, 4, uptime_base_s=time.monotonic() - 1000) for n in names}


class Run:
    """Collector cycles against ``devs``, the test clock and counters moving ``STEP_S`` between cycles."""

    def __init__(self, devs: dict[str, SimDevice], agent: SimAgent, members: list[dict[str, Any]], *,
                 writer: PointWriter | None = None, state: CounterState | None = None):
        self.devs, self.clock = devs, Clock()
        self.source = Source(inventory(agent.ports, members))
        self.collector = Collector(settings=CollectorSettings(name="t", interval_s=STEP_S),
                                   inventory=self.source.inventory, writer=writer,
                                   state=state if state is not None else CounterState(None), clock=self.clock,
                                   inventory_source=self.source)  # type: ignore[arg-type]
        self.runner = asyncio.Runner()

    def cycle(self, bps: dict[tuple[str, int], tuple[float, float]] | None = None) -> CycleReport:
        """Advance the clock, add ``bps`` ((device, ifIndex) -> (in, out) bit/s) to the counters, poll once."""
        if bps is not None:
            self.clock.now += STEP_S
            for (dev, ix), (in_bps, out_bps) in bps.items():
                self.devs[dev].advance(ix, in_octets=int(in_bps * STEP_S / 8), out_octets=int(out_bps * STEP_S / 8))
        return self.runner.run(self.collector.run_cycle())

    def close(self) -> None:
        self.runner.run(self.collector.close())
        self.runner.close()


def rates(report: CycleReport) -> dict[str, tuple[float | None, float | None]]:
    return {r.line: (r.in_bps, r.out_bps) for r in report.lines}


LAG_ON_R1 = [{"device": "r1", "interface": "ge-0/0/0"}, {"device": "r1", "interface": "ge-0/0/1"}]
# (device, ifIndex) of the members above: ge-0/0/<i-1> is ifIndex i.
LAG_TRAFFIC = {("r1", 1): (600e6, 60e6), ("r1", 2): (300e6, 20e6), ("r1", 4): (1e6, 1e6)}


def test_lag_line_polls_every_member_not_only_the_primary(influx_db: tuple[str, str], tmp_path: Path) -> None:
    """Before, a line had one port: a 2-port LAG was polled on one member and showed half its traffic. Now each poll
    writes one series per member (tags device, interface, member_role), and their sum per sample is the combined
    counters' rate; each member's utilization is of the line's capacity, so they add up to the line's."""
    url, db = influx_db
    writer = PointWriter.from_settings(InfluxSettings(url=url, database=db, spool={
        "path": tmp_path / "spool", "max_bytes": 10_000_000}), max_retry_s=0.5)
    writer.client.ensure_database()
    devs = devices("r1")
    with SimAgent(devs.values()) as agent:
        run = Run(devs, agent, LAG_ON_R1, writer=writer)
        try:
            run.cycle()
            report = run.cycle(LAG_TRAFFIC)
            run.cycle({port: (in_bps / 2, out_bps / 2) for port, (in_bps, out_bps) in LAG_TRAFFIC.items()})
        finally:
            run.close()
    deadline = time.monotonic() + 120  # a write that timed out on a loaded machine is spooled: replay it first
    while writer.stats().spooled_batches:
        assert time.monotonic() < deadline, f"InfluxDB did not take the spooled points: {writer.stats()}"
        writer.replay_spool()
    assert rates(report) == {"LAG-1 ge-0/0/0": pytest.approx((600e6, 60e6)),
                             "LAG-1 ge-0/0/1": pytest.approx((300e6, 20e6)), "ONE-1": (1e6, 1e6)}
    (poll,) = report.polls
    assert sorted(poll.samples) == ["LAG-1 ge-0/0/0", "LAG-1 ge-0/0/1", "ONE-1"]
    client = InfluxClient(InfluxSettings(url=url, database=db))
    try:
        series = client.query("SELECT in_bps, out_bps, in_util_pct, capacity_bps FROM line_traffic "
                              "WHERE \"line\" = 'LAG-1' AND in_bps >= 0 "
                              "GROUP BY \"interface\", \"member_role\", \"device\"")
        summed = client.query("SELECT SUM(in_bps), SUM(out_bps), SUM(in_util_pct) FROM line_traffic "
                              "WHERE \"line\" = 'LAG-1' AND in_bps >= 0 AND time >= 1800000000s AND time < 1800003600s "
                              "GROUP BY time(1m) FILL(none)")
    finally:
        client.close()
    by_member = {(s["tags"]["device"], s["tags"]["interface"], s["tags"]["member_role"]):
                 [row[1:] for row in s["values"]] for s in series}
    assert by_member == {
        ("r1", "ge-0/0/0", "member"): [pytest.approx([600e6, 60e6, 30.0, CAPACITY_BPS]),
                                       pytest.approx([300e6, 30e6, 15.0, CAPACITY_BPS])],
        ("r1", "ge-0/0/1", "member"): [pytest.approx([300e6, 20e6, 15.0, CAPACITY_BPS]),
                                       pytest.approx([150e6, 10e6, 7.5, CAPACITY_BPS])],
    }, "two series per poll, utilization of the line's capacity"
    assert [row[1:] for row in summed[0]["values"]] == [pytest.approx([900e6, 80e6, 45.0]),
                                                        pytest.approx([450e6, 40e6, 22.5])]


def test_member_on_a_second_device_is_polled_by_that_devices_poll() -> None:
    """Ports on two routers billed as one circuit: each member is read in its own device's poll."""
    devs = devices("r1", "r2")
    members = [{"device": "r1", "interface": "ge-0/0/0", "role": "primary"},
               {"device": "r2", "if_index": 3, "role": "backup"}]
    with SimAgent(devs.values()) as agent:
        run = Run(devs, agent, members)
        try:
            run.cycle()
            report = run.cycle({("r1", 1): (50e6, 5e6), ("r2", 3): (2e6, 1e6)})
        finally:
            run.close()
    by_device = {p.device: sorted(p.samples) for p in report.polls}
    assert by_device == {"r1": ["LAG-1 ge-0/0/0", "ONE-1"], "r2": ["LAG-1 ifIndex:3"]}
    got = {(r.device, r.line): (r.in_bps, r.out_bps) for r in report.lines if r.line.startswith("LAG-1")}
    assert got == {("r1", "LAG-1 ge-0/0/0"): pytest.approx((50e6, 5e6)),
                   ("r2", "LAG-1 ifIndex:3"): pytest.approx((2e6, 1e6))}


def test_member_added_later_yields_rates_from_its_second_poll_and_the_others_keep_theirs(tmp_path: Path) -> None:
    """Counter state is kept per member: adding a port to a one-port line costs the new port its first poll only;
    the existing port keeps its rate (its state was not keyed by the line alone), also across a restart."""
    devs = devices("r1")
    state_path = tmp_path / "state.json"
    with SimAgent(devs.values()) as agent:
        run = Run(devs, agent, LAG_ON_R1[:1], state=CounterState(state_path))
        try:
            run.cycle()
            assert rates(run.cycle(LAG_TRAFFIC))["LAG-1"] == pytest.approx((600e6, 60e6))
            run.source.inventory = inventory(agent.ports, LAG_ON_R1)
            added = rates(run.cycle(LAG_TRAFFIC))
            again = rates(run.cycle(LAG_TRAFFIC))
        finally:
            run.close()
        assert added["LAG-1 ge-0/0/0"] == pytest.approx((600e6, 60e6))
        assert added["LAG-1 ge-0/0/1"] == (None, None)  # its first sample
        assert again["LAG-1 ge-0/0/1"] == pytest.approx((300e6, 20e6))
        saved = json.loads(state_path.read_text())
        assert {(r["line"], r["interface"]) for r in saved["readings"]} == {
            ("LAG-1", "ge-0/0/0"), ("LAG-1", "ge-0/0/1"), ("ONE-1", "ge-0/0/3")}
        state = CounterState(state_path)
        state.load()
        restarted = Run(devs, agent, LAG_ON_R1, state=state)
        restarted.clock.now = run.clock.now
        try:
            after = rates(restarted.cycle(LAG_TRAFFIC))
        finally:
            restarted.close()
    assert after["LAG-1 ge-0/0/0"] == pytest.approx((600e6, 60e6))
    assert after["LAG-1 ge-0/0/1"] == pytest.approx((300e6, 20e6))


def test_counter_state_of_one_reading_per_line_serves_the_lines_member(tmp_path: Path) -> None:
    """A state file written before members (version 1, one reading per line) still gives the member its rate."""
    from collector.snmp.counters import Reading

    path = tmp_path / "state.json"
    path.write_text('{"version": 1, "readings": [{"device": "r1", "line": "L1", "time_s": 10.0, "uptime_cs": 5, '
                    '"if_index": 2, "counter_bits": 64, "in_octets": 1, "out_octets": 2}]}')
    state = CounterState(path)
    assert state.load() == 1
    assert state.get("r1", "L1", "ge-0/0/1") == Reading(time_s=10.0, uptime_cs=5, if_index=2, counter_bits=64,
                                                        in_octets=1, out_octets=2)
    state.put("r1", "L1", Reading(time_s=70.0, uptime_cs=6005, if_index=2, counter_bits=64, in_octets=9,
                                  out_octets=9), "ge-0/0/1")
    state.save()
    assert [(r["line"], r["interface"]) for r in json.loads(path.read_text())["readings"]] == [("L1", "ge-0/0/1")]


def test_demo_lag_and_pair_members_add_up_to_the_lines_demo_rate() -> None:
    """The demo's LAG line (config/lines.yaml) has one history series per member, unevenly loaded, summing to the
    line's demo rate; the backup of the primary/backup pair idles."""
    from collector.demo.history import line_traffic_points
    from collector.demo.model import rate_bps
    from linewatch.inventory import load_inventory

    inv = load_inventory(Path(__file__).resolve().parents[2] / "config" / "lines.yaml")
    t = 1_800_000_000
    points = [p for p in line_traffic_points(inv, start_s=t, end_s=t + 60) if p.tags["line"] in ("AMS-INET-1",
                                                                                                  "LON-MPLS-1")]
    got = {(p.tags["line"], p.tags["interface"], p.tags["member_role"]): p.fields["in_bps"] for p in points}
    ams = inv.lines_by_id["AMS-INET-1"]
    line_bps = rate_bps(ams.id, ams.capacity_bps, t, direction="in")
    assert got[("AMS-INET-1", "xe-0/1/0", "member")] == pytest.approx(0.6 * line_bps)
    assert got[("AMS-INET-1", "xe-0/1/2", "member")] == pytest.approx(0.4 * line_bps)
    assert got[("LON-MPLS-1", "Gi0/0/3", "backup")] == 0.0 and got[("LON-MPLS-1", "Gi0/0/2", "primary")] > 0


FLOW_LINES = """\
devices:
  - {name: r1, address: 192.0.2.1, snmp: {version: 2c, community: c}}
lines:
  - {id: LAG-1, carrier: C, circuit_id: c1, type: internet, site: S, department: D, capacity_bps: 100000000,
     members: [{device: r1, interface: ge-0/0/1}, {device: r1, if_index: 9}]}
"""


@pytest.mark.parametrize(("flows", "want"), [
    pytest.param("exporters:\n  - {address: 192.0.2.1, device: r1, if_indexes: {ge-0/0/1: 3}}\n",
                 {3: "LAG-1", 9: "LAG-1"}, id="both-members-route-to-the-line"),
    pytest.param("exporters:\n  - {address: 192.0.2.1, device: r1}\n", "exporters[0].if_indexes",
                 id="member-by-name-needs-its-ifindex"),
])
def test_flows_of_every_lag_member_count_for_the_line(tmp_path: Path, flows: str, want: Any) -> None:
    """Flow records carry the ifIndex of the member they crossed: each member's ifIndex maps to the line."""
    from collector.flows.config import load_flows_config
    from collector.flows.linemap import LineMap
    from linewatch.errors import ConfigError
    from linewatch.inventory import load_inventory

    (tmp_path / "lines.yaml").write_text(FLOW_LINES)
    (tmp_path / "flows.yaml").write_text(flows)
    inv = load_inventory(tmp_path / "lines.yaml")
    if isinstance(want, str):
        with pytest.raises(ConfigError) as err:
            load_flows_config(tmp_path / "flows.yaml", inv)
        assert [p.key for p in err.value.problems] == [want], err.value.problems
        return
    route = LineMap(load_flows_config(tmp_path / "flows.yaml", inv), inv).route("192.0.2.1", 0)
    assert route is not None and route.ports == want
