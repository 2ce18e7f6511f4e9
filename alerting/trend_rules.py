"""The two trend rules' verdicts, pure: ``forecast_crossing`` over the trends job's latest ``line_outlook`` point of
each line, and ``anomaly`` over recent traffic against each line's hour-of-week baseline.

The evaluator (``alerting.evaluator``) builds their InfluxQL and hands the answers here; the statistics are the
core's (``linewatch.trends.baseline``, ``linewatch.trends.anomaly``), the state machine and the hysteresis are the
other rules' (``alerting.logic.judge_threshold``, ``transition``).

**Forecast.** A line fires when the days left to the crossing of ``level_pct`` — the outlook's
``days_to_<level>``, less the whole days since the trends run that wrote it — are at most ``within_days``; it
resolves when they are more than ``clear_within_days`` or the crossing left the forecast's horizon (the field is
absent). No outlook point within ``lookback_s`` (the job did not run, the line's history is too short): the state
is kept, never resolved blind.

**Anomaly.** Per ``sample_s`` bucket the higher of in/out traffic (summed over the line's members) as % of the
contracted capacity at that time, scored in signed MADs against the baseline of that hour of the week
(``departures``). A bucket's *departure* is its score's size in a direction the rule watches — a drop only where
the baseline expects at least ``min_expected_pct``, and neither when the traffic is less than ``min_change_pct``
points from the expected value — else 0. The departures are judged like utilization levels: every bucket of
``for_s`` at ``k_mad`` or more fires, a firing alert clears below ``clear_k_mad``. The baseline (hourly means of
``baseline_weeks`` weeks, one grouped query) is built once per ``baseline_refresh_s``, not every cycle, and each
refresh reads only the hours since the previous one (the whole window once, at start).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from alerting.config import AnomalyRule, ForecastCrossingRule, Thresholds
from alerting.logic import HOLD, Verdict, judge_threshold
from linewatch.choices import AnomalyDirection, Severity
from linewatch.inventory import Line
from linewatch.trends.anomaly import departures
from linewatch.trends.baseline import hour_of_week_baseline
from linewatch.trends.outlook import OUTLOOK_MEASUREMENT, date_field, days_field

DAY_S = 86400
HOUR_S = 3600
WEEK_S = 7 * DAY_S
NS = 1_000_000_000
NOISE_WINDOW_S = HOUR_S
"""The recent traffic the anomaly rule reads is at least this long: ``departures`` estimates each line's
short-term noise (how much one bucket wobbles around its hour's level) from it."""


# -- forecast_crossing ---------------------------------------------------------------------------------------------


def forecast_statement(*, start_s: int, end_s: int) -> str:
    """The latest ``line_outlook`` point of every line written in ``(start_s, end_s]``: the whole point of one run
    (every field of that run, not each field's last value, which would mix runs)."""
    return (f'SELECT * FROM "{OUTLOOK_MEASUREMENT}" WHERE time > {start_s * NS} AND time <= {end_s * NS} '
            f'GROUP BY "line" ORDER BY time DESC LIMIT 1')


def outlook_rows(series: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The answer of :func:`forecast_statement` as ``{line: {column: value}}`` (the newest row of each line)."""
    out: dict[str, dict[str, Any]] = {}
    for s in series:
        line = s.get("tags", {}).get("line")
        values = s.get("values") or []
        if line is not None and values:
            out[line] = dict(zip(s["columns"], values[0], strict=False))
    return out


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, str | bool):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def judge_forecast(row: Mapping[str, Any] | None, eff: ForecastCrossingRule, *, end_s: int,
                   firing: bool) -> Verdict:
    """One line's verdict from its latest outlook row (``None``: no outlook in the look-back: hold)."""
    if row is None:
        return HOLD
    run_s = int(row["time"])
    level = eff.level_pct
    days_to = _number(row.get(days_field(level)))
    detail: dict[str, Any] = {
        "level_pct": level, "within_days": eff.within_days, "outlook_s": run_s,
        "busy_hour_pct": _number(row.get("busy_hour_pct")),
        "growth_pct_per_month": _number(row.get("growth_pct_per_month")),
        "date_s": _number(row.get(date_field(level))),
        "earliest_s": _number(row.get(date_field(level, "earliest"))),
        "latest_s": _number(row.get(date_field(level, "latest"))),
    }
    if days_to is None:  # the crossing is not within the forecast's horizon
        return Verdict(None, detail=detail)
    days_left = days_to - max(0, end_s - run_s) // DAY_S
    limit = eff.clear_days if firing else eff.within_days
    if days_left <= limit:
        return Verdict(eff.severity, since_s=run_s, value=float(days_left), detail=detail)
    return Verdict(None, value=float(days_left), detail=detail)


# -- anomaly: traffic as % of capacity -----------------------------------------------------------------------------


def utilization_frame(rows_by_line: Mapping[str, Sequence[Sequence[Any]]], lines: Mapping[str, Line]) -> pd.DataFrame:
    """Long ``line, time (UTC), value`` frame: per result row ``[time_s, in_bps, out_bps]`` the higher of in/out
    as % of the line's contracted capacity at that time (rows without traffic are left out)."""
    names: list[np.ndarray] = []
    times: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for name, rows in rows_by_line.items():
        line = lines.get(name)
        if line is None or not rows:
            continue
        data = np.array(rows, dtype=np.float64)  # InfluxDB's nulls become NaN
        t = data[:, 0].astype(np.int64)
        with np.errstate(invalid="ignore"):
            bps = np.fmax(data[:, 1], data[:, 2]) if data.shape[1] > 2 else data[:, 1]
        if line.capacity_changes:
            capacity = np.array([line.capacity_at(int(x)) for x in t], dtype=np.float64)
        else:
            capacity = np.full(len(t), float(line.capacity_bps))
        keep = ~np.isnan(bps)
        names.append(np.full(int(keep.sum()), name, dtype=object))
        times.append(t[keep])
        values.append(bps[keep] * 100.0 / capacity[keep])
    if not names:
        return pd.DataFrame({"line": pd.Series([], dtype=object),
                             "time": pd.Series([], dtype="datetime64[ns, UTC]"),
                             "value": pd.Series([], dtype=np.float64)})
    return pd.DataFrame({"line": np.concatenate(names),
                         "time": pd.to_datetime(np.concatenate(times), unit="s", utc=True),
                         "value": np.concatenate(values)})


# -- anomaly: the baseline ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """A rule's hour-of-week baseline of every line, as of ``built_s``, and the hourly means it was built from
    (kept, so the next refresh reads only the hours since ``window_end_s``)."""

    frame: pd.DataFrame  # index (line, how): median, mad, samples (linewatch.trends.baseline)
    hourly: pd.DataFrame  # line, time, value: the hourly utilization means of [window_end_s - weeks, window_end_s)
    built_s: int
    window_end_s: int


def baseline_window(rule: AnomalyRule, *, end_s: int) -> tuple[int, int]:
    """``[start_s, end_s)`` of the hourly means a baseline built at ``end_s`` holds: whole hours, the weeks before
    the current hour (the recent buckets are compared with it, so they are not part of it)."""
    window_end = end_s - end_s % HOUR_S
    return window_end - rule.baseline_weeks * WEEK_S, window_end


def baseline_due(rule: AnomalyRule, cached: Baseline | None, *, end_s: int) -> bool:
    """Whether the baseline must be (re)read at ``end_s``: none yet, older than ``baseline_refresh_s``, or built
    for a later time (a clock set back)."""
    if cached is None:
        return True
    return end_s - cached.built_s >= rule.baseline_refresh_s or end_s < cached.built_s


def baseline_read_window(rule: AnomalyRule, cached: Baseline | None, *, end_s: int) -> tuple[int, int]:
    """The hours a refresh at ``end_s`` must read: only those after the kept baseline's window (the hourly means
    of four weeks of 10,000 lines are millions of rows, which influxd takes minutes to average from one-minute
    polls), or the whole window the first time and whenever the kept one does not join up (a clock set back, a
    gap longer than the window)."""
    start_s, window_end = baseline_window(rule, end_s=end_s)
    if cached is not None and start_s <= cached.window_end_s <= window_end:
        return cached.window_end_s, window_end
    return start_s, window_end


def build_baseline(rule: AnomalyRule, cached: Baseline | None, new_hourly: pd.DataFrame, *, end_s: int) -> Baseline:
    """The baseline from the hourly utilization means read for :func:`baseline_read_window` (added to the kept
    ones when the read was incremental; hours older than the window dropped)."""
    start_s, window_end = baseline_window(rule, end_s=end_s)
    read_start, _ = baseline_read_window(rule, cached, end_s=end_s)
    hourly = new_hourly
    if cached is not None and read_start == cached.window_end_s:
        start = pd.Timestamp(start_s, unit="s", tz="UTC")
        hourly = pd.concat([cached.hourly[cached.hourly["time"] >= start], new_hourly], ignore_index=True)
    frame = hour_of_week_baseline(hourly, weeks=rule.baseline_weeks, tz=rule.timezone,
                                  end=pd.Timestamp(window_end, unit="s", tz="UTC"))
    return Baseline(frame, hourly, end_s, window_end)


# -- anomaly: verdicts ------------------------------------------------------------------------------------------------


def _departure_sizes(scored: pd.DataFrame, eff: AnomalyRule) -> tuple[np.ndarray, np.ndarray]:
    """Per scored bucket the departure in the rule's directions (see the module docstring: 0 when it does not
    count, NaN when the bucket could not be scored — no baseline for that hour) and its sign (+1 surge, -1 drop)."""
    score = scored["score"].to_numpy(dtype=np.float64)
    expected = scored["expected"].to_numpy(dtype=np.float64)
    observed = scored["observed"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        big = np.abs(observed - expected) >= eff.min_change_pct
        surge = (AnomalyDirection.SURGE in eff.directions) & (score > 0) & big
        drop = (AnomalyDirection.DROP in eff.directions) & (score < 0) & big & (expected >= eff.min_expected_pct)
    size = np.where(surge | drop, np.abs(score), 0.0)
    size[np.isnan(score)] = np.nan
    return size, np.where(surge, 1, np.where(drop, -1, 0))


def anomaly_verdicts(rule: AnomalyRule, recent: pd.DataFrame, baseline: Baseline | None, *,
                     effective: Mapping[str, AnomalyRule], thresholds: Mapping[str, Thresholds], end_s: int,
                     firing: Mapping[str, Severity]) -> dict[str, Verdict]:
    """A verdict for each enabled line of ``effective``: hold without a baseline or without recent traffic, else
    the departures judged with :func:`judge_threshold` (a line far from departing is decided without it: the
    common case, kept cheap for 10,000 lines). ``detail``: direction, expected and observed % and the score of the
    newest bucket that departed (else of the newest bucket)."""
    enabled = {name: eff for name, eff in effective.items() if eff.enabled}
    if baseline is None:
        return dict.fromkeys(enabled, HOLD)
    clear = [e.clear_k_mad if e.clear_k_mad is not None else e.k_mad / 2 for e in enabled.values()] or [rule.k_mad]
    scored = departures(recent[recent["line"].isin(list(enabled))], baseline.frame, k_mad=max(min(clear), 1e-9),
                        min_samples=rule.min_samples, tz=rule.timezone, step_s=rule.sample_s)
    scored = scored.sort_values(["line", "time"], kind="stable").reset_index(drop=True)
    codes, uniques = pd.factorize(scored["line"].to_numpy(dtype=object))
    names = list(uniques)  # plain str: iterating pandas' arrow strings costs 0.4 ms per line
    size = np.full(len(scored), np.nan)
    sign = np.zeros(len(scored), dtype=np.int64)
    by_rule: dict[int, list[int]] = {}
    for code, name in enumerate(names):
        by_rule.setdefault(id(enabled[name]), []).append(code)
    for codes_of_rule in by_rule.values():
        rows = np.isin(codes, codes_of_rule)
        size[rows], sign[rows] = _departure_sizes(scored[rows], enabled[names[codes_of_rule[0]]])
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], dtype=np.int64)
    ends = np.r_[starts[1:], len(codes)].astype(np.int64) if len(codes) else starts
    t_s = pd.DatetimeIndex(scored["time"]).as_unit("s").asi8
    span = dict(zip(names, zip(starts.tolist(), ends.tolist(), strict=True), strict=True))
    out: dict[str, Verdict] = {}
    for name, eff in enabled.items():
        if name not in span:
            out[name] = HOLD
            continue
        a, b = span[name]
        sizes = size[a:b]
        known = sizes[~np.isnan(sizes)]
        if not len(known):
            out[name] = HOLD
            continue
        was = firing.get(name)
        if was is None and known.max() < eff.k_mad:
            out[name] = Verdict(None, value=float(known[-1]))
            continue
        buckets = [(int(t), None if math.isnan(v) else float(v)) for t, v in zip(t_s[a:b], sizes, strict=True)]
        verdict = judge_threshold(buckets, thresholds[name], end_s=end_s,
                                  firing=None if was is None else Severity.WARNING)
        departed = np.flatnonzero(sign[a:b])
        i = a + (int(departed[-1]) if len(departed) else b - a - 1)
        direction = AnomalyDirection.SURGE if sign[i] > 0 else AnomalyDirection.DROP if sign[i] < 0 else None
        detail = {"direction": None if direction is None else direction.value,
                  "expected_pct": _number(scored.at[i, "expected"]), "observed_pct": _number(scored.at[i, "observed"]),
                  "score_mad": _number(scored.at[i, "score"]), "k_mad": eff.k_mad, "for_s": eff.for_s}
        out[name] = replace(verdict, severity=eff.severity if verdict.severity is not None else None, detail=detail)
    return out
