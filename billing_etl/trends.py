"""The trends job (``linewatch trends run``): daily figures, forecasts and projected bills of every line into InfluxDB.

One run, for every polled line at once (grouped InfluxQL, never a query per line):

1. **Daily actuals** (``line_trend``): each line's 5-minute max(in, out) utilization (% of the contracted capacity;
   a line of several member series: the members' per-bucket sum, as docs/schema.md says) cut into UTC days by
   :func:`linewatch.trends.series.daily_profile` — 95th percentile and busy hour per complete day. Only the days
   not yet in ``line_trend`` are computed (the first run fills ``trends.history_days``), a week of samples per
   query, so a daily run reads one day of raw samples, not three months.
2. **Forecast** (``line_forecast``): the last ``history_days`` of daily busy-hour peaks fitted by
   :func:`linewatch.trends.forecast.fit_forecast` (``trends.method``), ``horizon_days`` ahead from today, with the
   ``interval_pct`` interval. The line's points are replaced (deleted, then written): the measurement holds the
   latest forecast only, and a line whose forecast fails keeps no stale one.
3. **Projection** (fields of ``line_outlook``): for burstable and volume-quota contracts, the month's bill from
   the month so far and the forecast's growth (:mod:`billing_etl.projection`).
4. **Outlook** (``line_outlook``, one point per line at the run's time): the last 7 days' busy-hour and p95 peaks,
   growth per month, days to each ``thresholds_pct`` level and the crossing dates with their interval, the
   projection. Read back with :func:`linewatch.trends.outlook.read_outlook`.

Days are UTC days: the inventory gives sites no time zone (docs/trends.md). A problem of one line (history too
short, no data) is reported for that line and the others carry on.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from billing_etl.labels import Label
from billing_etl.model import Period
from billing_etl.projection import REFERENCE_DAYS, Projection, project_line
from billing_etl.usage import BUCKET_S, MEASUREMENT, day_start_s, line_buckets, member_series
from linewatch.choices import Language, UsageDirection
from linewatch.errors import ConfigError
from linewatch.influx import InfluxClient, Point, encode_points
from linewatch.influx.influxql import exact_regex
from linewatch.inventory import Inventory, Line
from linewatch.settings import Settings
from linewatch.trends.forecast import Forecast, crossing, fit_forecast
from linewatch.trends.outlook import (
    FORECAST_MEASUREMENT,
    OUTLOOK_MEASUREMENT,
    TREND_MEASUREMENT,
    date_field,
    days_field,
)
from linewatch.trends.series import daily_profile

__all__ = ["TrendsReport", "run_trends", "util_statement"]

log = logging.getLogger(__name__)

_DAY = dt.timedelta(days=1)
CHUNK_DAYS = 7  # days of 5-minute samples per query (bounded answers: 2,016 values per line)
WRITE_CHUNK = 5000
RECENT_DAYS = 7  # the outlook's busy-hour and p95: the highest of the last week's days

# max(in, out) utilization per 5-minute bucket: of the line's one series, or of its members' per-bucket sums
_PLAIN_UTIL = (
    "(MEAN(in_util_pct) + MEAN(out_util_pct) + ABS(MEAN(in_util_pct) - MEAN(out_util_pct))) / 2"
)
_MEMBER_INNER = "MEAN(in_util_pct) AS i, MEAN(out_util_pct) AS o"
_MEMBER_OUTER = "(SUM(i) + SUM(o) + ABS(SUM(i) - SUM(o))) / 2"


@dataclass
class TrendsReport:
    """What a run did: counts of points written, the lines it could not forecast or project and why."""

    run_s: float
    lines: int = 0
    trend_points: int = 0
    forecast_points: int = 0
    outlook_points: int = 0
    forecasts: int = 0
    projections: int = 0
    problems: dict[str, str] = field(default_factory=dict)  # line -> reason (too short, no data, ...)
    notes: list[str] = field(default_factory=list)  # run-level remarks (no contracts: no projections)
    outlook: list[dict[str, object]] = field(default_factory=list)  # the outlook points' fields, per line

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def summary_text(self) -> str:
        """The CLI's few lines: counts, then one line per problem."""
        head = (
            f"trends: {self.lines} line(s), {self.trend_points} daily point(s), {self.forecasts} forecast(s) "
            f"({self.forecast_points} point(s)), {self.projections} projected bill(s), "
            f"{self.outlook_points} outlook point(s)"
        )
        return "\n".join([head, *self.notes, *(f"{line}: {why}" for line, why in sorted(self.problems.items()))])


