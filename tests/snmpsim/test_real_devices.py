"""linewatch's collector against walks of real devices (snmpsim + snmpsim-data), rates checked against snmpget.

Each recording is a real router's or switch's walk (see snmpsim_devices.py); snmpsim's ``numeric`` variation moves
chosen octet counters and sysUpTime at known rates. The collector's real code path (``DevicePoller`` over the v2c
client, UDP to snmpsim) polls twice; so does net-snmp's ``snmpget``, reading sysUpTime and the counters in one
PDU. Three figures must agree:

* the configured rate;
* snmpget's rate, from counter and sysUpTime deltas (the agent's own clock): within 1 % (sysUpTime ticks are
  0.01 s);
* the collector's rate, from its own clock: within the bound that the poll timing allows. The agent evaluated
  the counters at some moment inside each poll's [before, after] wall-clock window, so the true ratio lies in
  [(before2 - after1), (after2 - before1)] / (T2 - T1). The bound is tight on an idle machine and widens,
  rather than flakes, on a busy one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from snmpsim_devices import (
    C3750_NO_OCTETS,
    CISCO_IOS,
    CLAVISTER_32,
    H3C_FIRST,
    HPE_DUPLICATE,
    HPE_DUPLICATE_INDEXES,
    JUNIPER_MX,
    MEDIA_CONVERTER,
    NON_UTF8,
    RUIJIE_NO_IFX,
    WRAP_STAGGER_S,
    Port,
)

from collector.service import Collector, client_for
from collector.snmp.counters import COUNTER32_MOD, compute_rates
from collector.snmp.poller import DevicePoll, DevicePoller
from collector.state import CounterState
from linewatch.cli import main
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.inventory import Inventory
from linewatch.servers.snmpsim import SYS_UPTIME_OID, SnmpsimServer
from linewatch.settings import CollectorSettings

pytestmark = pytest.mark.slow

GAP_S = WRAP_STAGGER_S + 1.5  # between the two polls: long enough for one Clavister counter to wrap
AGENT_TOLERANCE = 0.01
SLACK = 0.003  # on top of the timing bound: float and one-octet wrap error
NON_UTF8_TEXT = NON_UTF8[1].decode("latin-1")  # "porté1": how a user writes the Latin-1 name in YAML
LATIN1_PORT = Port(NON_UTF8[0], NON_UTF8_TEXT, NON_UTF8[2], 2_000_000, 1_000_000, 64)

# id -> (port, what the line is configured with); all polled together, each case asserted on its own.
RATE_CASES = {
    "cisco-ios-c3560-hc": CISCO_IOS,
    "juniper-mx960-hc": JUNIPER_MX,
    "h3c-comware-1317-interfaces": H3C_FIRST,
    "ruijie-no-ifxtable-ifdescr-32bit": RUIJIE_NO_IFX,
    "media-converter-trailing-nul": MEDIA_CONVERTER,
    "derived-non-utf8-ifname": LATIN1_PORT,
    **{f"clavister-32bit-wrap-{p.name}": p for p in CLAVISTER_32},
}


def line(line_id: str, device: str, **where: Any) -> dict[str, Any]:
    return {"id": line_id, "carrier": "Telia", "circuit_id": f"C-{line_id}", "type": "internet", "site": "Lab",
            "department": "Eng", "device": device, "capacity_bps": 1_000_000_000, **where}


def inventory_data(sim: SnmpsimServer, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """An inventory of the lines' devices, each the snmpsim community of the same name."""
    devices = sorted({item["device"] for item in lines})
    return {
        "devices": [{"name": d, "address": sim.host, "port": sim.port, "snmp": {"version": "2c", "community": d},
                     "timeout_s": 3, "retries": 2} for d in devices],
        "lines": lines,
    }  # fmt: skip


def inventory(sim: SnmpsimServer, lines: list[dict[str, Any]]) -> Inventory:
    return Inventory.model_validate(inventory_data(sim, lines))


