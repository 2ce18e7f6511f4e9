"""The trends job (billing_etl.trends.run_trends) on crafted history in a real influxd: daily actuals, the
forecast's crossing dates, the projected bills of a burstable and a quota line, the outlook read back by
read_outlook, incremental runs and lines it cannot forecast. Expected figures are worked out in the docstrings.

History: 35 UTC days, 2026-10-12 .. 2026-11-15, 5-minute samples constant over each day; the run is on
2026-11-16 12:00 UTC (today = day 35, November has 30 days, 15 of them so far).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from billing_support import CONTRACTS, INVENTORY, traffic_point, write_config_tree

from billing_etl.trends import run_trends
from billing_etl.usage import burstable_p95
from linewatch.choices import ForecastMethod
from linewatch.cli import main
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.inventory import Inventory
from linewatch.settings import load_settings
from linewatch.trends.outlook import read_outlook

pytestmark = pytest.mark.slow

START = dt.date(2026, 10, 12)
DAYS = 35
NOW_S = calendar.timegm((2026, 11, 16, 12, 0, 0))
TODAY = dt.date(2026, 11, 16)
MBPS = 1_000_000
D = dt.timedelta(days=1)


def _day_s(day: dt.date) -> int:
    return calendar.timegm(day.timetuple())


def burst_util(k: int) -> float:
    """L-BURST grows half a point a day (15 points per 30 days) from 40 %: day 35 (today) is at 57.5 %, 80 %
    is reached on day 80 (2026-12-31, 45 days from today), 95 % on day 110 (2027-01-30, 75 days)."""
    return 40.0 + 0.5 * k


def _history():
    for k in range(DAYS):
        day = START + D * k
        for i in range(288):
            t = _day_s(day) + i * 300
            # L-BURST: in at its utilization (100 Mbit/s capacity), out at half; max(in, out) is in
            yield traffic_point("L-BURST", t, in_bps=burst_util(k) * MBPS, out_bps=burst_util(k) * MBPS / 2)
            # L-VOL: 10 Mbit/s in, nothing out: 108 GB a day
            yield traffic_point("L-VOL", t, in_bps=10 * MBPS, out_bps=0.0)
            if k >= DAYS - 5:  # L-FLAT: five days only, too short for a forecast
                yield traffic_point("L-FLAT", t, in_bps=20 * MBPS, out_bps=20 * MBPS)
            for interface in ("e6", "e7"):  # L-LAG: two members at 30 % each of the line's capacity: 60 %
                point = traffic_point("L-LAG", t, in_bps=30 * MBPS, out_bps=10 * MBPS)
                yield Point(point.measurement, {"line": "L-LAG", "device": "r1", "interface": interface},
                            point.fields, point.time_ns)


LAG = {**INVENTORY["lines"][0], "id": "L-LAG", "circuit_id": "C-6", "members": [
    {"device": "r1", "interface": "e6"}, {"device": "r1", "interface": "e7"}]}
LAG.pop("device"), LAG.pop("interface")


CONTRACTS_50M = {
    **CONTRACTS,
    "contracts": [
        {**c, "commit_bps": 50_000_000} if c["line"] == "L-BURST" else c for c in CONTRACTS["contracts"]
    ],
}


_CONFIG: dict[str, Path] = {}


@pytest.fixture(scope="module")
def world(influxd, tmp_path_factory):
    """The history written once; each test gets the settings, inventory and a client on that database."""
    database = f"lw_trends_{uuid.uuid4().hex[:8]}"
    root = tmp_path_factory.mktemp("trends")
    _CONFIG["path"] = write_config_tree(root, influx_url=influxd.url, database=database, contracts=CONTRACTS_50M)
    settings = load_settings(_CONFIG["path"])
    # the method the expected figures are worked out for (a straight line is fitted exactly by its robust trend),
    # whatever the default is
    trends = settings.trends.model_copy(update={"method": ForecastMethod.ROBUST_SEASONAL})
    settings = settings.model_copy(update={"trends": trends})
    client = InfluxClient(InfluxSettings(url=influxd.url, database=database))
    client.query(f'CREATE DATABASE "{database}"', database="")
    batch: list[Point] = []
    for point in _history():
        batch.append(point)
        if len(batch) == 5000:
            client.write(encode_points(batch))
            batch = []
    client.write(encode_points(batch))
    inventory = Inventory.model_validate({**INVENTORY, "lines": [*INVENTORY["lines"], LAG]})
    report = run_trends(settings, inventory, client, now_s=NOW_S)
    yield settings, inventory, client, report
    client.query(f'DROP DATABASE "{database}"', database="")
    client.close()


def _values(client, q):
    return [dict(zip(s["columns"], v, strict=True)) for s in client.query(q) for v in s["values"]]


def test_daily_actuals_are_the_days_p95_and_busy_hour(world):
    _s, _i, client, report = world
    rows = _values(client, "SELECT p95_pct, busy_hour_pct, samples FROM line_trend WHERE line = 'L-BURST'")
    assert len(rows) == DAYS
    assert rows[0]["time"] == _day_s(START) and rows[-1]["time"] == _day_s(TODAY - D)
    assert [r["busy_hour_pct"] for r in rows] == pytest.approx([burst_util(k) for k in range(DAYS)])
    assert [r["p95_pct"] for r in rows] == pytest.approx([burst_util(k) for k in range(DAYS)])
    assert {r["samples"] for r in rows} == {288}
    assert report.trend_points == 3 * DAYS + 5


def test_a_line_of_two_members_is_their_sum_per_sample(world):
    """Two member interfaces at 30 % of the line's capacity each: the line runs at 60 %, not their mean."""
    _s, _i, client, _r = world
    rows = _values(client, "SELECT busy_hour_pct, p95_pct FROM line_trend WHERE line = 'L-LAG'")
    assert len(rows) == DAYS
    assert {round(r["busy_hour_pct"], 6) for r in rows} == {60.0} == {round(r["p95_pct"], 6) for r in rows}