# -- InfluxQL ---------------------------------------------------------------------------------------------------


def _where(start_s: int, end_s: int, lines: Iterable[str] | None) -> str:
    where = f"time >= {start_s}s AND time < {end_s}s"
    return where if lines is None else f'{where} AND "line" =~ {exact_regex(lines)}'


def util_statement(start_s: int, end_s: int, lines: Iterable[str], *, members: bool = False) -> str:
    """Every line's 5-minute max(in, out) utilization ``u`` within ``[start_s, end_s)`` (``members``: the sum of
    the member series per bucket, for lines carried by several interfaces)."""
    where = _where(start_s, end_s, lines)
    if members:
        inner = (
            f'SELECT {_MEMBER_INNER} FROM "{MEASUREMENT}" WHERE {where} '
            f'GROUP BY time({BUCKET_S}s), "line", "device", "interface" fill(none)'
        )
        return f'SELECT {_MEMBER_OUTER} AS u FROM ({inner}) GROUP BY time({BUCKET_S}s), "line" fill(none)'
    return (
        f'SELECT {_PLAIN_UTIL} AS u FROM "{MEASUREMENT}" WHERE {where} '
        f'GROUP BY time({BUCKET_S}s), "line" fill(none)'
    )


def daily_volume_statement(start_s: int, end_s: int, lines: Iterable[str]) -> str:
    """Bits moved in + out per line per UTC day (:func:`billing_etl.usage.volume_statement`, per day)."""
    return (
        f"SELECT SUM(x) AS bits FROM (SELECT in_bps * interval_s + out_bps * interval_s AS x "
        f'FROM "{MEASUREMENT}" WHERE {_where(start_s, end_s, lines)}) GROUP BY time(1d), "line" fill(none)'
    )


def _frame(client: InfluxClient, statement: str) -> pd.DataFrame:
    frame = client.query_frame(statement, epoch="s")
    return frame if not frame.empty and "line" in frame.columns else pd.DataFrame(columns=["time", "line"])


def _split(lines: Sequence[str], client: InfluxClient, start_s: int, end_s: int) -> tuple[list[str], list[str]]:
    """(lines of one member series, lines of several) within the window."""
    members = member_series(client, _where(start_s, end_s, lines))
    multi = sorted(line for line in lines if members.get(line) and members[line].series > 1)
    return sorted(set(lines) - set(multi)), multi


def _write(client: InfluxClient, points: list[Point]) -> None:
    for i in range(0, len(points), WRITE_CHUNK):
        client.write(encode_points(points[i : i + WRITE_CHUNK]))


# -- step 1: daily actuals ------------------------------------------------------------------------------------


def _last_trend_days(client: InfluxClient, lines: Sequence[str]) -> dict[str, dt.date]:
    frame = _frame(
        client,
        f'SELECT LAST(busy_hour_pct) AS b FROM "{TREND_MEASUREMENT}" WHERE "line" =~ {exact_regex(lines)} '
        'GROUP BY "line"',
    )
    return {row.line: row.time.date() for row in frame.itertuples()}


def _day_ns(day: dt.date) -> int:
    return day_start_s(day) * 10**9