def pollers(inv: Inventory) -> list[DevicePoller]:
    return [DevicePoller(d, inv.lines_on(d.name), client_for(d)) for d in inv.devices]


@dataclass
class TimedPoll:
    poll: DevicePoll
    before_s: float
    after_s: float


async def timed(poller: DevicePoller) -> TimedPoll:
    before = time.time()
    poll = await poller.poll()
    return TimedPoll(poll, before, time.time())


@dataclass
class Measured:
    """Two polls of every RATE_CASES line, and two snmpget reads of the same OIDs."""

    first: dict[str, TimedPoll]  # device -> poll
    second: dict[str, TimedPoll]
    get1: dict[str, dict[str, int]]  # device -> {oid: value}, sysUpTime included
    get2: dict[str, dict[str, int]]
    interface_counts: dict[str, int]


def _snmpget_all(sim: SnmpsimServer, ports: list[Port]) -> dict[str, dict[str, int]]:
    out = {}
    for community in sorted({p.community for p in ports}):
        oids = [SYS_UPTIME_OID] + [o for p in ports if p.community == community for o in (p.in_oid, p.out_oid)]
        out[community] = sim.snmpget_ints(community, oids)
    return out


@pytest.fixture(scope="module")
def measured(snmpsim: SnmpsimServer) -> Measured:
    ports = list(RATE_CASES.values())
    inv = inventory(snmpsim, [line(case, p.community, interface=p.name) for case, p in RATE_CASES.items()])

    async def run() -> Measured:
        ps = pollers(inv)
        try:
            first = dict(zip([p.device.name for p in ps], await asyncio.gather(*(timed(p) for p in ps))))
            get1 = _snmpget_all(snmpsim, ports)
            await asyncio.sleep(GAP_S)
            second = dict(zip([p.device.name for p in ps], await asyncio.gather(*(timed(p) for p in ps))))
            get2 = _snmpget_all(snmpsim, ports)
            counts = {p.device.name: p.index.interface_count for p in ps}
            return Measured(first, second, get1, get2, counts)
        finally:
            for p in ps:
                await p.client.close()

    return asyncio.run(run())


def _delta(prev: int, cur: int, bits: int) -> int:
    return cur - prev if cur >= prev else cur + COUNTER32_MOD - prev if bits == 32 else -1


@pytest.mark.parametrize("case", list(RATE_CASES), ids=list(RATE_CASES))
def test_rates_from_real_recordings_match_snmpget_and_the_configured_rate(measured: Measured, case: str) -> None:
    port = RATE_CASES[case]
    p1, p2 = measured.first[port.community], measured.second[port.community]
    assert case in p1.poll.samples, f"{case}: no sample; line errors: {p1.poll.line_errors}"
    s1, s2 = p1.poll.samples[case], p2.poll.samples[case]
    assert s1.reading.if_index == port.if_index
    assert s1.reading.counter_bits == port.bits

    # net-snmp's view: counter and sysUpTime deltas from single PDUs, on the agent's clock.
    g1, g2 = measured.get1[port.community], measured.get2[port.community]
    agent_s = (g2[SYS_UPTIME_OID] - g1[SYS_UPTIME_OID]) / 100
    snmpget_in = _delta(g1[port.in_oid], g2[port.in_oid], port.bits) / agent_s
    snmpget_out = _delta(g1[port.out_oid], g2[port.out_oid], port.bits) / agent_s
    assert snmpget_in == pytest.approx(port.in_rate, rel=AGENT_TOLERANCE)
    assert snmpget_out == pytest.approx(port.out_rate, rel=AGENT_TOLERANCE)

    # linewatch's view.
    rates = compute_rates(s1.reading, s2.reading, port_speed_bps=s2.port_speed_bps)
    assert rates.discarded is None, rates
    assert rates.in_bps is not None and rates.out_bps is not None
    interval = s2.reading.time_s - s1.reading.time_s
    lo = (p2.before_s - p1.after_s) / interval - SLACK
    hi = (p2.after_s - p1.before_s) / interval + SLACK
    for measured_bps, configured, snmpget_rate in ((rates.in_bps, port.in_rate, snmpget_in),
                                                   (rates.out_bps, port.out_rate, snmpget_out)):  # fmt: skip
        ratio = measured_bps / 8 / configured
        assert lo <= ratio <= hi, f"{case}: collector {measured_bps:.0f} b/s vs configured {configured * 8:.0f}"
        assert abs(measured_bps / 8 / snmpget_rate - 1) <= max(hi - 1, 1 - lo) + AGENT_TOLERANCE


