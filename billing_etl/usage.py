"""Usage per line per billing period, aggregated inside InfluxDB (InfluxQL), never from raw samples in pandas.

A line may be carried by several interfaces (a LAG, a primary/backup pair, ports on two routers billed as one
circuit): ``line_traffic`` then holds one series per member, tagged ``device`` and ``interface``
(docs/schema.md). **A line's value in a 5-minute bucket is the sum over its member series of each series' value
in that bucket** — never a mean over the members, never a sum of per-member percentiles. Every statement below
first aggregates per bucket per member (``GROUP BY time(5m), "line", "device", "interface"``), then sums the
members per bucket per line, then aggregates over the period. For a line of one member series these
*member-sum statements* give exactly what the plain per-line statements give, and InfluxDB 1.x answers the
plain ones faster (``python -m bench usage-members``; it re-runs a subquery for every field read from it): so the
member series of every line are counted first (``members_statement``), lines of one series are measured by the
plain statements, and the member-sum statements run for the other lines only (a line filter).

What the queries compute (``line_traffic``, docs/schema.md), per line, over ``[period start, next period
start)``:

* **95th percentile** (burstable billing): per member the 5-minute means of ``in_bps`` and ``out_bps``, summed
  over the members per bucket, then the contract's direction — ``max(in, out)`` per sample
  (``(i + o + |i − o|) / 2``), ``in``, ``out`` or ``in + out`` — then the top 5 % of the samples dropped: with
  N five-minute samples, the billed value is the (⌊0.05·N⌋+1)-th highest. InfluxDB returns only the top
  ⌊0.05·N_max⌋+1 values per line (``TOP``) and the sample count (``COUNT``); the pick happens here. This is
  the carriers' "drop the top 5 %" definition, exact for any N (InfluxQL's ``PERCENTILE`` rounds the rank
  instead).
* **volume**: ``SUM(in_bps × interval_s) / 8`` bytes in and out — exactly the octets the counters moved (a sum
  over every member's samples: additive already).
* **mean** in/out bit rate: the sum of the members' means. **Peak utilization**: the highest per-bucket sum of
  the members' ``*_util_pct`` (each member's highest sample in the bucket; with the default 5-minute cycle one
  sample per member per bucket). The last contracted capacity.
* **availability** from ``oper_status``: a sample with ``oper_status ≠ up`` while ``admin_status = up`` is
  down. Per 5-minute bucket, the line's down samples are the *fewest* down samples of any member present in
  the bucket: the line is down only while **all** its members are down (a LAG or a primary/backup pair with one
  member up is available); a member without data in a bucket does not count. Each down sample counts for one
  sample spacing (the covered time divided by the samples of one member: the line's samples over its member
  series); 5-minute buckets without any sample are *no data* and reported separately, not as
  downtime. Availability = 1 − down / covered time. Availability is measured **over the line's days in
  service only** (``service``: install..termination within the period): an interface that is down before the
  install or after the termination is not an outage. Overlap is resolved per bucket: two members down in the
  same bucket at different minutes count as down for the shorter of the two.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import NamedTuple

from billing_etl.model import Period
from linewatch.choices import UsageDirection
from linewatch.influx import InfluxClient
from linewatch.influx.influxql import exact_regex
from linewatch.inventory import Line

BUCKET_S = 300
MEASUREMENT = "line_traffic"

MEMBER_TAGS = '"device", "interface"'  # with "line": one series per member interface of a line

# The contract's direction over one series per line (a single-member line): 5-minute means.
_PLAIN_EXPR = {
    UsageDirection.IN: "MEAN(in_bps)",
    UsageDirection.OUT: "MEAN(out_bps)",
    UsageDirection.SUM: "MEAN(in_bps) + MEAN(out_bps)",
    UsageDirection.MAX: "(MEAN(in_bps) + MEAN(out_bps) + ABS(MEAN(in_bps) - MEAN(out_bps))) / 2",
}

# The same over the members' per-bucket sums: (per member per bucket, per line per bucket over those). As few
# fields and SUM()s as the direction needs: InfluxDB 1.x re-runs the inner statement for every field the outer
# one reads.
_MEMBER_EXPR = {
    UsageDirection.IN: ("MEAN(in_bps) AS i", "SUM(i)"),
    UsageDirection.OUT: ("MEAN(out_bps) AS o", "SUM(o)"),
    UsageDirection.SUM: ("MEAN(in_bps) + MEAN(out_bps) AS s", "SUM(s)"),
    UsageDirection.MAX: (
        "MEAN(in_bps) AS i, MEAN(out_bps) AS o",
        "(SUM(i) + SUM(o) + ABS(SUM(i) - SUM(o))) / 2",
    ),
}

# 1 for a sample that is down (oper ≠ up while admin = up), else 0: ``1 % x`` is 0 for x = 1 and 1 for any
# larger status (IF-MIB statuses are integers ≥ 1). InfluxDB 1.6 evaluates ABS() of a raw (non-aggregated)
# expression wrongly, so the indicator is built from ``%`` alone.
_DOWN_EXPR = "(1 % oper_status) * (1 - 1 % admin_status)"


class Span(NamedTuple):
    """A window ``[start_s, end_s)`` of whole days (a contract segment); a :class:`Period` is one too."""

    start_s: int
    end_s: int

    @classmethod
    def of_days(cls, first: dt.date, last: dt.date) -> Span:
        return cls(day_start_s(first), day_start_s(last) + 86400)


Window = Period | Span


@dataclass(frozen=True)
class SegmentUsage:
    """Usage of a line over the days ``first_day..last_day`` (ISO dates) of a period under one set of contract
    terms: the 95th percentile of that segment's own 5-minute samples, and its volume."""

    first_day: str
    last_day: str
    samples_5m: int
    p95_bps: float | None
    in_bytes: float
    out_bytes: float


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
    # Per contract segment, only for a period in which the contract's usage terms change (see
    # billing_etl.proration.usage_segments); empty otherwise.
    segments: tuple[SegmentUsage, ...] = field(default=())

    def __post_init__(self) -> None:
        # Read back from the store (JSON): the segments come as a list of dicts.
        parsed = tuple(SegmentUsage(**s) if isinstance(s, dict) else s for s in self.segments)
        object.__setattr__(self, "segments", parsed)

    @property
    def has_data(self) -> bool:
        return self.samples_5m > 0

    def segment(self, key: tuple[str, str]) -> SegmentUsage | None:
        """The measured segment ``(first_day, last_day)`` (ISO dates), or None."""
        return next((s for s in self.segments if (s.first_day, s.last_day) == key), None)

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