def update_trend(client: InfluxClient, lines: Sequence[str], *, today: dt.date, history_days: int) -> int:
    """Compute and write ``line_trend`` for the complete days of ``lines`` not yet written (at most
    ``history_days`` back). Returns the points written."""
    oldest = today - _DAY * history_days
    last = _last_trend_days(client, lines)
    start = {line: max(oldest, last[line] + _DAY) if line in last else oldest for line in lines}
    pending = [line for line in lines if start[line] < today]
    if not pending:
        return 0
    first = min(start[line] for line in pending)
    single, multi = _split(pending, client, day_start_s(first), day_start_s(today))
    written = 0
    day = first
    while day < today:
        end = min(day + _DAY * CHUNK_DAYS, today)
        points: list[Point] = []
        for group, members in ((single, False), (multi, True)):
            wanted = [line for line in group if start[line] < end]
            if not wanted:
                continue
            frame = _frame(client, util_statement(day_start_s(day), day_start_s(end), wanted, members=members))
            for line, rows in frame.groupby("line", sort=True):
                series = pd.Series(rows["u"].to_numpy(dtype=float), index=pd.DatetimeIndex(rows["time"]))
                profile = daily_profile(series)
                for stamp, row in profile.iterrows():
                    d = stamp.date()
                    if d < start[line] or d >= today or not row["samples"]:
                        continue
                    fields = {"p95_pct": float(row["p95_pct"]), "busy_hour_pct": float(row["busy_hour_pct"]),
                              "samples": int(row["samples"])}
                    points.append(Point(TREND_MEASUREMENT, {"line": str(line)}, fields, _day_ns(d)))
        _write(client, points)
        written += len(points)
        day = end
    return written


def read_trend(client: InfluxClient, lines: Sequence[str], *, start: dt.date, end: dt.date) -> dict[str, pd.DataFrame]:
    """Each line's ``line_trend`` days in ``[start, end)``: a frame on a UTC daily index, columns ``p95_pct``,
    ``busy_hour_pct``."""
    frame = _frame(
        client,
        f'SELECT busy_hour_pct, p95_pct FROM "{TREND_MEASUREMENT}" WHERE '
        f'{_where(day_start_s(start), day_start_s(end), lines)} GROUP BY "line"',
    )
    out = {}
    for line, rows in frame.groupby("line", sort=True):
        daily = rows.set_index(pd.DatetimeIndex(rows["time"], name="day"))[["p95_pct", "busy_hour_pct"]]
        out[str(line)] = daily.astype(float)
    return out


# -- step 3: the month's samples for the projections ----------------------------------------------------------


def _per_day_arrays(frame: pd.DataFrame, column: str) -> dict[str, dict[dt.date, np.ndarray]]:
    out: dict[str, dict[dt.date, np.ndarray]] = {}
    if frame.empty:
        return out
    days = frame["time"].dt.date
    for (line, day), rows in frame.groupby([frame["line"], days], sort=True):
        out.setdefault(str(line), {})[day] = rows[column].to_numpy(dtype=float)
    return out


def month_samples(
    client: InfluxClient, directions: Mapping[str, UsageDirection], *, start: dt.date, end: dt.date
) -> dict[str, dict[dt.date, np.ndarray]]:
    """The 5-minute values (bit/s, each line's contract direction) of ``[start, end)`` per line per UTC day."""
    if not directions:
        return {}
    start_s, end_s = day_start_s(start), day_start_s(end)
    single, multi = _split(sorted(directions), client, start_s, end_s)
    out: dict[str, dict[dt.date, np.ndarray]] = {}
    for group, members in ((single, False), (multi, True)):
        by_direction: dict[UsageDirection, list[str]] = {}
        for line in group:
            by_direction.setdefault(directions[line], []).append(line)
        for direction, wanted in sorted(by_direction.items()):
            statement = line_buckets(_where(start_s, end_s, wanted), direction, members=members)
            out.update(_per_day_arrays(_frame(client, statement), "v"))
    return out


def month_bytes(client: InfluxClient, lines: Sequence[str], *, start: dt.date, end: dt.date
                ) -> dict[str, dict[dt.date, float]]:
    """Bytes moved in + out per line per UTC day of ``[start, end)``."""
    if not lines:
        return {}
    frame = _frame(client, daily_volume_statement(day_start_s(start), day_start_s(end), lines))
    out: dict[str, dict[dt.date, float]] = {}
    for row in frame.itertuples():
        if row.bits is not None and math.isfinite(float(row.bits)):
            out.setdefault(str(row.line), {})[row.time.date()] = float(row.bits) / 8
    return out