def test_counter32_wrap_between_polls_gives_the_true_rate(measured: Measured) -> None:
    """Clavister (32-bit counters only): eight counters staggered so that at least one wraps between the polls;
    each wrapped counter's rate is the configured one (checked per port above), not a huge or negative value."""
    wrapped = []
    for port in CLAVISTER_32:
        case = f"clavister-32bit-wrap-{port.name}"
        r1 = measured.first[port.community].poll.samples[case].reading
        r2 = measured.second[port.community].poll.samples[case].reading
        assert r1.counter_bits == 32
        wrapped += [f"{port.name} {d}" for d, a, b in (("in", r1.in_octets, r2.in_octets),
                                                         ("out", r1.out_octets, r2.out_octets)) if b < a]  # fmt: skip
    assert wrapped, "no Counter32 wrapped between the polls: the staggering in snmpsim_devices is wrong"


def test_h3c_comware_all_1317_interfaces_are_indexed(measured: Measured) -> None:
    assert measured.interface_counts[H3C_FIRST.community] == 1317


def test_no_ifxtable_matches_ifdescr_and_says_so(measured: Measured) -> None:
    """Ruijie N18010 has no ifXTable: the line names an ifDescr value, the poll says which column matched."""
    poll = measured.first[RUIJIE_NO_IFX.community].poll
    assert poll.notes.get("ruijie-no-ifxtable-ifdescr-32bit") == "matched ifDescr"


# -- interface names that real devices get wrong -------------------------------------------------------------------

def poll_twice(sim: SnmpsimServer, lines: list[dict[str, Any]]) -> list[DevicePoll]:
    """Two polls of one device's lines (1 s apart), through the real v2c client."""
    (poller,) = pollers(inventory(sim, lines))

    async def run() -> list[DevicePoll]:
        try:
            first = await poller.poll()
            await asyncio.sleep(1.0)
            return [first, await poller.poll()]
        finally:
            await poller.client.close()

    return asyncio.run(run())


def test_duplicate_ifname_refuses_to_guess(snmpsim: SnmpsimServer) -> None:
    """HPE ProCurve reports two interfaces named lo0: the line is refused with both ifIndexes named, and a
    line that names its if_index instead is polled."""
    polls = poll_twice(snmpsim, [line("by-name", "hpe-procurve", interface=HPE_DUPLICATE),
                                 line("by-index", "hpe-procurve", if_index=HPE_DUPLICATE_INDEXES[0])])  # fmt: skip
    for poll in polls:
        why = poll.line_errors["by-name"]
        assert "by-name" not in poll.samples
        assert all(str(ix) in why for ix in HPE_DUPLICATE_INDEXES), why
        assert "if_index" in why and "lo0" in why
        assert "by-name" in poll.unresolved
        assert poll.samples["by-index"].reading.if_index == HPE_DUPLICATE_INDEXES[0]


def test_no_ifxtable_unknown_name_names_what_the_device_offered(snmpsim: SnmpsimServer) -> None:
    """Ruijie: a name that matches nothing says the device has no ifXTable, how many ifDescr it offered and the
    closest ones, instead of a bare 'not found'."""
    (poll, _) = poll_twice(snmpsim, [line("typo", RUIJIE_NO_IFX.community, interface="GigabitEthernet 1/1/99")])
    why = poll.line_errors["typo"]
    assert "no ifXTable" in why and "395 ifDescr" in why, why
    assert "GigabitEthernet 1/1/9" in why, why
    assert "typo" in poll.unresolved


