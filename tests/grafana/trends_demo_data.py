"""The trends job's measurements for the dashboard tests: ``line_trend`` (daily actuals) and ``line_forecast``
(future days), written in the shape docs/schema.md gives ("Trends": tag ``line`` only; ``method`` a string field).

The actuals come from the demo traffic model (collector/demo/model.py), sampled at each whole hour: the day's
highest max(in, out) utilization is its busy hour. The forecast continues each line's last busy hour by a fixed
growth per day with a widening interval; it runs past the dashboard's 120-day horizon on purpose, so a test can
check that the panel stops where its range does.
"""

from __future__ import annotations

from collector.demo.model import utilization
from linewatch.choices import ForecastMethod
from linewatch.influx import Point
from linewatch.inventory import Inventory

DAY_S = 86400
GROWTH_PCT_PER_DAY = 0.25
FORECAST_DAYS = 130  # beyond the panel's 120 days ahead


def busy_hour_pct(line_id: str, day_s: int) -> float:
    """The day's highest whole-hour max(in, out) utilization of the demo model, in percent."""
    return max(
        100 * max(utilization(line_id, day_s + h * 3600, direction=d) for d in ("in", "out")) for h in range(24)
    )


def trend_points(inventory: Inventory, *, now_s: int, days_back: int = 91) -> list[Point]:
    """``line_trend`` for the ``days_back`` whole days before today and ``line_forecast`` from tomorrow on, per
    polled line."""
    today_s = now_s // DAY_S * DAY_S
    points: list[Point] = []
    for line in inventory.polled_lines():
        tags = {"line": line.id}
        last = 0.0
        for day in range(days_back, 0, -1):
            day_s = today_s - day * DAY_S
            last = busy_hour_pct(line.id, day_s)
            fields = {"busy_hour_pct": last, "p95_pct": 0.9 * last}
            points.append(Point("line_trend", tags, fields, day_s * 1_000_000_000))
        for day in range(1, FORECAST_DAYS + 1):
            value = last + GROWTH_PCT_PER_DAY * day
            spread = 1.0 + 0.05 * day
            fields = {"value_pct": value, "lower_pct": value - spread, "upper_pct": value + spread,
                      "method": ForecastMethod.HOLT_WINTERS.value}
            points.append(Point("line_forecast", tags, fields, (today_s + day * DAY_S) * 1_000_000_000))
    return points
