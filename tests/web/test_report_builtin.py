"""The built-in reports (web/reports/builtin.py) rendered for demo-like data in a real influxd and the app's
database: department-monthly, finance-monthly, noc-weekly and voice-monthly.

The InfluxDB data is loaded once per module into a database of its own on the session influxd: two months
(October and November 2026) of the demo network's ``line_traffic`` at 5-minute steps
(``collector.demo.history.load_history``, the collector's own point builder, config/lines.yaml), crafted
``line_outlook`` points (the trends job's shape, linewatch/trends/outlook.py), ``alert_events``,
``collector_health`` and ``collector_poll`` of week 47, and a week of modelled calls on the two demo voice trunks
through the real voice pipeline (tests/grafana/voice_demo_data.py). The app's database gets the demo inventory
and, per test, the tickets, costs, findings and disputes the report reads.

Expected figures are computed here from the generated points themselves (an oracle independent of the
providers' InfluxQL), then looked for in the rendered report: in the HTML, and in the PDF's pages turned into
PNG (tests/web/reports_support.py) for the key figures and the Korean titles.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests
from invoices_support import load_demo_inventory, use_config

from collector.demo.history import line_traffic_points
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.inventory import Inventory, load_inventory

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "tests" / "grafana") not in sys.path:  # the voice demo data of the dashboard tests
    sys.path.append(str(REPO / "tests" / "grafana"))

from voice_demo_data import load_voice_demo

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

OCT = calendar.timegm((2026, 10, 1, 0, 0, 0))
NOV = calendar.timegm((2026, 11, 1, 0, 0, 0))
DEC = calendar.timegm((2026, 12, 1, 0, 0, 0))
W47 = calendar.timegm((2026, 11, 16, 0, 0, 0))  # Monday of ISO week 47 (16–22 November)
W48 = W47 + 7 * 86400
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
STEP_S = 300
TRAFFIC_FIELDS = {"in_bps", "out_bps", "in_util_pct", "out_util_pct", "capacity_bps", "oper_status", "admin_status"}
VOICE_DAYS = 3


def _influxql(url: str, statement: str) -> None:
    response = requests.post(f"{url}/query", params={"q": statement}, timeout=10)
    response.raise_for_status()
    assert "error" not in response.json()["results"][0], response.text


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(REPO / "config" / "lines.yaml")


def _outlook_points() -> list[Point]:
    run_ns = (DEC + 3600) * 10**9
    day = 86400
    return [
        Point("line_outlook", {"line": "FRA-MPLS-1"},
              {"busy_hour_pct": 91.5, "p95_pct": 84.0, "growth_pct_per_month": 2.5, "days_to_80": 0.0,
               "date_80_s": DEC, "date_80_earliest_s": DEC, "date_80_latest_s": DEC, "days_to_95": 40.0,
               "date_95_s": DEC + 40 * day, "method": "robust_seasonal", "fitted_days": 61}, run_ns),
        Point("line_outlook", {"line": "PAR-INET-1"},
              {"busy_hour_pct": 71.2, "p95_pct": 60.0, "growth_pct_per_month": 6.3, "days_to_80": 17.0,
               "date_80_s": DEC + 17 * day, "date_80_earliest_s": DEC + 11 * day,
               "date_80_latest_s": DEC + 26 * day, "method": "robust_seasonal", "fitted_days": 61,
               "billing_model": "burstable_95th", "currency": "EUR", "projected_p95_bps": 82e6,
               "month_to_date_amount": 310.0, "projected_amount": 1460.5, "contracted_amount": 1200.0,
               "period": "2026-12"}, run_ns),
        Point("line_outlook", {"line": "LON-MPLS-1"},
              {"busy_hour_pct": 4.0, "p95_pct": 3.0, "growth_pct_per_month": 0.0, "method": "robust_seasonal",
               "fitted_days": 61}, run_ns),
    ]


def _noc_points() -> list[Point]:
    points = []
    for k, (line, rule, severity) in enumerate((("FRA-MPLS-1", "utilization", "warning"),
                                                ("FRA-MPLS-1", "utilization", "critical"),
                                                ("AMS-MPLS-1", "line_down", "critical"))):
        t = W47 + 86400 * (k + 1)
        points.append(Point("alert_events", {"line": line, "rule": rule, "severity": severity},
                            {"state": "firing", "firing": 1, "value": 90.0, "summary": f"{rule} on {line}",
                             "since_s": t}, t * 10**9))
    points.append(Point("alert_events", {"line": "AMS-MPLS-1", "rule": "line_down", "severity": "critical"},
                        {"state": "resolved", "firing": 0, "value": 0.0, "summary": "resolved", "since_s": W47},
                        (W47 + 5 * 86400) * 10**9))
    for k in range(7 * 24):  # one collector cycle an hour: devices_failed 1 on Wednesday, dropped batches 3 → 5
        t = W47 + 3600 * k
        points.append(Point("collector_health", {"collector": "collector-1"},
                            {"cycle_duration_s": 2.0 + (k % 5), "devices_ok": 4 - (k // 24 == 2),
                             "devices_failed": int(k // 24 == 2), "lines_unresolved": 0, "spool_bytes": 2048 * (k % 3),
                             "spool_batches": 0, "overflowed_batches": 0, "dropped_batches": 3 + 2 * (k >= 100),
                             "inventory_stale_s": 0.0}, t * 10**9))
        for device in ("fra-edge-1", "ams-edge-1"):
            ok = 0 if device == "ams-edge-1" and k // 24 == 2 else 1
            points.append(Point("collector_poll", {"device": device, "collector": "collector-1"},
                                {"ok": ok, "duration_s": 0.2, "varbinds": 10, "lines": 2, "error": ""}, t * 10**9))
    return points


def _traffic(inventory: Inventory, *, start_s: int, end_s: int, step_s: int) -> list[Point]:
    """The demo's ``line_traffic`` points (the collector's point builder), with only the fields the reports read
    (a fifth of the bytes to write)."""
    return [Point(p.measurement, p.tags, {k: v for k, v in p.fields.items() if k in TRAFFIC_FIELDS}, p.time_ns)
            for p in line_traffic_points(inventory, start_s=start_s, end_s=end_s, step_s=step_s)]


@pytest.fixture(scope="module")
def november(inventory) -> list[Point]:
    return _traffic(inventory, start_s=NOV, end_s=DEC, step_s=STEP_S)


@pytest.fixture(scope="module")
def influx(influxd, inventory, november, tmp_path_factory) -> Iterator[InfluxSettings]:
    """The module's database: November's demo traffic at 5-minute steps, October's at 15 minutes (the previous
    month's figures), outlook, NOC and voice points."""
    dbname = f"lw_reports_{uuid.uuid4().hex[:10]}"
    _influxql(influxd.url, f'CREATE DATABASE "{dbname}"')
    settings = InfluxSettings(url=influxd.url, database=dbname)
    try:
        with InfluxClient(settings) as client:
            points = _traffic(inventory, start_s=OCT, end_s=NOV, step_s=3 * STEP_S) + november
            for i in range(0, len(points), 20_000):
                client.write(encode_points(points[i:i + 20_000]))
            client.write(encode_points(_outlook_points() + _noc_points()))
            load_voice_demo(client, inventory, tmp_path_factory.mktemp("voice"), start_s=W47,
                            end_s=W47 + VOICE_DAYS * 86400, live_from_s=W47 + VOICE_DAYS * 86400 - 3600)
        yield settings
    finally:
        if influxd.running:
            _influxql(influxd.url, f'DROP DATABASE "{dbname}"')


