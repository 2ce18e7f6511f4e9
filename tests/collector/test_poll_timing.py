"""Each reading is timed by the response that carried its counters, with sysUpTime from that same response
(issue 9). A simulated device answers real SNMP over UDP; its slowness is spent on the injected clock the collector
also reads, so the test is exact and never timing-flaky."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from collector.service import Collector, CycleReport
from collector.simagent import ConstantRateModel, SimAgent, SimDevice, SimInterface
from collector.snmp.counters import Reading
from collector.state import CounterState
from linewatch.inventory import Inventory
from linewatch.settings import CollectorSettings

IN_BPS, OUT_BPS = 1e9, 4e8
SCALE_32BIT = 0.1  # 32-bit counters wrap every 34 s at 1 Gb/s: the 32-bit cases run at 100/40 Mb/s
INTERVAL_S = 60.0
# A retry would make the agent spend a request's delay twice, racing the client's stamp: none, however loaded.
NO_RETRY = {"timeout_s": 30, "retries": 0}
SLOW_DELAYS_S = (7.0, 3.0, 11.0, 5.0, 13.0, 2.0, 17.0)  # seconds the device is busy per request, in turn


class Clock:
    """Wall time shared by the simulated device (counters, sysUpTime) and the collector (reading times)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def run(*, interfaces: int, polled: list[int], hc: bool = True, max_repetitions: int = 3) -> list[CycleReport]:
    """Poll 1: the device is slow (seconds per request, varying); poll 2, a minute later: it answers at once."""
    clock = Clock()
    ifs = {ix: SimInterface(f"ge-0/0/{ix}", speed_bps=10_000_000_000, hc_counters=hc)
           for ix in range(1, interfaces + 1)}
    dev = SimDevice(name="r1", interfaces=ifs, clock=clock, uptime_base_s=clock() - 5000,
                    model=ConstantRateModel(in_bps=scale(hc) * IN_BPS, out_bps=scale(hc) * OUT_BPS,
                                            start_s=clock() - 3600))
    reports = []
    with SimAgent([dev], wall_clock=clock) as agent:
        inventory = Inventory.model_validate({
            "devices": [{"name": "r1", "address": "127.0.0.1", "port": agent.port("r1"),
                         "snmp": {"version": "2c", "community": "public"}, **NO_RETRY}],
            "lines": [{"id": f"L{ix}", "carrier": "Telia", "circuit_id": f"C{ix}", "type": "internet", "site": "Lab",
                       "department": "Eng", "device": "r1", "interface": f"ge-0/0/{ix}", "capacity_bps": 10**9}
                      for ix in polled],
        })
        collector = Collector(settings=CollectorSettings(name="t", interval_s=INTERVAL_S,
                                                         max_repetitions=max_repetitions),
                              inventory=inventory, writer=None, state=CounterState(None), clock=clock)
        with asyncio.Runner() as runner:
            dev.set_request_delays(SLOW_DELAYS_S, spend=clock.advance)
            reports.append(runner.run(collector.run_cycle()))
            slow_requests = dev.requests_seen
            dev.set_request_delays(None)
            clock.advance(INTERVAL_S)
            reports.append(runner.run(collector.run_cycle()))
            runner.run(collector.close())
    assert slow_requests >= 2, "the slow poll took several requests"
    return reports


def scale(hc: bool) -> float:
    return 1.0 if hc else SCALE_32BIT


def rates(report: CycleReport) -> dict[str, tuple[Any, Any]]:
    return {r.line: (r.in_bps, r.out_bps) for r in report.lines}


@pytest.mark.parametrize(
    "setup",
    [
        {"interfaces": 8, "polled": [1, 2, 3, 4, 5, 6]},
        {"interfaces": 40, "polled": [17]},
        {"interfaces": 40, "polled": [3], "hc": False},
        {"interfaces": 6, "polled": [1, 2, 3, 4, 5, 6], "hc": False, "max_repetitions": 2},
    ],
    ids=["getbulk-walk", "get-by-index", "get-32bit-fallback", "walk-32bit-fallback"],
)
def test_rates_timestamped_at_end_of_slow_device_poll(setup: dict[str, Any]) -> None:
    """A 1 Gb/s line read after a slow poll (tens of seconds of busy device) and a fast one reads 1 Gb/s."""
    first, second = run(**setup)
    assert not first.failed_devices and not second.failed_devices
    got = rates(second)
    assert set(got) == {f"L{ix}" for ix in setup["polled"]}
    for line, (in_bps, out_bps) in got.items():
        k = scale(setup.get("hc", True))
        assert in_bps == pytest.approx(k * IN_BPS, rel=0.005), line
        assert out_bps == pytest.approx(k * OUT_BPS, rel=0.005), line