def day_start_s(day: dt.date) -> int:
    """Epoch seconds of ``day``'s first moment (UTC, as the periods are)."""
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
    return f' AND "line" =~ {exact_regex(lines)}'


def _window(period: Window) -> str:
    return f"time >= {period.start_s}s AND time < {period.end_s}s"


def _member_sums(where: str, inner: str, summed: str) -> str:
    """Per 5-minute bucket per line: ``summed`` (an expression of ``SUM``s) over the members' ``inner``
    aggregates of that bucket, as ``v``."""
    members = (
        f'SELECT {inner} FROM "{MEASUREMENT}" WHERE {where} '
        f'GROUP BY time({BUCKET_S}s), "line", {MEMBER_TAGS} fill(none)'
    )
    return f'SELECT {summed} AS v FROM ({members}) GROUP BY time({BUCKET_S}s), "line" fill(none)'


def line_buckets(where: str, direction: UsageDirection, *, members: bool = False) -> str:
    """Every line's 5-minute values ``v`` of ``direction`` within ``where``; ``members``: the per-bucket sum of
    the member series' means (a multi-member line), else the line's one series."""
    if members:
        return _member_sums(where, *_MEMBER_EXPR[direction])
    return (
        f'SELECT {_PLAIN_EXPR[direction]} AS v FROM "{MEASUREMENT}" WHERE {where} '
        f'GROUP BY time({BUCKET_S}s), "line" fill(none)'
    )


