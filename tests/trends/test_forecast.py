"""Forecasts of daily busy-hour utilization (linewatch.trends.forecast): crossing dates of generated lines with a
known growth, flat lines, too-short histories, intervals, the linear baseline's lateness."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from bench.history_gen import LineSpec, generate, true_busy_hour, true_crossing
from linewatch.choices import ForecastMethod
from linewatch.trends.forecast import Forecast, crossing, fit_forecast, linear_forecast, min_days
from linewatch.trends.series import daily_profile

SEASONAL = [ForecastMethod.ROBUST_SEASONAL, ForecastMethod.HOLT_WINTERS]
FIT_DAYS = 91  # TrendsSettings.history_days
HORIZON_DAYS = 120


def busy_hours(spec: LineSpec, *, days: int = FIT_DAYS, seed: int = 1, holidays=()) -> pd.Series:
    """The daily busy-hour series of one generated line from 5-minute samples, as in production."""
    history = generate(specs=[spec], days=days, step_s=300, seed=seed, holidays=list(holidays))
    return daily_profile(history.series(spec.name))["busy_hour_pct"]


def daily(values, start: str = "2026-06-01", tz: str = "UTC") -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.date_range(start, periods=len(values), freq="D", tz=tz))


@pytest.mark.parametrize("method", SEASONAL, ids=str)
@pytest.mark.parametrize("spec", [
    pytest.param(LineSpec("SLOW", base_pct=62, growth_pct_per_month=4, noise_pct=2, day_noise_pct=1), id="4pp-month"),
    pytest.param(LineSpec("FAST", base_pct=40, growth_pct_per_month=10, noise_pct=3, day_noise_pct=2), id="10pp-month"),
    pytest.param(LineSpec("WEEKEND", base_pct=50, growth_pct_per_month=7, weekend_factor=0.2, noise_pct=1),
                 id="deep-weekend"),
])
def test_known_growth_crosses_80_on_the_true_date(method, spec):
    forecast = fit_forecast(busy_hours(spec), method=method, horizon_days=HORIZON_DAYS)
    truth = true_crossing(spec, 80.0, start="2026-06-01", from_day=FIT_DAYS, horizon_days=HORIZON_DAYS)
    found = crossing(forecast, 80.0)
    assert truth is not None and found.date is not None
    assert abs((found.date - truth).days) <= 10, (found, truth)  # 2-3 months ahead: ~10 % of the lead time
    assert found.earliest <= found.date <= (found.latest or dt.date.max)


@pytest.mark.parametrize("method", list(ForecastMethod), ids=str)
def test_growth_per_month_is_the_fitted_trend(method):
    spec = LineSpec("G", base_pct=40, growth_pct_per_month=6, noise_pct=1, day_noise_pct=0.5, weekend_factor=0.9)
    forecast = fit_forecast(busy_hours(spec), method=method, horizon_days=30)
    assert forecast.growth_pct_per_month == pytest.approx(6.0, abs=1.0)


@pytest.mark.parametrize("method", list(ForecastMethod), ids=str)
def test_flat_line_never_crosses(method):
    spec = LineSpec("FLAT", base_pct=50, growth_pct_per_month=0, noise_pct=2, day_noise_pct=1)
    forecast = fit_forecast(busy_hours(spec, days=91), method=method, horizon_days=HORIZON_DAYS)
    assert crossing(forecast, 80.0) == crossing(forecast, 80.0).__class__(80.0, None, None, None)
    assert abs(forecast.growth_pct_per_month) < 1.0


@pytest.mark.parametrize(("method", "weekly", "need"), [
    pytest.param(ForecastMethod.ROBUST_SEASONAL, True, 14, id="robust-two-weeks"),
    pytest.param(ForecastMethod.HOLT_WINTERS, True, 14, id="holt-winters-two-weeks"),
    pytest.param(ForecastMethod.ROBUST_SEASONAL, False, 7, id="robust-no-season-one-week"),
    pytest.param(ForecastMethod.LINEAR, True, 7, id="linear-one-week"),
])
def test_too_short_history_is_a_clear_error(method, weekly, need):
    assert min_days(method, weekly=weekly) == need
    short = daily(np.linspace(10, 20, need - 1))
    short.name = "BUSAN-2"
    with pytest.raises(ValueError, match=f"BUSAN-2: {need - 1} days with a value, fewer than {need} days"):
        fit_forecast(short, method=method, horizon_days=30, weekly=weekly)
    fit_forecast(daily(np.linspace(10, 20, need)), method=method, horizon_days=30, weekly=weekly)


def test_gap_days_do_not_count_as_history():
    values = np.full(20, np.nan)
    values[::2] = 30.0  # ten days with a value spread over twenty
    with pytest.raises(ValueError, match="10 days with a value, fewer than 14 days"):
        fit_forecast(daily(values), method=ForecastMethod.ROBUST_SEASONAL, horizon_days=30)


@pytest.mark.parametrize("method", list(ForecastMethod), ids=str)
def test_intervals_widen_with_noise(method):
    widths = []
    for noise in (0.5, 4.0):
        spec = LineSpec("N", base_pct=40, growth_pct_per_month=3, noise_pct=noise, day_noise_pct=noise,
                        weekend_factor=1.0)  # no weekly shape: the linear fit's residuals are the noise too
        frame = fit_forecast(busy_hours(spec), method=method, horizon_days=60).frame
        widths.append(float((frame["upper_pct"] - frame["lower_pct"]).mean()))
    assert widths[1] > 2 * widths[0], widths


@pytest.mark.parametrize("method", [ForecastMethod.ROBUST_SEASONAL, ForecastMethod.LINEAR], ids=str)
def test_intervals_widen_with_the_horizon(method):
    spec = LineSpec("H", base_pct=40, growth_pct_per_month=3, noise_pct=3, day_noise_pct=2)
    frame = fit_forecast(busy_hours(spec), method=method, horizon_days=120).frame
    width = (frame["upper_pct"] - frame["lower_pct"]).to_numpy()
    assert width[-1] > width[0]


@pytest.mark.parametrize("method", list(ForecastMethod), ids=str)
def test_frame_is_the_days_after_the_history_with_ordered_bounds(method):
    spec = LineSpec("F", base_pct=30, growth_pct_per_month=5)
    history = busy_hours(spec)
    history.index = pd.date_range("2026-06-01", periods=len(history), freq="D", tz="Asia/Seoul")
    forecast = fit_forecast(history, method=method, horizon_days=45, interval_pct=90)
    frame = forecast.frame
    assert isinstance(forecast, Forecast) and forecast.method is method and forecast.fitted_days == FIT_DAYS
    assert list(frame.columns) == ["value_pct", "lower_pct", "upper_pct"]
    assert len(frame) == 45 and str(frame.index.tz) == "Asia/Seoul"
    assert frame.index[0] == history.index[-1] + pd.Timedelta(days=1)
    assert (frame["lower_pct"] <= frame["value_pct"]).all() and (frame["value_pct"] <= frame["upper_pct"]).all()
    assert (frame["lower_pct"] >= 0).all()


def test_seasonal_forecast_crosses_weeks_before_the_linear_baseline():
    """The busy weekdays reach 80 % while the weekly mean (what a straight line follows) is still far below."""
    spec = LineSpec("OFFICE", base_pct=50, growth_pct_per_month=6, weekend_factor=0.3, noise_pct=1)
    series = busy_hours(spec)
    seasonal = crossing(fit_forecast(series, method=ForecastMethod.ROBUST_SEASONAL, horizon_days=365), 80.0)
    baseline = crossing(linear_forecast(series, horizon_days=365), 80.0)
    assert linear_forecast(series, horizon_days=5).method is ForecastMethod.LINEAR
    assert seasonal.date is not None and baseline.date is not None
    assert (baseline.date - seasonal.date).days >= 21


def test_a_holiday_week_at_the_end_does_not_tilt_the_robust_trend():
    """Chuseok in the last week of the history: the weekdays at weekend level are left out of the refit."""
    spec = LineSpec("HOL", base_pct=50, growth_pct_per_month=5, noise_pct=1, day_noise_pct=0.5)
    weekdays = [d.date() for d in pd.date_range("2026-06-01", periods=FIT_DAYS) if d.day_of_week < 5]
    plain, holiday = (fit_forecast(busy_hours(spec, holidays=days), method=ForecastMethod.ROBUST_SEASONAL,
                                   horizon_days=HORIZON_DAYS) for days in ([], weekdays[-5:]))
    assert holiday.growth_pct_per_month == pytest.approx(plain.growth_pct_per_month, abs=0.3)
    assert abs((crossing(holiday, 80.0).date - crossing(plain, 80.0).date).days) <= 4


@pytest.mark.parametrize(("before_pct", "after_pct", "days_since"), [
    pytest.param(10.0, 50.0, 30, id="traffic-moved-on-30-days-ago"),
    pytest.param(10.0, 50.0, 60, id="traffic-moved-on-60-days-ago"),
    pytest.param(60.0, 35.0, 41, id="traffic-moved-off"),
])
def test_level_shift_is_a_new_level_not_growth(before_pct, after_pct, days_since):
    """A migration onto (or off) a flat line: the robust forecast continues the new level; the linear one
    reads the step as a steep trend."""
    rng = np.random.default_rng(3)
    index = pd.date_range("2026-06-01", periods=FIT_DAYS, freq="D", tz="UTC")
    weekly = np.where(index.day_of_week >= 5, 0.4, 1.0)
    level = np.r_[np.full(FIT_DAYS - days_since, before_pct), np.full(days_since, after_pct)]
    series = pd.Series(level * weekly + rng.normal(0, 1.0, FIT_DAYS), index=index)
    forecast = fit_forecast(series, method=ForecastMethod.ROBUST_SEASONAL, horizon_days=60)
    assert abs(forecast.growth_pct_per_month) < 1.0
    assert abs(forecast.fitted_days - days_since) <= 3  # fitted on the days since the shift
    busy = forecast.frame[forecast.frame.index.day_of_week < 5]["value_pct"]
    assert busy.to_numpy() == pytest.approx(after_pct, abs=2.0)
    assert abs(linear_forecast(series, horizon_days=60).growth_pct_per_month) > 5.0


@pytest.mark.parametrize(("today", "expected"), [
    pytest.param(None, dt.date(2026, 6, 11), id="whole-horizon"),
    pytest.param(dt.date(2026, 6, 20), dt.date(2026, 6, 20), id="already-above-crosses-today"),
])
def test_crossing_starts_at_today(today, expected):
    frame = pd.DataFrame({"value_pct": np.linspace(70, 100, 31)}, index=pd.date_range("2026-06-01", periods=31,
                                                                                       freq="D", tz="UTC"))
    frame["lower_pct"] = frame["value_pct"] - 5
    frame["upper_pct"] = frame["value_pct"] + 5
    forecast = Forecast(method=ForecastMethod.LINEAR, frame=frame, growth_pct_per_month=30.0, fitted_days=30)
    found = crossing(forecast, 80.0, today=today)
    assert found.date == expected
    assert found.days_from(dt.date(2026, 6, 1)) == (expected - dt.date(2026, 6, 1)).days
    if today is None:
        assert (found.earliest, found.latest) == (dt.date(2026, 6, 6), dt.date(2026, 6, 16))


@pytest.mark.parametrize(("kwargs", "message"), [
    pytest.param({"horizon_days": 0}, "horizon_days must be at least 1", id="no-horizon"),
    pytest.param({"horizon_days": 10, "interval_pct": 100}, "interval_pct must be between 0 and 100", id="interval"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_forecast(daily(np.arange(30.0)), method=ForecastMethod.LINEAR, **kwargs)


def test_generator_truth_is_the_busy_hour_of_its_noise_free_data():
    """The benchmark judges forecasts against true_busy_hour: it must be what daily_profile gives on the data."""
    history = generate(lines=4, days=30, step_s=300, seed=5, tz="Asia/Seoul")
    for spec in history.specs:
        measured = daily_profile(history.series(spec.name, "expected").tz_convert("Asia/Seoul"))["busy_hour_pct"]
        truth = true_busy_hour(spec, start=history.start, tz="Asia/Seoul", from_day=0, days=30,
                               holidays=history.holidays)
        np.testing.assert_allclose(measured.to_numpy(), truth.to_numpy(), atol=1e-9)
        assert list(measured.index) == list(truth.index)


def test_generator_is_deterministic_and_labels_lie_in_the_history():
    first, again = (generate(lines=6, days=42, seed=9, anomalies_per_line=2.0) for _ in range(2))
    assert first.frame.equals(again.frame) and first.anomalies == again.anomalies
    assert first.anomalies, "anomalies were asked for"
    end = first.start + pd.Timedelta(days=42)
    for label in first.anomalies:
        assert first.start + pd.Timedelta(days=28) <= label.start < label.end <= end
        assert label.kind in {"drop", "surge", "level_shift"}
        part = first.frame[(first.frame["line"] == label.line) & (first.frame["time"] >= label.start)
                           & (first.frame["time"] < label.end)]
        departure = float((part["value"] - part["expected"]).mean())
        assert np.sign(departure) == np.sign(label.magnitude_pct), label
        assert departure == pytest.approx(label.magnitude_pct, rel=0.25, abs=0.5), label
