"""Usage patterns (linewatch.trends.patterns): the weekday × hour heatmap, night and weekend shares, peak hour and
weekday, month-over-month change, in the site's time zone. Pure functions on crafted frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from linewatch.trends.patterns import UsagePattern, heatmap, usage_pattern, usage_patterns

MONDAY = pd.Timestamp("2026-11-02 00:00", tz="UTC")


def frame_of(values_by_time, line: str = "L1") -> pd.DataFrame:
    times, values = zip(*values_by_time, strict=True)
    return pd.DataFrame({"line": line, "time": pd.DatetimeIndex(times), "value": np.asarray(values, dtype=float)})


def hourly(weeks: int, fn, *, start: pd.Timestamp = MONDAY, line: str = "L1") -> pd.DataFrame:
    times = pd.date_range(start, periods=weeks * 168, freq="1h")
    return pd.DataFrame({"line": line, "time": times, "value": fn(times).astype(float)})


def test_heatmap_is_seven_by_twenty_four_with_the_mean_of_each_cell():
    frame = hourly(2, lambda t: t.day_of_week * 100 + t.hour + np.where(t < MONDAY + pd.Timedelta(weeks=1), 0, 2))
    grid = heatmap(frame, tz="UTC")
    assert grid.shape == (7, 24)
    assert list(grid.index) == list(range(7)) and list(grid.columns) == list(range(24))
    assert grid.loc[0, 0] == 1.0  # Monday 00:00: weeks 0 and 2 → mean 1
    assert grid.loc[6, 23] == 624.0


def test_heatmap_cells_without_samples_are_empty():
    frame = frame_of([(MONDAY + pd.Timedelta(hours=9), 50.0)])
    grid = heatmap(frame, tz="UTC")
    assert grid.loc[0, 9] == 50.0
    assert int(grid.notna().sum().sum()) == 1


@pytest.mark.parametrize(("tz", "weekday", "hour"), [
    ("UTC", 0, 0),
    ("Asia/Seoul", 0, 9),        # UTC+9
    ("America/New_York", 6, 19),  # UTC-5 in November: Sunday evening
])
def test_heatmap_cell_follows_the_site_time_zone(tz, weekday, hour):
    grid = heatmap(frame_of([(MONDAY, 42.0)]), tz=tz)
    assert grid.loc[weekday, hour] == 42.0


@pytest.mark.parametrize(("case", "fn", "night_share", "weekend_share"), [
    ("even all week", lambda t: np.ones(len(t)), 8 / 24, 2 / 7),
    ("only at night (22–06)", lambda t: ((t.hour >= 22) | (t.hour < 6)).astype(float), 1.0, 2 / 7),
    ("only at weekends", lambda t: (t.day_of_week >= 5).astype(float), 8 / 24, 1.0),
    ("office hours only", lambda t: ((t.day_of_week < 5) & (t.hour >= 9) & (t.hour < 18)).astype(float), 0.0, 0.0),
], ids=lambda v: v if isinstance(v, str) else None)
def test_night_and_weekend_shares(case, fn, night_share, weekend_share):
    pattern = usage_pattern(hourly(2, fn), tz="UTC")
    assert pattern.night_share == pytest.approx(night_share), case
    assert pattern.weekend_share == pytest.approx(weekend_share), case


def test_shares_weigh_each_hour_of_the_week_once_whatever_the_sampling():
    """A collector that polled the night hours every minute and the day hourly does not make the night bigger."""
    even = hourly(1, lambda t: np.ones(len(t)))
    night = pd.date_range(MONDAY + pd.Timedelta(hours=22), periods=8 * 60, freq="1min")
    dense = pd.concat([even, pd.DataFrame({"line": "L1", "time": night, "value": 1.0})], ignore_index=True)
    assert usage_pattern(dense, tz="UTC").night_share == pytest.approx(8 / 24)


def test_night_hours_configurable_and_checked():
    pattern = usage_pattern(hourly(1, lambda t: (t.hour < 7).astype(float)), tz="UTC", night=(0, 7))
    assert pattern.night_share == pytest.approx(1.0)
    with pytest.raises(ValueError, match="night must be two different hours"):
        usage_pattern(hourly(1, lambda t: np.ones(len(t))), tz="UTC", night=(6, 6))


def test_peak_hour_and_weekday_in_the_site_time_zone():
    # Thursday 05:00 UTC is Thursday 14:00 in Seoul
    fn = lambda t: 10.0 + 50.0 * ((t.day_of_week == 3) & (t.hour == 5)) + 5.0 * (t.day_of_week == 3)
    pattern = usage_pattern(hourly(2, fn), tz="Asia/Seoul")
    assert (pattern.peak_hour, pattern.peak_weekday) == (14, 3)


@pytest.mark.parametrize(("october", "november", "change_pct"), [
    (10.0, 15.0, 50.0),
    (40.0, 30.0, -25.0),
    (20.0, 20.0, 0.0),
])
def test_month_over_month_change_of_the_mean(october, november, change_pct):
    times = pd.date_range("2026-10-01", "2026-11-30 23:00", freq="1h", tz="UTC")
    frame = pd.DataFrame({"line": "L1", "time": times, "value": np.where(times.month == 10, october, november)})
    pattern = usage_pattern(frame, tz="UTC")
    assert pattern.month == "2026-11"
    assert pattern.mom_change_pct == pytest.approx(change_pct)
    assert usage_pattern(frame, tz="UTC", month="2026-10").mom_change_pct is None  # no September


def test_month_boundaries_are_the_site_time_zones():
    """Nov 1st 03:00 in Seoul is still October 31st in UTC: in Seoul the sample belongs to November."""
    frame = frame_of([(pd.Timestamp("2026-10-15 03:00", tz="UTC"), 10.0),
                      (pd.Timestamp("2026-10-31 18:00", tz="UTC"), 30.0)])
    assert usage_pattern(frame, tz="UTC").mom_change_pct is None
    seoul = usage_pattern(frame, tz="Asia/Seoul")
    assert (seoul.month, seoul.mom_change_pct) == ("2026-11", pytest.approx(200.0))


def test_an_empty_or_idle_frame_has_no_figures_rather_than_wrong_ones():
    empty = pd.DataFrame({"line": pd.Series([], dtype=object), "time": pd.Series([], dtype="datetime64[ns, UTC]"),
                          "value": pd.Series([], dtype=float)})
    assert usage_pattern(empty, tz="UTC") == UsagePattern(None, None, None, None, None, None, None, 0)
    idle = usage_pattern(hourly(1, lambda t: np.zeros(len(t))), tz="UTC")
    assert idle.night_share is None and idle.weekend_share is None and idle.samples == 168


def test_usage_patterns_per_department():
    office = hourly(1, lambda t: ((t.day_of_week < 5) & (t.hour >= 9) & (t.hour < 18)).astype(float), line="A")
    backup = hourly(1, lambda t: (t.hour < 4).astype(float), line="B")
    frame = pd.concat([office.assign(department="Sales"), backup.assign(department="IT")], ignore_index=True)
    patterns = usage_patterns(frame, by="department", tz="UTC")
    assert sorted(patterns) == ["IT", "Sales"]
    assert patterns["IT"].night_share == pytest.approx(1.0)
    assert patterns["Sales"].night_share == pytest.approx(0.0)
    with pytest.raises(ValueError, match="column team missing"):
        usage_patterns(frame, by="team", tz="UTC")


def test_a_frame_without_time_zones_is_refused():
    frame = pd.DataFrame({"line": ["L1"], "time": [pd.Timestamp("2026-11-02 09:00")], "value": [1.0]})
    with pytest.raises(ValueError, match="time must be time-zone aware"):
        heatmap(frame, tz="UTC")
