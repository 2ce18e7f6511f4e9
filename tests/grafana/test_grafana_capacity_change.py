"""The line dashboard across a capacity change (issue 11): points built by the collector's own point builder for a
line upgraded from 100 to 200 Mbit/s in the middle of the range, in a real InfluxDB; the Throughput panel's capacity
query (ref B), substituted as Grafana does, draws the old capacity (and its 80 % level) before the change and the new
one after it, and the Utilization panel is relative to the capacity in force."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from grafana_macros import dashboard_range, interpolate, panel_interval, panel_range
from test_grafana_queries import MODELS, NOW_S, TARGETS, _resolve_variables, _rows

from collector.linepoints import line_traffic_point
from collector.snmp.counters import Rates
from linewatch.choices import UTILIZATION_WARNING_PCT
from linewatch.influx import InfluxClient, InfluxSettings, encode_points
from linewatch.inventory import Line

CHANGE_S = NOW_S - 90 * 60
LINE = Line.model_validate({
    "id": "LAB-UPG-1", "carrier": "Lab Carrier", "circuit_id": "LAB-1", "type": "internet", "site": "Lab",
    "department": "Lab", "device": "lab-r1", "interface": "ge-0/0/1", "capacity_bps": 100_000_000,
    "capacity_changes": [{"effective": dt.datetime.fromtimestamp(CHANGE_S, dt.UTC).isoformat(),
                          "capacity_bps": 200_000_000}]})
IN_BPS = 60_000_000.0


@pytest.fixture(scope="module")
def upgraded(influxd) -> Iterator[tuple[InfluxClient, dict[str, str]]]:
    settings = InfluxSettings(url=influxd.url, database=f"lw_grafana_upg_{uuid.uuid4().hex[:8]}")
    with InfluxClient(settings) as client:
        client.ensure_database()
        rates = Rates(interval_s=60.0, in_bps=IN_BPS, out_bps=IN_BPS / 10)
        client.write(encode_points([
            line_traffic_point(LINE, time_ns=t * 1_000_000_000, reading=None, rates=rates, oper_status=1,
                               admin_status=1, port_speed_bps=1_000_000_000)
            for t in range(NOW_S - 4 * 3600, NOW_S, 60)]))
        yield client, _resolve_variables(client, MODELS["line.json"], "all")
        client.query(f'DROP DATABASE "{settings.database}"', database="")


def _panel(client: InfluxClient, variables: dict[str, str], title: str, ref_id: str) -> tuple[list[dict], int]:
    """The rows of the line dashboard panel's query ``ref_id`` at NOW_S, and the panel's interval in ms."""
    (target,) = [t for t in TARGETS if t.dashboard == "line.json" and t.panel.startswith(title) and t.ref_id == ref_id]
    time_range = panel_range(dashboard_range(MODELS["line.json"], to_ms=NOW_S * 1000), target.time_from)
    interval = panel_interval(time_range, max_data_points=target.max_data_points, min_interval=target.min_interval)
    (series,) = client.query(interpolate(target.query, time_range=time_range, interval=interval,
                                         variables=variables), epoch="ms")
    step_ms = series["values"][1][0] - series["values"][0][0]
    return _rows(series), step_ms


def test_capacity_line_steps_at_the_change(upgraded: tuple[InfluxClient, dict[str, str]]) -> None:
    rows, step_ms = _panel(*upgraded, "Throughput", "B")
    before = [r for r in rows if r["capacity"] is not None and r["time"] + step_ms <= CHANGE_S * 1000]
    after = [r for r in rows if r["capacity"] is not None and r["time"] >= CHANGE_S * 1000]
    assert before and after
    assert {r["capacity"] for r in before} == {100_000_000}
    assert {r["capacity"] for r in after} == {200_000_000}
    assert {round(r["warning"]) for r in after} == {round(200_000_000 * UTILIZATION_WARNING_PCT / 100)}


def test_utilization_is_relative_to_the_capacity_in_force(upgraded: tuple[InfluxClient, dict[str, str]]) -> None:
    rows, step_ms = _panel(*upgraded, "Utilization", "A")
    before = {round(r["in"], 6) for r in rows if r["in"] is not None and r["time"] + step_ms <= CHANGE_S * 1000}
    after = {round(r["in"], 6) for r in rows if r["in"] is not None and r["time"] >= CHANGE_S * 1000}
    assert before == {60.0} and after == {30.0}
