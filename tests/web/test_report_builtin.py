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
from decimal import Decimal
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
    engineering = _department(inventory, "Engineering")
    assert engineering
    for line in engineering:
        expected = _expected_month(frame, line)
        row = re.search(rf"<tr><td>{line}</td>(.*?)</tr>", html, re.DOTALL)
        assert row, f"{line} not in the lines table"
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
        assert _cell(expected["p95"]) in cells and _cell(expected["busy"]) in cells, (line, expected, cells)
    assert "FRA-MPLS-1" not in html  # Operations' line


def test_department_monthly_lists_the_outlook_soonest_first_and_counts_the_lines_near_80(app):
    html = _html("department-monthly", "2026-11")
    outlook = html[html.index("Capacity outlook"):]
    order = [outlook.index(name) for name in ("FRA-MPLS-1", "PAR-INET-1", "LON-MPLS-1")]
    assert order == sorted(order)
    assert "2026-12-12 – 2026-12-27" in outlook  # PAR-INET-1's interval of the 80 % date
    figure = re.search(r'<div class="figure-value">(\d+)</div>\s*<div class="figure-label">Lines reaching 80 %', html)
    assert figure and figure.group(1) == "2"


def _department(inventory: Inventory, name: str) -> list[str]:
    return [line.id for line in inventory.polled_lines() if line.department == name]


def test_department_monthly_draws_a_heatmap_and_the_usage_pattern(app, util, inventory):
    html = _html("department-monthly", "2026-11", department="Operations")
    assert html.count('<img src="data:image/svg+xml;base64,') == 2  # the bars per line and the heatmap
    assert "Usage by weekday and hour: Operations" in html
    for label in ("Night share (22:00–06:00)", "Weekend share", "Peak hour", "Peak weekday"):
        assert f'<div class="figure-label">{label}</div>' in html
    # Peak hour of Operations' lines over the month, from the points (report time zone UTC).
    ops = util[util["line"].isin(_department(inventory, "Operations"))]
    hours = ops.assign(h=ops["t"] // 3600).groupby(["line", "h"], as_index=False)["value"].mean()
    by_hour = hours.assign(hod=hours["h"] % 24).groupby("hod")["value"].mean()
    peak = int(by_hour.idxmax())
    assert f"{peak:02d}:00–{(peak + 1) % 24:02d}:00" in html


def test_department_monthly_in_korean_draws_its_title_and_figures_in_the_pdf(app, util, inventory, tmp_path):
    """The PDF's pages, read back by OCR: the Korean title and the highest busy hour of Engineering."""
    from reports_support import read_pdf

    from web.reports import engine

    pdf = engine.render_pdf("department-monthly", period="2026-11", language="ko", department="Engineering",
                            now=NOW)
    pages = read_pdf(pdf, tmp_path, name="department-monthly-ko")
    engineering = _department(inventory, "Engineering")
    busiest = max(engineering, key=lambda line: _expected_month(util, line)["busy"])
    frame = util
    pages.assert_drawn("월간 회선 사용률 및 용량 전망", "2026년 11월", f"{_expected_month(frame, busiest)['busy']:,.1f} %")
    assert pages.cjk_font_embedded


# -- finance-monthly ------------------------------------------------------------------------------------------

@pytest.fixture
def finance(app, user_with_role) -> dict[str, Any]:
    """Actual costs of October and November, two findings on a November invoice (one disputed, resolved in
    November with 80 EUR recovered)."""
    from invoices_support import dispute_findings, make_invoice

    from web.finance.models import CostActual
    from web.findings.models import Dispute
    from web.inventory.models import Carrier

    for period, engineering, sales in (("2026-10", "1000.00", "500.00"), ("2026-11", "1100.00", "550.00")):
        for line, department, cc, amount in (("FRA-INET-1", "Engineering", "CC-4100", engineering),
                                             ("PAR-INET-1", "Sales", "CC-3100", sales)):
            CostActual.objects.create(period=period, line_name=line, carrier_name="Telia", department_name=department,
                                      cost_centre_code=cc, billed_amount=Decimal(amount), allocated_amount=Decimal(0),
                                      amount=Decimal(amount), currency="EUR")
    carrier = Carrier.objects.get(name="Telia")
    invoice = make_invoice(carrier, "TLA-2026-11", period="2026-11", total="1650.00")
    dispute_findings(carrier, invoice, user_with_role("finance"), ["120.00", "35.50"])
    dispute = Dispute.objects.get()
    Dispute.objects.filter(pk=dispute.pk).update(
        state="resolved", outcome="credited_in_part", recovered_amount=Decimal("80.00"),
        sent_at=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC), resolved_at=dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC))
    return {"dispute": Dispute.objects.get()}


