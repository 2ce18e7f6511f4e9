"""Hour-of-week baseline per line: what a line usually carries at this hour of this weekday.

The anomaly detector (:mod:`linewatch.trends.anomaly`) compares recent traffic with this baseline. It is built
from the last ``weeks`` weeks of one long frame holding every line (one grouped pass, no loop over lines), because
the alert evaluator refreshes it for thousands of lines at once.

Why median and MAD: a week with an outage or a holiday in the history must not drag the expected value down nor
inflate the spread the way a mean and a standard deviation would. The MAD is scaled by 1.4826 so that it estimates
the standard deviation of normal noise, and it is floored (``mad_floor`` points, ``mad_floor_ratio`` of the median):
a flat line (every week the same value) would otherwise have a MAD of 0, and every wiggle would be infinitely many
MADs away. A level shift enters the median once it holds in more than half of the weeks (``weeks // 2 + 1`` weeks),
so a lasting change stops being reported by itself.

Pure: pandas/numpy in, pandas out; no I/O.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Collection

import numpy as np
import pandas as pd

__all__ = [
    "HOURS_PER_WEEK",
    "MAD_SCALE",
    "check_frame",
    "hour_of_week",
    "hour_of_week_baseline",
]

HOURS_PER_WEEK = 168
MAD_SCALE = 1.4826  # MAD × 1.4826 estimates σ of normally distributed noise
SUNDAY = 6  # holidays are compared with Sunday's hours (the quietest day of a business line)
COLUMNS = ("line", "time", "value")


def check_frame(frame: pd.DataFrame, *, name: str = "frame") -> None:
    """Refuse a frame without the long ``line, time, value`` shape or with naive times, saying what is wrong.

    Why here and not deep inside pandas: a missing column or a naive time stamp otherwise surfaces as a KeyError
    or a silently shifted hour of the week (a naive time would be taken as UTC or local depending on the caller).
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: column(s) {', '.join(missing)} missing (need line, time, value)")
    if len(frame) and not isinstance(frame["time"].dtype, pd.DatetimeTZDtype):
        raise ValueError(f"{name}: column time must be time-zone aware (got {frame['time'].dtype})")
    if len(frame) and not pd.api.types.is_numeric_dtype(frame["value"]):
        raise ValueError(f"{name}: column value must be numeric (got {frame['value'].dtype})")


def hour_of_week(times: pd.Series | pd.DatetimeIndex, *, tz: str,
                 holidays: Collection[dt.date] = ()) -> np.ndarray:
    """Hour of the week 0..167 (0 = Monday 00:00–01:00) in ``tz``; holidays (dates in ``tz``) count as Sunday."""
    local = pd.DatetimeIndex(times).tz_convert(tz)
    weekday = np.asarray(local.day_of_week, dtype=np.int64)
    if holidays:
        weekday = np.where(_holiday_mask(local, holidays=holidays), SUNDAY, weekday)
    return weekday * 24 + np.asarray(local.hour, dtype=np.int64)


def _holiday_mask(local: pd.DatetimeIndex, *, holidays: Collection[dt.date]) -> np.ndarray:
    """Which times (already in the zone) fall on a holiday: by day number, not by date objects (10^6 rows)."""
    if not holidays:
        return np.zeros(len(local), dtype=bool)
    day_ns = 86_400 * 10**9
    days = local.tz_localize(None).as_unit("ns").asi8 // day_ns
    epoch = dt.date(1970, 1, 1)
    holiday_days = np.array(sorted((d - epoch).days for d in holidays), dtype=np.int64)
    return np.isin(days, holiday_days)