def p95_statements(
    period: Window, direction: UsageDirection, lines: Iterable[str] | None, *, members: bool = False
) -> list[str]:
    """The top ⌊0.05·N_max⌋+1 five-minute direction values per line in ``period`` (a month or a segment's
    days; ``lines=None``: every line; ``members``: of the members' per-bucket sums, for lines of several member
    series)."""
    where = _window(period) + _line_filter(lines)
    buckets = (period.end_s - period.start_s) // BUCKET_S
    k = buckets * 5 // 100 + 1
    return [
        f'SELECT TOP(v, {k}) AS v FROM ({line_buckets(where, direction, members=members)}) GROUP BY "line"'
    ]


def samples_statement(where: str) -> str:
    """N per line, the 5-minute buckets holding a value (of any member): the collector writes in_bps and
    out_bps together (both or neither), so the buckets holding in_bps are the buckets of every direction."""
    return (
        f'SELECT COUNT(i) AS n FROM (SELECT MEAN(in_bps) AS i FROM "{MEASUREMENT}" WHERE {where} '
        f'GROUP BY time({BUCKET_S}s), "line" fill(none)) GROUP BY "line"'
    )


def members_statement(where: str) -> str:
    """Samples per member series: how many series carry each line, and its samples."""
    return f'SELECT COUNT(oper_status) AS samples FROM "{MEASUREMENT}" WHERE {where} GROUP BY "line", {MEMBER_TAGS}'


def availability_statements(start_s: int, end_s: int, lines: Iterable[str] | None) -> list[str]:
    """Samples per member, down samples and covered 5-minute buckets of ``lines`` within ``[start_s, end_s)``
    (the period, or a line's days in service when they are not the whole period). The down samples are
    right for lines of one member series; :func:`member_down_statement` counts those of the others."""
    where = f"time >= {start_s}s AND time < {end_s}s" + _line_filter(lines)
    return [
        members_statement(where),
        (
            f'SELECT COUNT(oper_status) AS down FROM "{MEASUREMENT}" WHERE {where} AND oper_status <> 1 '
            f'AND admin_status = 1 GROUP BY "line"'
        ),
        (
            f'SELECT COUNT(c) AS buckets FROM (SELECT COUNT(oper_status) AS c FROM "{MEASUREMENT}" WHERE '
            f'{where} GROUP BY time({BUCKET_S}s), "line" fill(none)) GROUP BY "line"'
        ),
    ]


def down_buckets_statement(start_s: int, end_s: int, lines: Iterable[str]) -> str:
    """Per 5-minute bucket per line, its down samples ``d``: the fewest down samples of any member present in
    the bucket (0 when one member has none: the line is down only while all its members are)."""
    where = f"time >= {start_s}s AND time < {end_s}s" + _line_filter(lines)
    raw = f'SELECT {_DOWN_EXPR} AS down FROM "{MEASUREMENT}" WHERE {where}'
    members = (
        f'SELECT SUM(down) AS d FROM ({raw}) GROUP BY time({BUCKET_S}s), "line", {MEMBER_TAGS} fill(none)'
    )
    return f'SELECT MIN(d) AS d FROM ({members}) GROUP BY time({BUCKET_S}s), "line" fill(none)'


def member_down_statement(start_s: int, end_s: int, lines: Iterable[str]) -> str:
    """Down samples of multi-member ``lines`` over the window (:func:`down_buckets_statement` summed)."""
    return f'SELECT SUM(d) AS down FROM ({down_buckets_statement(start_s, end_s, lines)}) GROUP BY "line"'