def test_outlook_gives_the_crossing_dates_sorted_by_days_left(world):
    _s, _i, client, _r = world
    outlook = read_outlook(client)
    assert outlook["line"].tolist() == ["L-BURST", "L-FLAT", "L-LAG", "L-VOL"]
    burst = outlook.iloc[0]
    assert burst["days_to_80"] == pytest.approx(45, abs=1)
    assert burst["date_80_s"] == pytest.approx(_day_s(dt.date(2026, 12, 31)), abs=86400)
    assert burst["days_to_95"] == pytest.approx(75, abs=1)
    assert burst["date_80_earliest_s"] <= burst["date_80_s"] <= burst["date_80_latest_s"]
    assert burst["growth_pct_per_month"] == pytest.approx(15.0, abs=0.1)
    assert burst["busy_hour_pct"] == pytest.approx(burst_util(DAYS - 1))
    assert burst["method"] == "robust_seasonal"
    vol = outlook.set_index("line").loc["L-VOL"]
    assert math.isnan(vol["days_to_80"]) and vol["growth_pct_per_month"] == pytest.approx(0.0, abs=1e-9)
    assert outlook["time"].map(lambda t: t.timestamp()).tolist() == [NOW_S] * 4


def test_burstable_projection_bills_the_grown_95th_percentile(world):
    """Nov 1–15 as measured (days 20..34); Nov 16–30 their last-week weekday × (1 + g·Δ/30/B), g = 15, B = the
    last 7 days' mean busy hour (54..57 → 55.5). The billed value of those 8,640 samples above the 50 Mbit/s
    commit at 2 EUR per Mbit/s, on top of the 200 EUR MRC."""
    _s, _i, client, _r = world
    values = []
    for k in range(20, DAYS):
        values += [burst_util(k) * MBPS] * 288
    level = sum(burst_util(k) for k in range(DAYS - 7, DAYS)) / 7
    for day in (TODAY + D * n for n in range(15)):
        weeks = (day - TODAY).days // 7 + 1
        ref_k = (day - D * 7 * weeks - START).days
        values += [burst_util(ref_k) * MBPS * (1 + 15 * 7 * weeks / 30 / level)] * 288
    p95 = burstable_p95(sorted(values, reverse=True), len(values))
    over = Decimal(repr(p95 - 50 * MBPS)) / MBPS
    expected = Decimal(200) + over.quantize(Decimal("0.01")) * 2
    row = read_outlook(client, lines=["L-BURST"]).iloc[0]
    assert row["projected_p95_bps"] == pytest.approx(p95, rel=1e-3)
    assert row["projected_amount"] == pytest.approx(float(expected), abs=0.05)
    assert row["contracted_amount"] == 200.0
    # so far: half the MRC, and Nov 1–15's own 95th percentile: 4,320 samples, the top 216 dropped are all of
    # day 34 (288 samples at 57 %), so 57 Mbit/s is billed: 7 over the commit
    assert row["month_to_date_amount"] == pytest.approx(100 + (burst_util(34) - 50) * 2, abs=0.05)
    assert row["billing_model"] == "burstable_95th" and row["currency"] == "EUR"
    assert row["commit_bps"] == 50 * MBPS and row["period"] == "2026-11"


def test_quota_projection_bills_the_projected_volume(world):
    """108 GB a day: 3,240 GB in November against 1,000 included, 2,240 GB at 0.10 = 224 EUR over the 300 EUR
    MRC; so far 1,620 GB: 62 EUR over half the MRC."""
    _s, _i, client, _r = world
    row = read_outlook(client, lines=["L-VOL"]).iloc[0]
    assert row["projected_volume_gb"] == pytest.approx(3240.0)
    assert row["projected_amount"] == pytest.approx(524.0)
    assert row["month_to_date_amount"] == pytest.approx(212.0)
    assert row["included_gb"] == 1000.0 and math.isnan(row["projected_p95_bps"])


