"""The open-incident panels (NOC wall) and the monthly availability / MTTR per carrier (finance) show the right
numbers: their queries, as the committed JSON holds them and substituted as Grafana does, run against a real
InfluxDB loaded with the points web/faults/figures_influx.py writes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
import requests
from grafana_macros import dashboard_range, interpolate, panel_interval, panel_range, query_targets

from linewatch import dashboards
from linewatch.influx import InfluxClient, InfluxSettings, encode_points
from linewatch.servers import InfluxdServer
from web.faults.figures import Figures
from web.faults.figures_influx import figure_points, open_incident_points

NOW_S = int(dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC).timestamp())
MODELS = dashboards.load_dashboards()
DAY = 86400.0
NOV = dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp()
DEC = dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp()
CARRIER_OF = {"FRA-1": "Telia", "FRA-2": "Telia", "SEL-1": "KT"}


def _influxql(url: str, statement: str) -> None:
    requests.post(f"{url}/query", params={"q": statement}, timeout=10).raise_for_status()


@pytest.fixture(scope="module")
def client(influxd: InfluxdServer) -> Iterator[InfluxClient]:
    database = f"lw_incidents_{uuid.uuid4().hex[:12]}"
    _influxql(influxd.url, f'CREATE DATABASE "{database}"')
    client = InfluxClient(InfluxSettings(url=influxd.url, database=database))
    november = {"FRA-1": Figures(2, 3600.0, 30 * DAY), "FRA-2": Figures(0, 0.0, 30 * DAY),
                "SEL-1": Figures(0, 0.0, 30 * DAY)}
    december = {"FRA-1": Figures(0, 0.0, 1.5 * DAY), "FRA-2": Figures(1, 900.0, 1.5 * DAY),
                "SEL-1": Figures(0, 0.0, 1.5 * DAY)}
    points = (figure_points(november, CARRIER_OF, month_start_s=NOV)
              + figure_points(december, CARRIER_OF, month_start_s=DEC)
              # two minutes ago: two Telia line-down incidents and one KT; one minute ago one Telia was resolved
              + open_incident_points({("line_down", "Telia"): 2, ("line_down", "KT"): 1}, ["Telia", "KT"],
                                     now_s=NOW_S - 120)
              + open_incident_points({("line_down", "Telia"): 1, ("line_down", "KT"): 1, ("degraded", "none"): 1},
                                     ["Telia", "KT"], now_s=NOW_S - 60))
    client.write(encode_points(points))
    try:
        yield client
    finally:
        client.close()
        _influxql(influxd.url, f'DROP DATABASE "{database}"')


def _run(client: InfluxClient, dashboard: str, title: str, *, to_s: int = NOW_S, **variables: str) -> list[dict]:
    (target,) = [t for t in query_targets(dashboard, MODELS[dashboard]) if t.panel.startswith(title)]
    time_range = panel_range(dashboard_range(MODELS[dashboard], to_ms=to_s * 1000), target.time_from)
    interval = panel_interval(time_range, max_data_points=target.max_data_points, min_interval=target.min_interval)
    values = {"carrier": ".*", "currency": "EUR", "department": ".*", "site": ".*", "line": ".*"} | variables
    query = interpolate(target.query, time_range=time_range, interval=interval, variables=values)
    return [dict(zip(s["columns"], row, strict=True)) | s.get("tags", {})
            for s in client.query(query, epoch="s") for row in s["values"]]


def test_the_wall_counts_the_open_incidents_now(client: InfluxClient) -> None:
    (row,) = _run(client, "noc.json", "Open incidents ·")
    assert row["open"] == 3, "the latest count of each kind × carrier: Telia 1, KT 1, no carrier 1"


def test_the_wall_count_follows_the_carrier_selection(client: InfluxClient) -> None:
    (row,) = _run(client, "noc.json", "Open incidents ·", carrier="Telia")
    assert row["open"] == 1


def test_the_wall_table_has_the_latest_count_per_carrier_and_kind(client: InfluxClient) -> None:
    rows = _run(client, "noc.json", "Open incidents by carrier")
    shown = {(r["carrier"], r["kind"]): r["open"] for r in rows if r["open"]}  # the panel hides the zeros
    assert shown == {("Telia", "line_down"): 1, ("KT", "line_down"): 1, ("none", "degraded"): 1}


def test_the_wall_shows_no_incident_from_before_its_five_minutes(client: InfluxClient) -> None:
    assert _run(client, "noc.json", "Open incidents ·", to_s=NOW_S + 600) == []


def test_monthly_availability_per_carrier_weighs_lines_by_their_observed_time(client: InfluxClient) -> None:
    rows = {(r["carrier"], r["time"]): r["availability"] for r in _run(client, "finance.json", "Availability per")}
    assert rows[("Telia", int(NOV))] == pytest.approx(100 * (1 - 3600 / (60 * DAY)))
    assert rows[("Telia", int(DEC))] == pytest.approx(100 * (1 - 900 / (3 * DAY)))
    assert rows[("KT", int(NOV))] == 100


def test_monthly_mttr_per_carrier_and_zero_without_incidents(client: InfluxClient) -> None:
    rows = {(r["carrier"], r["time"]): r["mttr"] for r in _run(client, "finance.json", "MTTR per")}
    assert rows[("Telia", int(NOV))] == 1800  # 3600 s over 2 incidents
    assert rows[("Telia", int(DEC))] == 900
    assert rows.get(("KT", int(NOV))) in (None, 0), "no incident: no MTTR"