def _projections(
    settings: Settings,
    inventory: Inventory,
    client: InfluxClient,
    lines: Sequence[Line],
    *,
    today: dt.date,
    forecasts: Mapping[str, Forecast],
    levels: Mapping[str, float],
    report: TrendsReport,
) -> dict[str, Projection]:
    """The month's projected bill of every burstable and volume-quota line among ``lines``."""
    from billing_etl.config import Burstable, VolumeQuota, load_billing_config

    try:
        config = load_billing_config(settings, inventory=inventory)
    except ConfigError as exc:
        report.notes.append(f"no projected bills: the billing configuration has problems ({exc})")
        return {}
    contracts = config.contracts.by_line()
    period = Period.containing(today)
    wanted = {line.id: contracts[line.id] for line in lines if line.id in contracts}
    burst = {ln: c.billing.direction for ln, c in wanted.items() if isinstance(c.billing, Burstable)}
    quota = sorted(ln for ln, c in wanted.items() if isinstance(c.billing, VolumeQuota))
    if not burst and not quota:
        return {}
    start = min(period.first_day, today - _DAY * REFERENCE_DAYS)
    samples = month_samples(client, burst, start=start, end=today)
    volumes = month_bytes(client, quota, start=start, end=today)
    out = {}
    by_id = {line.id: line for line in lines}
    for line_id, contract in sorted(wanted.items()):
        forecast = forecasts.get(line_id)
        projection = project_line(
            line=by_id[line_id],
            contract=contract,
            period=period,
            today=today,
            samples_bps=samples.get(line_id, {}),
            day_bytes=volumes.get(line_id, {}),
            growth_pct_per_month=forecast.growth_pct_per_month if forecast is not None else None,
            level_pct=levels.get(line_id),
        )
        if projection is not None:
            out[line_id] = projection
    return out


# -- step 4: the outlook ----------------------------------------------------------------------------------------


def _finite(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _date_s(day: dt.date | None) -> int | None:
    return None if day is None else day_start_s(day)


def outlook_fields(
    *,
    line: Line,
    recent: pd.DataFrame,
    forecast: Forecast | None,
    levels_pct: Sequence[float],
    today: dt.date,
    now_s: float,
    projection: Projection | None,
) -> dict[str, object]:
    """The fields of a line's ``line_outlook`` point (docs/schema.md). Absent keys: not known (the InfluxDB point
    then lacks the field)."""
    fields: dict[str, object] = {
        "busy_hour_pct": _finite(recent["busy_hour_pct"].max()),
        "p95_pct": _finite(recent["p95_pct"].max()),
        "capacity_bps": int(line.capacity_at(now_s)),
    }
    if forecast is not None:
        fields |= {
            "method": forecast.method.value,
            "fitted_days": int(forecast.fitted_days),
            "growth_pct_per_month": _finite(forecast.growth_pct_per_month),
        }
        for level in levels_pct:
            cross = crossing(forecast, level, today=today)
            fields[days_field(level)] = cross.days_from(today)
            fields[date_field(level)] = _date_s(cross.date)
            fields[date_field(level, "earliest")] = _date_s(cross.earliest)
            fields[date_field(level, "latest")] = _date_s(cross.latest)
    if projection is not None:
        fields |= {
            "billing_model": projection.billing_model.value,
            "currency": projection.currency,
            "period": str(projection.period),
            "commit_bps": projection.commit_bps,
            "projected_p95_bps": _finite(projection.projected_p95_bps),
            "included_gb": _finite(projection.included_gb),
            "projected_volume_gb": _finite(projection.projected_volume_gb),
            "month_to_date_amount": float(projection.month_to_date_amount),
            "projected_amount": float(projection.projected_amount),
            "contracted_amount": float(projection.contracted_amount),
        }
    return {k: v for k, v in fields.items() if v is not None}


def _forecast_points(line: str, forecast: Forecast, today: dt.date) -> list[Point]:
    """The forecast's days from ``today`` on (a line whose data stopped days ago: its past days are not drawn)."""
    points = []
    for stamp, row in forecast.frame.iterrows():
        if stamp.date() < today:
            continue
        values = {c: _finite(row[c]) for c in ("value_pct", "lower_pct", "upper_pct")}
        if values["value_pct"] is None:
            continue
        fields = {k: v for k, v in values.items() if v is not None} | {"method": forecast.method.value}
        points.append(Point(FORECAST_MEASUREMENT, {"line": line}, fields, _day_ns(stamp.date())))
    return points


def _select(inventory: Inventory, names: Sequence[str] | None) -> list[Line]:
    polled = inventory.polled_lines()
    if names is None:
        return polled
    known = {line.id: line for line in polled}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"not a polled line of the inventory: {', '.join(unknown)}")
    return [known[name] for name in sorted(set(names))]


