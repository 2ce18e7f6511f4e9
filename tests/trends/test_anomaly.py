"""Anomaly detection (linewatch.trends.baseline, linewatch.trends.anomaly): a drop on a busy line or a surge at
3 am is found; a normal weekly seasonal series with noise and a holiday, a flat line and an idle line stay quiet; a
level shift is reported and then absorbed by the baseline. Pure functions on crafted frames (no server)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from linewatch.choices import AnomalyDirection
from linewatch.trends.anomaly import departures, sustained
from linewatch.trends.baseline import hour_of_week_baseline

K_MAD = 5.0  # config/alerts.yaml traffic_anomaly: k=5 MADs, 4 weeks, sustained 15 min
WEEKS = 4
FOR_S = 900
START = pd.Timestamp("2026-10-05 00:00", tz="UTC")  # a Monday
HOLIDAY = dt.date(2026, 11, 4)  # a Wednesday in the fifth week


def office_profile(times: pd.DatetimeIndex) -> np.ndarray:
    """Utilization % of a busy office line: 60 % in office hours on weekdays, 15 % at night, 10 % at weekends."""
    hour = times.hour + times.minute / 60.0
    weekday = times.day_of_week
    day = 15.0 + 45.0 * np.clip(np.minimum(hour - 7.0, 19.0 - hour) / 2.0, 0.0, 1.0)
    return np.where(weekday >= 5, 10.0, day)


def line_frame(line: str, *, start: pd.Timestamp, periods: int, freq: str, seed: int, noise_pct: float = 2.0,
               profile=office_profile, holidays: tuple[dt.date, ...] = ()) -> pd.DataFrame:
    times = pd.date_range(start, periods=periods, freq=freq)
    value = profile(times)
    if holidays:
        is_holiday = np.isin(np.asarray(times.date), np.array(holidays, dtype=object))
        value = np.where(is_holiday, 10.0, value)
    rng = np.random.default_rng(seed)
    value = np.clip(value + rng.normal(0.0, noise_pct, len(times)), 0.0, None)
    return pd.DataFrame({"line": line, "time": times, "value": value})


def hourly_means(frame: pd.DataFrame) -> pd.DataFrame:
    """What the alert rule queries for the baseline: hourly means (GROUP BY time(1h))."""
    out = (frame.groupby(["line", pd.Grouper(key="time", freq="1h")])["value"].mean().reset_index())
    return out[["line", "time", "value"]]


def history_and_day(line: str, *, day: pd.Timestamp, seed: int, **kw) -> tuple[pd.DataFrame, pd.DataFrame]:
    """WEEKS weeks of hourly means before ``day`` and ``day`` itself in 5-minute samples."""
    start = day - pd.Timedelta(weeks=WEEKS)
    whole = line_frame(line, start=start, periods=(WEEKS * 7 + 1) * 288, freq="5min", seed=seed, **kw)
    history = hourly_means(whole[whole["time"] < day])
    recent = whole[whole["time"] >= day].reset_index(drop=True)
    return history, recent


def episodes(history: pd.DataFrame, recent: pd.DataFrame, *, holidays=(), drop_min_expected=10.0,
             tz: str = "UTC") -> pd.DataFrame:
    baseline = hour_of_week_baseline(history, weeks=WEEKS, tz=tz, holidays=holidays)
    found = departures(recent, baseline, k_mad=K_MAD, min_samples=3, holidays=holidays,
                       drop_min_expected=drop_min_expected)
    return sustained(found, for_s=FOR_S)


DAY = START + pd.Timedelta(weeks=WEEKS, days=2)  # a Wednesday after four weeks of history


def hm(clock: str) -> pd.Timedelta:
    hours, minutes = clock.split(":")
    return pd.Timedelta(hours=int(hours), minutes=int(minutes))


def inject(recent: pd.DataFrame, *, start: str, end: str, value: float | None = None,
           add: float | None = None) -> pd.DataFrame:
    out = recent.copy()
    day = out["time"].iloc[0].normalize()
    window = (out["time"] >= day + hm(start)) & (out["time"] < day + hm(end))
    out.loc[window, "value"] = value if value is not None else out.loc[window, "value"] + add
    return out


@pytest.mark.parametrize(("case", "start", "end", "change", "direction"), [
    ("a sudden drop on a busy line (fault before it goes down)", "10:00", "11:30", {"value": 3.0},
     AnomalyDirection.DROP),
    ("a drop to half in office hours", "14:00", "15:00", {"value": 28.0}, AnomalyDirection.DROP),
    ("a surge at 3 am", "03:00", "03:40", {"value": 70.0}, AnomalyDirection.SURGE),
    ("a lunchtime surge far above the day", "12:00", "12:30", {"add": 35.0}, AnomalyDirection.SURGE),
], ids=lambda v: v if isinstance(v, str) else None)
def test_an_injected_departure_is_one_episode_with_its_direction_and_start(case, start, end, change, direction):
    history, recent = history_and_day("L-busy", day=DAY, seed=1)
    found = episodes(history, inject(recent, start=start, end=end, **change))
    assert len(found) == 1, f"{case}: {found}"
    episode = found.iloc[0]
    assert episode["direction"] is direction
    assert episode["start"] == DAY + hm(start)
    assert episode["end"] == DAY + hm(end)
    assert np.sign(episode["peak_score"]) == (1 if direction is AnomalyDirection.SURGE else -1)
    assert abs(episode["peak_score"]) >= K_MAD


def test_the_episode_names_expected_and_observed_levels():
    history, recent = history_and_day("L-busy", day=DAY, seed=2)
    episode = episodes(history, inject(recent, start="10:00", end="11:00", value=3.0)).iloc[0]
    assert episode["expected"] == pytest.approx(60.0, abs=2.0)
    assert episode["observed"] == pytest.approx(3.0)
    assert episode["samples"] == 12


@pytest.mark.parametrize("seed", [3, 4, 5, 6, 7])
def test_a_normal_seasonal_series_with_noise_stays_quiet_for_a_week(seed):
    start = DAY - pd.Timedelta(weeks=WEEKS)
    whole = line_frame("L-normal", start=start, periods=(WEEKS + 1) * 7 * 288, freq="5min", seed=seed,
                       noise_pct=3.0)
    history = hourly_means(whole[whole["time"] < DAY])
    recent = whole[whole["time"] >= DAY]
    assert episodes(history, recent).empty


def test_a_holiday_in_the_calendar_stays_quiet_and_is_a_drop_without_it():
    day = pd.Timestamp(HOLIDAY, tz="UTC")
    history, recent = history_and_day("L-office", day=day, seed=8, holidays=(HOLIDAY,))
    assert episodes(history, recent, holidays=(HOLIDAY,)).empty
    without = episodes(history, recent)
    assert set(without["direction"]) == {AnomalyDirection.DROP}, "the calendar is what keeps the holiday quiet"


def test_a_holiday_in_the_history_does_not_make_the_next_week_a_surge():
    day = pd.Timestamp(HOLIDAY, tz="UTC") + pd.Timedelta(days=7)
    history, recent = history_and_day("L-office", day=day, seed=9, holidays=(HOLIDAY,))
    assert episodes(history, recent, holidays=(HOLIDAY,)).empty


@pytest.mark.parametrize(("case", "profile", "noise_pct"), [
    ("flat line at 40 % with tiny wiggles", lambda t: np.full(len(t), 40.0), 0.2),
    ("idle line at 0.3 %", lambda t: np.full(len(t), 0.3), 0.2),
    ("dead quiet line at 0 %", lambda t: np.zeros(len(t)), 0.0),
    ("flat line at 90 %, no noise at all", lambda t: np.full(len(t), 90.0), 0.0),
], ids=lambda v: v if isinstance(v, str) else None)
def test_flat_and_idle_lines_stay_quiet(case, profile, noise_pct):
    history, recent = history_and_day("L-flat", day=DAY, seed=10, profile=profile, noise_pct=noise_pct)
    if noise_pct:  # an occasional wiggle twice the noise: still nothing
        recent = inject(recent, start="09:00", end="09:20", add=2 * noise_pct)
    assert episodes(history, recent).empty, case


def test_an_idle_line_going_to_zero_is_no_drop_below_the_minimum_median():
    history, recent = history_and_day("L-idle", day=DAY, seed=11, profile=lambda t: np.full(len(t), 8.0),
                                      noise_pct=0.3)
    quiet = inject(recent, start="10:00", end="12:00", value=0.0)
    assert episodes(history, quiet, drop_min_expected=10.0).empty
    assert set(episodes(history, quiet, drop_min_expected=0.0)["direction"]) == {AnomalyDirection.DROP}


def level_shift_reports(*, trend: bool) -> list[bool]:
    """Traffic halves for good on a Monday: is it reported on the Tuesday of each of the 4 weeks after?"""
    shift = START + pd.Timedelta(weeks=WEEKS)  # a Monday
    total_weeks = WEEKS + 4
    times = pd.date_range(START, periods=total_weeks * 7 * 288, freq="5min")
    rng = np.random.default_rng(12)
    value = office_profile(times) * np.where(times >= shift, 0.5, 1.0) + rng.normal(0.0, 1.5, len(times))
    whole = pd.DataFrame({"line": "L-shift", "time": times, "value": np.clip(value, 0, None)})
    hourly = hourly_means(whole)

    def reported_on(day: pd.Timestamp) -> bool:
        baseline = hour_of_week_baseline(hourly[hourly["time"] < day], weeks=WEEKS, trend=trend)
        recent = whole[(whole["time"] >= day) & (whole["time"] < day + pd.Timedelta(days=1))]
        found = sustained(departures(recent, baseline, k_mad=K_MAD, min_samples=3, drop_min_expected=10.0),
                          for_s=FOR_S)
        return bool(len(found)) and set(found["direction"]) == {AnomalyDirection.DROP}

    return [reported_on(shift + pd.Timedelta(days=1, weeks=w)) for w in range(4)]


def test_a_level_shift_is_reported_then_absorbed_once_it_holds_in_more_than_half_the_weeks():
    """Without the trend: the median moves once the new level holds in weeks // 2 + 1 = 3 of 4 weeks."""
    assert level_shift_reports(trend=False) == [True, True, False, False]


