"""Final acceptance and change verification against the simulated routers: the real collector polls real SNMP into a
real influxd on an injected clock (12 polls 10 s apart in about two seconds), then ``evaluate_acceptance`` and
``verify_change`` judge what InfluxDB holds.

One scenario per line, all polled in the same cycles (one module-scoped rig): a line that comes up and carries
traffic, one with errors, one idle, one that flaps, one whose router stops answering for two polls, one upgraded
from 10 to 20 Mbit/s whose traffic then rises above 10, and one upgraded whose port runs at 10 Mbit/s.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from collector_support import Clock

from collector.demo.network import demo_devices
from collector.service import Collector
from collector.simagent.agent import SimAgent
from collector.simagent.model import SimDevice, SimInterface
from collector.state import CounterState
from linewatch.choices import AcceptanceFinding, LineStatus, OperStatus
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.inventory import Inventory, load_inventory
from linewatch.servers import InfluxdServer
from linewatch.settings import CollectorSettings, load_settings
from web.orders.acceptance import AcceptanceCriteria, AcceptanceResult, evaluate_acceptance
from web.orders.verification import VerificationResult, verify_change

STEP_S = 10.0
POLLS = 12
T0 = 1_800_000_000.0  # a multiple of the 30-s traffic bucket
WINDOW_END = T0 + POLLS * STEP_S
EFFECTIVE = T0 + 60  # the upgrades take effect half-way
MBIT = 1_000_000

# (line, device, interface, port speed): the line's members
PORTS = [
    ("GOOD", "r1", "ge-0/0/0", 1000 * MBIT),
    ("ERRORS", "r1", "ge-0/0/1", 1000 * MBIT),
    ("IDLE", "r1", "ge-0/0/2", 1000 * MBIT),
    ("FLAP", "r1", "ge-0/0/3", 1000 * MBIT),
    ("UPGRADE", "r1", "ge-0/0/4", 100 * MBIT),
    ("SLOW-PORT", "r1", "ge-0/0/5", 10 * MBIT),
    ("LAG", "r1", "ge-0/0/6", 10 * MBIT),  # a LAG of two 10 Mbit/s ports upgraded from 10 to 20 Mbit/s
    ("LAG", "r1", "ge-0/0/7", 10 * MBIT),
    ("GAP", "r2", "ge-0/0/0", 1000 * MBIT),
]
FLAP_DOWN = {4, 5, 6}  # polls on which FLAP's interface is oper down
LAG_MEMBER_DOWN = {2, 3}  # polls on which the LAG's second member is down (the first carries on)
GAP_SILENT = {7, 8}  # polls r2 does not answer
ERROR_POLL = 5  # the poll whose interval saw 4 errors on ERRORS (0.4/s)


def in_bps(line: str, ifname: str, k: int) -> float:
    """The scenario: the rate each member carries in the interval before poll ``k``."""
    if line == "LAG":
        return 0.0 if ifname == "ge-0/0/7" and k in LAG_MEMBER_DOWN else 6 * MBIT
    if line == "IDLE":
        return 100.0  # a trickle below 1 kbit/s
    if line == "FLAP" and k in FLAP_DOWN:
        return 0.0
    if line == "UPGRADE":
        return 15 * MBIT if k >= 7 else 8 * MBIT
    if line == "SLOW-PORT":
        return 8 * MBIT
    return 5 * MBIT


@dataclass
class Rig:
    url: str
    db: str
    inventory: Inventory

    def client(self) -> InfluxClient:
        return InfluxClient(InfluxSettings(url=self.url, database=self.db))


def _inventory(ports: dict[str, int]) -> Inventory:
    devices = [{"name": n, "address": "127.0.0.1", "port": p, "snmp": {"version": "2c", "community": "public"},
                "timeout_s": 0.3, "retries": 0} for n, p in ports.items()]
    members: dict[str, list[dict[str, str]]] = {}
    for line, dev, ifname, _ in PORTS:
        members.setdefault(line, []).append({"device": dev, "interface": ifname})
    lines = [{"id": line, "carrier": "Colt", "circuit_id": f"C-{line}", "type": "internet", "site": "Paris",
              "department": "Sales", "members": ports, "capacity_bps": 10 * MBIT, "status": "provisioning"}
             for line, ports in members.items()]
    return Inventory.model_validate({"devices": devices, "lines": lines})


def poll(collector: Collector, clock: Clock, *, cycles: int, step_s: float,
         before: Callable[[int], None] = lambda k: None) -> None:
    """``cycles`` collector cycles ``step_s`` apart on the injected clock; ``before(k)`` sets the scene of cycle k."""
    with asyncio.Runner() as runner:
        for k in range(cycles):
            if k:
                clock.now += step_s
            before(k)
            runner.run(collector.run_cycle())
        runner.run(collector.close())


def collector_for(inventory: Inventory, influx: InfluxSettings, clock: Clock, *, interval_s: float) -> Collector:
    writer = PointWriter.from_settings(influx, max_retry_s=0.5)
    return Collector(settings=CollectorSettings(name="rig", interval_s=interval_s), inventory=inventory,
                     writer=writer, state=CounterState(None), clock=clock)


def _run(clock: Clock, devices: dict[str, SimDevice], inventory: Inventory, influx: InfluxSettings) -> None:
    index = {(d, i.name): (devices[d], ix) for d in devices for ix, i in devices[d].interfaces.items()}

    def scene(k: int) -> None:
        if k:
            for line, dev, ifname, _ in PORTS:
                device, ix = index[(dev, ifname)]
                rate = in_bps(line, ifname, k)
                device.advance(ix, in_octets=int(rate * STEP_S / 8), out_octets=int(rate * STEP_S / 16),
                               in_errors=4 if line == "ERRORS" and k == ERROR_POLL else 0)
        for ifname, down in (("ge-0/0/3", FLAP_DOWN), ("ge-0/0/7", LAG_MEMBER_DOWN)):
            device, ix = index[("r1", ifname)]
            device.set_counters(ix, oper_status=OperStatus.DOWN if k in down else OperStatus.UP)
        devices["r2"].set_silent(k in GAP_SILENT)

    collector = collector_for(inventory, influx, clock, interval_s=STEP_S)
    poll(collector, clock, cycles=POLLS, step_s=STEP_S, before=scene)
    collector.writer.close()


@pytest.fixture(scope="module")
def rig(influxd: InfluxdServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    db = f"lw_rig_{uuid.uuid4().hex[:12]}"
    influx = InfluxSettings(url=influxd.url, database=db,
                            spool={"path": Path(tmp_path_factory.mktemp("rig")) / "spool", "max_bytes": 10_000_000})
    admin = InfluxClient(influx)
    admin.ensure_database()
    clock = Clock(T0)
    devices = {}
    for name in ("r1", "r2"):
        ifs = {n + 1: SimInterface(name=ifname, speed_bps=speed)
               for n, (_, _, ifname, speed) in enumerate(p for p in PORTS if p[1] == name)}
        devices[name] = SimDevice(name=name, interfaces=ifs, clock=clock, uptime_base_s=T0 - 1000)
    try:
        with SimAgent(devices.values(), wall_clock=clock) as agent:
            inventory = _inventory(agent.ports)
            _run(clock, devices, inventory, influx)
        yield Rig(influxd.url, db, inventory)
    finally:
        admin.query(f'DROP DATABASE "{db}"', database="")
        admin.close()


CRITERIA = AcceptanceCriteria(window_s=int(WINDOW_END - T0), poll_interval_s=STEP_S, traffic_bucket_s=30,
                              settle_s=0)


def accept(rig: Rig, line: str) -> AcceptanceResult:
    with rig.client() as client:
        return evaluate_acceptance(client, rig.inventory.lines_by_id[line], start_s=T0, end_s=WINDOW_END,
                                   criteria=CRITERIA)


def test_a_line_that_comes_up_and_carries_traffic_passes_acceptance(rig: Rig) -> None:
    result = accept(rig, "GOOD")
    assert (result.passed, result.failures) == (True, [])
    f = result.figures
    assert (f["samples"], f["expected_samples"], f["uptime_pct"], f["max_errors_ps"]) == (12, 12, 100.0, 0.0)
    assert (f["traffic_buckets"], f["traffic_share_pct"]) == (4, 100.0)
    assert f["peak_bps"] == pytest.approx(5 * MBIT, rel=1e-6)


@pytest.mark.parametrize(("line", "codes", "failure"), [
    pytest.param("ERRORS", [AcceptanceFinding.ERRORS], "errors: peak 0.4/s in_errors_ps, allowed 0", id="errors"),
    pytest.param("IDLE", [AcceptanceFinding.NO_TRAFFIC],
                 "no traffic: 0 % of 0.5-minute buckets above 1 kbit/s, needs 90 %", id="no-traffic"),
    pytest.param("FLAP", [AcceptanceFinding.DOWNTIME],
                 "down on 3 of 12 polls (75.00 % up, needs 100 %), 0 of them without data", id="flapping"),
    pytest.param("GAP", [AcceptanceFinding.DOWNTIME],
                 "down on 2 of 12 polls (83.33 % up, needs 100 %), 2 of them without data", id="router-silent"),
])
def test_a_line_that_falls_short_fails_acceptance_naming_what_failed_with_the_figure(
        rig: Rig, line: str, codes: list[AcceptanceFinding], failure: str) -> None:
    result = accept(rig, line)
    assert result.passed is False
    assert (result.failure_codes, result.failures) == (codes, [failure])


def test_errors_are_totalled_over_the_window(rig: Rig) -> None:
    f = accept(rig, "ERRORS").figures
    assert (f["max_in_errors_ps"], f["total_errors"]) == (pytest.approx(0.4), 4)


def upgrade(rig: Rig, line: str, *, now_s: float = WINDOW_END, effective_s: float = EFFECTIVE,
            bucket_s: int = 60) -> VerificationResult:
    """Verify ``line``'s upgrade from 10 to 20 Mbit/s, effective at ``effective_s``, an hour's window, at ``now_s``."""
    with rig.client() as client:
        return verify_change(client, rig.inventory.lines_by_id[line], effective_s=effective_s,
                             end_s=effective_s + 3600, old_capacity_bps=10 * MBIT, new_capacity_bps=20 * MBIT,
                             now_s=now_s, bucket_s=bucket_s)


@pytest.mark.parametrize(("line", "bucket_s", "peak_bps", "port_bps"), [
    pytest.param("UPGRADE", 10, 15 * MBIT, 100 * MBIT, id="traffic-above-the-old-capacity"),
    pytest.param("LAG", 60, 12 * MBIT, 10 * MBIT, id="lag-members-speeds-and-traffic-summed"),
])
def test_an_upgrade_whose_traffic_rises_above_the_old_capacity_is_verified(
        rig: Rig, line: str, bucket_s: int, peak_bps: int, port_bps: int) -> None:
    result = upgrade(rig, line, bucket_s=bucket_s)
    assert (result.passed, result.failures, result.notes) == (True, [], [])
    assert result.figures["peak_bps"] == pytest.approx(peak_bps, rel=1e-6)
    assert result.figures["min_port_speed_bps"] == port_bps


def test_a_lag_is_up_while_one_member_is_and_its_traffic_is_its_members_sum(rig: Rig) -> None:
    result = accept(rig, "LAG")
    assert (result.passed, result.failures) == (True, [])
    assert (result.figures["members"], result.figures["uptime_pct"]) == (2, 100.0)
    assert result.figures["peak_bps"] == pytest.approx(12 * MBIT, rel=1e-6)


def test_an_upgrade_on_a_port_slower_than_the_new_capacity_fails_naming_the_port_speed(rig: Rig) -> None:
    result = upgrade(rig, "SLOW-PORT")
    assert result.passed is False
    assert result.failures == ["port speed: r1 ge-0/0/5 is 10 Mbit/s, below the new capacity 20 Mbit/s"]
    assert result.failure_codes == [AcceptanceFinding.PORT_SPEED]


@pytest.mark.parametrize(("now_s", "passed", "notes"), [
    pytest.param(WINDOW_END, None,
                 ["not yet observed: traffic has not exceeded the old capacity 10 Mbit/s (peak 5 Mbit/s)"],
                 id="window-open"),
    pytest.param(EFFECTIVE + 3600, True,
                 [("traffic never exceeded the old capacity 10 Mbit/s in the window (peak 5 Mbit/s): passed on the "
                  "port speed")], id="window-ended"),
])
def test_an_upgrade_without_traffic_above_the_old_capacity_waits_then_passes_with_a_note(
        rig: Rig, now_s: float, passed: bool | None, notes: list[str]) -> None:
    result = upgrade(rig, "GOOD", now_s=now_s)
    assert (result.passed, result.failures, result.notes) == (passed, [], notes)


def test_a_change_not_yet_polled_is_not_yet_observable(rig: Rig) -> None:
    result = upgrade(rig, "GOOD", effective_s=WINDOW_END + 60, now_s=WINDOW_END + 120)
    assert (result.passed, result.note_codes) == (None, [AcceptanceFinding.NO_DATA])


@pytest.mark.parametrize("demo_line", [
    pytest.param("AMS-INET-1", id="ams-inet-1-lag-in-acceptance-in-the-demo"),  # web/orders/demo.py
    pytest.param("PAR-INET-2", id="par-inet-2-planned-on-par-branch-1-eth2"),
])
def test_the_demo_line_in_acceptance_passes_on_the_demo_network(influx_db: tuple[str, str], tmp_path: Path,
                                                                 demo_line: str) -> None:
    """What ``make run`` shows: the demo's line in acceptance, installed at T0 (status provisioning from the
    collector's next cycle), judged with the demo's settings (config/linewatch.yaml: 600 s of 10-s polls) on the
    demo's simulated router and traffic model, passes."""
    url, db = influx_db
    settings = load_settings(Path("config/linewatch.yaml"))
    criteria = AcceptanceCriteria.from_settings(settings)
    planned = load_inventory(Path("config/lines.yaml"))
    device = planned.lines_by_id[demo_line].members[0].device
    clock = Clock(T0)
    influx = InfluxSettings(url=url, database=db, spool={"path": tmp_path / "spool", "max_bytes": 10_000_000})
    routers = [d for d in demo_devices(planned, start_s=T0 - 3600) if d.name == device]
    with SimAgent(routers, wall_clock=clock) as agent:
        installed = Inventory(
            devices=[planned.devices_by_name[device].model_copy(update={"port": agent.port(device)})],
            lines=[line.model_copy(update={"status": LineStatus.PROVISIONING}) if line.id == demo_line else line
                   for line in planned.lines_on(device)])
        clock.now += settings.collector.interval_s  # the collector's next cycle picks the new line up
        collector = collector_for(installed, influx, clock, interval_s=settings.collector.interval_s)
        poll(collector, clock, cycles=int(criteria.window_s // settings.collector.interval_s),
             step_s=settings.collector.interval_s)
        collector.writer.close()
    with InfluxClient(influx) as client:
        result = evaluate_acceptance(client, installed.lines_by_id[demo_line], start_s=T0,
                                     end_s=T0 + criteria.window_s, criteria=criteria)
    assert (result.passed, result.failures) == (True, [])
    assert (result.figures["uptime_pct"], result.figures["traffic_share_pct"]) == (100.0, 100.0)