def run_trends(
    settings: Settings,
    inventory: Inventory,
    client: InfluxClient,
    *,
    now_s: float | None = None,
    lines: Sequence[str] | None = None,
) -> TrendsReport:
    """One run of the trends job over the polled lines (or ``lines``) as of ``now_s`` (default: now). Raises
    ``ValueError`` for a line name that is not a polled line, ``InfluxError`` when InfluxDB fails."""
    now_s = time.time() if now_s is None else float(now_s)
    today = dt.datetime.fromtimestamp(now_s, dt.UTC).date()
    cfg = settings.trends
    selected = _select(inventory, lines)
    report = TrendsReport(run_s=now_s, lines=len(selected))
    if not selected:
        return report
    ids = [line.id for line in selected]
    report.trend_points = update_trend(client, ids, today=today, history_days=cfg.history_days)
    trend = read_trend(client, ids, start=today - _DAY * cfg.history_days, end=today)
    forecasts: dict[str, Forecast] = {}
    levels: dict[str, float] = {}
    recent_start = pd.Timestamp(today - _DAY * RECENT_DAYS, tz="UTC")
    for line_id in ids:
        daily = trend.get(line_id)
        if daily is None or daily["busy_hour_pct"].notna().sum() == 0:
            report.problems[line_id] = f"no utilization data in the last {cfg.history_days} days"
            continue
        recent = daily[daily.index >= recent_start]
        if recent["busy_hour_pct"].notna().sum() == 0:
            report.problems[line_id] = f"no utilization data in the last {RECENT_DAYS} days"
            continue
        levels[line_id] = float(recent["busy_hour_pct"].mean())
        try:
            forecasts[line_id] = fit_forecast(
                daily["busy_hour_pct"].rename(line_id),
                method=cfg.method,
                horizon_days=cfg.horizon_days,
                interval_pct=cfg.interval_pct,
            )
        except ValueError as exc:
            report.problems[line_id] = f"no forecast: {exc}"
    # the measurement holds the latest run's forecast only: a dashboard's dashed continuation never shows what an
    # older run foresaw, and a line whose forecast failed has none
    client.query(f'DELETE FROM "{FORECAST_MEASUREMENT}" WHERE "line" =~ {exact_regex(ids)}')
    points = [p for line_id, fc in sorted(forecasts.items()) for p in _forecast_points(line_id, fc, today)]
    _write(client, points)
    report.forecasts, report.forecast_points = len(forecasts), len(points)
    projections = _projections(
        settings, inventory, client, [ln for ln in selected if ln.id in levels],
        today=today, forecasts=forecasts, levels=levels, report=report,
    )
    report.projections = len(projections)
    outlook = []
    for line in selected:
        if line.id not in levels:
            continue
        daily = trend[line.id]
        fields = outlook_fields(
            line=line,
            recent=daily[daily.index >= recent_start],
            forecast=forecasts.get(line.id),
            levels_pct=cfg.thresholds_pct,
            today=today,
            now_s=now_s,
            projection=projections.get(line.id),
        )
        outlook.append(Point(OUTLOOK_MEASUREMENT, {"line": line.id}, fields, int(now_s * 10**9)))
        report.outlook.append({"line": line.id, **fields})
    _write(client, outlook)
    report.outlook_points = len(outlook)
    log.info("%s", report.summary_text().splitlines()[0])
    return report