def test_trailing_nul_ifname_matches(snmpsim: SnmpsimServer) -> None:
    """CTS media converter: ifName b'port0\\x00' is the line's 'port0' (rates checked in the rate table)."""
    (poll, _) = poll_twice(snmpsim, [line("nul", MEDIA_CONVERTER.community, interface="port0")])
    assert poll.samples["nul"].reading.if_index == MEDIA_CONVERTER.if_index, poll.line_errors


def test_non_utf8_ifname_matches_its_latin1_text(snmpsim: SnmpsimServer) -> None:
    """Derived recording (the media converter with ifName.2 = b'port\\xe91'): the Latin-1 text matches it."""
    (poll, _) = poll_twice(snmpsim, [line("latin1", NON_UTF8[0], interface=NON_UTF8_TEXT)])
    assert poll.samples["latin1"].reading.if_index == NON_UTF8[2], poll.line_errors
    assert "latin1" not in poll.notes, "matched on ifName, not on the ifDescr fallback"


def test_interface_without_octet_counters_writes_no_point(
    snmpsim: SnmpsimServer, influx_db: tuple[str, str], tmp_path: Path
) -> None:
    """Catalyst 3750 stack port StackSub-St1-1 has neither HC nor 32-bit octet counters: two cycles write no
    line_traffic point for it (no 'counter_bits=32' without rates) and say why; its neighbour is written."""
    device, name, ix = C3750_NO_OCTETS
    inv = inventory(snmpsim, [line("no-octets", device, interface=name), line("vlan1", device, interface="Vl1")])
    url, db = influx_db
    writer = PointWriter.from_settings(InfluxSettings(url=url, database=db, spool={"path": tmp_path / "spool"}),
                                       max_retry_s=1.0)  # fmt: skip
    collector = Collector(settings=CollectorSettings(name="snmpsim", interval_s=60), inventory=inv, writer=writer,
                          state=CounterState(tmp_path / "state.json"))  # fmt: skip

    async def run() -> list[Any]:
        try:
            first = await collector.run_cycle()
            await asyncio.sleep(1.0)
            return [first, await collector.run_cycle()]
        finally:
            await collector.close()

    reports = asyncio.run(run())
    for report in reports:
        (poll,) = report.polls
        assert "no octet counters" in poll.line_errors["no-octets"] and str(ix) in poll.line_errors["no-octets"]
        assert "no-octets" not in poll.samples
    writer.close()
    client = InfluxClient(InfluxSettings(url=url, database=db))
    counts = client.query('SELECT count(capacity_bps) FROM line_traffic GROUP BY "line"')
    client.close()
    assert {s["tags"]["line"]: s["values"][0][1] for s in counts} == {"vlan1": 2}, "no point for no-octets"


def test_collect_once_counts_unresolved_lines_and_exits_non_zero(
    snmpsim: SnmpsimServer, influx_db: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`linewatch collect --once` on real recordings: the duplicate lo0 (HPE) and a name the Ruijie does not have
    are counted as unresolved and the run exits 3, while the Juniper line is polled."""
    url, db = influx_db
    rows = [line("dup", "hpe-procurve", interface=HPE_DUPLICATE),
            line("typo", RUIJIE_NO_IFX.community, interface="GigabitEthernet 1/1/99"),
            line("mx", JUNIPER_MX.community, interface=JUNIPER_MX.name)]  # fmt: skip
    (tmp_path / "lines.yaml").write_text(yaml.safe_dump(inventory_data(snmpsim, rows)))
    cfg = tmp_path / "linewatch.yaml"
    cfg.write_text(f"influx: {{url: '{url}', database: {db}, spool: {{path: spool}}}}\n"
                   "collector: {state_path: state.json}\ninventory_path: lines.yaml\n")
    assert main(["-c", str(cfg), "collect", "--once"]) == 3
    out = capsys.readouterr().out
    summary = out.splitlines()[-1]
    assert "2 lines unresolved" in summary and "dup" in summary and "typo" in summary, summary
    assert "mx" not in summary.split("unresolved", 1)[1]
