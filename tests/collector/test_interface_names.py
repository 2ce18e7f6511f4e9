"""Locating a line's interface on untidy real devices (issue 9): duplicate ifNames, no ifXTable, NULs, non-UTF-8,
interfaces without octet counters. Simulated agents answer real SNMP over UDP; the matching rules are also tested
as pure functions."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from collector_support import Clock

from collector.service import Collector, CycleReport, format_report
from collector.simagent import SimAgent, SimDevice, SimInterface
from collector.snmp import ifmib
from collector.snmp.names import IF_DESCR, IF_NAME, InterfaceNames, Resolved, Unresolved
from collector.state import CounterState
from linewatch.cli import main
from linewatch.influx import InfluxClient, InfluxSettings, PointWriter
from linewatch.inventory import Inventory
from linewatch.settings import CollectorSettings

STEP_S = 60.0


def line(line_id: str, device: str = "r1", **where: Any) -> dict[str, Any]:
    return {"id": line_id, "carrier": "Telia", "circuit_id": f"C-{line_id}", "type": "internet", "site": "Lab",
            "department": "Eng", "device": device, "capacity_bps": 100_000_000, **where}


def inventory(port: int, lines: list[dict[str, Any]]) -> Inventory:
    return Inventory.model_validate({
        "devices": [{"name": "r1", "address": "127.0.0.1", "port": port, "snmp": {"version": "2c", "community": "public"},
                     "timeout_s": 3, "retries": 1}],
        "lines": lines,
    })


def run_cycles(device: SimDevice, lines: list[dict[str, Any]], n: int = 1, *,
               writer: PointWriter | None = None) -> list[CycleReport]:
    """``n`` collector cycles against ``device`` served over UDP, the clock and counters moving 60 s between."""
    clock = Clock()
    reports = []
    with SimAgent([device]) as agent:
        collector = Collector(settings=CollectorSettings(name="t", interval_s=STEP_S),
                              inventory=inventory(agent.port("r1"), lines), writer=writer,
                              state=CounterState(None), clock=clock)
        with asyncio.Runner() as runner:
            for i in range(n):
                if i:
                    clock.now += STEP_S
                    for ix in device.interfaces:
                        device.advance(ix, in_octets=int(8e6 * STEP_S / 8), out_octets=int(4e6 * STEP_S / 8))
                reports.append(runner.run(collector.run_cycle()))
            runner.run(collector.close())
    return reports


def notes(report: CycleReport) -> dict[str, str]:
    return {r.line: r.note for r in report.lines}


def device(name: str = "r1", **interfaces: Any) -> SimDevice:
    return SimDevice(name=name, interfaces={int(k[2:]): v for k, v in interfaces.items()})


# ------------------------------------------------------------------ duplicate ifName (HPE: two lo0)


def test_duplicate_ifname_refuses_to_guess() -> None:
    dev = device(ix1=SimInterface("ge-0/0/0"), ix5=SimInterface("lo0", descr="loopback"),
                 ix9=SimInterface("lo0", descr="loopback"))
    lines = [line("L-lo", interface="lo0"), line("L-ge", interface="ge-0/0/0")]
    first, second = run_cycles(dev, lines, 2)
    note = notes(first)["L-lo"]
    assert note == ("interface 'lo0' is ambiguous on r1: 2 interfaces have that ifName (ifIndex 5 ('lo0'), "
                    "9 ('lo0')); refusing to guess — give the line if_index instead of interface")
    assert first.unresolved_lines == second.unresolved_lines == ["L-lo"]
    assert notes(second)["L-ge"] == "", "the other line of the device is still sampled"
    assert "1 line unresolved (L-lo)" in format_report(second)


def test_duplicate_ifname_line_with_if_index_is_sampled() -> None:
    dev = device(ix5=SimInterface("lo0"), ix9=SimInterface("lo0"))
    _, second = run_cycles(dev, [line("L-lo", if_index=9)], 2)
    row = next(r for r in second.lines if r.line == "L-lo")
    assert row.in_bps == pytest.approx(8e6, rel=1e-6) and not second.unresolved_lines


# ------------------------------------------------------------------ no ifXTable (Ruijie, old switches)


def test_no_ifxtable_falls_back_to_ifdescr_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    dev = device(ix1=SimInterface("unused", descr="GigabitEthernet 0/1", hc_counters=False),
                 ix2=SimInterface("unused", descr="GigabitEthernet 0/2", hc_counters=False))
    dev.ifx_table = False
    caplog.set_level(logging.INFO, logger="collector")
    _, second = run_cycles(dev, [line("L1", interface="GigabitEthernet 0/2")], 2)
    row = next(r for r in second.lines if r.line == "L1")
    assert row.in_bps == pytest.approx(8e6, rel=1e-6)
    assert row.note == "matched ifDescr"
    assert "interface 'GigabitEthernet 0/2' matched ifDescr at ifIndex 2 (no ifName matches)" in caplog.text
    assert caplog.text.count("matched ifDescr at ifIndex") == 1, "said once, not every poll"


def test_no_ifxtable_not_found_names_what_the_device_offered() -> None:
    dev = device(ix1=SimInterface("x", descr="GigabitEthernet 0/1"), ix2=SimInterface("x", descr="TenGigabitEthernet 0/25"))
    dev.ifx_table = False
    (report,) = run_cycles(dev, [line("L1", interface="GigabitEthernet 0/3")])
    assert notes(report)["L1"] == ("interface 'GigabitEthernet 0/3' not found on r1: checked its 0 ifName (no "
                                   "ifXTable) and 2 ifDescr values; closest: 'GigabitEthernet 0/1', "
                                   "'TenGigabitEthernet 0/25'")
    assert report.unresolved_lines == ["L1"] and not report.failed_devices
    assert format_report(report).splitlines()[-1].startswith("1/1 devices ok, 1 line unresolved (L1), cycle")


def test_collect_once_counts_unresolved_lines_and_exits_non_zero(
        tmp_path: Path, influx_db: tuple[str, str], capsys: pytest.CaptureFixture) -> None:
    url, db = influx_db
    dev = device(ix1=SimInterface("ge-0/0/0"), ix2=SimInterface("ge-0/0/1"))
    with SimAgent([dev]) as agent:
        (tmp_path / "lines.yaml").write_text(
            "devices:\n"
            f"  - {{name: r1, address: 127.0.0.1, port: {agent.port('r1')}, snmp: {{version: 2c, community: public}}, "
            "timeout_s: 3, retries: 1}\n"
            "lines:\n"
            + "".join(f"  - {{id: {lid}, carrier: Telia, circuit_id: C-{lid}, type: internet, site: Lab, "
                      f"department: Eng, device: r1, interface: '{itf}', capacity_bps: 1000000}}\n"
                      for lid, itf in (("L-ok", "ge-0/0/0"), ("L-typo", "ge-0/0/9"), ("L-typo2", "xe-0/0/1"))))
        cfg = tmp_path / "linewatch.yaml"
        cfg.write_text(f"influx: {{url: '{url}', database: {db}, spool: {{path: spool}}}}\n"
                       "collector: {state_path: state.json}\ninventory_path: lines.yaml\n")
        assert main(["-c", str(cfg), "collect", "--once"]) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("1/1 devices ok, 2 lines unresolved (L-typo, L-typo2), cycle")
    client = InfluxClient(InfluxSettings(url=url, database=db))
    health = client.query("SELECT lines_unresolved FROM collector_health")[0]["values"]
    poll = client.query("SELECT unresolved_lines, ok FROM collector_poll WHERE \"device\" = 'r1'")[0]["values"]
    client.close()
    assert [row[1] for row in health] == [2] and [row[1:] for row in poll] == [[2, 1]]


def test_device_with_only_unresolved_lines_still_fails_when_it_stops_answering() -> None:
    """With no line to read, the poll still asks the device (sysUpTime): a dead device is a failed device, not
    "1/1 devices ok" until the names are looked up again ten minutes later."""
    dev = device(ix1=SimInterface("ge-0/0/0"))
    with SimAgent([dev]) as agent:
        collector = Collector(settings=CollectorSettings(name="t", interval_s=STEP_S),
                              inventory=inventory(agent.port("r1"), [line("L-typo", interface="ge-0/0/9")]),
                              writer=None, state=CounterState(None), clock=Clock())
        with asyncio.Runner() as runner:
            first = runner.run(collector.run_cycle())
            dev.set_silent()
            second = runner.run(collector.run_cycle())
            runner.run(collector.close())
    assert not first.failed_devices and first.unresolved_lines == ["L-typo"]
    assert [p.device for p in second.failed_devices] == ["r1"], format_report(second)


def test_device_that_reported_no_interfaces_is_asked_again_next_poll() -> None:
    """A device that answers with an empty ifTable (still booting) has its names read again at the next poll, not
    only ten minutes later."""
    dev = device()
    with SimAgent([dev]) as agent:
        collector = Collector(settings=CollectorSettings(name="t", interval_s=STEP_S),
                              inventory=inventory(agent.port("r1"), [line("L1", interface="ge-0/0/0")]),
                              writer=None, state=CounterState(None), clock=Clock())
        with asyncio.Runner() as runner:
            first = runner.run(collector.run_cycle())
            dev.add_interface(1, SimInterface("ge-0/0/0"))
            second = runner.run(collector.run_cycle())
            runner.run(collector.close())
    assert notes(first)["L1"] == "interface 'ge-0/0/0' not found on r1: the device reported no interfaces"
    assert not second.unresolved_lines and second.polls[0].samples["L1"].reading.if_index == 1


# ------------------------------------------------------------------ NULs and non-UTF-8 names


@pytest.mark.parametrize(
    ("sent", "configured"),
    [
        (b"port1\x00", "port1"),
        (b"\x00port1\x00\x00", "port1"),
        (b"B\xfcro-1", "Büro-1"),  # Latin-1 on the wire, the same text in the config
        ("Büro-1".encode(), "Büro-1"),  # UTF-8 on the wire
    ],
    ids=["trailing-nul", "nuls-both-ends", "latin-1", "utf-8"],
)
def test_ifname_with_trailing_nul_or_non_utf8_matches(sent: bytes, configured: str) -> None:
    dev = device(ix1=SimInterface("other"), ix7=SimInterface(sent))
    _, second = run_cycles(dev, [line("L1", interface=configured)], 2)
    row = next(r for r in second.lines if r.line == "L1")
    assert row.in_bps == pytest.approx(8e6, rel=1e-6), row.note
    assert second.polls[0].samples["L1"].reading.if_index == 7


def test_unmatched_name_shows_the_devices_value_with_repr() -> None:
    dev = device(ix1=SimInterface(b"xe-1/0/0\x00"), ix2=SimInterface(b"B\xfcro\xff"))
    (report,) = run_cycles(dev, [line("L1", interface="xe-1/0/1"), line("L2", interface="Buro")])
    assert notes(report)["L1"].endswith("closest: 'xe-1/0/0\\x00'")
    assert "closest: b'B\\xfcro\\xff'" in notes(report)["L2"]


# ------------------------------------------------------------------ no octet counters at all


def test_interface_without_octet_counters_writes_no_point_and_says_so_once(
        influx_db: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url, db = influx_db
    dev = device(ix1=SimInterface("ge-0/0/0"), ix2=SimInterface("ge-0/0/1", hc_counters=False, octet_counters=False))
    writer = PointWriter.from_settings(InfluxSettings(url=url, database=db, spool={"path": tmp_path / "spool"}))
    reports = run_cycles(dev, [line("L-ok", interface="ge-0/0/0"), line("L-none", interface="ge-0/0/1")], 3,
                         writer=writer)
    writer.close()
    expected = "ifIndex 2 on r1 has no octet counters (neither ifHCIn/OutOctets nor ifIn/OutOctets): " \
               "no traffic point written"
    assert all(notes(r)["L-none"] == expected for r in reports)
    assert caplog.text.count("has no octet counters") == 1, "said once, not every poll"
    client = InfluxClient(InfluxSettings(url=url, database=db))
    counts = client.query('SELECT count(capacity_bps) FROM line_traffic GROUP BY "line"')
    client.close()
    assert {s["tags"]["line"]: s["values"][0][1] for s in counts} == {"L-ok": 3}, "no point for L-none"


# ------------------------------------------------------------------ the matching rules (pure)

NAMES = InterfaceNames.from_table("r1", {
    ifmib.IF_NAME: {1: b"ge-0/0/0", 2: b"lo0", 3: b"lo0", 4: b"port1\x00", 5: b"B\xfcro", 6: None},
    ifmib.IF_DESCR: {1: b"GigabitEthernet0", 2: b"loopback", 3: b"loopback", 4: b"Port 1", 5: b"Office", 6: b"Mgmt"},
})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ge-0/0/0", Resolved(1, IF_NAME)),
        ("port1", Resolved(4, IF_NAME)),
        ("Büro", Resolved(5, IF_NAME)),
        ("Mgmt", Resolved(6, IF_DESCR)),
        ("Port 1", Resolved(4, IF_DESCR)),
        ("lo0", "ambiguous"),
        ("loopback", "ambiguous"),
        ("ge-0/0/1", "not found"),
    ],
    ids=["ifname", "nul-stripped", "latin-1", "ifdescr-when-no-ifname", "ifdescr", "duplicate-ifname",
         "duplicate-ifdescr", "missing"],
)
def test_interface_name_matching_rules(name: str, expected: Resolved | str) -> None:
    got = NAMES.resolve(name)
    if isinstance(expected, Resolved):
        assert got == expected
    else:
        assert isinstance(got, Unresolved) and expected in got.message
        assert got.ambiguous == (expected == "ambiguous")


def test_unresolved_name_is_not_ranked_again_every_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name that is not found ranks every ifName/ifDescr once per read of the names, not at every poll (on a
    1,317-interface switch that took ~70 ms per line per poll, on the loop that stamps other devices' responses)."""
    import difflib

    from collector.snmp import names as names_module

    calls = []
    rank = difflib.get_close_matches

    def counting(*args: Any, **kwargs: Any) -> list[str]:
        calls.append(args[0])
        return rank(*args, **kwargs)

    monkeypatch.setattr(names_module.difflib, "get_close_matches", counting)
    table = InterfaceNames.from_table("r1", {ifmib.IF_NAME: {1: b"ge-0/0/0", 2: b"ge-0/0/1"}})
    first = [table.resolve("ge-0/0/9") for _ in range(3)]
    assert calls == ["ge-0/0/9"] and first[0] == first[2]
    assert "ge-0/0/0" in first[0].message  # type: ignore[union-attr]
    assert table.interface_count == 2