def test_finance_monthly_gives_cost_per_department_findings_and_what_was_recovered(finance):
    html = _html("finance-monthly", "2026-11")
    assert re.search(r"<td>Engineering</td><td class=\"num\">1</td><td>CC-4100</td><td class=\"num\">1,100.00</td>",
                     html)
    value = re.search(r'<div class="figure-value">([^<]*)</div>\s*<div class="figure-label">Cost of the month', html)
    assert value and value.group(1) == "1,650.00 EUR"
    assert '<div class="figure-change">+10.0 %</div>' in html  # 1,650 against October's 1,500
    assert re.search(r"<td>Duplicate charge</td><td class=\"num\">2</td><td class=\"num\">155.50</td>", html)
    recovered = re.search(r'<div class="figure-value">([^<]*)</div>\s*<div class="figure-label">Recovered in the '
                          r'month', html)
    assert recovered and recovered.group(1) == "80.00 EUR"
    assert finance["dispute"].reference in html
    # The burstable line's projected bill (the trends run's) with its overage over the contract.
    assert re.search(r"<td>PAR-INET-1</td><td class=\"num\">310.00</td><td class=\"num\">1,460.50</td>"
                     r"<td class=\"num\">1,200.00</td><td class=\"num\">260.50</td><td>EUR</td>"
                     r"<td>82.0 Mbit/s \(95th percentile\)</td>", html)


def test_finance_monthly_of_one_department_keeps_to_its_costs(finance):
    html = _html("finance-monthly", "2026-11", department="Sales")
    value = re.search(r'<div class="figure-value">([^<]*)</div>\s*<div class="figure-label">Cost of the month', html)
    assert value and value.group(1) == "550.00 EUR"
    assert "<td>Engineering</td>" not in html


def test_finance_monthly_pdf_in_korean(finance, tmp_path):
    from reports_support import read_pdf

    from web.reports import engine

    pages = read_pdf(engine.render_pdf("finance-monthly", period="2026-11", language="ko", now=NOW), tmp_path,
                     name="finance-monthly-ko")
    pages.assert_drawn("월간 회선 요금, 감사 결과 및 환급", "1,650.00 EUR", "80.00 EUR")


# -- noc-weekly -----------------------------------------------------------------------------------------------

def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
def tickets(app) -> None:
    """Week 47: FRA-MPLS-1 down 2 h, AMS-MPLS-1 down 30 min, a saturation ticket (no outage); week 46: one
    outage of 1 h on LON-LL-1."""
    from web.faults.models import Ticket
    from web.inventory.models import Line

    def ticket(line: str, opened: dt.datetime, resolved: dt.datetime | None, *, kind: str = "line_down",
               outage: bool = True) -> None:
        Ticket.objects.create(line=Line.objects.get(name=line), kind=kind, outage=outage, opened_at=opened,
                              resolved_at=resolved, state="resolved" if resolved else "open",
                              cause="carrier" if resolved else "")

    ticket("FRA-MPLS-1", _at(17, 8), _at(17, 10))
    ticket("AMS-MPLS-1", _at(19, 14), _at(19, 14, 30))
    ticket("FRA-MPLS-1", _at(20, 11), None, kind="saturation", outage=False)
    ticket("LON-LL-1", _at(10, 3), _at(10, 4))


def _figure(html: str, label: str) -> tuple[str, str | None]:
    found = re.search(r'<div class="figure-value">([^<]*)</div>\s*<div class="figure-label">' + re.escape(label)
                      + r'</div>\s*(?:<div class="figure-change">([^<]*)</div>)?', html)
    assert found, f"figure {label!r} not in the report"
    return found.group(1), found.group(2)


def test_noc_weekly_counts_incidents_mttr_and_saturated_lines(tickets, util):
    html = _html("noc-weekly", "2026-W47")
    assert _figure(html, "Incidents (outages)") == ("2", "+1")
    assert _figure(html, "Tickets opened")[0] == "3"
    assert _figure(html, "MTTR") == ("1 h 15 min", "+15 min")  # (2 h + 30 min) / 2 against 1 h
    week = util[(util["t"] >= W47) & (util["t"] < W48)]
    saturated = sorted(line for line in week["line"].unique() if _expected_month(week, line)["busy"] >= 80)
    assert saturated and "FRA-MPLS-1" in saturated
    assert _figure(html, "Saturated lines (busy hour ≥ 80 %)")[0] == str(len(saturated))
    table = html[html.index("<h2>Saturated lines</h2>"):html.index("<h2>Alerts fired</h2>")]
    assert re.findall(r"<tr><td>([A-Z]+-[A-Z]+-\d)</td>", table) == sorted(
        saturated, key=lambda line: -_expected_month(week, line)["busy"])


