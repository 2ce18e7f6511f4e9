"""The line page's live figures against the real influxd (session fixture): now, this month's 95th percentile,
past billing periods, open alerts, the Grafana link, and a page that still renders when InfluxDB is down."""

from __future__ import annotations

import calendar
import re

import pytest

from linewatch.choices import UsageDirection
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from web.inventory import live

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

NOV = calendar.timegm((2026, 11, 1, 0, 0, 0))
OCT = calendar.timegm((2026, 10, 1, 0, 0, 0))
AUG = calendar.timegm((2026, 8, 1, 0, 0, 0))
NOW = NOV + 14 * 86400 + 200  # 2026-11-15 00:03:20 UTC: 200 s into a five-minute bucket
LINE = "LINE-000"
DEVICE = "fra-edge-1"


def _traffic(t: int, in_bps: float, out_bps: float, *, interval_s: float, interface: str = "ge-0/0/0",
             line: str = LINE) -> Point:
    return Point("line_traffic", {"line": line, "device": DEVICE, "interface": interface},
                 {"in_bps": in_bps, "out_bps": out_bps, "interval_s": interval_s, "oper_status": 1,
                  "admin_status": 1}, t * 10**9)


def _alert(t: int, rule: str, state: str, *, line: str = LINE, severity: str = "warning") -> Point:
    return Point("alert_events", {"line": line, "rule": rule, "severity": severity},
                 {"state": state, "firing": int(state == "firing"), "value": 91.5, "summary": f"{rule} on {line}",
                  "since_s": t}, t * 10**9)


def _points() -> list[Point]:
    points = []
    # This month: 20 earlier five-minute samples of 1..20 Mbit/s in (out lower), 300 s each.
    points += [_traffic(NOW - 3600 - 300 * k, k * 1e6, 0.5e6, interval_s=300) for k in range(1, 21)]
    # Now: the line is carried by two interfaces (a LAG): 5 + 3 Mbit/s in, 1 + 2 out, in one five-minute bucket.
    points += [_traffic(NOW - 60, 5e6, 1e6, interval_s=30),
               _traffic(NOW - 90, 3e6, 2e6, interval_s=30, interface="ge-0/0/1")]
    # Another line's traffic must not count.
    points += [_traffic(NOW - 60, 900e6, 900e6, interval_s=30, line="LINE-001")]
    # October: 40 samples of 1..40 Mbit/s → N = 40, the top 2 dropped → 38 Mbit/s; billed 1234.5 EUR.
    points += [_traffic(OCT + 86400 + 300 * k, k * 1e6, 0.0, interval_s=300) for k in range(1, 41)]
    points += [Point("line_cost", {"line": LINE, "period": "2026-10", "currency": "EUR", "carrier": "Telia",
                                   "department": "Engineering"}, {"billed_amount": 1234.5}, OCT * 10**9)]
    # August: billed, but no traffic kept; September: nothing at all (not listed).
    points += [Point("line_cost", {"line": LINE, "period": "2026-08", "currency": "EUR", "carrier": "Telia",
                                   "department": "Engineering"}, {"billed_amount": 999.0}, AUG * 10**9)]
    points += [_alert(NOW - 900, "utilization_high", "pending"), _alert(NOW - 600, "utilization_high", "firing"),
               _alert(NOW - 1200, "line_down", "firing", severity="critical"),
               _alert(NOW - 1100, "line_down", "resolved", severity="critical"),
               _alert(NOW - 500, "device_unreachable", "firing", line=DEVICE, severity="critical"),
               _alert(NOW - 500, "utilization_high", "firing", line="LINE-001")]
    return points


@pytest.fixture
def loaded(influx_db):
    url, dbname = influx_db
    settings = InfluxSettings(url=url, database=dbname)
    with InfluxClient(settings) as client:
        client.write(encode_points(_points()))
    return settings


def _measure(settings: InfluxSettings) -> live.LiveFigures:
    with InfluxClient(settings) as client:
        return live.measure(client, line=LINE, devices=[DEVICE], capacity_bps=10_000_000,
                            direction=UsageDirection.MAX, now_s=NOW)


def test_current_traffic_sums_the_members_of_a_line(loaded):
    now = _measure(loaded).current
    assert (now.in_bps, now.out_bps) == (8e6, 3e6)
    assert (now.in_util_pct, now.out_util_pct) == pytest.approx((80.0, 30.0))
    assert now.time_s == NOW - 60