@pytest.fixture
def app(settings, tmp_path, influx) -> Any:
    """The demo inventory in the app, linewatch's settings pointed at the module's InfluxDB and at config/."""
    use_config(settings, tmp_path / "var", url=influx.url, database=influx.database)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"voice_path": REPO / "config" / "voice.yaml"})
    load_demo_inventory()
    return settings


def _html(name: str, period: str, *, language: str = "en", department: str | None = None) -> str:
    from web.reports import engine

    return engine.render_html(name, period=period, language=language, department=department, now=NOW)


# -- the oracle: utilization from the generated points --------------------------------------------------------

@pytest.fixture(scope="module")
def util(november) -> pd.DataFrame:
    """November per line and 5-minute step: the members' in and out utilization summed, then max(in, out)."""
    rows = [(p.tags["line"], p.time_ns // 10**9, p.fields.get("in_util_pct"), p.fields.get("out_util_pct"))
            for p in november]
    frame = pd.DataFrame(rows, columns=["line", "t", "i", "o"]).dropna()
    summed = frame.groupby(["line", "t"], as_index=False)[["i", "o"]].sum()
    return summed.assign(value=summed[["i", "o"]].max(axis=1))


def _expected_month(frame: pd.DataFrame, line: str) -> dict[str, float]:
    mine = frame[frame["line"] == line]
    hours = mine.assign(h=mine["t"] // 3600).groupby("h")["value"].mean()
    busy = hours.groupby(hours.index // 24).max()
    return {"p95": float(np.quantile(mine["value"], 0.95)), "busy": float(busy.max())}


def _cell(value: float) -> str:
    return f"{value:,.1f}"


# -- department-monthly ---------------------------------------------------------------------------------------

def test_department_monthly_gives_each_line_its_p95_and_busy_hour(app, inventory, util):
    """Every polled line of Engineering with the month's p95 and busy-hour peak the points give, the 80 % line
    in the outlook first."""
    html = _html("department-monthly", "2026-11", department="Engineering")
    frame = util
    engineering = [line.id for line in inventory.polled_lines() if line.department == "Engineering"]
    assert engineering
    for line in engineering:
        expected = _expected_month(frame, line)
        row = re.search(rf"<tr><td>{line}</td>(.*?)</tr>", html, re.DOTALL)
        assert row, f"{line} not in the lines table"
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
        assert _cell(expected["p95"]) in cells and _cell(expected["busy"]) in cells, (line, expected, cells)
    assert "FRA-MPLS-1" not in html  # Operations' line