def hour_of_week_baseline(frame: pd.DataFrame, *, weeks: int, tz: str = "UTC",
                          end: pd.Timestamp | dt.datetime | None = None,
                          holidays: Collection[dt.date] = (),
                          mad_floor: float = 1.0, mad_floor_ratio: float = 0.05,
                          trend: bool = True) -> pd.DataFrame:
    """Median and MAD of ``value`` per line and hour of the week over the ``weeks`` weeks before ``end``.

    ``frame``: long, columns ``line``, ``time`` (tz-aware), ``value`` (utilization %, hourly means or finer; the
    baseline keeps the step it is given, so build it at the step the recent values will come at or at hourly
    means, see docs/anomalies.md). ``end``: the window's end (default: the newest time in ``frame``, rounded up to
    the hour). ``holidays``: dates (in ``tz``) left out of the history, so the week after a holiday is not compared
    with it; :func:`linewatch.trends.anomaly.departures` compares a holiday with Sunday's hours.

    Returns a frame indexed by ``(line, how)`` (how 0..167, only the hours with samples) with columns
    ``median``, ``mad`` (× 1.4826, at least ``max(mad_floor, mad_floor_ratio × |median|)``) and ``samples``.
    ``result.attrs["tz"]`` keeps ``tz`` for :func:`departures`. ``trend``: carry each past week forward along
    the line's robust weekly growth before taking the median (3 weeks or more; see :func:`_detrended`), so a
    fast-growing line's ordinary busy day is not a surge.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1 (got {weeks})")
    if mad_floor < 0 or mad_floor_ratio < 0:
        raise ValueError("mad_floor and mad_floor_ratio must not be negative")
    check_frame(frame)
    if end is None:
        end_ts = frame["time"].max().ceil("h") if len(frame) else None
        if end_ts is not None and end_ts == frame["time"].max():
            end_ts = end_ts + pd.Timedelta(hours=1)  # the newest sample itself belongs to the window
    else:
        end_ts = pd.Timestamp(end)
    data = frame[["line", "time", "value"]]
    if end_ts is not None:
        start_ts = end_ts - pd.Timedelta(weeks=weeks)
        data = data[(data["time"] >= start_ts) & (data["time"] < end_ts)]
    data = data[data["value"].notna()]
    keep = ~_holiday_mask(pd.DatetimeIndex(data["time"]).tz_convert(tz), holidays=holidays)
    data = data[keep]
    values = data["value"].to_numpy(dtype=np.float64)
    lines = data["line"].to_numpy()
    if trend and weeks >= 3 and end_ts is not None and len(values):
        values = _detrended(lines, data["time"], values, end=end_ts, weeks=weeks)
    result = _median_mad(lines, hour_of_week(data["time"], tz=tz), values, mad_floor=mad_floor,
                         mad_floor_ratio=mad_floor_ratio)
    result.attrs["tz"] = tz
    return result


def _detrended(lines: np.ndarray, times: pd.Series, values: np.ndarray, *, end: pd.Timestamp,
               weeks: int) -> np.ndarray:
    """Each past week's values carried forward to ``end`` along the line's robust weekly growth.

    Why: a line growing 10 points a month sits 5 points above a 4-week median at its busy hours, and an ordinary
    busy day then looks like a surge. The growth is the Theil–Sen slope (median of the pairwise slopes) of the
    line's weekly means, relative to their median, capped at ±15 % a week; a value ``w`` weeks (centre) before
    ``end`` is multiplied by ``1 + slope × w``. A one-off week (an outage) barely moves a median of pairwise
    slopes; a level shift does tilt it, which only speeds up its absorption.
    """
    codes, uniques = pd.factorize(lines)
    age_ns = end.as_unit("ns").value - pd.DatetimeIndex(times).as_unit("ns").asi8
    week_ns = 7 * 86_400 * 10**9
    week = np.clip(age_ns // week_ns, 0, weeks - 1).astype(np.int64)
    cell = codes.astype(np.int64) * weeks + week
    sums = np.bincount(cell, weights=values, minlength=len(uniques) * weeks).reshape(len(uniques), weeks)
    counts = np.bincount(cell, minlength=len(uniques) * weeks).reshape(len(uniques), weeks)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = sums / counts  # line × week (0 = the newest)
    pairs = [(i, j) for i in range(weeks) for j in range(i + 1, weeks)]
    slopes = np.stack([(level[:, i] - level[:, j]) / (j - i) for i, j in pairs], axis=1)  # per week, forward
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (a line with one week): no slope
        slope = np.nanmedian(slopes, axis=1)
        scale = np.nanmedian(level, axis=1)
        relative = np.where(scale > 0, slope / scale, 0.0)
        # shrunk by how many of the pairwise slopes agree in sign: steady growth keeps all of it, a level shift
        # (flat, a step, flat: a third of the pairs are ~0) keeps less, so it is not extrapolated past the new level
        agree = np.nanmean(np.sign(slopes) == np.sign(slope)[:, None], axis=1)
    relative = np.clip(np.nan_to_num(relative), -0.15, 0.15) * np.nan_to_num(agree) ** 2
    age_weeks = age_ns / week_ns
    return values * (1.0 + relative[codes] * age_weeks)


def _median_mad(lines: np.ndarray, how: np.ndarray, values: np.ndarray, *, mad_floor: float,
                mad_floor_ratio: float) -> pd.DataFrame:
    """Grouped median and MAD of (line, how) groups without a groupby.

    Why: ``groupby().median()`` twice (the MAD needs each value's group median broadcast back) takes seconds for
    the 10^7 hourly rows of 10,000 lines × 4 weeks. Here the rows are put in group order by one stable integer
    sort; when the groups are small and alike (the usual: one sample per week and hour), they become the rows of
    a NaN-padded matrix sorted along its rows, else one lexsort by (group, value) does it.
    """
    index_names = ["line", "how"]
    if len(values) == 0:
        empty = pd.MultiIndex.from_arrays([np.array([], dtype=object), np.array([], dtype=np.int64)],
                                          names=index_names)
        return pd.DataFrame({"median": np.array([], dtype=np.float64), "mad": np.array([], dtype=np.float64),
                             "samples": np.array([], dtype=np.int64)}, index=empty)
    codes, uniques = pd.factorize(lines, sort=True)
    key = codes.astype(np.int64) * HOURS_PER_WEEK + how
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    val_sorted = values[order]
    starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
    counts = np.diff(np.r_[starts, len(key_sorted)])
    width = int(counts.max())
    if len(starts) * width <= 4 * len(values) + 1024:
        group_of = np.repeat(np.arange(len(starts)), counts)
        position = np.arange(len(values)) - np.repeat(starts, counts)
        grid = np.full((len(starts), width), np.nan)
        grid[group_of, position] = val_sorted
        grid.sort(axis=1)  # NaN padding sorts last
        median = _row_median(grid, counts)
        deviation = np.abs(grid - median[:, None])
        deviation.sort(axis=1)
        mad = _row_median(deviation, counts)
    else:
        order = np.lexsort((val_sorted, key_sorted))
        val_sorted = val_sorted[order]
        median = _sorted_group_median(val_sorted, starts, counts)
        deviation = np.abs(val_sorted - np.repeat(median, counts))
        group_of = np.repeat(np.arange(len(starts)), counts)
        mad = _sorted_group_median(deviation[np.lexsort((deviation, group_of))], starts, counts)
    mad = mad * MAD_SCALE
    mad = np.maximum(mad, np.maximum(mad_floor, mad_floor_ratio * np.abs(median)))
    group_keys = key_sorted[starts]
    index = pd.MultiIndex.from_arrays([uniques[group_keys // HOURS_PER_WEEK], group_keys % HOURS_PER_WEEK],
                                      names=index_names)
    return pd.DataFrame({"median": median, "mad": mad, "samples": counts.astype(np.int64)}, index=index)


def _row_median(grid: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median of each row's first ``count`` (sorted) cells."""
    rows = np.arange(len(counts))
    return (grid[rows, (counts - 1) // 2] + grid[rows, counts // 2]) / 2.0


def _sorted_group_median(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median of each contiguous, sorted group ``values[start:start+count]``."""
    lo = starts + (counts - 1) // 2
    hi = starts + counts // 2
    return (values[lo] + values[hi]) / 2.0