def test_with_the_trend_a_level_shift_is_still_reported_first_and_absorbed_no_later():
    """The weekly growth (Theil–Sen) tilts towards a level shift, so it may be absorbed a week sooner, never
    later, and its first week is always reported."""
    reports = level_shift_reports(trend=True)
    assert reports[0] is True
    assert reports[2:] == [False, False]


def test_the_trend_keeps_a_growing_line_from_lagging_behind_its_baseline():
    """A line growing 3 points a week at 09:00: the plain median of 4 weeks lags 1.5 weeks behind (4.5 points);
    carried forward along the growth it expects this week's level."""
    times = pd.DatetimeIndex([START + pd.Timedelta(weeks=w, hours=9) for w in range(WEEKS)])
    frame = pd.DataFrame({"line": "L-grow", "time": times, "value": [30.0, 33.0, 36.0, 39.0]})
    end = START + pd.Timedelta(weeks=WEEKS)
    plain = hour_of_week_baseline(frame, weeks=WEEKS, end=end, trend=False).loc[("L-grow", 9), "median"]
    grown = hour_of_week_baseline(frame, weeks=WEEKS, end=end, trend=True).loc[("L-grow", 9), "median"]
    assert plain == pytest.approx(34.5)
    assert grown == pytest.approx(42.0, abs=1.5)  # next Monday's 09:00 would be 42


