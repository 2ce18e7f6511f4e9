"""The trend panels show the right numbers, not only some: the line dashboard's busy hour with the dashed forecast,
and the hour-of-day × day heatmaps of the line and usage dashboards.

A real InfluxDB (Debian's 1.6.7, the session ``influxd``) holds three whole days and today's morning of the demo
network (``collector.demo.history``, the collector's own point builder, 5-minute steps) plus the trends job's
``line_trend`` and ``line_forecast`` (tests/grafana/trends_demo_data.py). Each panel's query is read from the
committed JSON and substituted as Grafana does (tests/grafana/grafana_macros.py); the expected cells are computed
here from the very points written.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator

import pytest
from grafana_macros import dashboard_range, interpolate, panel_interval, panel_range
from test_grafana_queries import MODELS, NOW_S, TARGETS, _resolve_variables, _rows
from trends_demo_data import DAY_S, FORECAST_DAYS, trend_points

from collector.demo.history import line_traffic_points
from linewatch import dashboards
from linewatch.influx import InfluxClient, InfluxSettings, encode_points
from linewatch.inventory import Inventory

pytestmark = pytest.mark.slow  # the "All" heatmap queries take seconds each on a busy machine

TODAY_S = NOW_S // DAY_S * DAY_S
HISTORY_START_S = TODAY_S - 3 * DAY_S  # whole days: the heatmap's first column starts at a midnight
STEP_S = 300
RANGE_START_S = TODAY_S - 7 * DAY_S  # the heatmaps' now-7d/d
LAG = "AMS-INET-1"  # two member interfaces (a LAG): the heatmap sums them


@pytest.fixture(scope="module")
def trends_db(influxd, inventory: Inventory) -> Iterator[InfluxClient]:
    settings = InfluxSettings(url=influxd.url, database=f"lw_grafana_trends_{uuid.uuid4().hex[:8]}",
                             timeout_s=120)  # "All" lines in one heatmap query: 24 hourly subqueries
    with InfluxClient(settings) as client:
        client.ensure_database()
        client.write(encode_points(list(line_traffic_points(inventory, start_s=HISTORY_START_S, end_s=NOW_S,
                                                            step_s=STEP_S))))
        client.write(encode_points(trend_points(inventory, now_s=NOW_S)))
        yield client
        client.query(f'DROP DATABASE "{settings.database}"', database="")


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    from test_grafana_queries import REPO

    from linewatch.inventory import load_inventory

    return load_inventory(REPO / "config" / "lines.yaml")


def _query(client: InfluxClient, dashboard: str, title: str, ref_id: str = "A") -> list[dict]:
    (target,) = [t for t in TARGETS if t.dashboard == dashboard and t.panel.startswith(title) and t.ref_id == ref_id]
    time_range = panel_range(dashboard_range(MODELS[dashboard], to_ms=NOW_S * 1000), target.time_from,
                             target.time_shift)
    interval = panel_interval(time_range, max_data_points=target.max_data_points, min_interval=target.min_interval)
    variables = _resolve_variables(client, MODELS[dashboard], "all")
    return client.query(interpolate(target.query, time_range=time_range, interval=interval, variables=variables),
                        epoch="s")


def _expected_line_hours(inventory: Inventory) -> dict[str, dict[int, float]]:
    """line → hour start (epoch s) → the hour's max(in, out) of the members' hourly means summed over members."""
    samples: dict[tuple[str, str, int], dict[str, list[float]]] = defaultdict(lambda: {"in": [], "out": []})
    for p in line_traffic_points(inventory, start_s=HISTORY_START_S, end_s=NOW_S, step_s=STEP_S):
        t_s = p.time_ns // 1_000_000_000
        key = (p.tags["line"], p.tags["interface"] + p.tags["device"], t_s // 3600 * 3600)
        samples[key]["in"].append(p.fields["in_util_pct"])
        samples[key]["out"].append(p.fields["out_util_pct"])
    sums: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: {"in": 0.0, "out": 0.0})
    for (line, _member, hour), values in samples.items():
        for direction in ("in", "out"):
            sums[(line, hour)][direction] += sum(values[direction]) / len(values[direction])
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for (line, hour), both in sums.items():
        out[line][hour] = max(both["in"], both["out"])
    return out


def _cells(series: dict) -> dict[tuple[int, str], float | None]:
    """(day start, "HH") → the heatmap cell of one series, for the days in the panel's range (now-7d/d: the
    day before holds windows the range cuts, which Grafana does not draw)."""
    return {(row["time"], hh): row[hh] for row in _rows(series) for hh in dashboards.HOURS_OF_DAY
            if row["time"] >= RANGE_START_S}


def _assert_heatmap(series: dict, hours: dict[int, float]) -> None:
    cells = _cells(series)
    days = sorted({day for day, _ in cells})
    assert days == [RANGE_START_S + n * DAY_S for n in range(8)], "one column per day of the range"
    for (day, hh), value in cells.items():
        hour_s = day + int(hh) * 3600
        if hour_s >= NOW_S:  # today's hours from now on: no window, or the hour starting now, empty
            assert value in (None, dashboards.NO_DATA_CELL), (day, hh, value)
        elif hour_s < HISTORY_START_S:  # before the history: the sentinel Grafana hides, not a later hour
            assert value == dashboards.NO_DATA_CELL, (day, hh, value)
        else:
            assert value == pytest.approx(hours[hour_s], rel=1e-9), (day, hh)


def test_line_heatmap_cells_are_the_hourly_max_of_in_and_out_summed_over_members(
    trends_db: InfluxClient, inventory: Inventory
) -> None:
    series = _query(trends_db, "line.json", "Hour of day")
    expected = _expected_line_hours(inventory)
    assert {s["tags"]["line"] for s in series} == {line.id for line in inventory.polled_lines()}
    for s in series:
        _assert_heatmap(s, expected[s["tags"]["line"]])
    lag = next(s for s in series if s["tags"]["line"] == LAG)
    day = _cells(lag)
    # the demo's daily cycle: busiest at 14:00 UTC, quietest around 02:00-03:00
    assert day[(HISTORY_START_S, "14")] > 4 * day[(HISTORY_START_S, "03")] > 0


def test_department_heatmap_is_the_mean_of_its_lines(trends_db: InfluxClient, inventory: Inventory) -> None:
    series = _query(trends_db, "usage.json", "$department")
    per_line = _expected_line_hours(inventory)
    departments = defaultdict(list)
    for line in inventory.polled_lines():
        departments[line.department].append(line.id)
    assert {s["tags"]["department"] for s in series} == set(departments)
    for s in series:
        lines = departments[s["tags"]["department"]]
        hours = {hour: sum(per_line[line][hour] for line in lines) / len(lines)
                 for hour in per_line[lines[0]]}
        _assert_heatmap(s, hours)


def test_usage_line_heatmap_is_the_line_dashboards_query() -> None:
    """The usage dashboard's per-line heatmap sends the query the test above checks on the line dashboard."""
    (usage,) = [t.query for t in TARGETS if t.dashboard == "usage.json" and t.panel.startswith("$line")]
    (line,) = [t.query for t in TARGETS if t.dashboard == "line.json" and t.panel.startswith("Hour of day")]
    assert usage == line


