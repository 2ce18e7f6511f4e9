"""The finance KPIs' records read from the database: disputes (web/findings), invoices (web/invoices), budgets and
actual costs (this app). The pure computations are :mod:`web.finance.kpis` and :mod:`web.finance.budgets`.

The disputes' and invoices' apps are looked up through the app registry, so this module (and the pages) work
while a part of the finance workflow is not installed or not migrated yet: no records, not an error."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.utils import timezone

from linewatch.choices import BudgetScope, DisputeState
from web.finance.budgets import ActualFact, BudgetFact, BudgetStatus, budget_status
from web.finance.kpis import DisputeFact, PaymentKpi
from web.finance.models import Budget, CostActual

__all__ = ["actual_facts", "audited_months", "budget_facts", "budget_statuses", "dispute_facts",
           "payment_kpis", "years_with_budgets"]

log = logging.getLogger(__name__)
ZERO = Decimal(0)


def _model(app_label: str, name: str) -> Any:
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _day(moment: dt.datetime | None) -> dt.date | None:
    return None if moment is None else timezone.localdate(moment)


def dispute_facts() -> list[DisputeFact]:
    """Every dispute (``findings.Dispute``) as a :class:`DisputeFact`."""
    dispute = _model("findings", "Dispute")
    if dispute is None:
        return []
    return [DisputeFact(carrier=d.carrier.name, currency=d.currency, month=d.period or "",
                        state=DisputeState(d.state), claimed=d.claimed_amount, recovered=d.recovered_amount or ZERO,
                        sent_on=_day(d.sent_at))
            for d in dispute.objects.select_related("carrier").exclude(state=DisputeState.DRAFT)]


def payment_kpis(*, today: dt.date) -> list[PaymentKpi]:
    """The invoices (``invoices.Invoice``) per carrier, due month and currency, each group's figures by
    :func:`web.invoices.kpis.late_fees` (paid on time, late, overdue, late fees billed and avoided). Sorted."""
    invoice = _model("invoices", "Invoice")
    if invoice is None:
        return []
    from web.invoices.kpis import late_fees

    groups: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for inv in invoice.objects.select_related("carrier").prefetch_related("rows"):
        groups[(f"{inv.due_date:%Y-%m}", inv.carrier.name, inv.currency)].append(inv)
    out = []
    for (month, carrier, currency), invoices in sorted(groups.items()):
        f = late_fees(invoices, today=today)
        out.append(PaymentKpi(
            carrier=carrier, month=month, currency=currency, invoices=len(invoices),
            paid_on_time=f.paid_on_time_count, paid_on_time_amount=f.paid_on_time_amount,
            paid_late=f.paid_late_count, paid_late_amount=f.paid_late_amount, overdue=f.overdue_count,
            overdue_amount=f.overdue_amount, late_fees_billed=f.billed_amount, late_fees_avoided=f.avoided_amount))
    return out


def budget_facts(year: int) -> list[BudgetFact]:
    return [BudgetFact(scope=BudgetScope(b.scope), target=b.target_name, year=b.year, month=b.month,
                       amount=b.amount, currency=b.currency)
            for b in Budget.objects.filter(year=year).select_related("department", "cost_centre")]


def actual_facts(year: int) -> list[ActualFact]:
    """Each actual cost of ``year`` twice: for its department (by name) and its cost centre (by code), when it
    has them."""
    out = []
    for a in CostActual.objects.filter(period__startswith=f"{year:04d}-"):
        month = int(a.period[5:7])
        for scope, target in ((BudgetScope.DEPARTMENT, a.department_name),
                              (BudgetScope.COST_CENTRE, a.cost_centre_code)):
            if target:
                out.append(ActualFact(scope=scope, target=target, year=year, month=month, amount=a.amount,
                                      currency=a.currency))
    return out


def audited_months(year: int) -> list[int]:
    """The months of ``year`` with any actual cost (the audit ran for them)."""
    periods = CostActual.objects.filter(period__startswith=f"{year:04d}-").values_list("period", flat=True)
    return sorted({int(p[5:7]) for p in periods.distinct()})


def years_with_budgets() -> list[int]:
    return sorted(set(Budget.objects.values_list("year", flat=True).distinct()))


def budget_statuses(year: int, *, as_of: int = 12) -> list[BudgetStatus]:
    """Budget against actual of every budgeted target of ``year`` (:func:`web.finance.budgets.budget_status`)."""
    return budget_status(budget_facts(year), actual_facts(year), year=year, as_of=as_of,
                         audited=audited_months(year))
