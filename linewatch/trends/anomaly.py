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
_BEND_SHARE = 0.1  # of the second difference, with average_s: tuned on bench seed 14 (0.1–0.3 tried)
EPISODE_COLUMNS = ("line", "start", "end", "direction", "peak_score", "expected", "observed", "samples")


def departures(recent: pd.DataFrame, baseline: pd.DataFrame, *, k_mad: float, min_samples: int,
               tz: str | None = None, holidays: Collection[dt.date] = (),
               drop_min_expected: float = 0.0, interpolate: bool = True,
               step_s: float | None = None, noise: float | None = None,
               average_s: float | None = None) -> pd.DataFrame:
    """Score each recent sample against its line's baseline at that hour of the week.

    ``recent``: long, columns ``line``, ``time`` (tz-aware), ``value``. ``baseline``: from
    :func:`~linewatch.trends.baseline.hour_of_week_baseline` (its ``attrs["tz"]`` is used unless ``tz`` is given).
    ``k_mad``: how many MADs away is a departure. ``min_samples``: baseline hours with fewer samples score NaN
    (not enough history to judge), as do lines without a baseline. ``holidays``: dates (in the time zone) scored
    against Sunday's hours. ``drop_min_expected``: a drop counts only where the baseline median is at least this
    (an idle line going quiet is no news; the alert rule uses 10 %). ``interpolate``: the expected value and the
    MAD between two hours' middles are interpolated linearly (samples finer than the baseline's hours then follow
    the ramps of the day); off, each sample gets its hour's figures. ``step_s``: the recent samples' step (each
    sample stands for ``[time, time + step)``); default each line's most common interval.
    ``noise``: the short-term noise (σ, value units) of one recent sample around its hour's level, added to the
    MAD in quadrature (``scale = √(MAD² + noise²)``). The baseline is usually built from hourly means, whose MAD
    says how much an hour varies from week to week but not how much one 5-minute sample wobbles within the hour;
    without this a noisy line at night would cross 5 MADs every few hours. Default: estimated per line from
    ``recent`` itself, 1.4826 × the median of the absolute differences between successive samples / √2 (a drop
    or a level shift is one difference, so it does not inflate it); pass ``0`` when the baseline was built at
    the same step as ``recent``. Give ``recent`` an hour or more per line so the estimate has enough differences.
    ``average_s``: score each sample by the mean of its line's samples in the trailing window
    ``(time − average_s, time]`` against the mean expected value there, the noise term divided by √(samples in
    the window). Why: a fault that takes a third of a busy line's traffic for an hour (one member of a 2-link LAG
    lost) is 3–4 MADs off in each noisy 5-minute sample, yet far beyond noise over 15 minutes; averaging over the
    time an episode must be held anyway halves the noise of 5-minute samples. The scale then also carries the
    error of interpolating between hours where the day bends (0.1 × the second difference of the hour medians;
    without it every lunch dip is a drop once the noise is averaged away). Default (None): each sample alone.

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
    bend = np.zeros(n)
    if n and len(baseline):
        table_median, table_mad, line_code = _dense_tables(baseline, recent["line"], min_samples=min_samples)
        how = hour_of_week(recent["time"], tz=zone, holidays=holidays)
        known = line_code >= 0
        code = line_code[known]
        own_median = table_median[code, how[known]]
        own_mad = table_mad[code, how[known]]
        if interpolate:
            # The baseline's hour stands for its middle; a sample for the middle of its own step. Between two
            # middles the expected value is interpolated, so a 5-minute sample on the morning ramp is compared
            # with the ramp, not with the hour's mean (which would make every ramp a departure).
            local = pd.DatetimeIndex(recent["time"]).tz_convert(zone)
            within_h = (np.asarray(local.minute) * 60 + np.asarray(local.second)) / 3600.0
            centre_h = _step_s(recent, step_s) / 7200.0
            position = how + within_h + centre_h - 0.5
            low = np.floor(position[known]).astype(np.int64)
            frac = position[known] - low
            low %= HOURS_PER_WEEK
            high = (low + 1) % HOURS_PER_WEEK
            m_low, m_high = table_median[code, low], table_median[code, high]
            s_low, s_high = table_mad[code, low], table_mad[code, high]
            both = ~np.isnan(m_low) & ~np.isnan(m_high)
            expected[known] = np.where(both, (1 - frac) * m_low + frac * m_high, own_median)
            mad[known] = np.where(both, (1 - frac) * s_low + frac * s_high, own_mad)
            expected[known] = np.where(np.isnan(own_median), np.nan, expected[known])
            # How far a straight line between two hours' middles may miss the curve (a lunch dip, the step into
            # a weekend): a share of the second difference of the medians around the sample's hour. Used only
            # with average_s: a sample's own noise hides this bias, a 15-minute mean does not.
            prev_h, next_h = (how[known] - 1) % HOURS_PER_WEEK, (how[known] + 1) % HOURS_PER_WEEK
            second = table_median[code, prev_h] - 2 * own_median + table_median[code, next_h]
            bend[known] = np.nan_to_num(_BEND_SHARE * np.abs(second))
        else:
            expected[known] = own_median
            mad[known] = own_mad
    sigma = _noise(recent) if noise is None else np.full(n, float(noise))
    if average_s is not None and average_s > 0 and n:
        judged, judged_expected, count = _trailing_means(recent, observed, expected, float(average_s))
        with np.errstate(invalid="ignore", divide="ignore"):
            score = (judged - judged_expected) / np.sqrt(mad**2 + sigma**2 / count + bend**2)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            score = (observed - expected) / np.sqrt(mad**2 + sigma**2)
    surge = score >= k_mad
    drop = (score <= -k_mad) & (expected >= drop_min_expected)
    direction = np.full(n, None, dtype=object)
    direction[surge] = AnomalyDirection.SURGE
    direction[drop] = AnomalyDirection.DROP
    return pd.DataFrame({"line": recent["line"], "time": recent["time"], "score": score,
                         "direction": pd.Series(direction, index=recent.index, dtype=object),
                         "expected": expected, "observed": observed}, index=recent.index)


def _trailing_means(recent: pd.DataFrame, observed: np.ndarray, expected: np.ndarray,
                    average_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the means of observed and expected over its line's rows in ``(time − average_s, time]`` that have
    both, and their count (NaN means and a count of 1 where none has): prefix sums over (line, time) order."""
    n = len(recent)
    codes = pd.factorize(recent["line"])[0].astype(np.int64)
    t_ms = pd.DatetimeIndex(recent["time"]).as_unit("ns").asi8 // 1_000_000
    t_ms = t_ms - t_ms.min()
    window_ms = round(average_s * 1000)
    key = codes * (int(t_ms.max()) + window_ms + 1) + t_ms  # lines far apart on one axis: one searchsorted
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    valid = ~np.isnan(observed[order]) & ~np.isnan(expected[order])
    cs_obs = np.r_[0.0, np.cumsum(np.where(valid, observed[order], 0.0))]
    cs_exp = np.r_[0.0, np.cumsum(np.where(valid, expected[order], 0.0))]
    cs_n = np.r_[0, np.cumsum(valid)]
    first = np.searchsorted(key_sorted, key_sorted - window_ms, side="right")
    last = np.arange(1, n + 1)
    count = (cs_n[last] - cs_n[first]).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_obs = np.where(count > 0, (cs_obs[last] - cs_obs[first]) / count, np.nan)
        mean_exp = np.where(count > 0, (cs_exp[last] - cs_exp[first]) / count, np.nan)
    out_obs, out_exp, out_n = np.empty(n), np.empty(n), np.empty(n)
    out_obs[order], out_exp[order], out_n[order] = mean_obs, mean_exp, np.maximum(count, 1.0)
    out_exp[np.isnan(expected)] = np.nan  # a row without a baseline stays unjudged
    return out_obs, out_exp, out_n


