"""Final acceptance of a new line (최종 검수), measured by linewatch: the queries; the judging is in
:mod:`web.orders.acceptance_logic` (pure).

``evaluate_acceptance(influx, line, start_s=…, end_s=…, criteria=…)`` reads the line's members' ``line_traffic``
points in ``[start_s, end_s)`` and judges them (docs/acceptance.md). Two InfluxQL statements with explicit epoch
bounds, plain ``SELECT`` of fields, ``MEAN``/``SUM`` and one subquery, ``GROUP BY time(…)`` with an offset and tags —
InfluxQL that InfluxDB 1.x, the v1 API of 2.x and 3.x answer:

* the polls: every member point's ``oper_status``, ``admin_status``, error and discard rates and ``interval_s``;
* the traffic: per bucket (``traffic_bucket_s``, aligned to ``start_s``) each member's mean ``in_bps``/``out_bps``,
  summed over the members (docs/schema.md: the line's value per bucket is its members' sum).

This module needs no Django: the collector rig test calls it with a core :class:`linewatch.inventory.Line`.
"""

from __future__ import annotations

from linewatch.influx import InfluxClient
from linewatch.influx.influxql import string_literal
from linewatch.inventory import Line
from web.orders.acceptance_logic import (
    RATE_FIELDS,
    AcceptanceCriteria,
    AcceptanceResult,
    PollPoint,
    TrafficBucket,
    judge_acceptance,
)

__all__ = ["AcceptanceCriteria", "AcceptanceResult", "evaluate_acceptance"]

MEASUREMENT = "line_traffic"
MEMBER_TAGS = '"device", "interface"'
_POLL_FIELDS = ("oper_status", "admin_status", "interval_s", *RATE_FIELDS)


def line_condition(line: Line, *, start_s: float, end_s: float) -> str:
    """The WHERE condition of ``line``'s member series (its current members only) in ``[start_s, end_s)``,
    nanosecond epoch bounds."""
    condition = f'"line" = {string_literal(line.id)} AND time >= {int(start_s * 1e9)} AND time < {int(end_s * 1e9)}'
    if line.members:
        ports = " OR ".join(f'("device" = {string_literal(d)} AND "interface" = {string_literal(i)})'
                            for d, i in (m.port for m in line.members))
        condition += f" AND ({ports})"
    return condition


def poll_statement(line: Line, *, start_s: float, end_s: float) -> str:
    fields = ", ".join(f'"{f}"' for f in _POLL_FIELDS)
    return (f'SELECT {fields} FROM "{MEASUREMENT}" WHERE {line_condition(line, start_s=start_s, end_s=end_s)} '
            f"GROUP BY {MEMBER_TAGS}")


def traffic_statement(line: Line, *, start_s: float, end_s: float, bucket_s: int) -> str:
    """Per bucket of ``bucket_s`` seconds from ``start_s``: the sum over the members of each member's mean."""
    where = line_condition(line, start_s=start_s, end_s=end_s)
    group = f"time({bucket_s}s, {int(start_s) % bucket_s}s)"
    members = (f'SELECT MEAN("in_bps") AS i, MEAN("out_bps") AS o FROM "{MEASUREMENT}" WHERE {where} '
               f"GROUP BY {group}, {MEMBER_TAGS} fill(none)")
    window = f"time >= {int(start_s * 1e9)} AND time < {int(end_s * 1e9)}"
    return f"SELECT SUM(i) AS i, SUM(o) AS o FROM ({members}) WHERE {window} GROUP BY {group} fill(none)"


def read_polls(influx: InfluxClient, line: Line, *, start_s: float, end_s: float) -> list[PollPoint]:
    points = []
    for series in influx.query(poll_statement(line, start_s=start_s, end_s=end_s), epoch="ms"):
        member = (series["tags"].get("device", ""), series["tags"].get("interface", ""))
        columns = series["columns"]
        for row in series["values"]:
            v = dict(zip(columns, row, strict=True))
            points.append(PollPoint(
                time_s=v["time"] / 1000, member=member, oper_status=v.get("oper_status"),
                admin_status=v.get("admin_status"), interval_s=v.get("interval_s"),
                rates={f: float(v[f]) for f in RATE_FIELDS if v.get(f) is not None}))
    return points


def read_traffic(influx: InfluxClient, line: Line, *, start_s: float, end_s: float,
                 bucket_s: int) -> list[TrafficBucket]:
    buckets = []
    for series in influx.query(traffic_statement(line, start_s=start_s, end_s=end_s, bucket_s=bucket_s)):
        for row in series["values"]:
            v = dict(zip(series["columns"], row, strict=True))
            if v.get("i") is None and v.get("o") is None:
                continue
            buckets.append(TrafficBucket(start_s=v["time"], in_bps=v.get("i") or 0.0, out_bps=v.get("o") or 0.0))
    return buckets


def evaluate_acceptance(influx: InfluxClient, line: Line, *, start_s: float, end_s: float,
                        criteria: AcceptanceCriteria) -> AcceptanceResult:
    """Judge ``line``'s acceptance over ``[start_s + criteria.settle_s, end_s)`` (``start_s``: when the line was
    installed; call it once the window has ended: polls not yet made count as missing). Raises
    :class:`linewatch.errors.InfluxError` when InfluxDB does not answer."""
    judged_s = start_s + criteria.settle_s
    if end_s <= judged_s:
        raise ValueError(f"end_s {end_s} must be after start_s + settle_s {judged_s}")
    polls = read_polls(influx, line, start_s=judged_s, end_s=end_s)
    traffic = read_traffic(influx, line, start_s=judged_s, end_s=end_s, bucket_s=criteria.traffic_bucket_s)
    return judge_acceptance(polls, traffic, start_s=judged_s, end_s=end_s, criteria=criteria)