def member_peak_statements(period: Period, lines: Iterable[str]) -> list[str]:
    """Peak utilization in and out of multi-member ``lines``: the highest per-bucket sum of the members'
    utilization (each member's highest sample of the bucket), one statement per direction (cheaper in
    InfluxDB 1.x than one statement for both)."""
    where = _window(period) + _line_filter(lines)
    return [
        f'SELECT MAX(v) AS peak FROM ({_member_sums(where, f"MAX({field}) AS u", "SUM(u)")}) GROUP BY "line"'
        for field in ("in_util_pct", "out_util_pct")
    ]


def stats_statements(period: Period) -> list[str]:
    """Mean rates (the sum of the members' means), peak and capacity, volume, and N (the 95th percentile's
    sample count) for every line of the period, in this order. The peak is right for lines of one member
    series; :func:`member_peak_statements` measures the others."""
    where = _window(period)
    return [
        (
            f"SELECT SUM(mi) AS mean_in, SUM(mo) AS mean_out FROM (SELECT MEAN(in_bps) AS mi, MEAN(out_bps) AS mo "
            f'FROM "{MEASUREMENT}" WHERE {where} GROUP BY "line", {MEMBER_TAGS}) GROUP BY "line"'
        ),
        (
            f"SELECT MAX(in_util_pct) AS peak_in, MAX(out_util_pct) AS peak_out, COUNT(oper_status) AS samples, "
            f'LAST(capacity_bps) AS capacity FROM "{MEASUREMENT}" WHERE {where} GROUP BY "line"'
        ),
        volume_statement(where),
        samples_statement(where),
    ]


def volume_statement(where: str) -> str:
    """Bits moved in and out per line within ``where`` (every member's samples: additive)."""
    return (
        f"SELECT SUM(x) AS in_bits, SUM(y) AS out_bits FROM (SELECT in_bps * interval_s AS x, "
        f'out_bps * interval_s AS y FROM "{MEASUREMENT}" WHERE {where}) GROUP BY "line"'
    )


def _availability(
    samples: float, down_samples: int, covered_buckets: int, window_buckets: int
) -> tuple[float, float, float | None]:
    """(down minutes, no-data minutes, availability %) from the counts of one window; ``samples``: of one
    member (a multi-member line's samples divided by its member series)."""
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
    """Every InfluxQL statement the usage of a period of single-member lines needs (also what the benchmark
    runs bare); multi-member lines add :func:`p95_statements` (``members=True``), :func:`member_peak_statements`
    and :func:`member_down_statement` for them."""
    statements = []
    for direction, lines in direction_groups(directions):
        statements += p95_statements(period, direction, lines)
    return statements + stats_statements(period) + availability_statements(period.start_s, period.end_s, None)


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


def _int(row: Mapping[str, object] | None, key: str) -> int:
    return int((row or {}).get(key) or 0)  # type: ignore[call-overload]


@dataclass(frozen=True)
class MemberSeries:
    """How many series (device, interface) carry a line in a window, and their samples."""

    series: int
    samples: int


def _members_from(series: list[dict[str, object]]) -> dict[str, MemberSeries]:
    out: dict[str, MemberSeries] = {}
    for s in series:
        line = s["tags"].get("line")  # type: ignore[union-attr]
        row = dict(zip(s["columns"], s["values"][0], strict=False)) if s["values"] else {}  # type: ignore[arg-type]
        samples = int(row.get("samples") or 0)
        if line is not None and samples:
            seen = out.get(line, MemberSeries(0, 0))
            out[line] = MemberSeries(seen.series + 1, seen.samples + samples)
    return out


def member_series(client: InfluxClient, where: str) -> dict[str, MemberSeries]:
    """:class:`MemberSeries` of every line with samples within ``where``. Raises InfluxError."""
    return _members_from(client.query(members_statement(where)))


def _multi(members: Mapping[str, MemberSeries], lines: Iterable[str]) -> list[str]:
    return sorted(line for line in lines if members.get(line, MemberSeries(0, 0)).series > 1)


