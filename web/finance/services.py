"""Writes of the finance overview: the actual costs of a period from the billing ETL's report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from billing_etl.audit import UNKNOWN_DEPARTMENT
from billing_etl.model import money
from web.finance.models import CostActual
from web.inventory.models import CostCentre, Department, Line

if TYPE_CHECKING:
    from billing_etl.run import PeriodReport

__all__ = ["record_costs"]


def record_costs(period: str, report: PeriodReport) -> int:
    """Replace ``period``'s actual costs with ``report``'s: one row per line and currency of its Lines sheet
    (ghost circuits with no department), and one per carrier and currency for charges billed to no line and not
    allocated. Lines, departments and cost centres are linked by name (line id, department name, cost-centre
    code); the names are kept too. Returns the number of rows written. Atomic: a failure leaves the old rows."""
    lines = {line.name: line for line in Line.objects.all()}
    departments = {d.name: d for d in Department.objects.all()}
    centres = {c.code: c for c in CostCentre.objects.all()}
    rows: list[CostActual] = []
    for lc in report.lines:
        line = lines.get(lc.line)
        department = "" if lc.department == UNKNOWN_DEPARTMENT else lc.department
        rows.append(CostActual(
            period=period, line=line, line_name=lc.line if line else "", circuit_id=lc.circuit_id,
            carrier_name=lc.carrier, department=departments.get(department), department_name=department,
            cost_centre=centres.get(lc.cost_centre), cost_centre_code=lc.cost_centre,
            billed_amount=lc.billed_amount, allocated_amount=lc.allocated_amount,
            amount=money(lc.total_amount, lc.currency), currency=lc.currency))
    for (carrier, currency), amount in sorted(report.unallocated.items()):
        if amount:
            rows.append(CostActual(period=period, carrier_name=carrier, billed_amount=amount,
                                   amount=money(amount, currency), currency=currency))
    with transaction.atomic():
        for old in CostActual.objects.filter(period=period):
            old.delete()  # one by one: the change log records each (signals miss a queryset delete)
        for row in rows:
            row.full_clean()
            row.save()
    return len(rows)
