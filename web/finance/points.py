"""The finance KPIs as InfluxDB points (docs/schema.md "Finance KPIs"), pure: ``finance_disputes`` and
``finance_payments`` one point per carrier, month and currency (time = the month's first instant, UTC, like the
billing ETL's ``line_cost``), ``finance_budget`` one per budgeted department or cost centre, year and currency
(time = the year's first instant). Every field is always written, so a re-run overwrites a point (same series,
same timestamp) instead of adding one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from linewatch.choices import BudgetScope
from linewatch.influx import Point
from web.finance.budgets import BudgetStatus
from web.finance.kpis import AGE_BUCKETS, DisputeKpi, PaymentKpi

__all__ = ["BUDGET_MEASUREMENT", "DISPUTES_MEASUREMENT", "PAYMENTS_MEASUREMENT", "budget_points",
           "dispute_points", "payment_points"]

DISPUTES_MEASUREMENT = "finance_disputes"
PAYMENTS_MEASUREMENT = "finance_payments"
BUDGET_MEASUREMENT = "finance_budget"
_NS = 1_000_000_000


def _month_ns(month: str) -> int:
    year, number = (int(part) for part in month.split("-"))
    return int(dt.datetime(year, number, 1, tzinfo=dt.UTC).timestamp()) * _NS


def dispute_points(kpis: Iterable[DisputeKpi]) -> list[Point]:
    """Fields: disputes, open (counts), claimed, recovered, pending, written_off, resolved_claimed (what the
    resolved ones claimed: ``sum(recovered) / sum(resolved_claimed)`` is the recovery rate of any grouping),
    open_0_30 … open_over_90 (pending amount by age since sent) and their ``_count``, recovery_rate_pct (−1
    before any dispute of the group is resolved)."""
    points = []
    for k in kpis:
        rate = k.recovery_rate_pct
        fields: dict[str, float | int] = {
            "disputes": k.disputes, "open": k.open, "claimed": float(k.claimed), "recovered": float(k.recovered),
            "pending": float(k.pending), "written_off": float(k.written_off),
            "resolved_claimed": float(k.resolved_claimed),
            "recovery_rate_pct": -1.0 if rate is None else rate}
        for name, _, _ in AGE_BUCKETS:
            fields[name] = float(k.ageing[name])
            fields[f"{name}_count"] = k.open_by_age[name]
        points.append(Point(DISPUTES_MEASUREMENT, {"carrier": k.carrier, "month": k.month, "currency": k.currency},
                            fields, _month_ns(k.month)))
    return points


def payment_points(kpis: Iterable[PaymentKpi]) -> list[Point]:
    """Per due month: invoices, paid_on_time, paid_late, overdue (counts) and their amounts, late fees billed
    and avoided."""
    return [Point(PAYMENTS_MEASUREMENT, {"carrier": k.carrier, "month": k.month, "currency": k.currency}, {
        "invoices": k.invoices, "paid_on_time": k.paid_on_time, "paid_on_time_amount": float(k.paid_on_time_amount),
        "paid_late": k.paid_late, "paid_late_amount": float(k.paid_late_amount), "overdue": k.overdue,
        "overdue_amount": float(k.overdue_amount), "late_fees_billed": float(k.late_fees_billed),
        "late_fees_avoided": float(k.late_fees_avoided)}, _month_ns(k.month)) for k in kpis]


def budget_points(statuses: Iterable[BudgetStatus]) -> list[Point]:
    """Tags scope, ``department`` or ``cost_centre`` (by scope), year, currency. Fields: budget (the year's),
    budget_to_date, actual (to date), variance (actual − budget to date), variance_pct, projection (year end),
    projected_variance (projection − budget), through_month (last audited month, 0: none)."""
    points = []
    for s in statuses:
        target_tag = "department" if s.scope == BudgetScope.DEPARTMENT else "cost_centre"
        pct = s.variance_pct
        points.append(Point(BUDGET_MEASUREMENT, {
            "scope": s.scope.value, target_tag: s.target, "year": str(s.year), "currency": s.currency}, {
            "budget": float(s.budget_year), "budget_to_date": float(s.budget_to_date),
            "actual": float(s.actual_to_date), "variance": float(s.variance),
            "variance_pct": 0.0 if pct is None else pct, "projection": float(s.projection),
            "projected_variance": float(s.projected_variance), "through_month": s.through,
        }, _month_ns(f"{s.year:04d}-01")))
    return points