def measure_p95(
    client: InfluxClient,
    period: Window,
    directions: Mapping[str, UsageDirection],
    *,
    counts: Mapping[str, int] | None = None,
    multi: Iterable[str] | None = None,
) -> dict[str, tuple[int, float | None]]:
    """``(N, 95th percentile)`` of each line of ``directions`` in ``period``: the billed value of the
    per-bucket member sums (what billing bills and the line page shows). ``counts``: N per line, ``multi``: the
    lines of several member series, when already queried. Lines without data are absent. Raises InfluxError."""
    where = _window(period) + _line_filter(directions)
    if counts is None:
        counts = {
            line: _int(row, "n") for line, row in _by_line(client.query(samples_statement(where))).items()
        }
    multi = set(_multi(member_series(client, where), directions) if multi is None else multi)
    out: dict[str, tuple[int, float | None]] = {}

    def pick(statement: str, wanted: set[str]) -> None:
        for s in client.query(statement):
            line = s["tags"].get("line")
            if line in wanted:
                idx = s["columns"].index("v")
                top = sorted((float(v[idx]) for v in s["values"] if v[idx] is not None), reverse=True)
                out[line] = (counts.get(line, 0), burstable_p95(top, counts.get(line, 0)))

    for direction, group in direction_groups(directions):
        wanted = set(group) if group is not None else {ln for ln, d in directions.items() if d == direction}
        [top_q] = p95_statements(period, direction, group)
        pick(top_q, wanted - multi)
    for direction, group in direction_groups({ln: directions[ln] for ln in multi if ln in directions}):
        group = group if group is not None else sorted(ln for ln in multi if directions.get(ln) == direction)
        [top_q] = p95_statements(period, direction, group, members=True)
        pick(top_q, set(group))
    return out


@dataclass(frozen=True)
class _Counts:
    samples: float  # of one member series (a multi-member line: its samples / its series)
    down: int
    buckets: int


def _availability_counts(
    client: InfluxClient, start_s: int, end_s: int, lines: Iterable[str] | None
) -> tuple[dict[str, _Counts], dict[str, MemberSeries]]:
    """Availability counts per line within ``[start_s, end_s)``, and the lines' member series there."""
    members_q, down_q, buckets_q = availability_statements(start_s, end_s, lines)
    members = _members_from(client.query(members_q))
    down = {line: _int(row, "down") for line, row in _by_line(client.query(down_q)).items()}
    multi = _multi(members, members)
    if multi:
        for line in multi:
            down.pop(line, None)
        down.update(
            (line, _int(row, "down"))
            for line, row in _by_line(client.query(member_down_statement(start_s, end_s, multi))).items()
        )
    buckets = {line: _int(row, "buckets") for line, row in _by_line(client.query(buckets_q)).items()}
    out = {
        line: _Counts(m.samples / m.series, down.get(line, 0), buckets.get(line, 0))
        for line, m in members.items()
    }
    return out, members


