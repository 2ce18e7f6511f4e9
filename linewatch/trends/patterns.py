"""Usage patterns: when a line (or a department's lines) carries its traffic.

The hour-of-day × weekday heatmap, and the few figures a department head reads from it: how much is carried at
night and at weekends, the peak hour and weekday, and the month-over-month change of the mean. Reports
(web/reports, the monthly utilization report) and the app call these on frames read from InfluxDB.

Why the shares come from the heatmap's hour-of-week means and not from summing samples: a collector gap or a
line added mid-month would otherwise weigh some hours more than others; each hour of the week counts once.

Pure: pandas/numpy in, pandas or a dataclass out; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from linewatch.trends.baseline import HOURS_PER_WEEK, check_frame, hour_of_week

__all__ = [
    "UsagePattern",
    "heatmap",
    "usage_pattern",
    "usage_patterns",
]

WEEKEND = (5, 6)  # Saturday, Sunday (day_of_week)


@dataclass(frozen=True)
class UsagePattern:
    """The figures of one line's or department's usage over the frame given.

    ``night_share`` and ``weekend_share``: fractions 0..1 of the traffic (the sum of ``value`` over the hours of
    the week, each hour of the week weighted once) carried at night (``night`` hours) and on Saturday and Sunday.
    ``peak_hour`` 0..23 and ``peak_weekday`` 0 (Monday)..6: where the mean is highest. ``mom_change_pct``: the
    mean of ``month`` against the mean of the month before, in percent (None: no data for one of them, or the
    previous mean is 0). ``month``: the month compared ("2026-11"), None without data.
    """

    night_share: float | None
    weekend_share: float | None
    peak_hour: int | None
    peak_weekday: int | None
    mom_change_pct: float | None
    month: str | None
    mean: float | None  # the mean of value over the frame (each hour of the week weighted once)
    samples: int


def heatmap(frame: pd.DataFrame, *, tz: str) -> pd.DataFrame:
    """Mean ``value`` by weekday (index 0 = Monday .. 6) and hour of day (columns 0..23) in ``tz``.

    ``frame``: long ``line, time, value`` (one line, or a department's lines: the mean is over all their samples
    in that cell). Cells without samples are NaN; the shape is always 7 × 24.
    """
    cells = _hour_of_week_means(frame, tz=tz)
    grid = cells.to_numpy().reshape(7, 24)
    out = pd.DataFrame(grid, index=pd.RangeIndex(7, name="weekday"), columns=pd.RangeIndex(24, name="hour"))
    return out


def _hour_of_week_means(frame: pd.DataFrame, *, tz: str) -> pd.Series:
    check_frame(frame)
    data = frame[frame["value"].notna()]
    if not len(data):
        return pd.Series(np.full(HOURS_PER_WEEK, np.nan), index=pd.RangeIndex(HOURS_PER_WEEK, name="how"))
    how = hour_of_week(data["time"], tz=tz)
    sums = np.bincount(how, weights=data["value"].to_numpy(dtype=np.float64), minlength=HOURS_PER_WEEK)
    counts = np.bincount(how, minlength=HOURS_PER_WEEK)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return pd.Series(means, index=pd.RangeIndex(HOURS_PER_WEEK, name="how"))


def _is_night(hour: np.ndarray, night: tuple[int, int]) -> np.ndarray:
    begin, end = night
    if begin <= end:
        return (hour >= begin) & (hour < end)
    return (hour >= begin) | (hour < end)  # across midnight, e.g. 22..6


def usage_pattern(frame: pd.DataFrame, *, tz: str, night: tuple[int, int] = (22, 6),
                  month: str | None = None) -> UsagePattern:
    """The usage figures of ``frame`` (one line or a department's lines) in ``tz``.

    ``night``: (first hour, hour it ends), across midnight when the first is larger (22, 6 = 22:00–06:00).
    ``month``: the month whose mean is compared with the month before ("2026-11"; default the newest month in the
    frame).
    """
    begin, end = night
    if not (0 <= begin <= 23 and 0 <= end <= 24) or begin == end:
        raise ValueError(f"night must be two different hours 0..24 (got {night})")
    check_frame(frame)
    data = frame[frame["value"].notna()]
    if not len(data):
        return UsagePattern(None, None, None, None, None, None, None, 0)
    means = _hour_of_week_means(data, tz=tz).to_numpy()
    present = ~np.isnan(means)
    hours = np.arange(HOURS_PER_WEEK) % 24
    weekdays = np.arange(HOURS_PER_WEEK) // 24
    total = float(np.nansum(means))
    if total > 0:
        night_share = float(np.nansum(means[_is_night(hours, night) & present])) / total
        weekend_share = float(np.nansum(means[np.isin(weekdays, WEEKEND) & present])) / total
    else:
        night_share = weekend_share = None
    grid = means.reshape(7, 24)
    with np.errstate(invalid="ignore"):
        by_hour = _nanmean_axis(grid, axis=0)
        by_weekday = _nanmean_axis(grid, axis=1)
    peak_hour = int(np.nanargmax(by_hour)) if np.isfinite(by_hour).any() else None
    peak_weekday = int(np.nanargmax(by_weekday)) if np.isfinite(by_weekday).any() else None
    mom_change_pct, compared = _month_over_month(data, tz=tz, month=month)
    return UsagePattern(night_share=night_share, weekend_share=weekend_share, peak_hour=peak_hour,
                        peak_weekday=peak_weekday, mom_change_pct=mom_change_pct, month=compared,
                        mean=float(np.nanmean(means)), samples=len(data))


def _nanmean_axis(grid: np.ndarray, *, axis: int) -> np.ndarray:
    counts = np.sum(~np.isnan(grid), axis=axis)
    sums = np.nansum(grid, axis=axis)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _month_over_month(data: pd.DataFrame, *, tz: str, month: str | None) -> tuple[float | None, str | None]:
    local = pd.DatetimeIndex(data["time"]).tz_convert(tz)
    months = local.tz_localize(None).to_period("M")
    target = pd.Period(month, freq="M") if month is not None else months.max()
    previous = target - 1
    values = data["value"].to_numpy(dtype=np.float64)
    this = values[months == target]
    before = values[months == previous]
    if not len(this) or not len(before):
        return None, str(target)
    prev_mean = float(before.mean())
    if prev_mean == 0:
        return None, str(target)
    return (float(this.mean()) - prev_mean) / prev_mean * 100.0, str(target)


def usage_patterns(frame: pd.DataFrame, *, by: str = "line", tz: str, night: tuple[int, int] = (22, 6),
                   month: str | None = None) -> dict[str, UsagePattern]:
    """:func:`usage_pattern` for each value of column ``by`` (``line``, or e.g. ``department`` once the caller has
    joined it in), keyed by that value."""
    if by not in frame.columns:
        raise ValueError(f"frame: column {by} missing (usage_patterns groups by it)")
    return {str(key): usage_pattern(group, tz=tz, night=night, month=month)
            for key, group in frame.groupby(by, sort=True)}
