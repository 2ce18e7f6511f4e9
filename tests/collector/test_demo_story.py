"""The demo traffic model's trends story: one line growing so its busy hour crosses 80 % within the coming month, and
one anomaly under way when the demo starts, which the anomaly rule of config/alerts.yaml reports — and nothing else.

The growth is checked with the trends core the trends job uses (daily busy hour, the default forecast method); the
anomaly with the real alert evaluator on the demo's own backfill in a real influxd (the session ``influxd``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from collector.demo import model
from collector.demo.model import DEMO_PROFILES, reset_story, start_story, utilization
from collector.demo.stage import HISTORY_MIN_DAYS, backfill, backfill_start_s
from linewatch.choices import AnomalyDirection
from linewatch.demo import DemoContext
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.inventory import Inventory, load_inventory
from linewatch.settings import TrendsSettings, load_settings
from linewatch.trends.forecast import crossing, fit_forecast
from linewatch.trends.series import daily_profile

REPO = Path(__file__).resolve().parents[2]
GROWING = "PAR-INET-1"
ANOMALOUS = "FRA-INET-1"
NIGHT_S = int(dt.datetime(2026, 12, 2, 3, 10, tzinfo=dt.UTC).timestamp())  # a Wednesday, 03:10 UTC
DAY_S = int(dt.datetime(2026, 12, 2, 14, 10, tzinfo=dt.UTC).timestamp())  # the daily peak


@pytest.fixture
def story() -> Iterator[None]:
    """The story is module state of the model (the demo anchors it once): always put back."""
    yield
    reset_story()


def _max_util_pct(line_id: str, times_s: np.ndarray) -> np.ndarray:
    return np.array([100 * max(utilization(line_id, float(t), direction=d) for d in ("in", "out")) for t in times_s])


def _history(line_id: str, *, now_s: int, days: int, step_s: int = 300) -> pd.Series:
    times = np.arange(now_s - days * 86400, now_s, step_s)
    index = pd.DatetimeIndex(pd.to_datetime(times, unit="s", utc=True))
    return pd.Series(_max_util_pct(line_id, times), index=index)


@pytest.mark.parametrize("now_s", [NIGHT_S, DAY_S + 40 * 86400], ids=["demo-today", "demo-40-days-later"])
def test_growing_line_is_below_80_now_and_its_forecast_crosses_80_within_30_days(story: None, now_s: int) -> None:
    """Whenever the demo starts, the story starts there: busy hour about 68 % now, crossing 80 % in 2-4 weeks."""
    start_story(now_s)
    days = daily_profile(_history(GROWING, now_s=now_s // 86400 * 86400, days=HISTORY_MIN_DAYS))
    busy = days["busy_hour_pct"]
    weekdays = busy[busy.index.dayofweek < 5]
    assert 60 < weekdays.iloc[-1] < 80, "below the warning level today: nothing fires on utilization"
    assert weekdays.iloc[-1] - weekdays.iloc[0] > 15, "visibly grown over the backfilled weeks"
    assert busy[busy.index.dayofweek >= 5].max() < weekdays.min() + 10, "quiet weekends (the heatmap shows them)"
    method = TrendsSettings().method
    forecast = fit_forecast(busy, method=method, horizon_days=TrendsSettings().horizon_days)
    today = dt.datetime.fromtimestamp(now_s, dt.UTC).date()
    cross = crossing(forecast, 80.0, today=today)
    assert cross.date is not None and 7 <= (cross.date - today).days <= 30, (method, cross)
    assert 12 < forecast.growth_pct_per_month < 25


def test_without_a_started_story_there_is_no_anomaly_and_growth_is_anchored_at_a_fixed_day() -> None:
    """Tests (and every caller but the demo) get a pure function of time."""
    assert model.story_anchor_s() == model.DEFAULT_ANCHOR_S
    anomaly = DEMO_PROFILES[ANOMALOUS].anomaly
    assert anomaly is not None and anomaly.direction is AnomalyDirection.SURGE
    start, end = anomaly.window(model.DEFAULT_ANCHOR_S)
    times = np.arange(start, end, 600)
    plain = _max_util_pct(ANOMALOUS, times)
    assert plain.max() < 70  # FRA-INET-1's usual day, no surge


@pytest.mark.parametrize("now_s", [NIGHT_S, DAY_S], ids=["3-am", "busy-hour"])
def test_anomaly_adds_22_points_up_to_75_pct_from_half_an_hour_before_the_start(story: None, now_s: int) -> None:
    times = np.arange(now_s - 3600, now_s + 3600, 300)
    plain = _max_util_pct(ANOMALOUS, times)
    start_story(now_s)
    told = _max_util_pct(ANOMALOUS, times)
    during = times >= now_s - 1800
    assert np.allclose(told[during], np.maximum(plain[during], np.minimum(plain[during] + 22.0, 75.0)))
    assert np.allclose(told[~during], plain[~during])
    assert (told[during] - plain[during]).mean() > 15
    assert told.max() <= 75, "the surge is an anomaly, not a utilization warning"
    other = [line for line in DEMO_PROFILES if line != ANOMALOUS]
    assert all(DEMO_PROFILES[line].anomaly is None for line in other), "one anomaly in the story"


@pytest.mark.parametrize(
    ("now", "expected_days"),
    [
        pytest.param(dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC), 32, id="early-in-a-month-the-5-weeks-rule"),
        pytest.param(dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC), 35, id="first-of-march-after-february"),
        pytest.param(dt.datetime(2026, 12, 30, 10, tzinfo=dt.UTC), 59, id="late-in-a-month-the-previous-month"),
    ],
)
def test_backfill_covers_the_previous_month_and_at_least_five_weeks(now: dt.datetime, expected_days: int) -> None:
    start = backfill_start_s(int(now.timestamp()))
    assert start % 86400 == 0
    assert (int(now.timestamp()) // 86400 * 86400 - start) // 86400 == max(expected_days, HISTORY_MIN_DAYS)


@pytest.fixture
def inventory() -> Inventory:
    return load_inventory(REPO / "config" / "lines.yaml")


@pytest.mark.slow
@pytest.mark.parametrize("now_s", [NIGHT_S, DAY_S], ids=["3-am", "busy-hour"])
def test_the_demo_backfill_fires_the_traffic_anomaly_rule_on_the_surging_line_only(
    story: None, influx_db: tuple[str, str], inventory: Inventory, tmp_path: Path, now_s: int
) -> None:
    """The demo's own backfill (5 weeks, the last 6 hours at 1-minute steps) with the story started at ``now_s``:
    the first evaluation of config/alerts.yaml fires traffic_anomaly (a surge) for FRA-INET-1 and no other line,
    at night and in the busy hour alike."""
    from alerting.demo import build_demo_service

    url, db = influx_db
    client = InfluxClient(InfluxSettings(url=url, database=db, gzip=False, timeout_s=60))
    start_story(now_s)
    backfill(client, inventory, now_s=now_s)
    alerts = (REPO / "config" / "alerts.yaml").read_text(encoding="utf-8")
    (tmp_path / "alerts.yaml").write_text(alerts.replace("port: 18025", "port: 1").replace("127.0.0.1:18089",
                                                                                           "127.0.0.1:1"))
    settings = load_settings(REPO / "config" / "linewatch.yaml").model_copy(
        update={"alerts_path": tmp_path / "alerts.yaml"})
    service = build_demo_service(DemoContext(settings, tmp_path / "run", client, inventory, threading.Event()))
    try:
        service.evaluate(now_s)
        service.flush(now_s)
    finally:
        service.close()
    rows = client.query("SELECT \"firing\", \"summary\", \"state\" FROM \"alert_events\" "
                        "WHERE \"rule\" = 'traffic_anomaly' GROUP BY \"line\"")
    firing = {s["tags"]["line"] for s in rows if any(v[1] == 1 for v in s["values"])}
    assert firing == {ANOMALOUS}, rows
    client.close()