def test_this_months_95th_percentile_drops_the_top_five_percent(loaded):
    month = _measure(loaded).month
    # 20 samples of 1..20 Mbit/s and the current bucket (the sum of the members: 8 Mbit/s in) → N = 21,
    # one dropped → 19 Mbit/s.
    assert month.samples_5m == 21
    assert month.p95_bps == pytest.approx(19e6)
    assert month.in_bytes == pytest.approx((sum(range(1, 21)) * 1e6 * 300 + 8e6 * 30) / 8)


def test_past_periods_show_95th_percentile_volume_and_billed_amount(loaded):
    past = {p.period: p for p in _measure(loaded).past}
    assert set(past) == {"2026-10", "2026-08"}
    assert past["2026-10"].p95_bps == pytest.approx(38e6)
    assert past["2026-10"].in_bytes == pytest.approx(sum(range(1, 41)) * 1e6 * 300 / 8)
    assert (past["2026-10"].billed_amount, past["2026-10"].currency) == (1234.5, "EUR")
    assert (past["2026-08"].samples_5m, past["2026-08"].billed_amount) == (0, 999.0)


def test_line_page_p95_is_the_p95_of_the_member_sum_not_the_member_mean(influx_db):
    """A LAG: per five-minute bucket member 1 carries k and member 2 21 − k Mbit/s (k = 1..20), so the line carries
    21 Mbit/s all along. The page shows 21 (what billing bills), not the mean of the members (10.5 Mbit/s) nor the
    sum of the members' own 95th percentiles (19 + 19)."""
    url, dbname = influx_db
    settings = InfluxSettings(url=url, database=dbname)
    points = [_traffic(OCT + 86400 + 300 * k, v * 1e6, 0.0, interval_s=300, interface=interface)
              for k in range(1, 21) for interface, v in (("ge-0/0/0", k), ("ge-0/0/1", 21 - k))]
    with InfluxClient(settings) as client:
        client.write(encode_points(points))
    past = {p.period: p for p in _measure(settings).past}
    assert (past["2026-10"].samples_5m, past["2026-10"].p95_bps) == (20, pytest.approx(21e6))


def test_open_alerts_are_the_pending_or_firing_ones_of_the_line_and_its_devices(loaded):
    alerts = [(a.rule, a.subject, a.state) for a in _measure(loaded).alerts]
    assert alerts == [("device_unreachable", DEVICE, "firing"), ("utilization_high", LINE, "firing")]


@pytest.fixture
def page(client, make_inventory, user_with_role, settings, monkeypatch):
    def get(influx: InfluxSettings):
        settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"influx": influx})
        monkeypatch.setattr(live, "clock", lambda: NOW)
        line = inv["lines"][0]
        return client.get(line.get_absolute_url())

    inv = make_inventory(2)
    client.force_login(user_with_role("viewer"))
    return get


def _dd(html: str, cls: str) -> str:
    return re.search(rf'class="{cls}">([^<]*)<', html).group(1)


def test_line_page_shows_live_figures_from_influxdb(page, loaded):
    html = page(loaded).content.decode()
    assert (_dd(html, "in-bps"), _dd(html, "out-bps"), _dd(html, "p95")) == ("8.00", "3.00", "19.00")
    assert html.count('class="period"') == 2 and "1,234.50 EUR" in html
    assert html.count('class="alert"') == 2 and "device_unreachable" in html and "line_down" not in html
    assert "InfluxDB did not answer" not in html


def test_regression_line_page_utilization_uses_the_capacity_in_force(page, loaded, make_inventory):
    """LON-INET-1 upgraded from 200 to 300 Mbit/s showed 20 % for 40 Mbit/s: the page divided by the capacity as
    installed. LINE-000 (10 Mbit/s installed) raised to 80 Mbit/s before NOW: 8 Mbit/s in is 10 %, not 80 %."""
    import datetime as dt

    from web.inventory.models import CapacityChange, Line

    line = Line.objects.get(name=LINE)
    CapacityChange.objects.create(line=line, effective=dt.datetime.fromtimestamp(NOW - 86400, dt.UTC),
                                  capacity_bps=80_000_000)
    html = page(loaded).content.decode()
    assert re.search(r"Utilization in \(%\)</dt>\s*<dd>([^<]*)</dd>", html).group(1) == "10.0"


def test_line_page_renders_with_no_data_when_influxdb_is_unreachable(page, free_port):
    response = page(InfluxSettings(url=f"http://127.0.0.1:{free_port}", database="linewatch"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "InfluxDB did not answer" in html and "No data" in html
    assert "CID-00000" in html  # the inventory facts are all there


def test_line_page_links_to_its_grafana_dashboard(page, loaded, settings):
    html = page(loaded).content.decode()
    base = settings.LINEWATCH.grafana.base_url.rstrip("/")
    assert f'href="{base}/d/linewatch-line?var-line=LINE-000"' in html


@pytest.fixture
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
