"""The finance KPIs from real disputes, invoices, budgets and actual costs, written by the worker job
(``web.finance.jobs.write_kpis``) to the session's real InfluxDB, and read back by the finance dashboard's own
queries (grafana/dashboards/finance.json, substituted as Grafana does: tests/grafana/grafana_macros.py)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from finance_support import line_cost, period_report

from linewatch.choices import BudgetScope, ChargeType, DisputeState, InvoiceState
from linewatch.influx import InfluxClient, InfluxSettings

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "grafana"))
from grafana_macros import dashboard_range, interpolate, panel_interval, panel_range, query_targets

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
DASHBOARD = json.loads((REPO / "grafana" / "dashboards" / "finance.json").read_text())
FINANCE_TARGETS = {t.panel: t for t in query_targets("finance.json", DASHBOARD) if '"finance_' in t.query}
ALL = {"carrier": ".*", "department": ".*", "currency": "EUR"}


def _ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def finance_world(make_inventory: Any) -> dict[str, Any]:
    """Colt (late fee 1.5 %/month): October disputes sent 10 and 45 days ago (100, 40 EUR), one resolved in part
    (50 claimed, 30 recovered), a draft; Telia: September, 20 claimed, all recovered. Invoices due 20 Nov: Colt's
    paid on time (1000 EUR), Telia's unpaid (overdue, with a 5 EUR late-fee row). Engineering's year budget 2400
    EUR against October and November's actual costs."""
    from web.finance.models import Budget
    from web.finance.services import record_costs
    from web.findings.models import Dispute
    from web.invoices.models import Invoice, InvoiceRow

    inv = make_inventory(4)
    telia, colt = inv["carriers"]
    colt.late_fee_pct = D("1.5")
    colt.save()
    for carrier, period, state, claimed, recovered, sent in [
        (colt, "2026-10", DisputeState.SENT, "100.00", "0", _ago(10)),
        (colt, "2026-10", DisputeState.ANSWERED, "40.00", "0", _ago(45)),
        (colt, "2026-10", DisputeState.RESOLVED, "50.00", "30.00", _ago(70)),
        (colt, "2026-10", DisputeState.DRAFT, "999.00", "0", None),
        (telia, "2026-09", DisputeState.RESOLVED, "20.00", "20.00", _ago(80)),
    ]:
        Dispute.objects.create(carrier=carrier, period=period, state=state, claimed_amount=D(claimed),
                               recovered_amount=D(recovered), currency="EUR", sent_at=sent)
    due = dt.date(2026, 11, 20)
    for carrier, number, paid_on, state in [(colt, "C-1", due, InvoiceState.PAID), (telia, "T-1", None,
                                                                                     InvoiceState.AUDITED)]:
        invoice = Invoice.objects.create(carrier=carrier, number=number, invoice_date=dt.date(2026, 11, 1),
                                         due_date=due, currency="EUR", total=D("1000.00"), period="2026-10",
                                         state=state, paid_on=paid_on)
        if carrier == telia:
            InvoiceRow.objects.create(invoice=invoice, idx=1, charge_type=ChargeType.LATE_FEE, amount=D("5.00"),
                                      currency="EUR")
    Budget.objects.create(scope=BudgetScope.DEPARTMENT, department=inv["departments"][0], year=2026,
                          amount=D(2400), currency="EUR")
    record_costs("2026-10", period_report("2026-10", [line_cost("LINE-000", "Engineering", "CC-4100", "100.00")]))
    record_costs("2026-11", period_report("2026-11", [line_cost("LINE-000", "Engineering", "CC-4100", "160.00")]))
    return inv


@pytest.fixture
def influx(influx_db: tuple[str, str]) -> Any:
    url, dbname = influx_db
    with InfluxClient(InfluxSettings(url=url, database=dbname)) as client:
        yield client


def _panel(client: InfluxClient, title: str, variables: dict[str, str] = ALL) -> list[dict[str, Any]]:
    (target,) = [t for panel, t in FINANCE_TARGETS.items() if panel.startswith(title)]
    time_range = panel_range(dashboard_range(DASHBOARD, to_ms=int(NOW.timestamp() * 1000)), target.time_from)
    interval = panel_interval(time_range, max_data_points=target.max_data_points, min_interval=target.min_interval)
    query = interpolate(target.query, time_range=time_range, interval=interval, variables=variables)
    return client.query(query, epoch="ms")


def _total(series: list[dict[str, Any]]) -> float:
    return sum(v for s in series for row in s["values"] for v in row[1:] if v is not None)


def test_every_finance_kpi_panel_is_checked() -> None:
    assert len(FINANCE_TARGETS) == 12, sorted(FINANCE_TARGETS)


