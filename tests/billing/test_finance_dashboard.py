"""The finance dashboard's queries, as Grafana sends them, return data written by a real ETL run.

Same method as tests/grafana (its macro expansion is reused): every target of finance.json, its variables
resolved from their own queries, for "All", two values and one value of each variable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from billing_support import CARRIER, OCT, write_config_tree
from grafana_macros import Selection, TimeRange, interpolate, panel_interval, panel_range, query_targets
from test_exports import write_multi_currency_world
from test_run_influxd import HEADER, OCT_ROWS, traffic

from billing_etl.run import run_period
from linewatch.influx import InfluxClient
from linewatch.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
MODEL = json.loads((REPO / "grafana" / "dashboards" / "finance.json").read_text())
TARGETS = list(query_targets("finance.json", MODEL))
RANGE = TimeRange(from_ms=(OCT.start_s - 86400 * 60) * 1000, to_ms=(OCT.end_s + 86400 * 20) * 1000)


@pytest.fixture
def client(tmp_path: Path, influx_db: tuple[str, str]):
    from linewatch.influx import encode_points

    url, db = influx_db
    cfg = write_config_tree(tmp_path / "cfg", influx_url=url, database=db)
    (tmp_path / "cfg" / "invoices" / "acme-2026-10.csv").write_text("\n".join([HEADER, *OCT_ROWS]) + "\n")
    settings = load_settings(cfg)
    with InfluxClient(settings.influx) as c:
        points = traffic()
        for start in range(0, len(points), 5000):
            c.write(encode_points(points[start : start + 5000]))
        report = run_period(settings, OCT, out_dir=tmp_path / "out", progress_enabled=False)
        c.write(encode_points(_fault_figures()))
        c.write(encode_points(_finance_kpis(sorted({d.department for d in report.departments}))))
        yield c


def _fault_figures() -> list:
    """October's reliability figures as the application's worker writes them (web/faults/figures_influx.py): the
    dashboard's availability and MTTR panels read them."""
    from web.faults.figures import Figures
    from web.faults.figures_influx import figure_points

    month_s = OCT.end_s - OCT.start_s
    figures = {"L-FLAT": Figures(incidents=2, downtime_s=1800.0, period_s=month_s),
               "L-BURST": Figures(incidents=0, downtime_s=0.0, period_s=month_s)}
    return figure_points(figures, dict.fromkeys(figures, CARRIER), month_start_s=OCT.start_s)


def _finance_kpis(departments: list[str]) -> list:
    """October's finance KPIs as the application's worker writes them (web/finance/points.py, issue 12): a dispute
    in every state, invoices paid on time, late and overdue, a year budget per department of the ETL's costs."""
    import datetime as dt
    from decimal import Decimal

    from linewatch.choices import BudgetScope, DisputeState
    from web.finance.budgets import ActualFact, BudgetFact, budget_status
    from web.finance.kpis import DisputeFact, PaymentKpi, dispute_kpis
    from web.finance.points import budget_points, dispute_points, payment_points

    period, sent = str(OCT), dt.date(OCT.year, OCT.month, 20)
    disputes = [DisputeFact(CARRIER, "EUR", period, state, Decimal("50.00"),
                            Decimal("30.00") if state == DisputeState.RESOLVED else Decimal(0),
                            sent_on=None if state == DisputeState.DRAFT else sent) for state in DisputeState]
    payments = [PaymentKpi(CARRIER, period, "EUR", invoices=3, paid_on_time=1, paid_on_time_amount=Decimal(900),
                           paid_late=1, paid_late_amount=Decimal(400), overdue=1, overdue_amount=Decimal(300),
                           late_fees_avoided=Decimal("13.5"))]
    budgets = [BudgetFact(BudgetScope.DEPARTMENT, d, OCT.year, None, Decimal(12000), "EUR") for d in departments]
    actuals = [ActualFact(BudgetScope.DEPARTMENT, d, OCT.year, OCT.month, Decimal(110), "EUR") for d in departments]
    return (dispute_points(dispute_kpis(disputes, today=sent + dt.timedelta(days=10))) + payment_points(payments)
            + budget_points(budget_status(budgets, actuals, year=OCT.year)))


def _variables(client: InfluxClient, scenario: str) -> dict[str, str]:
    rendered: dict[str, str] = {}
    for variable in MODEL["templating"]["list"]:
        query = interpolate(variable["query"], time_range=RANGE, interval="1d", variables=rendered)
        options = sorted({row[1] for s in client.query(query) for row in s["values"]})
        assert options, f"${variable['name']} has no values: {query}"
        selection = (
            Selection(variable, all=True)
            if scenario == "all"
            else Selection(variable, values=tuple(options[: 2 if scenario == "two-values" else 1]))
        )
        rendered[variable["name"]] = selection.render(options)
    return rendered