def test_sysuptime_is_read_in_the_same_response_as_the_counters() -> None:
    """The reading's sysUpTime is the one of the response that carried its counters, not of a later GET."""
    clock = Clock()
    dev = SimDevice.with_interfaces("r1", 4, clock=clock, uptime_base_s=clock() - 100)
    with SimAgent([dev], wall_clock=clock) as agent:
        inventory = Inventory.model_validate({
            "devices": [{"name": "r1", "address": "127.0.0.1", "port": agent.port("r1"),
                         "snmp": {"version": "2c", "community": "public"}, **NO_RETRY}],
            "lines": [{"id": "L1", "carrier": "Telia", "circuit_id": "C1", "type": "internet", "site": "Lab",
                       "department": "Eng", "device": "r1", "if_index": 2, "capacity_bps": 10**9}],
        })
        collector = Collector(settings=CollectorSettings(name="t", interval_s=INTERVAL_S), inventory=inventory,
                              writer=None, state=CounterState(None), clock=clock)
        dev.set_request_delays([4.0], spend=clock.advance)
        with asyncio.Runner() as runner:
            report = runner.run(collector.run_cycle())
            runner.run(collector.close())
    (poll,) = report.polls
    reading = poll.samples["L1"].reading
    assert dev.requests_seen == 1, "counters and sysUpTime in one GET"
    assert reading.uptime_cs == 104 * 100 and reading.time_s == 1_800_000_004.0


def test_counter_state_keeps_the_out_octets_time(tmp_path: Path) -> None:
    """A reading whose out-octets came in a later response keeps that time across a restart; a state file written
    before ``out_time_s`` existed still loads."""
    path = tmp_path / "state.json"
    state = CounterState(path)
    state.put("r1", "L1", Reading(time_s=10.0, uptime_cs=5, if_index=2, counter_bits=64, in_octets=1, out_octets=2,
                                  out_time_s=12.5))
    state.save()
    again = CounterState(path)
    assert again.load() == 1 and again.get("r1", "L1").out_at_s == 12.5
    path.write_text('{"version": 1, "readings": [{"device": "r1", "line": "L1", "time_s": 10.0, "uptime_cs": 5, '
                    '"if_index": 2, "counter_bits": 64, "in_octets": 1, "out_octets": 2}]}')
    old = CounterState(path)
    assert old.load() == 1 and old.get("r1", "L1").out_at_s == 10.0


def test_in_and_out_octets_in_two_responses_each_keep_their_own_time() -> None:
    """GETBULK replies that end between ifHCInOctets and ifHCOutOctets of a row (13 varbinds: one row of 11 and two
    of the next): out-octets are timed by the later response that carried them, so a slow first poll still gives
    the true out rate."""
    clock = Clock()
    ifs = {ix: SimInterface(f"ge-0/0/{ix}", speed_bps=10_000_000_000) for ix in range(1, 7)}
    dev = SimDevice(name="r1", interfaces=ifs, clock=clock, uptime_base_s=clock() - 5000, max_bulk_varbinds=13,
                    model=ConstantRateModel(in_bps=IN_BPS, out_bps=OUT_BPS, start_s=clock() - 3600))
    with SimAgent([dev], wall_clock=clock) as agent:
        inventory = Inventory.model_validate({
            "devices": [{"name": "r1", "address": "127.0.0.1", "port": agent.port("r1"),
                         "snmp": {"version": "2c", "community": "public"}, **NO_RETRY}],
            "lines": [{"id": f"L{ix}", "carrier": "Telia", "circuit_id": f"C{ix}", "type": "internet", "site": "Lab",
                       "department": "Eng", "device": "r1", "interface": f"ge-0/0/{ix}", "capacity_bps": 10**9}
                      for ix in ifs],
        })
        collector = Collector(settings=CollectorSettings(name="t", interval_s=INTERVAL_S), inventory=inventory,
                              writer=None, state=CounterState(None), clock=clock)
        with asyncio.Runner() as runner:
            dev.set_request_delays(SLOW_DELAYS_S, spend=clock.advance)
            first = runner.run(collector.run_cycle())
            dev.set_request_delays(None)
            clock.advance(INTERVAL_S)
            second = runner.run(collector.run_cycle())
            runner.run(collector.close())
    split = [s.reading for s in first.polls[0].samples.values() if s.reading.out_time_s is not None]
    assert split, "some rows had their in and out octets in two responses"
    for line, (in_bps, out_bps) in rates(second).items():
        assert in_bps == pytest.approx(IN_BPS, rel=0.005), line
        assert out_bps == pytest.approx(OUT_BPS, rel=0.005), line
