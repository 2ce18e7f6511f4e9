"""The trends job on the demo's own history (collector.demo.history.load_history, config/lines.yaml and
contracts.yaml) in a real influxd: three weeks at 5-minute steps, the run on the day after. The demo's saturated
line leads the outlook, every burstable and quota contract gets a projected bill, every polled line an outlook."""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

import pytest

from billing_etl.trends import outlook_text, run_trends
from collector.demo.history import load_history
from linewatch.influx import InfluxClient
from linewatch.inventory import load_inventory
from linewatch.settings import load_settings
from linewatch.trends.outlook import read_outlook

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 16)
NOW_S = calendar.timegm(TODAY.timetuple()) + 9 * 3600


@pytest.fixture(scope="module")
def demo(influxd):
    import uuid

    settings = load_settings(REPO / "config" / "linewatch.yaml")
    influx = settings.influx.model_copy(update={"url": influxd.url, "database": f"lw_tdemo_{uuid.uuid4().hex[:8]}"})
    settings = settings.model_copy(update={"influx": influx})
    inventory = load_inventory(REPO / "config" / "lines.yaml")
    with InfluxClient(settings.influx) as client:
        client.query(f'CREATE DATABASE "{influx.database}"', database="")
        start_s = calendar.timegm((TODAY - dt.timedelta(days=21)).timetuple())
        load_history(client, inventory, start_s=start_s, end_s=NOW_S, step_s=300)
        report = run_trends(settings, inventory, client, now_s=NOW_S)
        yield inventory, client, report
        client.query(f'DROP DATABASE "{influx.database}"', database="")


def test_every_polled_line_with_traffic_has_an_outlook_and_a_forecast(demo):
    inventory, client, report = demo
    outlook = read_outlook(client)
    polled = {line.id for line in inventory.polled_lines()}
    assert set(outlook["line"]) | set(report.problems) == polled
    assert not {ln: why for ln, why in report.problems.items() if "forecast" in why}  # 21 days are enough
    assert outlook["method"].notna().all()
    assert report.trend_points == 21 * len(outlook)


def test_the_saturated_demo_line_leads_the_outlook(demo):
    """FRA-MPLS-1 runs above 80 % of its commit in the demo (config/lines.yaml): already there, 0 days left."""
    _inv, client, _r = demo
    first = read_outlook(client).iloc[0]
    assert first["line"] == "FRA-MPLS-1"
    assert first["days_to_80"] == 0 and first["busy_hour_pct"] > 80


def test_burstable_and_quota_contracts_get_projected_bills(demo):
    """config/contracts.yaml: FRA-MPLS-1 and AMS-MPLS-1 are burstable, LON-INET-1 a volume quota."""
    _inv, client, report = demo
    outlook = read_outlook(client).set_index("line")
    billed = outlook[outlook["projected_amount"].notna()]
    assert set(billed.index) == {"FRA-MPLS-1", "AMS-MPLS-1", "LON-INET-1"} and report.projections == 3
    assert (billed["projected_amount"] >= billed["month_to_date_amount"]).all()
    assert (billed["projected_amount"] >= billed["contracted_amount"]).all()
    assert billed.loc["LON-INET-1", "projected_volume_gb"] > 0
    assert billed.loc["FRA-MPLS-1", "projected_p95_bps"] > 0
    assert set(billed["currency"]) == {"EUR"} and set(billed["period"]) == {"2026-11"}


def test_outlook_text_lists_the_soonest_first_in_korean(demo):
    _inv, client, _r = demo
    text = outlook_text(read_outlook(client), language="ko", limit=3).splitlines()
    assert text[0] == "용량 전망" and "회선" in text[1]
    assert text[2].startswith("FRA-MPLS-1") and text[-1].startswith("… (+")
