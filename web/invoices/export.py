"""The accounts-payable export (``/invoices/export.csv``, ``/invoices/export.xlsx``) for the ERP: one row per invoice
and cost centre — vendor, vendor number, invoice, invoice date, due date, payment date, amount to pay, currency,
cost centre, GL account.

An invoice's amount to pay (the approved amount, withholding deducted; the total before approval) is split over the
cost centres of its rows' lines in proportion to those rows' amounts (billing_etl.model.spread: in the currency's
minor unit, adding up exactly). Rows without a circuit (taxes, surcharges, account-level credits) are spread with the
rest; rows whose line is unknown or has no cost centre go to a row with an empty cost centre. Headers in the user's
language; files as the line export's (web/inventory/export.py: CSV UTF-8 with a BOM, text neutralised, typed XLSX).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing_etl.model import spread
from web.inventory.export import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, csv_bytes, xlsx_bytes
from web.inventory.models import CostCentre
from web.invoices.models import Invoice

NO_COST_CENTRE = ""
_AMOUNT_COLUMN, _DATE_COLUMNS = 7, (4, 5, 6)  # 1-based, for the XLSX formats


def headers() -> list[str]:
    return [_("Vendor"), _("Vendor number"), _("Invoice"), _("Invoice date"), _("Due date"), _("Payment date"),
            _("Amount to pay"), _("Currency"), _("Cost centre"), _("GL account")]


def cost_centre_shares(invoice: Invoice) -> dict[str, Decimal]:
    """The invoice's payable amount per cost centre code ("" for none), adding up to it exactly."""
    weights: dict[str, Decimal] = defaultdict(Decimal)
    for row in invoice.rows.all():
        if not row.circuit_id:
            continue  # account-level: spread with the rest
        code = row.line.cost_centre.code if row.line is not None and row.line.cost_centre is not None else ""
        weights[code] += row.amount
    positive = {code: w for code, w in weights.items() if w > 0}
    shares = spread(invoice.payable_amount, positive, currency=invoice.currency)
    return shares or {NO_COST_CENTRE: invoice.payable_amount}


def rows(invoices: QuerySet[Invoice]) -> list[list[Any]]:
    """The export's typed rows (dates, Decimal amounts), invoices in their order, cost centres by code."""
    gl = dict(CostCentre.objects.values_list("code", "gl_account"))
    out = []
    for invoice in invoices.select_related("carrier").prefetch_related("rows__line__cost_centre"):
        for code, amount in sorted(cost_centre_shares(invoice).items()):
            out.append([invoice.carrier.name, invoice.carrier.vendor_number, invoice.number, invoice.invoice_date,
                        invoice.due_date, invoice.payment_date, amount, invoice.currency, code, gl.get(code, "")])
    return out


def _filename(extension: str) -> str:
    return f'attachment; filename="accounts-payable-{timezone.localdate().isoformat()}.{extension}"'


def csv_response(table: Iterable[list[Any]]) -> HttpResponse:
    response = HttpResponse(csv_bytes(headers(), table), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = _filename("csv")
    return response


def xlsx_response(table: Iterable[list[Any]]) -> HttpResponse:
    formats = {_AMOUNT_COLUMN: "#,##0.00"} | dict.fromkeys(_DATE_COLUMNS, "yyyy-mm-dd")
    response = HttpResponse(xlsx_bytes(_("Accounts payable"), headers(), table, formats),
                            content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = _filename("xlsx")
    return response
