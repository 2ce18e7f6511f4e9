"""The dashboards' line panels on a line carried by two interfaces (issue 10): the committed queries, substituted as
Grafana does, against a real InfluxDB holding one 2-member LAG and one single-member line.

Each LAG member carries 300 and 200 Mbit/s in (30 % and 20 % of the line's 1 Gbit/s: a member's utilization is
relative to the LINE's capacity, docs/schema.md); the line's figures are the members' sum per interval (500 Mbit/s,
50 %), not their mean (250 Mbit/s, 25 %, what ``GROUP BY "line"`` with ``mean`` drew). Member 1 goes down for the last
ten minutes: the line stays up on the wall while member 2 is up.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from grafana_macros import dashboard_range, interpolate, panel_interval, panel_range
from test_grafana_queries import MODELS, NOW_S, TARGETS, _resolve_variables, _rows

from linewatch.choices import LineHealth, LineMemberRole, OperStatus
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points

MBPS = 1_000_000
CAPACITY_BPS = 1000 * MBPS
LAG = "LAB-LAG-1"
SINGLE = "LAB-ONE-1"
MEMBERS = (("lab-r1", "xe-0/0/1", 300 * MBPS), ("lab-r1", "xe-0/0/2", 200 * MBPS))
HOURS = 3


def _points() -> list[Point]:
    points = []
    for t in range(NOW_S - HOURS * 3600, NOW_S, 60):
        members = [(LAG, *m) for m in MEMBERS] + [(SINGLE, "lab-r2", "ge-0/0/1", 100 * MBPS)]
        for n, (line, device, interface, in_bps) in enumerate(members):
            down = line == LAG and n == 0 and t >= NOW_S - 600
            oper = OperStatus.DOWN if down else OperStatus.UP
            bps = 0.0 if down else float(in_bps)
            tags = {"line": line, "site": "Lab", "carrier": "Lab Carrier", "department": "Lab", "line_type": "mpls",
                    "device": device, "interface": interface, "member_role": LineMemberRole.MEMBER.value}
            fields = {"in_bps": bps, "out_bps": bps / 10, "in_util_pct": 100 * bps / CAPACITY_BPS,
                      "out_util_pct": 10 * bps / CAPACITY_BPS, "capacity_bps": CAPACITY_BPS,
                      "in_errors_ps": 1.0, "out_errors_ps": 0.0, "in_discards_ps": 0.0, "out_discards_ps": 0.0,
                      "oper_status": int(oper), "admin_status": int(OperStatus.UP),
                      "health": int(LineHealth.DOWN if down else LineHealth.UP), "interval_s": 60.0}
            points.append(Point("line_traffic", tags, fields, t * 1_000_000_000))
    return points


@pytest.fixture(scope="module")
def lab(influxd) -> Iterator[tuple[InfluxClient, dict]]:
    import uuid

    settings = InfluxSettings(url=influxd.url, database=f"lw_grafana_lag_{uuid.uuid4().hex[:8]}")
    with InfluxClient(settings) as client:
        client.ensure_database()
        client.write(encode_points(_points()))
        variables = {name: _resolve_variables(client, MODELS[name], "all") for name in ("line.json", "noc.json")}
        yield client, variables
        client.query(f'DROP DATABASE "{settings.database}"', database="")


def _run_panel(client: InfluxClient, variables: dict, dashboard: str, title: str) -> list[dict]:
    """The panel's first query (ref A), substituted as Grafana does at NOW_S."""
    (target,) = [t for t in TARGETS if t.dashboard == dashboard and t.panel.startswith(title) and t.ref_id == "A"]
    time_range = panel_range(dashboard_range(MODELS[dashboard], to_ms=NOW_S * 1000), target.time_from)
    interval = panel_interval(time_range, max_data_points=target.max_data_points, min_interval=target.min_interval)
    return client.query(interpolate(target.query, time_range=time_range, interval=interval, variables=variables),
                        epoch="ms")


def _by_line(series: list[dict], column: str) -> dict[str, list[float]]:
    return {s["tags"]["line"]: [r[column] for r in _rows(s) if r[column] is not None] for s in series}


# Away from the last ten minutes (member 1 down) and the window edges (partial intervals).
def _steady(values: list[float]) -> list[float]:
    return values[2:-12]


@pytest.mark.parametrize(
    ("dashboard", "panel", "column", "lag", "single"),
    [
        pytest.param("line.json", "Throughput", "in", 500 * MBPS, 100 * MBPS, id="line-throughput"),
        pytest.param("line.json", "Utilization", "in", 50.0, 10.0, id="line-utilization"),
        pytest.param("line.json", "Errors", "in errors", 2.0, 1.0, id="line-errors"),
    ],
)
def test_line_panels_sum_members_per_interval_not_mean(lab: tuple[InfluxClient, dict], dashboard: str, panel: str,
                                                       column: str, lag: float, single: float) -> None:
    client, variables = lab
    values = _by_line(_run_panel(client, variables[dashboard], dashboard, panel), column)
    assert _steady(values[LAG]) and _steady(values[LAG]) == pytest.approx([lag] * len(_steady(values[LAG])))
    assert _steady(values[SINGLE]) == pytest.approx([single] * len(_steady(values[SINGLE])))


def test_line_p95_panel_is_percentile_of_member_sum(lab: tuple[InfluxClient, dict]) -> None:
    """Member 1 down in the last 10 minutes (2 of the month's 36 five-minute sums at 200): p95 is still 500."""
    client, variables = lab
    p95 = _by_line(_run_panel(client, variables["line.json"], "line.json", "95th percentile"), "in p95")
    assert p95[LAG] == [pytest.approx(500 * MBPS)]


def test_wall_most_utilized_and_site_throughput_sum_members(lab: tuple[InfluxClient, dict]) -> None:
    client, variables = lab
    most = _run_panel(client, variables["noc.json"], "noc.json", "Most utilized")
    # the last 5 minutes: member 1 down (0 %), member 2 at 20 %: the line at 20 %, not their mean 10 %
    assert _by_line(most, "in")[LAG] == [pytest.approx(20.0)]
    site = _run_panel(client, variables["noc.json"], "noc.json", "Throughput per site")
    lab_site = [r["in"] for s in site for r in _rows(s) if r["in"] is not None]
    assert lab_site[2:-12] and lab_site[2:-12] == pytest.approx([600 * MBPS] * len(lab_site[2:-12]))


@pytest.mark.parametrize(("dashboard", "panel"), [("noc.json", "Line status"), ("line.json", "Oper status")])
def test_line_with_one_member_down_stays_up_on_status_panels(lab: tuple[InfluxClient, dict], dashboard: str,
                                                             panel: str) -> None:
    client, variables = lab
    series = _run_panel(client, variables[dashboard], dashboard, panel)
    latest = {s["tags"]["line"]: s["values"][-1][1] for s in series}
    assert latest == {LAG: LineHealth.UP, SINGLE: LineHealth.UP}
