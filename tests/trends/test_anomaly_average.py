"""departures(average_s=…): a moderate fault that a noisy 5-minute sample hides is found on the mean of the time an
episode must be held anyway, and normal days with a lunch dip and a weekend stay quiet (the interpolation term).
Pure functions on crafted and generated frames (no server)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from linewatch.choices import AnomalyDirection
from linewatch.trends.anomaly import departures, sustained
from linewatch.trends.baseline import hour_of_week_baseline

K_MAD = 5.0  # config/alerts.yaml traffic_anomaly: k=5 MADs, 4 weeks, sustained 15 min
WEEKS = 4
FOR_S = 900
DAY = pd.Timestamp("2026-11-04 00:00", tz="UTC")  # a Wednesday


def busy_line(seed: int, noise_pct: float) -> pd.DataFrame:
    """Four weeks and a day of a busy office line at 5 minutes: 60 % 9–17 h on weekdays, 15 % at night."""
    times = pd.date_range(DAY - pd.Timedelta(weeks=WEEKS), DAY + pd.Timedelta(days=1), freq="5min",
                          inclusive="left")
    hour = times.hour + times.minute / 60.0
    level = 15.0 + 45.0 * np.clip(np.minimum(hour - 7.0, 19.0 - hour) / 2.0, 0.0, 1.0)
    level = np.where(times.day_of_week >= 5, 10.0, level)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"line": "L-lag", "time": times, "value": level + rng.normal(0.0, noise_pct, len(times))})


def episodes(whole: pd.DataFrame, day: pd.Timestamp, average_s: float | None) -> pd.DataFrame:
    past = whole[(whole["time"] < day) & (whole["time"] >= day - pd.Timedelta(weeks=WEEKS))]
    hourly = past.groupby(["line", pd.Grouper(key="time", freq="1h")])["value"].mean().reset_index()
    baseline = hour_of_week_baseline(hourly, weeks=WEEKS, end=day)
    recent = whole[(whole["time"] >= day) & (whole["time"] < day + pd.Timedelta(days=1))]
    scored = departures(recent, baseline, k_mad=K_MAD, min_samples=3, drop_min_expected=10.0, step_s=300,
                        average_s=average_s)
    return sustained(scored, for_s=FOR_S, step_s=300)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_lost_lag_member_on_a_noisy_line_is_found_on_the_15_minute_mean_not_sample_by_sample(seed):
    whole = busy_line(seed, noise_pct=4.0)
    hit = (whole["time"] >= DAY + pd.Timedelta(hours=10)) & (whole["time"] < DAY + pd.Timedelta(hours=12))
    whole.loc[hit, "value"] *= 0.65  # one member of a 2-link LAG lost: −35 %, 21 points on a 60 % line, 2 h
    alone = episodes(whole, DAY, average_s=None)
    averaged = episodes(whole, DAY, average_s=FOR_S)
    assert alone.empty, f"each noisy sample alone stays within 5 MADs: {alone}"
    assert len(averaged) >= 1 and (averaged["direction"] == AnomalyDirection.DROP).all(), averaged
    assert averaged["samples"].sum() >= 18, f"the 15-minute mean departs for most of the 2 hours: {averaged}"
    assert DAY + pd.Timedelta(hours=10) <= averaged["start"].min() <= DAY + pd.Timedelta(hours=10, minutes=30)
    assert averaged["end"].max() <= DAY + pd.Timedelta(hours=12, minutes=15)


def test_normal_generated_days_with_a_lunch_dip_and_weekends_stay_quiet_with_the_average():
    from bench.history_gen import generate

    hist = generate(lines=20, days=42, step_s=300, start="2026-08-03", seed=21, holidays=[])
    frame = hist.frame[["line", "time", "value"]]
    found = [episodes(frame, day, average_s=FOR_S)
             for day in pd.date_range(hist.start + pd.Timedelta(weeks=WEEKS), periods=14, freq="D")]
    false_alarms = pd.concat(found, ignore_index=True)
    assert len(false_alarms) <= 2, false_alarms  # 20 lines × 14 days; without the interpolation term: lunch dips


def test_the_average_needs_no_more_than_the_samples_it_has():
    whole = busy_line(4, noise_pct=1.0)
    day = whole[whole["time"] >= DAY].iloc[:1]  # one recent sample: a window of one
    past = whole[whole["time"] < DAY]
    hourly = past.groupby(["line", pd.Grouper(key="time", freq="1h")])["value"].mean().reset_index()
    baseline = hour_of_week_baseline(hourly, weeks=WEEKS, end=DAY)
    alone = departures(day, baseline, k_mad=K_MAD, min_samples=3, step_s=300, noise=1.0)
    averaged = departures(day, baseline, k_mad=K_MAD, min_samples=3, step_s=300, noise=1.0, average_s=FOR_S)
    assert averaged["score"].to_numpy() == pytest.approx(alone["score"].to_numpy(), abs=0.5)