def _dense_tables(baseline: pd.DataFrame, lines: pd.Series, *,
                  min_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and MAD as dense (line × 168) tables, NaN where the baseline has fewer than ``min_samples``, and
    each recent row's line code (-1: no baseline): one fancy index per lookup instead of a join."""
    codes, uniques = pd.factorize(baseline.index.get_level_values(0))
    table_median = np.full((len(uniques), HOURS_PER_WEEK), np.nan)
    table_mad = np.full((len(uniques), HOURS_PER_WEEK), np.nan)
    base_how = baseline.index.get_level_values(1).to_numpy(dtype=np.int64)
    usable = baseline["samples"].to_numpy() >= min_samples
    table_median[codes[usable], base_how[usable]] = baseline["median"].to_numpy()[usable]
    table_mad[codes[usable], base_how[usable]] = baseline["mad"].to_numpy()[usable]
    line_code = pd.Index(uniques).get_indexer(lines.to_numpy())
    return table_median, table_mad, line_code


def _step_s(recent: pd.DataFrame, step_s: float | None) -> np.ndarray | float:
    """The recent samples' step in seconds: given, or each line's median interval (a lone sample: 0)."""
    if step_s is not None:
        return float(step_s)
    t_ns = pd.DatetimeIndex(recent["time"]).as_unit("ns").asi8
    order = np.lexsort((t_ns, pd.factorize(recent["line"])[0]))
    codes = pd.factorize(recent["line"])[0][order]
    new_line = np.r_[True, codes[1:] != codes[:-1]]
    diffs = np.r_[0, np.diff(t_ns[order])]
    if (~new_line).any():
        per_line = pd.Series(diffs[~new_line]).groupby(codes[~new_line]).median()
    else:
        per_line = pd.Series(dtype=np.float64)
    table = np.zeros(codes.max() + 1 if len(codes) else 0)
    table[per_line.index.to_numpy(dtype=np.int64)] = per_line.to_numpy(dtype=np.float64) / 1e9
    result = np.empty(len(recent))
    result[order] = table[codes]
    return result


def _noise(recent: pd.DataFrame) -> np.ndarray:
    """Per line, the robust σ of one sample's short-term noise: 1.4826 × median |Δ| / √2 over successive samples
    (0 for a line with fewer than two samples), broadcast to the rows of ``recent``."""
    if not len(recent):
        return np.zeros(0)
    codes = pd.factorize(recent["line"])[0]
    t_ns = pd.DatetimeIndex(recent["time"]).as_unit("ns").asi8
    order = np.lexsort((t_ns, codes))
    c = codes[order]
    v = recent["value"].to_numpy(dtype=np.float64)[order]
    same = np.r_[False, c[1:] == c[:-1]]
    diffs = np.abs(np.r_[0.0, np.diff(v)])
    valid = same & ~np.isnan(diffs)
    table = np.zeros(c.max() + 1)
    if valid.any():
        per_line = pd.Series(diffs[valid]).groupby(c[valid]).median()
        table[per_line.index.to_numpy(dtype=np.int64)] = per_line.to_numpy() * (1.4826 / np.sqrt(2.0))
    return table[codes]


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
