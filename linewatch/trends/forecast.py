"""Forecast a line's daily busy-hour utilization and the dates it crosses a level (80 %, 95 % of the contract).

Three methods (``linewatch.choices.ForecastMethod``), each giving a value and an interval per future day:

- ``robust_seasonal``: a Theil-Sen trend (the median of pairwise slopes: a holiday, an outage or a surge does not
  tilt it) times a weekday profile (median ratio per weekday: weekend traffic grows in proportion to the busy
  days'), refitted once without the days far off the first fit (holidays), and only on the days after a level
  shift when there is one (traffic moved onto or off the line is a new level, not growth); the interval is the
  regression prediction interval with a robust scale (1.4826 × MAD of the residuals), so it widens with the noise
  and with the distance from the fitted days.
- ``holt_winters``: statsmodels' exponential smoothing (ETS: additive error and trend, multiplicative weekly
  season), intervals simulated from the state-space model (seeded: the same series gives the same interval).
- ``linear``: least squares straight line and its prediction interval, no seasonality — the baseline LibreNMS and
  Prometheus' ``predict_linear`` offer, kept to measure the others against (``bench forecast-accuracy``).

Busy-hour series have a weekly shape: weekdays peak, weekends do not. A seasonal forecast therefore crosses 80 %
on the first busy weekday that reaches it, the linear one only when the weekly mean does (weeks later).
Pure: numpy, scipy and statsmodels on the series given; docs/forecast.md has the backtest that chose the default.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linewatch.choices import ForecastMethod

__all__ = ["Crossing", "Forecast", "crossing", "fit_forecast", "linear_forecast", "min_days"]

SEASON_DAYS = 7
OUTLIER_SCALES = 4.0  # days further than this many robust sd from the first fit are left out of the refit
SHIFT_WINDOW_DAYS = 14  # a level shift is a step between the medians of the fortnights either side
SHIFT_MIN_SHARE = 0.2  # ... of at least this share of the line's level
SHIFT_MIN_SCALES = 4.0  # ... and this many robust sd of its daily noise
MIN_MULTIPLICATIVE_PCT = 0.5  # below: an idle line, whose weekly shape is added rather than scaled
FRAME_COLUMNS = ["value_pct", "lower_pct", "upper_pct"]


@dataclass(frozen=True)
class Forecast:
    """A fitted forecast: ``frame`` has one row per future day (midnight, the series' zone) with ``value_pct``,
    ``lower_pct`` and ``upper_pct`` (the ``interval_pct`` interval, never below 0)."""

    method: ForecastMethod
    frame: pd.DataFrame
    growth_pct_per_month: float  # percentage points of utilization per 30 days, from the fitted trend
    fitted_days: int  # days with a value the fit used (gaps excluded; robust_seasonal: since a level shift)
    interval_pct: float = 80.0


@dataclass(frozen=True)
class Crossing:
    """When a forecast reaches ``level_pct``: ``date`` the value, ``earliest`` the upper bound, ``latest`` the lower
    bound (``None``: not within the horizon). A line already at the level crosses on the first day considered."""

    level_pct: float
    date: dt.date | None
    earliest: dt.date | None
    latest: dt.date | None

    def days_from(self, today: dt.date) -> float | None:
        """Days from ``today`` to ``date`` (None when it does not cross within the horizon)."""
        return None if self.date is None else float((self.date - today).days)


def min_days(method: ForecastMethod, *, weekly: bool = True) -> int:
    """The fewest days with a value a method accepts: two full weeks for a weekly season (one week to see the
    shape, one to tell it from noise), a week for a straight line."""
    if method is ForecastMethod.LINEAR or not weekly:
        return SEASON_DAYS
    return 2 * SEASON_DAYS


def _prepare(daily_pct: pd.Series, method: ForecastMethod, weekly: bool) -> pd.Series:
    """The series on a complete daily index (gaps as NaN), refused with the reason when it cannot be fitted."""
    index = daily_pct.index
    name = f"daily series {daily_pct.name}" if daily_pct.name is not None else "daily series"
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"{name}: index must be a DatetimeIndex of days, got {type(index).__name__}")
    values = pd.Series(pd.to_numeric(daily_pct, errors="coerce").to_numpy(dtype=float), index=index)
    values = values[~values.index.duplicated(keep="last")].sort_index()
    values = values[np.isfinite(values.to_numpy())]
    need = min_days(method, weekly=weekly)
    if len(values) < need:
        raise ValueError(f"{name}: {len(values)} days with a value, fewer than {need} days "
                         f"needed for a {method.value} forecast")
    wall = values.index.tz_localize(None) if values.index.tz is not None else values.index
    full = pd.date_range(wall.min().normalize(), wall.max().normalize(), freq="D")
    out = pd.Series(values.to_numpy(), index=wall.normalize()).groupby(level=0).last().reindex(full)
    out.index = full.tz_localize(index.tz, ambiguous="NaT", nonexistent="shift_forward") if index.tz else full
    return out


def _future_index(series: pd.Series, horizon_days: int) -> pd.DatetimeIndex:
    tz = series.index.tz
    last = series.index[-1].tz_localize(None) if tz is not None else series.index[-1]
    days = pd.date_range(last + pd.Timedelta(days=1), periods=horizon_days, freq="D")
    return days.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward") if tz is not None else days


def _weekdays(index: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(index.day_of_week)


def _regression_band(x_fit: np.ndarray, x_new: np.ndarray, scale: float, dof: int,
                     interval_pct: float) -> np.ndarray:
    """Half-width of the prediction interval of a straight-line fit at ``x_new``."""
    from scipy import stats  # ~0.3 s to import: only when a forecast is fitted, not when the module is

    n = len(x_fit)
    sxx = float(((x_fit - x_fit.mean()) ** 2).sum()) or 1.0
    t = stats.t.ppf(0.5 + interval_pct / 200.0, max(dof, 1))
    return t * scale * np.sqrt(1.0 + 1.0 / n + (x_new - x_fit.mean()) ** 2 / sxx)


def _fit_linear(series: pd.Series, future: pd.DatetimeIndex, interval_pct: float):
    known = series.dropna()
    x = _day_numbers(known.index, series.index[0])
    y = known.to_numpy()
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    dof = len(x) - 2
    scale = math.sqrt(float((resid ** 2).sum()) / max(dof, 1))
    xf = _day_numbers(future, series.index[0])
    value = intercept + slope * xf
    band = _regression_band(x, xf, scale, dof, interval_pct)
    return value, value - band, value + band, slope


def _fit_robust_seasonal(series: pd.Series, future: pd.DatetimeIndex, interval_pct: float, weekly: bool):
    known = series.dropna()
    x = _day_numbers(known.index, series.index[0])
    y = known.to_numpy()
    weekday = _weekdays(known.index)
    fit = _robust_fit(x, y, weekday, weekly)
    start = _level_shift_start(x, y, weekday, fit, weekly)
    days_used = len(x)
    if start is not None:  # traffic moved onto or off the line: only the days since then say where it goes
        fit = _robust_fit(x[start:], y[start:], weekday[start:], weekly)
        days_used = len(x) - start
    intercept, slope, profile, multiplicative, x_used, scale = fit
    xf = _day_numbers(future, series.index[0])
    wf = _weekdays(future)
    value = _combine(intercept + slope * xf, profile[wf], multiplicative)
    band = _regression_band(x_used, xf, scale, len(x_used) - 2 - (SEASON_DAYS - 1 if weekly else 0), interval_pct)
    if multiplicative:
        band = band * np.maximum(profile[wf], 0.0)  # quiet weekdays vary less than busy ones
    return value, value - band, value + band, slope, days_used


def _robust_fit(x: np.ndarray, y: np.ndarray, weekday: np.ndarray, weekly: bool):
    """Trend and profile, refitted once without the days far off the first fit; also the days used and the
    residuals' robust scale."""
    multiplicative = weekly and bool((y > MIN_MULTIPLICATIVE_PCT).all())
    intercept, slope, profile = _robust_trend_and_profile(x, y, weekday, weekly=weekly, multiplicative=multiplicative)
    if multiplicative and intercept + slope * min(x.min(), 0.0) <= MIN_MULTIPLICATIVE_PCT:
        multiplicative = False  # a shrinking line whose trend reaches zero: ratios mean nothing there
        intercept, slope, profile = _robust_trend_and_profile(x, y, weekday, weekly=weekly, multiplicative=False)
    resid = y - _combine(intercept + slope * x, profile[weekday], multiplicative)
    scale = _robust_scale(resid)
    usual = np.abs(resid) <= OUTLIER_SCALES * scale
    if (~usual).any() and usual.sum() >= min_days(ForecastMethod.ROBUST_SEASONAL, weekly=weekly):
        # refit without the days far off the first fit (holidays, outages, surges): a holiday week at the end of
        # the history would otherwise still pull the slope down
        x, y, weekday = x[usual], y[usual], weekday[usual]
        intercept, slope, profile = _robust_trend_and_profile(x, y, weekday, weekly=weekly,
                                                              multiplicative=multiplicative)
        resid = y - _combine(intercept + slope * x, profile[weekday], multiplicative)
        scale = _robust_scale(resid)
    return intercept, slope, profile, multiplicative, x, scale


def _level_shift_start(x: np.ndarray, y: np.ndarray, weekday: np.ndarray, fit, weekly: bool) -> int | None:
    """The position of the first day after a level shift (a step in the deseasonalised values), or None.

    At each day, the median of the next ``SHIFT_WINDOW_DAYS`` values minus the median of the previous ones, less
    the typical such difference (what the trend adds over a window): a step stands out, a straight trend gives ~0.
    A shift counts when it is at least ``SHIFT_MIN_SHARE`` of the line's level and ``SHIFT_MIN_SCALES`` robust
    standard deviations of its daily noise (the difference of two 14-day medians varies by ~0.5 sd: no false
    alarms from noise), and there are enough days after it to fit on.
    """
    _intercept, _slope, profile, multiplicative, _x, _scale = fit
    w = SHIFT_WINDOW_DAYS
    need = min_days(ForecastMethod.ROBUST_SEASONAL, weekly=weekly)
    if len(y) < 2 * w + 1 or len(y) - w < need:
        return None
    z = y / np.maximum(profile[weekday], 1e-9) if multiplicative else y - profile[weekday]
    windows = np.lib.stride_tricks.sliding_window_view(z, w)
    medians = np.median(windows, axis=1)  # medians[i] = median of z[i:i + w]
    positions = np.arange(w, len(z) - max(w, need) + 1)  # a step before z[k], with w days either side
    if len(positions) == 0:
        return None
    jump = medians[positions] - medians[positions - w]
    jump = jump - np.median(jump)
    noise = _robust_scale(np.diff(z)) / math.sqrt(2.0)  # day-to-day differences: blind to the trend and a step
    best = int(np.argmax(np.abs(jump)))
    if abs(jump[best]) < max(SHIFT_MIN_SCALES * noise, SHIFT_MIN_SHARE * float(np.median(np.abs(z)))):
        return None
    return int(positions[best])


def _robust_scale(resid: np.ndarray) -> float:
    """1.4826 × MAD (the standard deviation for normal noise, blind to outliers); a perfect fit still gets a
    small band."""
    mad = float(np.median(np.abs(resid - np.median(resid))))
    return max(1.4826 * mad, float(np.std(resid)) * 0.25, 1e-6)


def _combine(trend: np.ndarray, factor: np.ndarray, multiplicative: bool) -> np.ndarray:
    return trend * factor if multiplicative else trend + factor


def _robust_trend_and_profile(x: np.ndarray, y: np.ndarray, weekday: np.ndarray, *, weekly: bool,
                              multiplicative: bool) -> tuple[float, float, np.ndarray]:
    """Alternate a Theil-Sen trend of the deseasonalised values and a median weekday profile of the rest.

    Multiplicative by default: weekend traffic grows in proportion to the weekday traffic, so an additive profile
    with one slope would average the weekday and weekend growth and underestimate the busy days'. The profile is
    scaled so its median weekday is 1 (or 0), hence the trend and its slope are those of a typical busy day.
    """
    neutral = 1.0 if multiplicative else 0.0
    profile = np.full(SEASON_DAYS, neutral)
    slope = intercept = 0.0
    for _ in range(4 if weekly else 1):
        adjusted = y / profile[weekday] if multiplicative else y - profile[weekday]
        slope = _theil_sen_slope(x, adjusted)
        intercept = float(np.median(adjusted - slope * x))
        if not weekly:
            break
        trend = intercept + slope * x
        rest = y / np.maximum(trend, 1e-9) if multiplicative else y - trend
        profile = np.array([np.median(rest[weekday == d]) if (weekday == d).any() else neutral
                            for d in range(SEASON_DAYS)])
        profile = profile / np.median(profile) if multiplicative else profile - np.median(profile)
    return intercept, slope, profile


def _theil_sen_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Median of the pairwise slopes (all pairs: a few hundred days is a few ten thousand pairs)."""
    i, j = np.triu_indices(len(x), k=1)
    dx = x[j] - x[i]
    keep = dx != 0
    return float(np.median((y[j] - y[i])[keep] / dx[keep])) if keep.any() else 0.0


def _fit_holt_winters(series: pd.Series, future: pd.DatetimeIndex, interval_pct: float, weekly: bool):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel  # heavy import, only for this method

    filled = series.interpolate(limit_direction="both")  # ETS needs every day: gaps interpolated
    y = pd.Series(filled.to_numpy(), index=pd.RangeIndex(len(filled)))
    seasonal = None
    if weekly:  # multiplicative season as in robust_seasonal; it needs positive values
        seasonal = "mul" if bool((y > MIN_MULTIPLICATIVE_PCT).all()) else "add"
    with warnings.catch_warnings():  # convergence chatter of the optimiser is not the caller's business
        warnings.simplefilter("ignore")
        model = ETSModel(y, error="add", trend="add", seasonal=seasonal,
                         seasonal_periods=SEASON_DAYS if weekly else None)
        result = model.fit(disp=False)
        pred = result.get_prediction(start=len(y), end=len(y) + len(future) - 1, simulate_repetitions=400,
                                     rng=np.random.default_rng(0))  # simulated intervals: repeatable
        frame = pred.summary_frame(alpha=1.0 - interval_pct / 100.0)
    states = np.asarray(result.states)
    slope = float(states[-1, 1])  # the trend state at the last fitted day
    if seasonal == "mul":
        slope *= float(np.median(states[-SEASON_DAYS:, 2]))  # growth of a typical busy day, as robust_seasonal
    return (frame["mean"].to_numpy(), frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy(), slope)


def _day_numbers(index: pd.DatetimeIndex, origin: pd.Timestamp) -> np.ndarray:
    """Whole days since ``origin`` (calendar days: a DST day is still one day)."""
    wall = index.tz_localize(None) if index.tz is not None else index
    base = origin.tz_localize(None) if origin.tzinfo is not None else origin
    return np.asarray((wall.normalize() - base.normalize()).days, dtype=float)


def fit_forecast(daily_pct: pd.Series, *, method: ForecastMethod, horizon_days: int, interval_pct: float = 80,
                 weekly: bool = True) -> Forecast:
    """Fit ``method`` on a daily utilization series (busy-hour %, NaN or missing days allowed) and forecast
    ``horizon_days`` days after its last day.

    ``weekly``: model the weekday/weekend shape (ignored by ``linear``, the baseline is a plain straight line).
    Raises ``ValueError`` naming the series when it has fewer days with a value than ``min_days`` says, or the
    arguments are out of range.
    """
    method = ForecastMethod(method)
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be at least 1, got {horizon_days}")
    if not 0 < interval_pct < 100:
        raise ValueError(f"interval_pct must be between 0 and 100 (exclusive), got {interval_pct}")
    series = _prepare(daily_pct, method, weekly)
    future = _future_index(series, horizon_days)
    days_used = int(series.notna().sum())
    if method is ForecastMethod.LINEAR:
        value, lower, upper, slope = _fit_linear(series, future, interval_pct)
    elif method is ForecastMethod.ROBUST_SEASONAL:
        value, lower, upper, slope, days_used = _fit_robust_seasonal(series, future, interval_pct, weekly)
    else:
        value, lower, upper, slope = _fit_holt_winters(series, future, interval_pct, weekly)
    frame = pd.DataFrame({"value_pct": np.maximum(value, 0.0), "lower_pct": np.maximum(lower, 0.0),
                          "upper_pct": np.maximum(upper, 0.0)}, index=future)
    frame.index.name = "day"
    return Forecast(method=method, frame=frame, growth_pct_per_month=float(slope) * 30.0,
                    fitted_days=days_used, interval_pct=float(interval_pct))


def linear_forecast(daily_pct: pd.Series, *, horizon_days: int, interval_pct: float = 80) -> Forecast:
    """The baseline: a least-squares straight line, no seasonality (``fit_forecast(method=LINEAR)``)."""
    return fit_forecast(daily_pct, method=ForecastMethod.LINEAR, horizon_days=horizon_days,
                        interval_pct=interval_pct, weekly=False)


def _first_day(frame: pd.DataFrame, column: str, level_pct: float) -> dt.date | None:
    hit = frame.index[frame[column].to_numpy() >= level_pct]
    return None if len(hit) == 0 else hit[0].date()


def crossing(forecast: Forecast, level_pct: float, *, today: dt.date | None = None) -> Crossing:
    """The first forecast days at or above ``level_pct`` (value, upper and lower bound), from ``today`` on
    when given (days of the forecast before it are ignored)."""
    frame = forecast.frame
    if today is not None:
        frame = frame[np.asarray([d >= today for d in frame.index.date], dtype=bool)]
    return Crossing(level_pct=float(level_pct), date=_first_day(frame, "value_pct", level_pct),
                    earliest=_first_day(frame, "upper_pct", level_pct),
                    latest=_first_day(frame, "lower_pct", level_pct))
