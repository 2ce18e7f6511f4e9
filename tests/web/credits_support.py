"""Shared by the credits tests: invoices with credit rows, and disputes made by the findings' own services
(record_audit of an audit finding, open_dispute) then sent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from billing_etl.audit import Finding as AuditFinding
from linewatch.choices import AuditRule, ChargeType, DisputeState

D = Decimal


def invoice_with(carrier: Any, number: str, rows: list[dict[str, Any]], *, currency: str = "EUR",
                 invoice_date: dt.date = dt.date(2026, 11, 30)) -> Any:
    """An invoice of ``carrier`` with ``rows`` (charge_type, amount, circuit_id, description, period_start/end)."""
    from web.invoices.models import Invoice, InvoiceRow

    total = sum((D(r["amount"]) for r in rows), D(0))
    invoice = Invoice.objects.create(carrier=carrier, number=number, invoice_date=invoice_date,
                                     due_date=invoice_date + dt.timedelta(days=30), currency=currency, total=total,
                                     period=f"{invoice_date:%Y-%m}", content_hash=number)
    for idx, r in enumerate(rows):
        InvoiceRow.objects.create(invoice=invoice, idx=idx, currency=currency, amount=D(r["amount"]),
                                  charge_type=ChargeType(r.get("charge_type", ChargeType.CREDIT)).value,
                                  circuit_id=r.get("circuit_id", ""), description=r.get("description", ""),
                                  period_start=r.get("period_start"), period_end=r.get("period_end"))
    return invoice


def dispute_of(carrier: Any, *, circuit_id: str, amount: str, period: str = "2026-10", invoice_number: str = "INV-1",
               currency: str = "EUR", sent: bool = True, rule: AuditRule = AuditRule.RATE_MISMATCH) -> Any:
    """A dispute of one finding (recorded by the audit's own service), opened by linewatch, and sent."""
    from web.findings import services as findings
    from web.findings.models import Dispute, Finding

    audit = AuditFinding(rule=rule, carrier=carrier.name, invoice_number=invoice_number, line="",
                         circuit_id=circuit_id, amount_at_stake=D(amount), reason=f"{circuit_id} billed above contract",
                         currency=currency)
    findings.record_audit(period, [audit])
    finding = Finding.objects.get(period=period, circuit_id=circuit_id, invoice_number=invoice_number, rule=rule)
    dispute = findings.open_dispute([finding], None)
    if sent:
        mark_sent(dispute)
    return Dispute.objects.get(pk=dispute.pk)


def mark_sent(dispute: Any) -> None:
    """Sent without its evidence pack and mail (those are the findings' and evidence's tests; the credits only need
    a dispute the carrier has)."""
    from django.utils import timezone

    from web.findings.models import Dispute

    Dispute.objects.filter(pk=dispute.pk).update(state=DisputeState.SENT.value, sent_at=timezone.now())
