"""Daily figures of a utilization series (linewatch.trends.series.daily_profile): busy hour, p95, days, gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from linewatch.trends.series import daily_profile


def five_minutes(start: str, periods: int, tz: str = "UTC", value: float = 10.0) -> pd.Series:
    return pd.Series(value, index=pd.date_range(start, periods=periods, freq="5min", tz=tz), dtype=float)


def test_constant_day_gives_the_constant_and_288_samples():
    profile = daily_profile(five_minutes("2026-11-02", 288, value=42.0))
    assert list(profile.columns) == ["p95_pct", "busy_hour_pct", "samples"]
    assert profile.iloc[0].to_dict() == {"p95_pct": 42.0, "busy_hour_pct": 42.0, "samples": 288}


def test_busy_hour_is_the_highest_hourly_mean_not_the_highest_sample():
    util = five_minutes("2026-11-02", 288)
    util.iloc[12 * 14] = 100.0  # one 5-minute spike at 14:00
    util.iloc[12 * 9: 12 * 10] = 30.0  # a whole busy hour at 09:00
    profile = daily_profile(util)
    assert profile["busy_hour_pct"].iloc[0] == pytest.approx(30.0)  # spike hour: (11 × 10 + 100) / 12 = 17.5


@pytest.mark.parametrize(("values", "p95"), [
    pytest.param(list(range(1, 101)), np.percentile(np.arange(1, 101), 95), id="uniform-1-to-100"),
    pytest.param([5.0] * 95 + [90.0] * 5, 9.25, id="five-percent-high-interpolated"),  # 5 + 0.05 × 85
    pytest.param([5.0] * 94 + [90.0] * 6, 90.0, id="six-percent-high"),
])
def test_p95_is_the_days_95th_percentile_of_samples(values, p95):
    util = pd.Series(values, index=pd.date_range("2026-11-02", periods=len(values), freq="5min", tz="UTC"))
    assert daily_profile(util)["p95_pct"].iloc[0] == pytest.approx(p95)


@pytest.mark.parametrize(("tz", "first_day"), [
    pytest.param("UTC", "2026-11-01", id="utc-days"),
    pytest.param("Asia/Seoul", "2026-11-02", id="site-days-seoul"),  # 23:30 UTC is 08:30 the next day in Seoul
])
def test_days_are_calendar_days_of_the_index_zone(tz, first_day):
    util = five_minutes("2026-11-01 23:30", 6).tz_convert(tz)
    profile = daily_profile(util)
    assert profile.index[0] == pd.Timestamp(first_day, tz=tz)
    assert str(profile.index.tz) == tz


def test_a_day_without_samples_is_kept_as_a_gap():
    util = pd.concat([five_minutes("2026-11-02", 288), five_minutes("2026-11-04", 288)])
    profile = daily_profile(util)
    assert list(profile["samples"]) == [288, 0, 288]
    assert np.isnan(profile["busy_hour_pct"].iloc[1]) and np.isnan(profile["p95_pct"].iloc[1])


def test_nan_samples_are_not_counted():
    util = five_minutes("2026-11-02", 288)
    util.iloc[:100] = np.nan
    assert daily_profile(util)["samples"].iloc[0] == 188


def test_daylight_saving_day_has_23_hours_of_samples():
    util = five_minutes("2026-03-07", 3 * 288, tz="America/New_York")
    profile = daily_profile(util)
    assert profile.loc[pd.Timestamp("2026-03-08", tz="America/New_York"), "samples"] == 23 * 12


def test_unsorted_hourly_samples_are_fine():
    util = pd.Series([50.0, 10.0, 20.0], index=pd.DatetimeIndex(
        ["2026-11-02 15:00", "2026-11-02 03:00", "2026-11-02 09:00"]).tz_localize("UTC"))
    assert daily_profile(util).iloc[0].to_dict() == {"p95_pct": pytest.approx(47.0), "busy_hour_pct": 50.0,
                                                      "samples": 3}


def test_empty_series_gives_an_empty_frame_with_the_columns():
    profile = daily_profile(pd.Series([], index=pd.DatetimeIndex([], tz="UTC"), dtype=float))
    assert profile.empty and list(profile.columns) == ["p95_pct", "busy_hour_pct", "samples"]


def test_naive_index_is_refused_with_the_reason():
    util = pd.Series([1.0], index=pd.DatetimeIndex(["2026-11-02"]), name="SEOUL-1")
    with pytest.raises(ValueError, match="SEOUL-1: index must be time-zone aware"):
        daily_profile(util)


def test_non_time_index_is_refused_with_the_reason():
    with pytest.raises(TypeError, match="index must be a DatetimeIndex, got RangeIndex"):
        daily_profile(pd.Series([1.0, 2.0]))