def test_a_short_departure_is_not_sustained():
    history, recent = history_and_day("L-busy", day=DAY, seed=13)
    blip = inject(recent, start="10:00", end="10:10", value=3.0)  # two 5-minute samples: 10 min < 15 min
    assert episodes(history, blip).empty
    assert len(episodes(history, inject(recent, start="10:00", end="10:15", value=3.0))) == 1


def test_a_missing_sample_splits_a_run():
    history, recent = history_and_day("L-busy", day=DAY, seed=14)
    dropped = inject(recent, start="10:00", end="10:40", value=3.0)
    gap = dropped[dropped["time"] != DAY + hm("10:15")]
    found = episodes(history, gap)
    assert list(found["start"]) == [DAY + hm("10:00"), DAY + hm("10:20")]
    assert list(found["end"]) == [DAY + hm("10:15"), DAY + hm("10:40")]


def test_many_lines_at_once_only_the_anomalous_one_is_reported_whatever_the_order():
    histories, recents = [], []
    for i in range(30):
        history, recent = history_and_day(f"L{i:02d}", day=DAY, seed=100 + i)
        if i == 17:
            recent = inject(recent, start="13:00", end="14:00", value=2.0)
        histories.append(history)
        recents.append(recent)
    history = pd.concat(histories, ignore_index=True)
    recent = pd.concat(recents, ignore_index=True).sample(frac=1.0, random_state=0)  # shuffled rows
    found = episodes(history, recent)
    assert list(found["line"]) == ["L17"]
    scored = departures(recent, hour_of_week_baseline(history, weeks=WEEKS), k_mad=K_MAD, min_samples=3)
    assert scored.index.equals(recent.index), "departures keep the rows of recent"


