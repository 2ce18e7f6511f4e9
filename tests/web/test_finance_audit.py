"""The actual costs from the real audit of the demo invoices (web.invoices.audit.audit_periods on the demo
inventory, contracts and invoices, usage from the session's real InfluxDB): the chargeback per department adds up
to the billing ETL's own Departments sheet, and the budget page sees them."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from invoices_support import import_demo_invoices, load_demo_inventory, store_path, use_config

from billing_etl.audit import UNKNOWN_DEPARTMENT
from linewatch.influx import InfluxClient, InfluxSettings

pytestmark = [pytest.mark.django_db, pytest.mark.web_database]


@pytest.fixture
def october(settings: Any, tmp_path: Any, influx_db: tuple[str, str]) -> Any:
    """The demo's October audited; its PeriodReport."""
    from web.invoices.audit import audit_periods
    from web.invoices.sync import sync_store

    url, dbname = influx_db
    use_config(settings, tmp_path, url=url, database=dbname)
    load_demo_inventory()
    import_demo_invoices(store_path(tmp_path))
    sync_store()
    with InfluxClient(InfluxSettings(url=url, database=dbname)) as client:
        (result,) = audit_periods(["2026-10"], client=client)
    assert result.ok, result.error
    return result.report


def test_chargeback_of_the_audited_month_adds_up_to_the_etl_departments_sheet(october: Any) -> None:
    from web.finance.chargeback import chargeback
    from web.finance.models import CostActual

    etl: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for d in october.departments:
        etl[("" if d.department == UNKNOWN_DEPARTMENT else d.department, d.currency)] += d.total_amount
    groups = chargeback(CostActual.objects.filter(period="2026-10"))
    ours = {(g.department, g.currency): g.amount for g in groups}
    unallocated = {cur: a for (_carrier, cur), a in october.unallocated.items() if a}
    for currency, amount in unallocated.items():
        etl[("", currency)] += amount
    assert ours == dict(etl)
    assert sum(g.lines for g in groups) == len(october.lines)


def test_budget_status_of_the_audited_month(october: Any, client: Any, user_with_role: Any) -> None:
    from linewatch.choices import BudgetScope
    from web.finance.figures import budget_statuses
    from web.finance.models import Budget
    from web.inventory.models import Department

    department = Department.objects.order_by("name").first()
    currency = next(d.currency for d in october.departments if d.department == department.name)
    Budget.objects.create(scope=BudgetScope.DEPARTMENT, department=department, year=2026, amount=Decimal(120000),
                          currency=currency)
    (status,) = budget_statuses(2026)
    expected = sum((d.total_amount for d in october.departments
                    if d.department == department.name and d.currency == currency), Decimal(0))
    assert (status.through, status.actual_to_date) == (10, expected)
    assert status.projection == expected + expected * 2  # one audited month: its actual × the two months left
    client.force_login(user_with_role("viewer"))
    assert department.name in client.get("/finance/budgets/?year=2026").content.decode()
