"""Late fees as a KPI (for web/finance): invoices paid on time, late fees the carriers billed (``late_fee`` rows), and
late fees avoided — each on-time payment times its carrier's late-fee rate (``Carrier.late_fee_pct``, % per month),
one month's fee, the least a late payment would have cost. Per currency: figures in two currencies never add up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from billing_etl.model import money
from linewatch.choices import ChargeType
from web.invoices.models import Invoice

ZERO = Decimal(0)


@dataclass
class LateFeeFigures:
    currency: str = ""
    paid_on_time_count: int = 0
    paid_on_time_amount: Decimal = ZERO
    paid_late_count: int = 0
    paid_late_amount: Decimal = ZERO
    overdue_count: int = 0  # unpaid past the due date on ``today``
    overdue_amount: Decimal = ZERO
    billed_amount: Decimal = ZERO  # late-fee rows of the invoices
    avoided_amount: Decimal = ZERO  # on-time payments × the carrier's late-fee rate


def late_fees_by_currency(invoices: Iterable[Invoice], *, today: dt.date) -> dict[str, LateFeeFigures]:
    figures: dict[str, LateFeeFigures] = {}
    for invoice in invoices:
        f = figures.setdefault(invoice.currency, LateFeeFigures(currency=invoice.currency))
        amount = invoice.payable_amount
        f.billed_amount += sum((r.amount for r in invoice.rows.all() if r.charge_type == ChargeType.LATE_FEE), ZERO)
        if invoice.paid_on is not None:
            if invoice.paid_on <= invoice.due_date:
                f.paid_on_time_count += 1
                f.paid_on_time_amount += amount
                rate = invoice.carrier.late_fee_pct
                if rate:
                    f.avoided_amount += money(amount * rate / 100, invoice.currency)
            else:
                f.paid_late_count += 1
                f.paid_late_amount += amount
        elif invoice.due_date < today:
            f.overdue_count += 1
            f.overdue_amount += amount
    return figures


def late_fees(invoices: Iterable[Invoice], *, today: dt.date) -> LateFeeFigures:
    """The figures of ``invoices`` (one currency: ValueError naming them otherwise; empty: zeros)."""
    by_currency = late_fees_by_currency(invoices, today=today)
    if len(by_currency) > 1:
        raise ValueError(f"invoices: late fees of one currency at a time, got {', '.join(sorted(by_currency))} "
                         "(use late_fees_by_currency)")
    return next(iter(by_currency.values()), LateFeeFigures())
