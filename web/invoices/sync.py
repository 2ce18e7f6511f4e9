"""The application's mirror of the billing ETL's invoice store (``billing_etl.store.InvoiceStore``): every stored
invoice becomes an :class:`~web.invoices.models.Invoice` with its rows, a new one in state ``received``.

Idempotent: an invoice whose content hash did not change is left alone; one the store replaced (the corrected file
of an import with quarantined rows) gets its rows rewritten in place (same ``idx``, so what points at a row keeps
pointing at it), an event, and — when it was only audited — goes back to ``received`` to be audited again. An
invoice whose carrier the application does not know is skipped and reported by name (never a carrier invented).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from billing_etl import model as etl
from billing_etl.audit import invoice_period
from billing_etl.finding_ids import charge_key
from billing_etl.run import STORE_NAME
from billing_etl.store import InvoiceStore
from linewatch.choices import InvoiceState
from web.inventory.models import Carrier, Line
from web.invoices.models import Invoice, InvoiceRow

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    new: list[Invoice] = field(default_factory=list)
    updated: list[Invoice] = field(default_factory=list)  # rows replaced by the store
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # "<carrier> <number>: <reason>"
    periods: set[str] = field(default_factory=set)  # of the new and updated invoices: to be audited


def default_store_path() -> Path:
    return Path(settings.STATE_DIR) / STORE_NAME


def sync_store(store_path: Path | None = None) -> SyncReport:
    """Mirror every invoice of the ETL store (default ``STATE_DIR/billing.sqlite``) into the database."""
    path = store_path or default_store_path()
    report = SyncReport()
    if not path.exists():
        log.info("invoice store %s does not exist yet: nothing to mirror", path)
        return report
    with InvoiceStore(path) as store:
        stored = store.invoices()
    carriers = {c.name: c for c in Carrier.objects.all()}
    known = {(c, n): (pk, h) for pk, c, n, h in Invoice.objects.values_list("pk", "carrier__name", "number",
                                                                          "content_hash")}
    for inv in stored:
        carrier = carriers.get(inv.carrier)
        if carrier is None:
            report.skipped.append(f"{inv.carrier} {inv.invoice_number}: carrier {inv.carrier!r} is not in the "
                                  f"application's inventory")
            log.warning("invoice %s of carrier %s not mirrored: the carrier is not in the inventory",
                        inv.invoice_number, inv.carrier)
            continue
        pk_hash = known.get((inv.carrier, inv.invoice_number))
        if pk_hash is not None and pk_hash[1] == inv.content_hash:
            report.unchanged += 1
            continue
        try:
            with transaction.atomic():
                if pk_hash is None:
                    invoice = _create(inv, carrier)
                    report.new.append(invoice)
                else:
                    invoice = _replace(Invoice.objects.select_for_update().get(pk=pk_hash[0]), inv)
                    report.updated.append(invoice)
        except IntegrityError:  # mirrored meanwhile by a concurrent sync (a hand upload while the worker syncs)
            log.info("invoice %s of %s was mirrored by a concurrent sync", inv.invoice_number, inv.carrier)
            report.unchanged += 1
            continue
        report.periods.add(invoice.period)
    return report


def _values(inv: etl.Invoice) -> dict[str, object]:
    return {
        "billing_account": inv.billing_account, "invoice_date": inv.invoice_date, "due_date": inv.due_date,
        "currency": inv.currency, "total": etl.money(inv.lines_total, inv.currency),
        "stated_total": None if inv.stated_total is None else etl.money(inv.stated_total, inv.currency),
        "period": str(invoice_period(inv)), "content_hash": inv.content_hash, "source_file": inv.source_file,
    }


def _create(inv: etl.Invoice, carrier: Carrier) -> Invoice:
    from web.invoices.services import record_event

    invoice = Invoice.objects.create(carrier=carrier, number=inv.invoice_number, **_values(inv))
    _write_rows(invoice, inv)
    record_event(invoice, user=None, text="", data={"source_file": inv.source_file, "rows": len(inv.lines),
                                                      "total": str(invoice.total)}, target=InvoiceState.RECEIVED)
    return invoice


def _replace(invoice: Invoice, inv: etl.Invoice) -> Invoice:
    from web.invoices.services import record_event, system_move

    old_hash, old_total = invoice.content_hash, invoice.total
    for name, value in _values(inv).items():
        setattr(invoice, name, value)
    invoice.save()
    _write_rows(invoice, inv)
    record_event(invoice, user=None, data={"source_file": inv.source_file, "old_content_hash": old_hash,
                                           "content_hash": inv.content_hash, "old_total": str(old_total),
                                           "total": str(invoice.total)},
                 text="rows replaced by the invoice store")
    if invoice.state == InvoiceState.AUDITED:
        system_move(invoice, "reopen")
    return invoice


def _write_rows(invoice: Invoice, inv: etl.Invoice) -> None:
    lines = {c: pk for pk, c in Line.objects.filter(carrier=invoice.carrier).values_list("pk", "circuit_id")}
    existing = {r.idx: r for r in invoice.rows.all()}
    for idx, row in enumerate(inv.lines):
        values = {
            "circuit_id": row.circuit_id or "", "line_id": lines.get(row.circuit_id or ""),
            "charge_type": row.charge_type.value, "period_start": row.period_start, "period_end": row.period_end,
            "quantity": row.quantity, "unit_price": row.unit_price,
            "amount": etl.money(row.amount, row.currency), "currency": row.currency,
            "description": row.description, "source_file": row.source_file, "source_row": row.source_row,
            "charge_key": charge_key(row),
        }
        current = existing.pop(idx, None)
        if current is None:
            InvoiceRow.objects.create(invoice=invoice, idx=idx, **values)
        elif any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            current.save()
    for gone in existing.values():
        gone.delete()

