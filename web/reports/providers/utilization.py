"""Monthly utilization of a department's lines (the department-monthly report): per line the month's 95th
percentile and busy-hour peak of ``max(in, out)`` utilization in percent of the contracted capacity, the change
against the previous month, and for the department an hour-of-day × weekday heatmap and its usage pattern (night
and weekend share, peak hour and weekday, month-over-month change: :mod:`linewatch.trends.patterns`).

The figures come from ``line_traffic`` (docs/schema.md) in one grouped statement for all the report's lines:
per member the 5-minute means of ``in_util_pct`` and ``out_util_pct`` (each member's share of the line's
contracted capacity at the sample's time), summed over the members per bucket, then ``max(in, out)`` per bucket.
Days (busy hour, heatmap) are the report's time zone's days (``ReportContext.tz``; sites carry no zone).
Definitions (docs/reports.md): *p95* is the 95th percentile of the month's 5-minute samples; the *busy hour* of a
day is its highest hourly mean (:func:`linewatch.trends.series.daily_profile`), the *busy-hour peak* the month's
highest busy hour.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from linewatch.choices import UTILIZATION_WARNING_PCT
from linewatch.influx import InfluxClient
from linewatch.influx.influxql import exact_regex
from web.reports.blocks import Chart, Figure, Table, Text
from web.reports.providers import common

BUCKET_S = 300
P95_QUANTILE = 0.95


def utilization_statements(lines: Sequence[str], *, start_s: int, end_s: int,
                           multi_member: Sequence[str] = ()) -> list[str]:
    """Per line and 5-minute bucket the in and out utilization (docs/schema.md ``line_traffic``): a plain mean for
    the lines of one member series, the member-sum statement (each member's mean, summed per bucket) for the
    ``multi_member`` lines — InfluxDB 1.x answers the plain form several times faster (billing_etl/usage.py)."""
    window = f"time >= {start_s}s AND time < {end_s}s"
    every = f"time({BUCKET_S}s)"
    means = 'mean("in_util_pct") AS i, mean("out_util_pct") AS o'
    single = [line for line in lines if line not in set(multi_member)]
    several = [line for line in lines if line in set(multi_member)]
    out = []
    if single:
        out.append(f'SELECT {means} FROM "line_traffic" WHERE {window} AND "line" =~ {exact_regex(single)} '
                   f'GROUP BY {every}, "line" fill(none)')
    if several:
        inner = (f'SELECT {means} FROM "line_traffic" WHERE {window} AND "line" =~ {exact_regex(several)} '
                 f'GROUP BY {every}, "line", "device", "interface" fill(none)')
        out.append(f'SELECT sum(i) AS i, sum(o) AS o FROM ({inner}) WHERE {window} GROUP BY {every}, "line" '
                   f'fill(none)')
    return out


def read_utilization(client: InfluxClient, lines: Sequence[str], *, start_s: int, end_s: int,
                     multi_member: Sequence[str] = ()) -> pd.DataFrame:
    """Long frame ``line, time (UTC), value`` — each line's ``max(in, out)`` utilization (%) per 5-minute bucket
    of ``[start_s, end_s)``; empty (same columns) when the lines have no traffic. Raises InfluxError."""
    frames = [client.query_frame(q) for q in utilization_statements(lines, start_s=start_s, end_s=end_s,
                                                                     multi_member=multi_member)]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return _empty_long()
    frame = pd.concat(frames, ignore_index=True)
    values = frame[["i", "o"]].astype("float64")
    out = pd.DataFrame({"line": frame["line"].astype("object"), "time": frame["time"],
                        "value": values.max(axis=1, skipna=True)})
    return out.dropna(subset=["value"]).sort_values(["line", "time"], ignore_index=True)


def read_lines(client: InfluxClient, lines: Sequence[common.ReportLine], *, start_s: int,
               end_s: int) -> pd.DataFrame:
    """:func:`read_utilization` of the report's lines (their member counts from the inventory)."""
    return read_utilization(client, [line.name for line in lines], start_s=start_s, end_s=end_s,
                            multi_member=[line.name for line in lines if line.members > 1])


@dataclass(frozen=True)
class LineMonth:
    """One line's month: utilization in percent of its contracted capacity (None: no samples)."""

    line: str
    samples: int
    mean_pct: float | None
    p95_pct: float | None
    busy_hour_pct: float | None  # the month's highest busy hour
    busy_hour_day: dt.date | None
    previous_p95_pct: float | None
    previous_busy_hour_pct: float | None

    @property
    def p95_change_pt(self) -> float | None:
        if self.p95_pct is None or self.previous_p95_pct is None:
            return None
        return self.p95_pct - self.previous_p95_pct


def _window(frame: pd.DataFrame, start_s: int, end_s: int) -> pd.DataFrame:
    start = pd.Timestamp(start_s, unit="s", tz="UTC")
    end = pd.Timestamp(end_s, unit="s", tz="UTC")
    return frame[(frame["time"] >= start) & (frame["time"] < end)]


def _p95(values: pd.Series) -> float | None:
    return float(np.quantile(values.to_numpy(dtype="float64"), P95_QUANTILE)) if len(values) else None


def _busy_hour(values: pd.DataFrame, tz: ZoneInfo) -> tuple[float | None, dt.date | None]:
    """The highest daily busy hour of one line's samples and its day (T1's :func:`daily_profile`)."""
    from linewatch.trends.series import daily_profile

    if values.empty:
        return None, None
    series = pd.Series(values["value"].to_numpy(dtype="float64"),
                       index=pd.DatetimeIndex(values["time"]).tz_convert(tz))
    daily = daily_profile(series)["busy_hour_pct"].dropna()
    if daily.empty:
        return None, None
    day = daily.idxmax()
    return float(daily.max()), day.date()


def line_months(frame: pd.DataFrame, lines: Sequence[str], *, start_s: int, end_s: int, previous_start_s: int,
                tz: ZoneInfo) -> list[LineMonth]:
    """Each of ``lines``' month ``[start_s, end_s)`` against the previous one ``[previous_start_s, start_s)``
    from :func:`read_utilization`'s frame (a line without samples has None figures). Pure."""
    now = _window(frame, start_s, end_s)
    before = _window(frame, previous_start_s, start_s)
    now_by = {line: rows for line, rows in now.groupby("line")}
    before_by = {line: rows for line, rows in before.groupby("line")}
    out = []
    for line in lines:
        rows = now_by.get(line, now.iloc[0:0])
        prev = before_by.get(line, before.iloc[0:0])
        busy, day = _busy_hour(rows, tz)
        prev_busy, _ = _busy_hour(prev, tz)
        out.append(LineMonth(line=line, samples=len(rows),
                             mean_pct=float(rows["value"].mean()) if len(rows) else None,
                             p95_pct=_p95(rows["value"]), busy_hour_pct=busy, busy_hour_day=day,
                             previous_p95_pct=_p95(prev["value"]), previous_busy_hour_pct=prev_busy))
    return out


def hourly(frame: pd.DataFrame) -> pd.DataFrame:
    """Hourly means per line (``line, time, value``): the resolution the heatmap and the usage pattern read."""
    if frame.empty:
        return frame
    hours = frame.assign(time=frame["time"].dt.floor("h"))
    return hours.groupby(["line", "time"], as_index=False)["value"].mean()


# -- blocks ------------------------------------------------------------------------------------------------------

def _weekday(index: int | None) -> str:
    from django.utils.dates import WEEKDAYS

    return "–" if index is None else str(WEEKDAYS[index])


def _hour(index: int | None) -> str:
    return "–" if index is None else f"{index:02d}:00–{(index + 1) % 24:02d}:00"


def _share(value: float | None) -> str:
    return common.pct(None if value is None else 100.0 * value)


def pattern_figures(pattern: Any) -> list[Figure]:
    """A usage pattern (:class:`linewatch.trends.patterns.UsagePattern`) as key figures."""
    mom = pattern.mom_change_pct
    return [
        Figure(label=_("Night share (22:00–06:00)"), value=_share(pattern.night_share)),
        Figure(label=_("Weekend share"), value=_share(pattern.weekend_share)),
        Figure(label=_("Peak hour"), value=_hour(pattern.peak_hour)),
        Figure(label=_("Peak weekday"), value=_weekday(pattern.peak_weekday)),
        Figure(label=_("Mean utilization, month over month"), value=common.change_pct(mom) or "–",
               tone="neutral" if mom is None else "warning" if mom >= 10 else "good"),
    ]


def lines_table(months: Sequence[LineMonth], lines: Sequence[common.ReportLine], *,
                with_department: bool = True) -> Table:
    """The lines by busy-hour peak (highest first); the department column only in a report of all of them."""
    info = {line.name: line for line in lines}
    rows = [[m.line, info[m.line].department, info[m.line].carrier, info[m.line].capacity_bps / 1e6, m.p95_pct,
             m.p95_change_pt, m.busy_hour_pct, m.busy_hour_day, m.mean_pct] for m in months]
    rows.sort(key=lambda r: (-(r[6] if r[6] is not None else -1.0), r[0]))
    columns = [_("Line"), _("Department"), _("Carrier"), _("Capacity (Mbit/s)"), _("p95 (%)"),
               _("p95 change (pt)"), _("Busy-hour peak (%)"), _("Peak day"), _("Mean (%)")]
    numeric = {3, 4, 5, 6, 8}
    if not with_department:
        columns, rows = columns[:1] + columns[2:], [r[:1] + r[2:] for r in rows]
        numeric = {i - 1 for i in numeric}
    return Table(title=_("Lines"), columns=columns, rows=rows, numeric=numeric,
                 note=_("Utilization: max(in, out) in percent of the contracted capacity; p95: the month's 95th "
                        "percentile of 5-minute samples; busy hour: a day's highest hourly mean; change against "
                        "the previous month."))


def month_pattern(hours: pd.DataFrame, *, start_s: int, end_s: int, tz: str, month: str) -> Any:
    """The month's usage pattern (shares, peaks: the month's own hours) with its month-over-month change (from
    ``hours``, which also holds the month before). :func:`linewatch.trends.patterns.usage_pattern`."""
    from linewatch.trends.patterns import usage_pattern

    own = usage_pattern(_window(hours, start_s, end_s), tz=tz)
    return replace(own, mom_change_pct=usage_pattern(hours, tz=tz, month=month).mom_change_pct, month=month)


def departments_table(hours: pd.DataFrame, months: Sequence[LineMonth], lines: Sequence[common.ReportLine], *,
                      start_s: int, end_s: int, tz: str, month: str) -> Table:
    """Per department: lines, lines at 80 % in the busy hour, the highest busy hour, and its usage pattern."""
    department_of = {line.name: line.department for line in lines}
    rows = []
    for department in sorted({line.department for line in lines}):
        mine = [m for m in months if department_of[m.line] == department]
        busy = [m.busy_hour_pct for m in mine if m.busy_hour_pct is not None]
        own = hours[hours["line"].isin([m.line for m in mine])]
        p = month_pattern(own, start_s=start_s, end_s=end_s, tz=tz, month=month)
        rows.append([department, len(mine), sum(1 for b in busy if b >= UTILIZATION_WARNING_PCT),
                     max(busy) if busy else None,
                     None if p.night_share is None else 100.0 * p.night_share,
                     None if p.weekend_share is None else 100.0 * p.weekend_share,
                     _hour(p.peak_hour), p.mom_change_pct])
    return Table(title=_("Departments"),
                 columns=[_("Department"), _("Lines"), _("Busy hour ≥ 80 %"), _("Highest busy hour (%)"),
                          _("Night share (%)"), _("Weekend share (%)"), _("Peak hour"),
                          _("Mean, month over month (%)")],
                 rows=rows, numeric={1, 2, 3, 4, 5, 7})


def heatmap_chart(frame: pd.DataFrame, *, tz: str, title: str, language: str) -> Chart | Text:
    """The hour-of-day × weekday heatmap of the month's hourly means (:func:`linewatch.trends.patterns.heatmap`)."""
    from linewatch.trends.patterns import heatmap
    from web.reports import charts

    if frame.empty:
        return Text(body=_("No traffic recorded for these lines in the month."))
    svg = charts.heatmap_chart(heatmap(frame, tz=tz), language=language, value_label=_("Utilization (%)"))
    return Chart(title=title, svg=svg, note=_("Mean utilization by weekday and hour of day (%(tz)s).") % {"tz": tz})


def busy_hour_chart(months: Sequence[LineMonth]) -> Chart | Text:
    """The lines' busy-hour peaks and p95 as bars, with the 80 % line."""
    from web.reports import charts

    shown = [m for m in months if m.busy_hour_pct is not None]
    if not shown:
        return Text(body=_("No traffic recorded for these lines in the month."))
    shown.sort(key=lambda m: -(m.busy_hour_pct or 0.0))
    svg = charts.bar_chart([m.line for m in shown],
                           {_("Busy-hour peak (%)"): [m.busy_hour_pct for m in shown],
                            _("p95 (%)"): [m.p95_pct for m in shown]},
                           y_label=_("Utilization (%)"), level=UTILIZATION_WARNING_PCT, horizontal=True)
    return Chart(title=_("Busy-hour peak and p95 per line"), svg=svg)


def provide(ctx: Any) -> dict[str, Any]:
    """Provider ``utilization``: figures ``util_summary`` and ``pattern`` (lists), tables ``lines`` and
    ``departments``, charts ``heatmap`` and ``busy_hours_chart`` (a text when there is no traffic)."""
    lines = common.report_lines(ctx.department)
    names = [line.name for line in lines]
    start_s, end_s = common.period_s(ctx)
    previous_start_s, _previous_end_s = common.period_s(ctx, shift=-1)
    with common.influx(ctx) as client:
        frame = read_lines(client, lines, start_s=previous_start_s, end_s=end_s)
    tz, month = str(ctx.tz), ctx.period.key
    months = line_months(frame, names, start_s=start_s, end_s=end_s, previous_start_s=previous_start_s, tz=ctx.tz)
    hours = hourly(frame)
    pattern = month_pattern(hours, start_s=start_s, end_s=end_s, tz=tz, month=month)
    busy = [m.busy_hour_pct for m in months if m.busy_hour_pct is not None]
    at_80 = sum(1 for b in busy if b >= UTILIZATION_WARNING_PCT)
    top = max(months, key=lambda m: m.busy_hour_pct if m.busy_hour_pct is not None else -1.0, default=None)
    summary = [
        Figure(label=_("Lines"), value=f"{len(lines):,}"),
        Figure(label=_("Lines with a busy hour at 80 %"), value=f"{at_80:,}", tone="warning" if at_80 else "good"),
        Figure(label=_("Highest busy hour"),
               value=(f"{common.pct(top.busy_hour_pct)} ({top.line})" if top and top.busy_hour_pct is not None
                      else "–"), tone=common.tone_for_util(top.busy_hour_pct if top else None),
               change=common.points(None if top is None or top.busy_hour_pct is None
                                    or top.previous_busy_hour_pct is None
                                    else top.busy_hour_pct - top.previous_busy_hour_pct)),
    ]
    title = (_("Usage by weekday and hour: %(department)s") % {"department": ctx.department} if ctx.department
             else _("Usage by weekday and hour: all departments"))
    return {"util_summary": summary, "pattern": pattern_figures(pattern), "lines": lines_table(months, lines, with_department=not ctx.department),
            "departments": departments_table(hours, months, lines, start_s=start_s, end_s=end_s, tz=tz,
                                             month=month),
            "heatmap": heatmap_chart(_window(hours, start_s, end_s), tz=tz, title=title, language=ctx.language),
            "busy_hours_chart": busy_hour_chart(months)}


def _empty_long() -> pd.DataFrame:
    return pd.DataFrame({"line": pd.Series(dtype="object"), "time": pd.Series(dtype="datetime64[ns, UTC]"),
                         "value": pd.Series(dtype="float64")})
