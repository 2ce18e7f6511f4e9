"""Usage per line per billing period, aggregated inside InfluxDB (InfluxQL), never from raw samples in pandas.

What the queries compute (``line_traffic``, docs/schema.md), per line, over ``[period start, next period
start)``:

* **95th percentile** (burstable billing): 5-minute means ``GROUP BY time(5m), "line"`` of the contract's
  direction — ``max(in, out)`` per sample (``(i + o + |i − o|) / 2``), ``in``, ``out`` or ``in + out`` — then
  the top 5 % of the samples dropped: with N five-minute samples, the billed value is the (⌊0.05·N⌋+1)-th
  highest. InfluxDB returns only the top ⌊0.05·N_max⌋+1 values per line (``TOP``) and the sample count
  (``COUNT``); the pick happens here. This is the carriers' "drop the top 5 %" definition, exact for any N
  (InfluxQL's ``PERCENTILE`` rounds the rank instead).
* **volume**: ``SUM(in_bps × interval_s) / 8`` bytes in and out — exactly the octets the counters moved.
* **mean** in/out bit rate, **peak utilization** (``MAX`` of ``*_util_pct``), the last contracted capacity.
* **availability** from ``oper_status``: a sample with ``oper_status ≠ up`` while ``admin_status = up`` counts
  as down for one sample spacing (the covered time divided by the sample count); 5-minute buckets without any
  sample are *no data* and reported separately, not as downtime. Availability = 1 − down / covered time.
  Availability is measured **over the line's days in service only** (``service``: install..termination within
  the period): an interface that is down before the install or after the termination is not an outage.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace

from billing_etl.model import Period
from linewatch.choices import UsageDirection
from linewatch.influx import InfluxClient
from linewatch.inventory import Line

BUCKET_S = 300
MEASUREMENT = "line_traffic"

_DIRECTION_EXPR = {
    UsageDirection.IN: "MEAN(in_bps)",
    UsageDirection.OUT: "MEAN(out_bps)",
    UsageDirection.SUM: "MEAN(in_bps) + MEAN(out_bps)",
    UsageDirection.MAX: "(MEAN(in_bps) + MEAN(out_bps) + ABS(MEAN(in_bps) - MEAN(out_bps))) / 2",
}


@dataclass(frozen=True)
class LineUsage:
    """What linewatch measured on one line in one period. Rates in bit/s, volumes in bytes, times in
    minutes."""

    line: str
    period: str
    direction: str
    samples_5m: int
    p95_bps: float | None
    in_bytes: float
    out_bytes: float
    mean_in_bps: float | None
    mean_out_bps: float | None
    peak_util_pct: float | None
    capacity_bps: int | None
    down_minutes: float
    no_data_minutes: float
    availability_pct: float | None

    @property
    def has_data(self) -> bool:
        return self.samples_5m > 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def no_data(cls, line: str, period: Period, direction: UsageDirection) -> LineUsage:
        return cls(
            line,
            str(period),
            direction.value,
            0,
            None,
            0.0,
            0.0,
            None,
            None,
            None,
            None,
            0.0,
            (period.end_s - period.start_s) / 60,
            None,
        )


ServiceDays = tuple[dt.date, dt.date] | None


def service_days(line: Line, period: Period) -> ServiceDays:
    """The days of ``period`` the line is in service (install..termination, inclusive), or None."""
    start = max(period.first_day, line.install_date or period.first_day)
    end = min(period.last_day, line.termination_date or period.last_day)
    return (start, end) if start <= end else None


def service_windows(lines: Iterable[Line], period: Period) -> dict[str, ServiceDays]:
    """:func:`service_days` of every line (what :func:`measure_usage` takes as ``service``)."""
    return {line.id: service_days(line, period) for line in lines}


def _day_s(day: dt.date) -> int:
    return calendar.timegm((day.year, day.month, day.day, 0, 0, 0))


def burstable_p95(top_values_desc: list[float], samples: int) -> float | None:
    """The billed value of ``samples`` 5-minute samples: drop the top 5 % (⌊0.05·N⌋ samples), take the highest
    left.

    ``top_values_desc`` holds (at least) the ⌊0.05·N⌋+1 highest values, highest first.
    """
    if samples <= 0 or not top_values_desc:
        return None
    dropped = samples * 5 // 100
    return top_values_desc[min(dropped, len(top_values_desc) - 1)]


def _line_filter(lines: Iterable[str] | None) -> str:
    if lines is None:
        return ""
    alternatives = "|".join(re.escape(line).replace("/", r"\/") for line in sorted(lines))
    return f' AND "line" =~ /^(?:{alternatives})$/'


def _window(period: Period) -> str:
    return f"time >= {period.start_s}s AND time < {period.end_s}s"


def p95_statements(period: Period, direction: UsageDirection, lines: Iterable[str] | None) -> list[str]:
    """The top ⌊0.05·N_max⌋+1 five-minute direction values per line (``lines=None``: every line)."""
    where = _window(period) + _line_filter(lines)
    buckets = (period.end_s - period.start_s) // BUCKET_S
    k = buckets * 5 // 100 + 1
    return [
        (
            f'SELECT TOP(v, {k}) AS v FROM (SELECT {_DIRECTION_EXPR[direction]} AS v FROM "{MEASUREMENT}" '
            f'WHERE {where} GROUP BY time({BUCKET_S}s), "line" fill(none)) GROUP BY "line"'
        )
    ]


def stats_statements(period: Period) -> list[str]:
    """Mean, peak, capacity, volume and downtime figures for every line of the period."""
    where = _window(period)
    return [
        (
            f"SELECT MEAN(in_bps) AS mean_in, MEAN(out_bps) AS mean_out, MAX(in_util_pct) AS peak_in, "
            f"MAX(out_util_pct) AS peak_out, COUNT(oper_status) AS samples, LAST(capacity_bps) AS capacity "
            f'FROM "{MEASUREMENT}" WHERE {where} GROUP BY "line"'
        ),
        (
            f"SELECT SUM(x) AS in_bits, SUM(y) AS out_bits FROM (SELECT in_bps * interval_s AS x, "
            f'out_bps * interval_s AS y FROM "{MEASUREMENT}" WHERE {where}) GROUP BY "line"'
        ),
        (
            f'SELECT COUNT(oper_status) AS down FROM "{MEASUREMENT}" WHERE {where} AND oper_status <> 1 '
            f'AND admin_status = 1 GROUP BY "line"'
        ),
        # N, the five-minute values of the 95th percentile: the collector writes in_bps and out_bps together
        # (both or neither), so the buckets holding in_bps are the buckets of every direction.
        (
            f'SELECT COUNT(i) AS n FROM (SELECT MEAN(in_bps) AS i FROM "{MEASUREMENT}" WHERE {where} '
            f'GROUP BY time({BUCKET_S}s), "line" fill(none)) GROUP BY "line"'
        ),
        (
            f'SELECT COUNT(c) AS buckets FROM (SELECT COUNT(oper_status) AS c FROM "{MEASUREMENT}" WHERE '
            f"{where} "
            f'GROUP BY time({BUCKET_S}s), "line" fill(none)) GROUP BY "line"'
        ),
    ]


def availability_statements(start_s: int, end_s: int, lines: Iterable[str]) -> list[str]:
    """Samples, down samples and covered 5-minute buckets of ``lines`` within ``[start_s, end_s)`` (a line's
    days in service when they are not the whole period)."""
    where = f"time >= {start_s}s AND time < {end_s}s" + _line_filter(lines)
    return [
        f'SELECT COUNT(oper_status) AS samples FROM "{MEASUREMENT}" WHERE {where} GROUP BY "line"',
        (
            f'SELECT COUNT(oper_status) AS down FROM "{MEASUREMENT}" WHERE {where} AND oper_status <> 1 '
            f'AND admin_status = 1 GROUP BY "line"'
        ),
        (
            f'SELECT COUNT(c) AS buckets FROM (SELECT COUNT(oper_status) AS c FROM "{MEASUREMENT}" WHERE '
            f'{where} GROUP BY time({BUCKET_S}s), "line" fill(none)) GROUP BY "line"'
        ),
    ]


def _availability(
    samples: int, down_samples: int, covered_buckets: int, window_buckets: int
) -> tuple[float, float, float | None]:
    """(down minutes, no-data minutes, availability %) from the counts of one window."""
    covered_min = covered_buckets * BUCKET_S / 60
    spacing_min = covered_min / samples if samples else 0.0
    down_min = min(down_samples * spacing_min, covered_min)
    no_data_min = max(window_buckets - covered_buckets, 0) * BUCKET_S / 60
    return down_min, no_data_min, (100.0 * (1 - down_min / covered_min) if covered_min else None)


def direction_groups(
    directions: Mapping[str, UsageDirection],
) -> list[tuple[UsageDirection, list[str] | None]]:
    """Lines per direction; the biggest group is queried without a line filter (it covers lines without
    contract)."""
    groups: dict[UsageDirection, list[str]] = {}
    for line, direction in directions.items():
        groups.setdefault(direction, []).append(line)
    if not groups:
        return [(UsageDirection.MAX, None)]
    main = max(groups, key=lambda d: (len(groups[d]), d == UsageDirection.MAX))
    out: list[tuple[UsageDirection, list[str] | None]] = [(main, None)]
    out += [(d, sorted(lines)) for d, lines in sorted(groups.items()) if d != main]
    return out


def usage_statements(period: Period, directions: Mapping[str, UsageDirection]) -> list[str]:
    """Every InfluxQL statement the usage of a period needs (also what the benchmark runs bare)."""
    statements = []
    for direction, lines in direction_groups(directions):
        statements += p95_statements(period, direction, lines)
    return statements + stats_statements(period)


def _by_line(series: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for s in series:
        line = s["tags"].get("line")  # type: ignore[union-attr]
        if line is None or not s["values"]:
            continue
        out[line] = dict(zip(s["columns"], s["values"][0], strict=False))  # type: ignore[arg-type]
    return out


def _num(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def measure_usage(
    client: InfluxClient,
    period: Period,
    lines: Iterable[str],
    directions: Mapping[str, UsageDirection] | None = None,
    *,
    service: Mapping[str, ServiceDays] | None = None,
) -> dict[str, LineUsage]:
    """Usage of ``lines`` in ``period``; ``directions`` per line (default max(in, out)). Raises
    InfluxError.

    ``service`` (see :func:`service_windows`): a line's days in service; its availability, downtime and
    no-data time are measured over those days only, and a line not in service at all in the period has no
    availability (``None``). Lines missing from ``service`` are measured over the whole period.
    """
    lines = sorted(set(lines))
    want = {line: (directions or {}).get(line, UsageDirection.MAX) for line in lines}
    stats_q, volume_q, down_q, n_q, buckets_q = stats_statements(period)
    counts = {
        line: int(row["n"] or 0)  # type: ignore[call-overload]
        for line, row in _by_line(client.query(n_q)).items()
    }
    buckets = {
        line: int(row["buckets"] or 0)  # type: ignore[call-overload]
        for line, row in _by_line(client.query(buckets_q)).items()
    }
    p95: dict[str, float | None] = {}
    for direction, group in direction_groups(want):
        members = set(group) if group is not None else {ln for ln, d in want.items() if d == direction}
        [top_q] = p95_statements(period, direction, group)
        for s in client.query(top_q):
            line = s["tags"].get("line")
            if line in members:
                idx = s["columns"].index("v")
                top = sorted((float(v[idx]) for v in s["values"] if v[idx] is not None), reverse=True)
                p95[line] = burstable_p95(top, counts.get(line, 0))
    stats = _by_line(client.query(stats_q))
    volume = _by_line(client.query(volume_q))
    down = _by_line(client.query(down_q))
    period_buckets = (period.end_s - period.start_s) // BUCKET_S
    out: dict[str, LineUsage] = {}
    for line in lines:
        direction = want[line]
        if line not in stats:
            out[line] = LineUsage.no_data(line, period, direction)
            continue
        row = stats[line]
        samples = int(row.get("samples") or 0)  # type: ignore[call-overload]
        covered_buckets = buckets.get(line, 0)
        down_samples = int(down.get(line, {}).get("down") or 0)  # type: ignore[call-overload]
        down_min, no_data_min, availability = _availability(
            samples, down_samples, covered_buckets, period_buckets
        )
        peaks = [p for p in (_num(row.get("peak_in")), _num(row.get("peak_out"))) if p is not None]
        capacity = _num(row.get("capacity"))
        out[line] = LineUsage(
            line=line,
            period=str(period),
            direction=direction.value,
            samples_5m=counts.get(line, 0),
            p95_bps=p95.get(line),
            in_bytes=(_num(volume.get(line, {}).get("in_bits")) or 0.0) / 8,
            out_bytes=(_num(volume.get(line, {}).get("out_bits")) or 0.0) / 8,
            mean_in_bps=_num(row.get("mean_in")),
            mean_out_bps=_num(row.get("mean_out")),
            peak_util_pct=max(peaks) if peaks else None,
            capacity_bps=int(capacity) if capacity is not None else None,
            down_minutes=down_min,
            no_data_minutes=no_data_min,
            availability_pct=availability,
        )
    _measure_service_days(client, period, out, service or {})
    return out


def _measure_service_days(
    client: InfluxClient, period: Period, out: dict[str, LineUsage], service: Mapping[str, ServiceDays]
) -> None:
    """Replace the availability figures of lines not in service all period by those of their service days."""
    windows: dict[tuple[int, int], list[str]] = {}
    for line, usage in out.items():
        if line not in service:
            continue
        days = service[line]
        if days is None:
            out[line] = replace(usage, down_minutes=0.0, no_data_minutes=0.0, availability_pct=None)
            continue
        start_s, end_s = _day_s(days[0]), _day_s(days[1]) + 86400
        if (start_s, end_s) != (period.start_s, period.end_s):
            windows.setdefault((start_s, end_s), []).append(line)
    for (start_s, end_s), group in sorted(windows.items()):
        samples_q, down_q, buckets_q = availability_statements(start_s, end_s, group)
        samples = _by_line(client.query(samples_q))
        down = _by_line(client.query(down_q))
        buckets = _by_line(client.query(buckets_q))
        for line in group:
            down_min, no_data_min, availability = _availability(
                int(samples.get(line, {}).get("samples") or 0),  # type: ignore[call-overload]
                int(down.get(line, {}).get("down") or 0),  # type: ignore[call-overload]
                int(buckets.get(line, {}).get("buckets") or 0),  # type: ignore[call-overload]
                (end_s - start_s) // BUCKET_S,
            )
            out[line] = replace(
                out[line], down_minutes=down_min, no_data_minutes=no_data_min, availability_pct=availability
            )