def test_lines_without_enough_history_are_not_judged():
    history, recent = history_and_day("L-new", day=DAY, seed=15)
    short = history[history["time"] >= DAY - pd.Timedelta(weeks=2)]  # 2 samples per hour of the week
    scored = departures(inject(recent, start="10:00", end="12:00", value=0.0),
                        hour_of_week_baseline(short, weeks=WEEKS), k_mad=K_MAD, min_samples=3)
    assert scored["score"].isna().all()
    assert scored["direction"].isna().all()
    unknown = departures(recent.assign(line="L-unknown"), hour_of_week_baseline(history, weeks=WEEKS),
                         k_mad=K_MAD, min_samples=3)
    assert unknown["score"].isna().all()


def test_baseline_median_and_scaled_mad_per_hour_of_week():
    times = pd.DatetimeIndex([START + pd.Timedelta(weeks=w, hours=9) for w in range(5)])  # Mondays 09:00
    frame = pd.DataFrame({"line": "L1", "time": times, "value": [10.0, 20.0, 30.0, 40.0, 1000.0]})
    base = hour_of_week_baseline(frame, weeks=5, mad_floor=0.0, mad_floor_ratio=0.0, trend=False)
    row = base.loc[("L1", 9)]
    assert row["median"] == 30.0  # the outlier week does not drag it
    assert row["mad"] == pytest.approx(10.0 * 1.4826)
    assert row["samples"] == 5
    assert list(base.index.names) == ["line", "how"]


def test_baseline_mad_floor_keeps_a_flat_line_from_scoring_every_wiggle():
    times = pd.date_range(START, periods=WEEKS * 168, freq="1h")
    frame = pd.DataFrame({"line": "L1", "time": times, "value": 50.0})
    base = hour_of_week_baseline(frame, weeks=WEEKS, mad_floor=1.0, mad_floor_ratio=0.05)
    assert (base["mad"] == 2.5).all()
    idle = hour_of_week_baseline(frame.assign(value=0.0), weeks=WEEKS, mad_floor=1.0, mad_floor_ratio=0.05)
    assert (idle["mad"] == 1.0).all()


def test_baseline_uses_only_the_last_weeks_before_end():
    times = pd.date_range(START, periods=6 * 168, freq="1h")
    frame = pd.DataFrame({"line": "L1", "time": times,
                          "value": np.where(times < START + pd.Timedelta(weeks=2), 1000.0, 5.0)})
    base = hour_of_week_baseline(frame, weeks=4)
    assert (base["median"] == 5.0).all() and (base["samples"] == 4).all()
    earlier = hour_of_week_baseline(frame, weeks=2, end=START + pd.Timedelta(weeks=2))
    assert (earlier["median"] == 1000.0).all()