def test_noc_weekly_reports_alerts_and_collector_health(tickets):
    html = _html("noc-weekly", "2026-W47")
    assert re.search(r"<td>utilization</td><td>warning</td><td class=\"num\">1</td><td class=\"num\">1</td>", html)
    assert re.search(r"<td>line_down</td><td>critical</td><td class=\"num\">1</td>", html)
    collector = re.search(r"<tr><td>collector-1</td>(.*?)</tr>", html, re.DOTALL)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", collector.group(1))
    assert cells[0] == "168" and cells[3] == "1" and cells[5] == "2"  # cycles, most devices failed, dropped 3 → 5
    assert re.search(r"<td>ams-edge-1</td><td class=\"num\">168</td><td class=\"num\">24</td>", html)


def test_noc_weekly_pdf_in_english(tickets, tmp_path):
    from reports_support import read_pdf

    from web.reports import engine

    pages = read_pdf(engine.render_pdf("noc-weekly", period="2026-W47", language="en", now=NOW), tmp_path,
                     name="noc-weekly-en")
    pages.assert_drawn("Weekly NOC report", "collector-1", "ams-edge-1", "14.3")  # 24 of 168 polls failed


# -- voice-monthly --------------------------------------------------------------------------------------------

def _voice_sums(influx: InfluxSettings) -> dict[str, dict[str, float]]:
    """Per trunk the month's calls and blocked calls straight from the voice_trunk points."""
    with InfluxClient(influx) as client:
        frame = client.query_frame('SELECT "attempts", "blocked", "line" FROM "voice_trunk"')
    return {line: {"calls": float(rows["attempts"].sum()), "blocked": float(rows["blocked"].sum())}
            for line, rows in frame.groupby("line")}


def test_voice_monthly_gives_calls_blocking_and_busy_hours_per_trunk(app, influx):
    html = _html("voice-monthly", "2026-11")
    sums = _voice_sums(influx)
    assert set(sums) == {"FRA-VOICE-1", "PAR-VOICE-1"}
    for line, figures in sums.items():
        row = re.search(rf"<tr><td>{line}</td>(.*?)</tr>", html, re.DOTALL)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
        assert cells[1] == f"{figures['calls']:,.0f}" and cells[3] == f"{figures['blocked']:,.0f}", (line, cells)
    assert sums["PAR-VOICE-1"]["blocked"] > 0  # the demo's Paris trunk runs out of channels
    total = sum(f["calls"] for f in sums.values())
    assert _figure(html, "Calls")[0] == f"{total:,.0f}"
    assert "International" in html and "<h2>Busy hour and channels</h2>" in html
    assert html.count('<img src="data:image/svg+xml;base64,') == 1


def test_voice_monthly_pdf_in_korean(app, influx, tmp_path):
    from reports_support import read_pdf

    from web.reports import engine

    total = sum(f["calls"] for f in _voice_sums(influx).values())
    pages = read_pdf(engine.render_pdf("voice-monthly", period="2026-11", language="ko", now=NOW), tmp_path,
                     name="voice-monthly-ko")
    pages.assert_drawn("월간 음성 트렁크 보고서", f"{total:,.0f}")


def test_every_builtin_report_is_registered_with_both_titles():
    from web.reports import engine

    names = {d.name: d for d in engine.definitions() if d.origin == "built-in"}
    assert {"department-monthly", "finance-monthly", "noc-weekly", "voice-monthly"} <= set(names)
    assert names["noc-weekly"].period_kind == "week"
    assert all(d.title["ko"] != d.title["en"] for d in names.values())


@pytest.mark.parametrize(("name", "period"), [("department-monthly", "2026-11"), ("finance-monthly", "2026-11"),
                                              ("noc-weekly", "2026-W47"), ("voice-monthly", "2026-11")])
def test_a_report_without_any_data_renders_and_says_so(settings, tmp_path, influx_db, name, period):
    """An empty InfluxDB database and an empty inventory: every block is there, telling there is no data."""
    url, dbname = influx_db
    use_config(settings, tmp_path / "var", url=url, database=dbname)
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"voice_path": tmp_path / "absent.yaml"})
    html = _html(name, period, language="ko")
    assert "<main" in html and "Traceback" not in html
    assert "없습니다" in html  # "no … " notes, in Korean
