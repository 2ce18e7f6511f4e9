"""Capacity versions in the collector: each ``line_traffic`` point carries the line's capacity at the sample's time
(``Line.capacity_at``) and its utilization relative to that capacity; the demo (backfill, simulated routers, flows)
follows the same capacity, so the demo line upgraded on 2026-11-16 (LON-INET-1) shows the step in its history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from collector.demo.history import line_traffic_points
from collector.demo.model import rate_bps
from collector.demo.network import DemoCounterModel
from collector.linepoints import line_traffic_point
from collector.snmp.counters import Rates
from linewatch.inventory import Line, load_inventory

REPO = Path(__file__).resolve().parents[2]
CHANGE_S = int(dt.datetime(2026, 11, 16, tzinfo=dt.UTC).timestamp())  # LON-INET-1: 200 → 300 Mbit/s
LINE = Line.model_validate({
    "id": "L1", "carrier": "Telia", "circuit_id": "C-1", "type": "internet", "site": "Seoul", "department": "Eng",
    "device": "r1", "interface": "ge-0/0/0", "capacity_bps": 100_000_000,
    "capacity_changes": [{"effective": "2026-11-16T09:00:00+09:00", "capacity_bps": 200_000_000}]})


@pytest.mark.parametrize(("t_s", "capacity_bps", "in_util_pct"), [
    (CHANGE_S - 3600, 100_000_000, 90.0),
    (CHANGE_S - 1, 100_000_000, 90.0),
    (CHANGE_S, 200_000_000, 45.0),
    (CHANGE_S + 86400, 200_000_000, 45.0),
], ids=["hour-before", "second-before", "at-effective", "day-after"])
def test_point_carries_the_capacity_at_its_time(t_s: int, capacity_bps: int, in_util_pct: float) -> None:
    rates = Rates(interval_s=60.0, in_bps=90_000_000.0, out_bps=9_000_000.0)
    point = line_traffic_point(LINE, time_ns=t_s * 1_000_000_000, reading=None, rates=rates, oper_status=1,
                               admin_status=1, port_speed_bps=1_000_000_000)
    assert point.fields["capacity_bps"] == capacity_bps
    assert point.fields["in_util_pct"] == pytest.approx(in_util_pct)
    assert point.fields["out_util_pct"] == pytest.approx(in_util_pct / 10)


def test_demo_backfill_shows_the_upgrade_of_lon_inet_1() -> None:
    inventory = load_inventory(REPO / "config" / "lines.yaml")
    points = [p for p in line_traffic_points(inventory, start_s=CHANGE_S - 600, end_s=CHANGE_S + 600)
              if p.tags["line"] == "LON-INET-1"]
    capacity = {p.time_ns // 1_000_000_000: p.fields["capacity_bps"] for p in points}
    assert {c for t, c in capacity.items() if t < CHANGE_S} == {200_000_000}
    assert {c for t, c in capacity.items() if t >= CHANGE_S} == {300_000_000}
    # The demo's traffic is a share of the capacity in force: the same utilization profile on either side.
    before = next(p for p in points if p.time_ns == (CHANGE_S - 60) * 1_000_000_000)
    assert before.fields["in_bps"] == pytest.approx(rate_bps("LON-INET-1", 200_000_000, CHANGE_S - 60,
                                                             direction="in"))
    assert before.fields["in_util_pct"] == pytest.approx(100 * before.fields["in_bps"] / 200_000_000)


def test_demo_line_does_not_reach_the_warning_level_before_its_upgrade() -> None:
    """The demo's upgraded line is not an alert story: below 80 % in every minute of the month before."""
    inventory = load_inventory(REPO / "config" / "lines.yaml")
    month = [p.fields["in_util_pct"] for p in line_traffic_points(inventory, start_s=CHANGE_S - 30 * 86400,
                                                                  end_s=CHANGE_S, step_s=300)
             if p.tags["line"] == "LON-INET-1" and "in_util_pct" in p.fields]
    assert month and max(month) < 80.0


def test_simulated_router_counts_with_the_capacity_at_the_time() -> None:
    """The live demo's counters grow with the capacity in force (the router a collector polls)."""
    from collector.simagent.model import SimDevice

    device = SimDevice(name="r1", community="c")
    rates = []
    for start in (CHANGE_S - 7200, CHANGE_S + 3600):
        model = DemoCounterModel({("r1", 1): (LINE, 1.0)}, start_s=start)
        first = model.sample(device, 1, start + 60).in_octets
        second = model.sample(device, 1, start + 120).in_octets
        rates.append((second - first) * 8 / 60)
    ratio = rates[1] / rates[0]
    expected = (rate_bps("L1", 200_000_000, CHANGE_S + 3720, direction="in")
                / rate_bps("L1", 100_000_000, CHANGE_S - 7080, direction="in"))
    assert ratio == pytest.approx(expected, rel=1e-3)