def test_hour_of_week_follows_the_time_zone():
    """Monday 09:00 in Seoul is Monday 00:00 UTC: the baseline and the departures agree on it through attrs."""
    times = pd.DatetimeIndex([START + pd.Timedelta(weeks=w) for w in range(4)])
    frame = pd.DataFrame({"line": "L1", "time": times, "value": 42.0})
    seoul = hour_of_week_baseline(frame, weeks=4, tz="Asia/Seoul")
    assert list(seoul.index) == [("L1", 9)]
    assert seoul.attrs["tz"] == "Asia/Seoul"
    recent = pd.DataFrame({"line": ["L1"], "time": [START + pd.Timedelta(weeks=4)], "value": [42.0]})
    assert departures(recent, seoul, k_mad=K_MAD, min_samples=3)["expected"].tolist() == [42.0]


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"line": ["L1"], "value": [1.0]}), "column(s) time missing"),
    (pd.DataFrame({"line": ["L1"], "time": [pd.Timestamp("2026-11-01")], "value": [1.0]}),
     "time must be time-zone aware"),
    (pd.DataFrame({"line": ["L1"], "time": [pd.Timestamp("2026-11-01", tz="UTC")], "value": ["x"]}),
     "value must be numeric"),
], ids=["no time column", "naive times", "text values"])
def test_bad_frames_are_refused_naming_the_column(frame, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        hour_of_week_baseline(frame, weeks=4)
    base = hour_of_week_baseline(pd.DataFrame({"line": ["L1"], "time": [START], "value": [1.0]}), weeks=1)
    with pytest.raises(ValueError, match="recent: "):
        departures(frame, base, k_mad=K_MAD, min_samples=1)


def test_bad_parameters_are_refused():
    frame = pd.DataFrame({"line": ["L1"], "time": [START], "value": [1.0]})
    with pytest.raises(ValueError, match="weeks must be at least 1"):
        hour_of_week_baseline(frame, weeks=0)
    base = hour_of_week_baseline(frame, weeks=1)
    with pytest.raises(ValueError, match="k_mad must be positive"):
        departures(frame, base, k_mad=0, min_samples=1)
    with pytest.raises(ValueError, match="baseline: column"):
        departures(frame, base.drop(columns="mad"), k_mad=5, min_samples=1)
    with pytest.raises(ValueError, match="for_s must not be negative"):
        sustained(departures(frame, base, k_mad=5, min_samples=1), for_s=-1)


def test_empty_inputs_give_empty_results():
    empty = pd.DataFrame({"line": pd.Series([], dtype=object), "time": pd.Series([], dtype="datetime64[ns, UTC]"),
                          "value": pd.Series([], dtype=float)})
    base = hour_of_week_baseline(empty, weeks=4)
    assert base.empty
    found = sustained(departures(empty, base, k_mad=5, min_samples=1), for_s=FOR_S)
    assert found.empty and list(found.columns) == ["line", "start", "end", "direction", "peak_score",
                                                   "expected", "observed", "samples"]


@pytest.mark.parametrize("skewed", [False, True], ids=["groups alike", "one crowded group"])
def test_baseline_agrees_with_a_plain_groupby(skewed):
    """The sort-based median and MAD give what pandas' groupby gives, on uneven groups (both code paths: a padded
    matrix when the groups are alike, a lexsort when one group is crowded)."""
    rng = np.random.default_rng(21)
    n = 5000
    times = START + pd.to_timedelta(rng.integers(0, WEEKS * 7 * 86400, n), unit="s")
    frame = pd.DataFrame({"line": rng.choice(["A", "B", "C"], n), "time": times, "value": rng.uniform(0, 90, n)})
    if skewed:
        crowd = pd.DataFrame({"line": "A", "time": START + pd.Timedelta(minutes=30), "value": rng.uniform(0, 9, 40000)})
        frame = pd.concat([frame, crowd], ignore_index=True)
    base = hour_of_week_baseline(frame, weeks=WEEKS, end=START + pd.Timedelta(weeks=WEEKS), mad_floor=0.0,
                                 mad_floor_ratio=0.0, trend=False)
    how = frame["time"].dt.day_of_week * 24 + frame["time"].dt.hour
    grouped = frame.assign(how=how).groupby(["line", "how"])["value"]
    median = grouped.median()
    mad = (frame["value"] - grouped.transform("median")).abs().groupby([frame["line"], how]).median() * 1.4826
    assert np.allclose(base["median"].to_numpy(), median.to_numpy())
    assert np.allclose(base["mad"].to_numpy(), mad.to_numpy())
    assert (base["samples"].to_numpy() == grouped.size().to_numpy()).all()


def test_on_generated_histories_the_injected_drops_and_surges_are_found_and_little_else():
    """bench/history_gen.py's lines (growth, weekly shape, holidays, noise) with injected office-hour drops and
    night surges, judged day by day like the alert rule: each surge and each drop on a line busier than the drop
    floor is found, in its direction, and false alarms stay rare (the benchmark measures this at scale)."""
    from bench.history_gen import generate

    hist = generate(lines=16, days=42, step_s=300, start="2026-08-03", seed=5, anomalies_per_line=1.0,
                    anomaly_after_days=28, anomaly_kinds=("drop", "surge"))
    frame = hist.frame[["line", "time", "value"]]
    hourly = hourly_means(frame)
    found = []
    for day in pd.date_range(hist.start + pd.Timedelta(weeks=WEEKS), periods=14, freq="D"):
        baseline = hour_of_week_baseline(hourly[hourly["time"] < day], weeks=WEEKS, end=day,
                                         holidays=hist.holidays)
        recent = frame[(frame["time"] >= day) & (frame["time"] < day + pd.Timedelta(days=1))]
        scored = departures(recent, baseline, k_mad=K_MAD, min_samples=3, holidays=hist.holidays,
                            drop_min_expected=10.0, step_s=hist.step_s)
        found.append(sustained(scored, for_s=FOR_S, step_s=hist.step_s))
    episodes_found = pd.concat(found, ignore_index=True)
    explained = np.zeros(len(episodes_found), dtype=bool)
    busy = {spec.name for spec in hist.specs if spec.base_pct >= 20}
    assert any(a.kind == "drop" and a.line in busy for a in hist.anomalies), "the seed must plant a drop to find"
    for label in hist.anomalies:
        hit = ((episodes_found["line"] == label.line) & (episodes_found["start"] < label.end)
               & (episodes_found["end"] > label.start)
               & (episodes_found["direction"] == AnomalyDirection(label.kind))).to_numpy()
        explained |= hit
        if label.kind == "surge" or label.line in busy:
            assert hit.any(), f"{label} not found"
    assert (~explained).sum() <= 2, episodes_found[~explained]