def test_forecast_panel_shows_90_days_of_busy_hours_and_120_days_of_forecast(
    trends_db: InfluxClient, inventory: Inventory
) -> None:
    actual = {s["tags"]["line"]: _rows(s) for s in _query(trends_db, "line.json", "Busy hour and capacity", "A")}
    forecast = {s["tags"]["line"]: _rows(s) for s in _query(trends_db, "line.json", "Busy hour and capacity", "B")}
    polled = {line.id for line in inventory.polled_lines()}
    assert set(actual) == set(forecast) == polled
    seeded = {(p.tags["line"], p.time_ns // 1_000_000_000): p.fields for p in trend_points(inventory, now_s=NOW_S)
              if p.measurement == "line_trend"}
    for line, rows in actual.items():
        # the whole days after now-90d up to yesterday, each the seeded busy hour
        assert [r["time"] for r in rows] == [TODAY_S - n * DAY_S for n in range(89, 0, -1)]
        assert all(r["busy hour"] == seeded[(line, r["time"])]["busy_hour_pct"] for r in rows)
    for rows in forecast.values():
        # tomorrow to 120 days ahead; the seeded days beyond the horizon are outside the panel's range
        assert [r["time"] for r in rows] == [TODAY_S + n * DAY_S for n in range(1, 121)]
        assert FORECAST_DAYS > 120
        assert all(r["lower"] < r["forecast"] < r["upper"] for r in rows)


def test_forecast_is_dashed_with_the_warning_levels_and_heatmaps_repeat() -> None:
    panels = {p["title"]: p for m in MODELS.values() for p in dashboards.iter_panels(m["panels"])}
    forecast = next(p for t, p in panels.items() if t.startswith("Busy hour and capacity"))
    (dashed,) = [o for o in forecast["fieldConfig"]["overrides"] if o["matcher"]["options"] == "/ forecast$/"]
    assert {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}} in dashed["properties"]
    assert forecast["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}
    assert [s["value"] for s in forecast["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [None, 80.0, 95.0]
    heatmaps = [p for p in panels.values() if p["type"] == "heatmap"]
    assert {p["repeat"] for p in heatmaps} == {"line", "department"}
    assert all(p["options"]["calculate"] is False and p["timeFrom"] == "now-7d/d" for p in heatmaps)
