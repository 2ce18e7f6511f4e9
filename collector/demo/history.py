"""Backfill: the demo model's ``line_traffic`` history, built with the same point builder the collector uses."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from linewatch.choices import OperStatus
from linewatch.influx import InfluxClient, Point, encode_points
from linewatch.inventory import Inventory, Line, LineMember

from collector.demo.model import oper_status, profile_for, rate_bps
from collector.demo.network import member_share
from collector.linepoints import line_traffic_point
from collector.snmp.counters import Rates, Reading

CHUNK_POINTS = 5000


def line_traffic_points(inventory: Inventory, *, start_s: int, end_s: int, step_s: int = 60) -> Iterator[Point]:
    """One point per member of each polled line every ``step_s`` seconds in [start_s, end_s), deterministic; the
    members' rates add up to the line's demo rate (:func:`member_share`)."""
    if step_s <= 0 or end_s <= start_s:
        return
    for line in inventory.polled_lines():
        for member in line.members:
            yield from _member_points(line, member, start_s=start_s, end_s=end_s, step_s=step_s)


def _member_points(line: Line, member: LineMember, *, start_s: int, end_s: int, step_s: int) -> Iterator[Point]:
    p = profile_for(line.id)
    share = member_share(line, member)
    mod = 2**p.counter_bits
    in_octets = out_octets = p.counter_start
    for t in range(start_s, end_s, step_s):
        oper = oper_status(line.id, t, live=False)
        up = oper == OperStatus.UP
        capacity_bps = line.capacity_at(t)
        in_bps = share * rate_bps(line.id, capacity_bps, t, direction="in") if up else 0.0
        out_bps = share * rate_bps(line.id, capacity_bps, t, direction="out") if up else 0.0
        in_octets = (in_octets + int(in_bps * step_s / 8)) % mod
        out_octets = (out_octets + int(out_bps * step_s / 8)) % mod
        errors = share * p.error_rate_ps if up else 0.0
        rates = Rates(interval_s=float(step_s), in_bps=in_bps, out_bps=out_bps, in_errors_ps=errors,
                      out_errors_ps=0.0, in_discards_ps=errors / 2, out_discards_ps=0.0)
        reading = Reading(time_s=t, uptime_cs=None, if_index=member.if_index or 0, counter_bits=p.counter_bits,
                          in_octets=in_octets, out_octets=out_octets)
        yield line_traffic_point(line, member=member, time_ns=t * 1_000_000_000, reading=reading, rates=rates,
                                 oper_status=int(oper), admin_status=int(OperStatus.UP),
                                 port_speed_bps=p.port_speed_bps)


def load_history(client: InfluxClient, inventory: Inventory, *, start_s: int, end_s: int, step_s: int = 60) -> int:
    """Write the demo history straight to InfluxDB in batches; returns the number of points written."""
    points = line_traffic_points(inventory, start_s=start_s, end_s=end_s, step_s=step_s)
    total = 0
    while chunk := list(islice(points, CHUNK_POINTS)):
        client.write(encode_points(chunk))
        total += len(chunk)
    return total