def measure_usage(
    client: InfluxClient,
    period: Period,
    lines: Iterable[str],
    directions: Mapping[str, UsageDirection] | None = None,
    *,
    service: Mapping[str, ServiceDays] | None = None,
    segments: Mapping[str, Sequence[tuple[dt.date, dt.date]]] | None = None,
) -> dict[str, LineUsage]:
    """Usage of ``lines`` in ``period``; ``directions`` per line (default max(in, out)). Raises
    InfluxError.

    ``service`` (see :func:`service_windows`): a line's days in service; its availability, downtime and
    no-data time are measured over those days only, and a line not in service at all in the period has no
    availability (``None``). Lines missing from ``service`` are measured over the whole period.

    ``segments``: for a line whose contract's usage terms change inside the period, its days cut where they
    change (:func:`billing_etl.proration.usage_segments`); each is measured on its own (95th percentile of its
    5-minute samples, volume) into ``LineUsage.segments``.
    """
    lines = sorted(set(lines))
    want = {line: (directions or {}).get(line, UsageDirection.MAX) for line in lines}
    means_q, stats_q, volume_q, n_q = stats_statements(period)
    counted, members = _availability_counts(client, period.start_s, period.end_s, None)
    multi = _multi(members, lines)
    counts = {line: _int(row, "n") for line, row in _by_line(client.query(n_q)).items()}
    p95 = measure_p95(client, period, want, counts=counts, multi=multi)
    means = _by_line(client.query(means_q))
    stats = _by_line(client.query(stats_q))
    volume = _by_line(client.query(volume_q))
    if multi:
        peak_in_q, peak_out_q = member_peak_statements(period, multi)
        for key, statement in (("peak_in", peak_in_q), ("peak_out", peak_out_q)):
            for line in multi:
                if line in stats:
                    stats[line] = {**stats[line], key: None}
            for line, row in _by_line(client.query(statement)).items():
                if line in stats:
                    stats[line] = {**stats[line], key: row.get("peak")}
    period_buckets = (period.end_s - period.start_s) // BUCKET_S
    out: dict[str, LineUsage] = {}
    for line in lines:
        direction = want[line]
        if line not in stats:
            out[line] = LineUsage.no_data(line, period, direction)
            continue
        row = {**stats[line], **means.get(line, {})}
        c = counted.get(line, _Counts(0, 0, 0))
        down_min, no_data_min, availability = _availability(c.samples, c.down, c.buckets, period_buckets)
        peaks = [p for p in (_num(row.get("peak_in")), _num(row.get("peak_out"))) if p is not None]
        capacity = _num(row.get("capacity"))
        out[line] = LineUsage(
            line=line,
            period=str(period),
            direction=direction.value,
            samples_5m=counts.get(line, 0),
            p95_bps=p95.get(line, (0, None))[1],
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
    _measure_segments(client, out, segments or {}, want)
    return out


def _measure_segments(
    client: InfluxClient,
    out: dict[str, LineUsage],
    segments: Mapping[str, Sequence[tuple[dt.date, dt.date]]],
    directions: Mapping[str, UsageDirection],
) -> None:
    """Fill ``segments`` of the lines of ``segments`` (lines with data only), one query set per window."""
    windows: dict[tuple[dt.date, dt.date], list[str]] = {}
    for line, days in segments.items():
        if line in out and out[line].has_data:
            for first, last in days:
                windows.setdefault((first, last), []).append(line)
    measured: dict[str, list[SegmentUsage]] = {}
    for (first, last), group in sorted(windows.items()):
        span = Span.of_days(first, last)
        p95 = measure_p95(client, span, {line: directions[line] for line in group})
        volume = _by_line(client.query(volume_statement(_window(span) + _line_filter(group))))
        for line in group:
            n, value = p95.get(line, (0, None))
            bits = volume.get(line, {})
            measured.setdefault(line, []).append(
                SegmentUsage(
                    first_day=first.isoformat(),
                    last_day=last.isoformat(),
                    samples_5m=n,
                    p95_bps=value,
                    in_bytes=(_num(bits.get("in_bits")) or 0.0) / 8,
                    out_bytes=(_num(bits.get("out_bits")) or 0.0) / 8,
                )
            )
    for line, parts in measured.items():
        out[line] = replace(out[line], segments=tuple(sorted(parts, key=lambda s: s.first_day)))


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
        start_s, end_s = day_start_s(days[0]), day_start_s(days[1]) + 86400
        if (start_s, end_s) != (period.start_s, period.end_s):
            windows.setdefault((start_s, end_s), []).append(line)
    for (start_s, end_s), group in sorted(windows.items()):
        counted, _ = _availability_counts(client, start_s, end_s, group)
        for line in group:
            c = counted.get(line, _Counts(0, 0, 0))
            down_min, no_data_min, availability = _availability(
                c.samples, c.down, c.buckets, (end_s - start_s) // BUCKET_S
            )
            out[line] = replace(
                out[line], down_minutes=down_min, no_data_minutes=no_data_min, availability_pct=availability
            )