def test_dashboard_json_is_generated_from_its_source() -> None:
    from linewatch.dashboards import render

    assert (
        render(REPO / "grafana" / "dashboards" / "finance.dashboard.py")
        == (REPO / "grafana" / "dashboards" / "finance.json").read_text()
    )
    assert len(TARGETS) >= 8


@pytest.mark.parametrize("scenario", ["all", "two-values", "one-value"])
def test_every_finance_query_returns_data(client: InfluxClient, scenario: str) -> None:
    variables = _variables(client, scenario)
    for target in TARGETS:
        time_range = panel_range(RANGE, target.time_from)
        interval = panel_interval(
            time_range, max_data_points=target.max_data_points, min_interval=target.min_interval
        )
        query = interpolate(target.query, time_range=time_range, interval=interval, variables=variables)
        series = client.query(query, epoch="ms")
        assert any(s["values"] for s in series), f"{target.id} returned no data for {scenario}:\n{query}"


@pytest.mark.slow
def test_finance_amounts_are_never_summed_across_currencies(
    tmp_path: Path, influx_db: tuple[str, str]
) -> None:
    """KRW, BHD and USD lines: the currency variable offers each once (one at a time, no "All"), and "Billed"
    for a currency is that currency's total from the ETL, never a sum over all of them (the old EUR unit)."""
    url, db = influx_db
    settings = load_settings(write_multi_currency_world(tmp_path / "cfg", influx_url=url, database=db))
    report = run_period(settings, OCT, out_dir=tmp_path / "out", progress_enabled=False)
    [variable] = [v for v in MODEL["templating"]["list"] if v["name"] == "currency"]
    assert not variable["multi"] and not variable["includeAll"]
    every = {"carrier": ".*", "department": ".*"}
    [billed] = [t for t in TARGETS if t.panel == "Billed ($currency)"]
    with InfluxClient(settings.influx) as client:
        query = interpolate(variable["query"], time_range=RANGE, interval="1d", variables=every)
        assert sorted({row[1] for s in client.query(query) for row in s["values"]}) == ["BHD", "KRW", "USD"]
        for currency, totals in report.totals().items():
            query = interpolate(
                billed.query, time_range=RANGE, interval="1d", variables={**every, "currency": currency}
            )
            got = sum(row[1] for s in client.query(query) for row in s["values"] if row[1] is not None)
            assert got == pytest.approx(float(totals["total"])), currency


@pytest.mark.slow
def test_finance_after_upgrade_reads_the_currency_tag_not_the_old_field(
    tmp_path: Path, influx_db: tuple[str, str]
) -> None:
    """Runs before the tag wrote ``currency`` as a field, which InfluxQL prefers to a tag of the same name: the
    dashboard's ``::tag`` filter must still see the new points (and not the old, untagged ones)."""
    from linewatch.influx import Point, encode_points

    url, db = influx_db
    settings = load_settings(write_multi_currency_world(tmp_path / "cfg", influx_url=url, database=db))
    old = Point(
        "line_cost",
        {"line": "L-KR", "department": "Sales", "carrier": "Hanil", "period": "2026-10"},
        {"billed_amount": 5.0, "total_amount": 5.0, "currency": "KRW"},
        OCT.start_s * 10**9,
    )
    [billed] = [t for t in TARGETS if t.panel == "Billed ($currency)"]
    variables = {"carrier": ".*", "department": ".*", "currency": "KRW"}
    with InfluxClient(settings.influx) as client:
        client.write(encode_points([old]))
        report = run_period(settings, OCT, out_dir=tmp_path / "out", progress_enabled=False)
        query = interpolate(billed.query, time_range=RANGE, interval="1d", variables=variables)
        got = sum(row[1] for s in client.query(query) for row in s["values"] if row[1] is not None)
    assert got == pytest.approx(float(report.totals()["KRW"]["total"]))


def test_budget_panels_read_this_year_whatever_the_dashboard_range() -> None:
    """Regression: a budget's point is stamped on 1 January, so the budget panels on the dashboard's range (last
    90 days, say) showed nothing from April on; they read this year (``timeFrom: now/y``)."""
    budget = [t for t in TARGETS if '"finance_budget"' in t.query]
    assert budget and all(t.time_from == "now/y" for t in budget), [(t.panel, t.time_from) for t in budget]
