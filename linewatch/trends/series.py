"""A line's utilization samples turned into the daily figures capacity planning talks about.

Busy hour = the day's highest hourly mean, p95 = the day's 95th percentile of the samples (5-minute ones in
production), both of max(in, out) utilization in percent of the contracted capacity. Days are calendar days of the
index's time zone: pass the series converted to the line's site zone (``tz_convert``) to get local days, UTC
otherwise. Pure: the trends job (billing_etl/trends.py) does the querying.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["daily_profile"]

PROFILE_COLUMNS = ["p95_pct", "busy_hour_pct", "samples"]


def _check_index(util_pct: pd.Series) -> pd.DatetimeIndex:
    """The series' index, refused with the reason when it cannot be cut into days."""
    index = util_pct.index
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"utilization series {util_pct.name or ''!s}: index must be a DatetimeIndex, "
                        f"got {type(index).__name__}")
    if index.tz is None:
        raise ValueError(f"utilization series {util_pct.name or ''!s}: index must be time-zone aware "
                         "(days are cut in the line's zone or UTC; a naive index is ambiguous)")
    return index


def daily_profile(util_pct: pd.Series) -> pd.DataFrame:
    """Daily p95 and busy-hour peak of a utilization series.

    ``util_pct``: max(in, out) utilization in % on a tz-aware DatetimeIndex, any step, gaps and NaN allowed.
    Returns one row per calendar day from the first to the last sample's day (midnight, same zone), columns
    ``p95_pct``, ``busy_hour_pct`` and ``samples`` (non-missing samples that day). A day without samples is kept
    with NaN figures and ``samples`` 0, so a gap stays visible instead of shifting the days after it.
    """
    index = _check_index(util_pct)
    values = pd.to_numeric(util_pct, errors="coerce").astype(float)
    values = pd.Series(values.to_numpy(), index=index).sort_index().dropna()
    if values.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in PROFILE_COLUMNS},
                            index=pd.DatetimeIndex([], tz=index.tz, name="day"))
    wall = values.index.tz_localize(None)  # local wall clock: days and hours as people at the site see them
    days = wall.normalize()
    grouped = values.groupby(days)
    p95 = grouped.quantile(0.95)
    samples = grouped.size()
    hourly = values.groupby(wall.floor("h")).mean()  # the repeated autumn hour merges into one: harmless
    busy = hourly.groupby(hourly.index.normalize()).max()
    full = pd.date_range(days.min(), days.max(), freq="D")
    out = pd.DataFrame({
        "p95_pct": p95.reindex(full).to_numpy(),
        "busy_hour_pct": busy.reindex(full).to_numpy(),
        "samples": samples.reindex(full, fill_value=0).astype(int).to_numpy(),
    }, index=full.tz_localize(index.tz, ambiguous="NaT", nonexistent="shift_forward"))
    out.index.name = "day"
    return out
