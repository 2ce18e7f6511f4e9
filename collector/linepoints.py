"""Build the ``line_traffic`` point of one line member from a reading and its rates (docs/schema.md). Pure."""

from __future__ import annotations

from linewatch.choices import health_from_status
from linewatch.influx import Point
from linewatch.inventory import Line, LineMember

from collector.snmp.counters import Rates, Reading, utilization_pct

MEASUREMENT = "line_traffic"


def line_traffic_point(
    line: Line,
    *,
    member: LineMember | None = None,
    time_ns: int,
    reading: Reading | None,
    rates: Rates | None,
    oper_status: int | None,
    admin_status: int | None,
    port_speed_bps: int | None,
) -> Point:
    """``member``'s point (default: the line's primary member). Utilization is relative to the line's capacity at
    the sample's time (``Line.capacity_at``), so the members' utilizations add up to the line's."""
    capacity_bps = line.capacity_at(time_ns / 1e9)
    fields: dict[str, float | int] = {"capacity_bps": capacity_bps}
    health = health_from_status(oper=oper_status, admin=admin_status)
    fields["health"] = int(health)
    if oper_status is not None:
        fields["oper_status"] = int(oper_status)
    if admin_status is not None:
        fields["admin_status"] = int(admin_status)
    if port_speed_bps:
        fields["port_speed_bps"] = int(port_speed_bps)
    if reading is not None:
        fields["counter_bits"] = reading.counter_bits
        if reading.in_octets is not None:
            fields["in_octets"] = reading.in_octets
        if reading.out_octets is not None:
            fields["out_octets"] = reading.out_octets
    if rates is not None and rates.discarded is None:
        fields["interval_s"] = float(rates.interval_s)
        for name in ("in_bps", "out_bps", "in_errors_ps", "out_errors_ps", "in_discards_ps", "out_discards_ps"):
            value = getattr(rates, name)
            if value is not None:
                fields[name] = float(value)
        for direction in ("in", "out"):
            util = utilization_pct(getattr(rates, f"{direction}_bps"), capacity_bps)
            if util is not None:
                fields[f"{direction}_util_pct"] = util
    return Point(MEASUREMENT, line.tags(member), fields, time_ns)