def test_write_kpis_rewrites_the_same_points(finance_world: dict[str, Any], influx: InfluxClient) -> None:
    from web.finance.jobs import write_kpis

    written = write_kpis(now=NOW, client=influx)
    assert written == 2 + 2 + 1  # disputes: Colt/2026-10, Telia/2026-09; payments: Colt, Telia; one budget
    assert write_kpis(now=NOW, client=influx) == written
    counts = influx.query('SELECT count("claimed") FROM "finance_disputes"')
    assert counts[0]["values"][0][1] == 2, "a re-run overwrites (same series and timestamps), adds nothing"


@pytest.mark.parametrize(("title", "expected"), [
    ("Claimed", 210.0), ("Recovered", 50.0), ("Pending", 140.0), ("Recovery rate", 100 * 50 / 70),
    ("Late fees avoided", 15.0), ("Overdue invoices", 1.0),
], ids=lambda v: str(v))
def test_dashboard_stats_show_the_kpis(finance_world: dict[str, Any], influx: InfluxClient, title: str,
                                       expected: float) -> None:
    from web.finance.jobs import write_kpis

    write_kpis(now=NOW, client=influx)
    assert _total(_panel(influx, title)) == pytest.approx(expected)


def test_dashboard_ageing_and_carrier_selection(finance_world: dict[str, Any], influx: InfluxClient) -> None:
    from web.finance.jobs import write_kpis

    write_kpis(now=NOW, client=influx)
    (ageing,) = _panel(influx, "Open disputes by age")
    assert dict(zip(ageing["columns"][1:], ageing["values"][0][1:], strict=True)) == {
        "0–30 days": 100.0, "31–60 days": 40.0, "61–90 days": 0.0, "> 90 days": 0.0}
    telia = _panel(influx, "Disputes — per carrier and month", ALL | {"carrier": "Telia"})
    assert [(s["tags"]["carrier"], s["tags"]["month"]) for s in telia] == [("Telia", "2026-09")]
    row = dict(zip(telia[0]["columns"], telia[0]["values"][0], strict=True))
    assert (row["claimed"], row["recovered"], row["recovery %"]) == (20.0, 20.0, 100.0)


def test_dashboard_budget_table_shows_variance_and_projection(finance_world: dict[str, Any],
                                                              influx: InfluxClient) -> None:
    from web.finance.jobs import write_kpis

    write_kpis(now=NOW, client=influx)
    (series,) = _panel(influx, "Budgets — variance and year-end projection")
    row = dict(zip(series["columns"], series["values"][0], strict=True))
    assert series["tags"]["department"] == "Engineering"
    # October and November audited: budget 2400 × 2/12 = 400, actual 260; projection 260 + mean(100, 160) × 10
    assert (row["budget"], row["budget to date"], row["actual to date"]) == (2400.0, 400.0, 260.0)
    assert (row["variance"], row["projection"], row["through month"]) == (-140.0, 1560.0, 11)
    bars = _panel(influx, "Budget vs actual per department")
    assert bars[0]["values"][0][1:] == [2400.0, 260.0, 1560.0]


def test_overview_page_shows_the_same_kpis(client: Any, finance_world: dict[str, Any], user_with_role: Any) -> None:
    client.force_login(user_with_role("viewer"))
    page = client.get("/finance/?year=2026", headers={"Accept-Language": "ko"}).content.decode()
    assert "이의 제기" in page and "피한 연체료" in page
    totals = page[page.index('id="dispute-totals"'):page.index("</table>", page.index('id="dispute-totals"'))]
    assert "210.00" in totals and "50.00" in totals and "140.00" in totals and "71.4 %" in totals
    payments = page[page.index('id="payment-kpis"'):page.index("</table>", page.index('id="payment-kpis"'))]
    assert "15.00" in payments and "5.00" in payments


def test_the_worker_runs_write_kpis_every_five_minutes_to_the_configured_influxdb(
        finance_world: dict[str, Any], influx_db: tuple[str, str], settings: Any) -> None:
    """The worker finds the job (web/finance/apps.py) and runs it without arguments: the InfluxDB of the settings."""
    from web.notify.worker import collect_jobs

    url, database = influx_db
    settings.LINEWATCH = settings.LINEWATCH.model_copy(
        update={"influx": InfluxSettings(url=url, database=database)})
    (job,) = [job for job in collect_jobs() if job.path == "web.finance.jobs:write_kpis"]
    assert job.interval_s == 300
    assert job.function()() == 5
    with InfluxClient(InfluxSettings(url=url, database=database)) as client:
        budget = client.query('SELECT "actual" FROM "finance_budget"')
    assert budget[0]["values"][0][1] == 260.0