def test_forecast_points_run_from_today_over_the_horizon(world):
    settings, _i, client, report = world
    rows = _values(client, "SELECT value_pct, lower_pct, upper_pct, method FROM line_forecast WHERE line = 'L-BURST'")
    assert len(rows) == settings.trends.horizon_days
    assert rows[0]["time"] == _day_s(TODAY)
    assert {r["method"] for r in rows} == {"robust_seasonal"}
    assert all(r["lower_pct"] <= r["value_pct"] <= r["upper_pct"] for r in rows)
    assert report.forecasts == 3 and report.forecast_points == 3 * settings.trends.horizon_days


def test_lines_it_cannot_forecast_are_reported_with_the_reason(world):
    _s, _i, client, report = world
    assert "fewer than 14 days" in report.problems["L-FLAT"]
    assert "no utilization data" in report.problems["L-NEW"]
    assert "no utilization data" in report.problems["L-TERM"]
    flat = read_outlook(client, lines=["L-FLAT"]).iloc[0]  # actuals, no forecast, no projection (flat contract)
    assert flat["busy_hour_pct"] == pytest.approx(20.0)
    assert math.isnan(flat["days_to_80"]) and flat["method"] is None and flat["billing_model"] is None


def test_second_run_adds_no_days_and_replaces_the_forecast(world):
    """Same day again: no new complete day, the forecast's points rewritten on the same timestamps; a stale
    forecast of a line that no longer has one, and an older run's points behind today, are removed."""
    settings, inventory, client, _r = world
    client.write(encode_points([
        Point("line_forecast", {"line": "L-FLAT"}, {"value_pct": 99.0}, _day_s(TODAY + D * 3) * 10**9),
        Point("line_forecast", {"line": "L-BURST"}, {"value_pct": 99.0}, _day_s(TODAY - D * 3) * 10**9),
    ]))
    again = run_trends(settings, inventory, client, now_s=NOW_S + 600)
    assert again.trend_points == 0
    count = _values(client, "SELECT COUNT(value_pct) AS n FROM line_forecast GROUP BY line")
    assert sorted(r["n"] for r in count) == [settings.trends.horizon_days] * 3
    assert _values(client, "SELECT value_pct FROM line_forecast WHERE line = 'L-FLAT'") == []
    assert read_outlook(client, lines=["L-BURST"]).iloc[0]["time"].timestamp() == NOW_S + 600


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        pytest.param(["NOPE"], "not a polled line of the inventory: NOPE", id="unknown-line"),
    ],
)
def test_bad_line_names_are_refused(world, lines, error):
    settings, inventory, client, _r = world
    with pytest.raises(ValueError, match=error):
        run_trends(settings, inventory, client, now_s=NOW_S, lines=lines)


# -- the CLI (last: its run is at the real clock, after the history's end) -------------------------------------


@pytest.mark.parametrize(
    ("language", "header"),
    [pytest.param("en", "Days to 80 %", id="en"), pytest.param("ko", "80 % 도달까지 일수", id="ko")],
)
def test_cli_outlook_table_soonest_first(world, capsys, language, header):
    assert main(["-c", str(_CONFIG["path"]), "trends", "outlook", "--language", language]) == 0
    out = capsys.readouterr().out.splitlines()
    assert header in out[1]
    assert out[2].startswith("L-BURST") and "2026-12-31" in out[2] and "EUR" in out[2]


def test_cli_outlook_json(world, capsys):
    assert main(["-c", str(_CONFIG["path"]), "trends", "outlook", "--json", "--line", "L-VOL"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["line"] == "L-VOL" and record["projected_amount"] == pytest.approx(524.0)
    assert "days_to_80" not in record  # no crossing within the horizon: left out, not null


def test_cli_run_refuses_an_unknown_line(world, capsys):
    assert main(["-c", str(_CONFIG["path"]), "trends", "run", "--line", "NOPE"]) == 2
    assert "not a polled line of the inventory: NOPE" in capsys.readouterr().err


def test_cli_run_json_report(world, capsys):
    """Today (the real clock) is after the history's last day: every line lacks the last week's data."""
    assert main(["-c", str(_CONFIG["path"]), "trends", "run", "--json", "--line", "L-VOL"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["lines"] == 1
    assert report["problems"] == {"L-VOL": "no utilization data in the last 7 days"}


def test_holt_winters_runs_the_same_job(world):
    """The other seasonal method through the same job (one line): the straight 0.5-point-a-day climb crosses
    80 % on about the same day."""
    settings, inventory, client, _r = world
    trends = settings.trends.model_copy(update={"method": ForecastMethod.HOLT_WINTERS})
    report = run_trends(settings.model_copy(update={"trends": trends}), inventory, client, now_s=NOW_S + 1200,
                        lines=["L-BURST"])
    assert (report.lines, report.forecasts, report.problems) == (1, 1, {})
    row = read_outlook(client, lines=["L-BURST"]).iloc[0]
    assert row["method"] == "holt_winters"
    assert row["days_to_80"] == pytest.approx(45, abs=3)
