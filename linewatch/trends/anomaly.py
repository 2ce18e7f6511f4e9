"""Departures from the hour-of-week baseline, and the sustained episodes an alert or a report shows.

Two steps, both vectorized over every line at once (the alert evaluator runs them each cycle for thousands of
lines): :func:`departures` scores each recent sample in signed MADs against its line's baseline for that hour of
the week; :func:`sustained` joins consecutive departing samples of one line and direction into episodes and keeps
those held for at least ``for_s``. The alert rule (alerting, kind ``anomaly``) adds its own state machine on top;
the benchmark (``bench anomaly-detection``) and the reports use the episodes directly.

Pure: pandas/numpy in, pandas out; no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import numpy as np
import pandas as pd

from linewatch.choices import AnomalyDirection
from linewatch.trends.baseline import HOURS_PER_WEEK, check_frame, hour_of_week

__all__ = [
    "DEPARTURE_COLUMNS",
    "EPISODE_COLUMNS",
    "departures",
    "sustained",
]

DEPARTURE_COLUMNS = ("line", "time", "score", "direction", "expected", "observed")
EPISODE_COLUMNS = ("line", "start", "end", "direction", "peak_score", "expected", "observed", "samples")


def departures(recent: pd.DataFrame, baseline: pd.DataFrame, *, k_mad: float, min_samples: int,
               tz: str | None = None, holidays: Collection[dt.date] = (),
               drop_min_expected: float = 0.0) -> pd.DataFrame:
    """Score each recent sample against its line's baseline at that hour of the week.

    ``recent``: long, columns ``line``, ``time`` (tz-aware), ``value``. ``baseline``: from
    :func:`~linewatch.trends.baseline.hour_of_week_baseline` (its ``attrs["tz"]`` is used unless ``tz`` is given).
    ``k_mad``: how many MADs away is a departure. ``min_samples``: baseline hours with fewer samples score NaN
    (not enough history to judge), as do lines without a baseline. ``holidays``: dates (in the time zone) scored
    against Sunday's hours. ``drop_min_expected``: a drop counts only where the baseline median is at least this
    (an idle line going quiet is no news; the alert rule uses 10 %).

    Returns ``line, time, score, direction, expected, observed`` in the order of ``recent``: ``score`` =
    (observed − expected) / MAD, ``direction`` :class:`AnomalyDirection` (``surge`` at ≥ k, ``drop`` at ≤ −k) or
    ``None``.
    """
    if k_mad <= 0:
        raise ValueError(f"k_mad must be positive (got {k_mad})")
    check_frame(recent, name="recent")
    missing = [c for c in ("median", "mad", "samples") if c not in baseline.columns]
    if missing:
        raise ValueError(f"baseline: column(s) {', '.join(missing)} missing (build it with hour_of_week_baseline)")
    zone = tz if tz is not None else baseline.attrs.get("tz", "UTC")
    n = len(recent)
    observed = recent["value"].to_numpy(dtype=np.float64)
    expected = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    if n and len(baseline):
        how = hour_of_week(recent["time"], tz=zone, holidays=holidays)
        base_lines = baseline.index.get_level_values(0)
        codes, uniques = pd.factorize(base_lines)
        line_code = pd.Index(uniques).get_indexer(recent["line"].to_numpy())
        # dense table (line code × 168) so the lookup is one fancy index, not a join
        table_median = np.full((len(uniques), HOURS_PER_WEEK), np.nan)
        table_mad = np.full((len(uniques), HOURS_PER_WEEK), np.nan)
        base_how = baseline.index.get_level_values(1).to_numpy(dtype=np.int64)
        usable = baseline["samples"].to_numpy() >= min_samples
        table_median[codes[usable], base_how[usable]] = baseline["median"].to_numpy()[usable]
        table_mad[codes[usable], base_how[usable]] = baseline["mad"].to_numpy()[usable]
        known = line_code >= 0
        expected[known] = table_median[line_code[known], how[known]]
        mad[known] = table_mad[line_code[known], how[known]]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (observed - expected) / mad
    surge = score >= k_mad
    drop = (score <= -k_mad) & (expected >= drop_min_expected)
    direction = np.full(n, None, dtype=object)
    direction[surge] = AnomalyDirection.SURGE
    direction[drop] = AnomalyDirection.DROP
    return pd.DataFrame({"line": recent["line"], "time": recent["time"], "score": score,
                         "direction": pd.Series(direction, index=recent.index, dtype=object),
                         "expected": expected, "observed": observed}, index=recent.index)


def sustained(departures: pd.DataFrame, *, for_s: int, step_s: float | None = None) -> pd.DataFrame:
    """Episodes: runs of one line's consecutive samples departing in one direction, held for at least ``for_s``.

    A run lasts from its first sample's time to its last sample's time + the step (a sample stands for the
    interval it starts, as InfluxDB's ``GROUP BY time`` labels buckets), the same rule as the other sustained
    alert rules. A missing sample (a gap longer than 1.5 steps) or a sample back within k MADs ends the run.
    ``step_s``: the sampling step; default each line's most common interval between samples.

    Returns ``line, start, end, direction, peak_score, expected, observed, samples``: ``peak_score`` the score
    furthest from 0, ``expected`` / ``observed`` the means over the episode.
    """
    if for_s < 0:
        raise ValueError(f"for_s must not be negative (got {for_s})")
    missing = [c for c in ("line", "time", "score", "direction", "expected", "observed")
               if c not in departures.columns]
    if missing:
        raise ValueError(f"departures: column(s) {', '.join(missing)} missing (build it with departures())")
    frame = departures.sort_values(["line", "time"], kind="stable")
    if not len(frame):
        return _empty_episodes(departures)
    lines = frame["line"].to_numpy()
    t_ns = pd.DatetimeIndex(frame["time"]).as_unit("ns").asi8
    direction = frame["direction"].to_numpy()
    code = np.zeros(len(frame), dtype=np.int8)
    code[direction == AnomalyDirection.SURGE] = 1
    code[direction == AnomalyDirection.DROP] = -1
    line_codes, _ = pd.factorize(lines)
    new_line = np.r_[True, line_codes[1:] != line_codes[:-1]]
    dt_ns = np.r_[0, np.diff(t_ns)]
    if step_s is not None:
        step_ns = np.full(len(frame), int(step_s * 1e9), dtype=np.int64)
    else:
        step_ns = _typical_step_ns(line_codes, dt_ns, new_line)
    gap = dt_ns > 1.5 * step_ns
    starts_run = new_line | gap | np.r_[True, code[1:] != code[:-1]]
    run_id = np.cumsum(starts_run) - 1
    in_run = code != 0
    if not in_run.any():
        return _empty_episodes(departures)
    rid = run_id[in_run]
    first = np.flatnonzero(np.r_[True, rid[1:] != rid[:-1]])
    counts = np.diff(np.r_[first, len(rid)])
    last = first + counts - 1
    t_sel = t_ns[in_run]
    start_ns = t_sel[first]
    end_ns = t_sel[last] + step_ns[in_run][last]
    held = (end_ns - start_ns) >= int(for_s * 1e9)
    score = frame["score"].to_numpy(dtype=np.float64)[in_run]
    exp_ = frame["expected"].to_numpy(dtype=np.float64)[in_run]
    obs = frame["observed"].to_numpy(dtype=np.float64)[in_run]
    sign = code[in_run][first].astype(np.float64)
    peak = np.maximum.reduceat(score * np.repeat(sign, counts), first) * sign
    mean_exp = np.add.reduceat(exp_, first) / counts
    mean_obs = np.add.reduceat(obs, first) / counts
    tz = frame["time"].dt.tz
    out = pd.DataFrame({
        "line": lines[in_run][first],
        "start": pd.to_datetime(start_ns, utc=True).tz_convert(tz),
        "end": pd.to_datetime(end_ns, utc=True).tz_convert(tz),
        "direction": pd.Series(direction[in_run][first], dtype=object),
        "peak_score": peak,
        "expected": mean_exp,
        "observed": mean_obs,
        "samples": counts.astype(np.int64),
    })
    return out[held].reset_index(drop=True)


def _typical_step_ns(line_codes: np.ndarray, dt_ns: np.ndarray, new_line: np.ndarray) -> np.ndarray:
    """Each line's median interval between samples, broadcast to its rows (one sample only: one hour)."""
    valid = ~new_line
    steps = pd.Series(dt_ns[valid]).groupby(line_codes[valid]).median()
    per_line = np.full(line_codes.max() + 1, 3600 * 10**9, dtype=np.int64)
    per_line[steps.index.to_numpy()] = steps.to_numpy().astype(np.int64)
    return per_line[line_codes]


def _empty_episodes(departures: pd.DataFrame) -> pd.DataFrame:
    tz_dtype = departures["time"].dtype if "time" in departures else "datetime64[ns, UTC]"
    return pd.DataFrame({
        "line": pd.Series([], dtype=object),
        "start": pd.Series([], dtype=tz_dtype),
        "end": pd.Series([], dtype=tz_dtype),
        "direction": pd.Series([], dtype=object),
        "peak_score": pd.Series([], dtype=np.float64),
        "expected": pd.Series([], dtype=np.float64),
        "observed": pd.Series([], dtype=np.float64),
        "samples": pd.Series([], dtype=np.int64),
    })