# -- the outlook as text (CLI, demo) ------------------------------------------------------------------------------

OUTLOOK_LABELS: Mapping[str, Label] = {
    "line": Label("Line", "회선"),
    "busy_hour_pct": Label("Busy hour %", "피크 시간 사용률 %"),
    "growth_pct_per_month": Label("Growth/month", "월 증가율"),
    "days_to_80": Label("Days to 80 %", "80 % 도달까지 일수"),
    "date_80": Label("80 % on (earliest–latest)", "80 % 도달 예상일 (최초–최종)"),
    "days_to_95": Label("Days to 95 %", "95 % 도달까지 일수"),
    "projected": Label("Projected bill / contracted", "예상 청구액 / 계약 금액"),
    "empty": Label("no outlook yet: run `linewatch trends run`",
                   "아직 전망이 없습니다: `linewatch trends run`을 실행하세요"),
    "title": Label("Capacity outlook", "용량 전망"),
}


def _day_text(epoch_s: object) -> str:
    value = _finite(epoch_s)
    return "" if value is None else dt.datetime.fromtimestamp(value, dt.UTC).date().isoformat()


def _num_text(value: object, fmt: str) -> str:
    number = _finite(value)
    return "–" if number is None else format(number, fmt)


def outlook_rows(frame: pd.DataFrame) -> list[list[str]]:
    """The outlook's rows as text cells (the columns of :data:`OUTLOOK_LABELS` minus title/empty)."""
    rows = []
    for r in frame.to_dict("records"):
        when = _day_text(r.get("date_80_s"))
        if when:
            low, high = _day_text(r.get("date_80_earliest_s")), _day_text(r.get("date_80_latest_s"))
            when += f" ({low or '?'}–{high or 'later'})"
        bill = ""
        if _finite(r.get("projected_amount")) is not None:
            bill = (f"{_num_text(r.get('projected_amount'), ',.2f')} / "
                    f"{_num_text(r.get('contracted_amount'), ',.2f')} {r.get('currency') or ''}").strip()
        rows.append([
            str(r["line"]),
            _num_text(r.get("busy_hour_pct"), ".1f"),
            _num_text(r.get("growth_pct_per_month"), "+.1f"),
            _num_text(r.get("days_to_80"), ".0f"),
            when,
            _num_text(r.get("days_to_95"), ".0f"),
            bill,
        ])
    return rows


def outlook_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The outlook as JSON-ready objects, one per line: ``time`` in ISO 8601, fields without a value left out."""
    out = []
    for row in frame.to_dict("records"):
        record: dict[str, object] = {}
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                record[key] = value.isoformat()
            elif isinstance(value, float | np.floating):
                if math.isfinite(value):
                    record[key] = float(value)
            elif value is not None:
                record[key] = value
        out.append(record)
    return out


def outlook_text(frame: pd.DataFrame, *, language: Language | str = Language.EN, limit: int | None = None) -> str:
    """The outlook (:func:`~linewatch.trends.outlook.read_outlook`'s frame) as an aligned table, soonest crossing
    first, in English or Korean; ``limit``: the first rows only."""
    if frame.empty:
        return OUTLOOK_LABELS["empty"].text(language)
    keys = ["line", "busy_hour_pct", "growth_pct_per_month", "days_to_80", "date_80", "days_to_95", "projected"]
    header = [OUTLOOK_LABELS[k].text(language) for k in keys]
    rows = outlook_rows(frame if limit is None else frame.head(limit))
    widths = [max(_width(c) for c in col) for col in zip(header, *rows, strict=True)]
    lines = [OUTLOOK_LABELS["title"].text(language)]
    for cells in [header, *rows]:
        lines.append("  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)).rstrip())
    if limit is not None and len(frame) > limit:
        lines.append(f"… (+{len(frame) - limit})")
    return "\n".join(lines)


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
