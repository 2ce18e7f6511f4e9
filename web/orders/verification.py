"""Verification of a capacity change (변경 검증), measured by linewatch: the queries; the judging is
:func:`web.orders.acceptance_logic.judge_change` (pure, docs/acceptance.md).

``verify_change(influx, line, effective_s=…, end_s=…, old_capacity_bps=…, new_capacity_bps=…)`` reads, from the
effective moment to ``end_s`` (or now, if earlier): each member's last ``port_speed_bps`` and the line's traffic per
bucket (members summed), and says whether the change is confirmed (``passed`` True), refuted (False: a port slower
than the new capacity) or not yet observable (None: no poll yet, or an upgrade whose traffic has not exceeded the old
capacity while the window goes on). Needs no Django.
"""

from __future__ import annotations

import time

from linewatch.influx import InfluxClient
from linewatch.inventory import Line
from web.orders.acceptance import MEASUREMENT, MEMBER_TAGS, line_condition, read_traffic
from web.orders.acceptance_logic import VerificationResult, judge_change

__all__ = ["VerificationResult", "verify_change"]

DEFAULT_BUCKET_S = 60  # traffic above the old limit for a minute's mean confirms an upgrade


def speed_statement(line: Line, *, start_s: float, end_s: float) -> str:
    return (f'SELECT LAST("port_speed_bps") AS speed FROM "{MEASUREMENT}" WHERE '
            f"{line_condition(line, start_s=start_s, end_s=end_s)} GROUP BY {MEMBER_TAGS}")


def read_speeds(influx: InfluxClient, line: Line, *, start_s: float, end_s: float) -> dict[tuple[str, str], int]:
    speeds = {}
    for series in influx.query(speed_statement(line, start_s=start_s, end_s=end_s)):
        member = (series["tags"].get("device", ""), series["tags"].get("interface", ""))
        for row in series["values"]:
            value = dict(zip(series["columns"], row, strict=True)).get("speed")
            if value is not None:
                speeds[member] = int(value)
    return speeds


def verify_change(influx: InfluxClient, line: Line, *, effective_s: float, end_s: float, old_capacity_bps: int,
                  new_capacity_bps: int, now_s: float | None = None,
                  bucket_s: int = DEFAULT_BUCKET_S) -> VerificationResult:
    """Verify ``line``'s change from ``old_capacity_bps`` to ``new_capacity_bps`` effective at ``effective_s``,
    observed until ``end_s`` (the verification window's end; ``now_s``, default the clock, if earlier)."""
    now_s = time.time() if now_s is None else now_s
    until_s = min(end_s, now_s)
    if until_s <= effective_s:
        return judge_change({}, [], roles={}, old_capacity_bps=old_capacity_bps, new_capacity_bps=new_capacity_bps,
                            window_ended=False)
    speeds = read_speeds(influx, line, start_s=effective_s, end_s=until_s)
    traffic = read_traffic(influx, line, start_s=effective_s, end_s=until_s, bucket_s=bucket_s)
    return judge_change(speeds, traffic, roles={m.port: m.role for m in line.members},
                        old_capacity_bps=old_capacity_bps, new_capacity_bps=new_capacity_bps,
                        window_ended=now_s >= end_s)
