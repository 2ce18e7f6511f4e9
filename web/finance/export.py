"""Downloads of the finance overview: the chargeback as CSV (UTF-8 with a BOM) and XLSX (a Departments and a Lines
sheet), headers in the active language, text cells through :func:`billing_etl.exports.neutralise_formula`
(OWASP CSV injection), amounts as numbers with their currency beside them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from billing_etl.exports import neutralise_formula
from billing_etl.model import minor_unit, money
from web.finance.chargeback import DepartmentCharge

__all__ = ["chargeback_csv", "chargeback_xlsx"]

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _no_department() -> str:
    return _("Not charged back")


def line_headers() -> list[str]:
    return [_("Period"), _("Department"), _("Cost centre"), _("Line"), _("Circuit ID"), _("Carrier"), _("Billed"),
            _("Allocated"), _("Total"), _("Currency")]


def department_headers() -> list[str]:
    return [_("Period"), _("Department"), _("Cost centres"), _("Lines"), _("Billed"), _("Allocated"), _("Total"),
            _("Currency")]


def line_rows(period: str, groups: Sequence[DepartmentCharge]) -> list[list[Any]]:
    return [[period, g.department or _no_department(), r.cost_centre_code, r.line_name, r.circuit_id,
             r.carrier_name, money(r.billed_amount, r.currency), money(r.allocated_amount, r.currency),
             money(r.amount, r.currency), r.currency]
            for g in groups for r in g.rows]


def department_rows(period: str, groups: Sequence[DepartmentCharge]) -> list[list[Any]]:
    return [[period, g.department or _no_department(), ", ".join(sorted(g.cost_centres)), g.lines,
             money(g.billed_amount, g.currency), money(g.allocated_amount, g.currency), money(g.amount, g.currency),
             g.currency] for g in groups]


def _safe(value: Any) -> Any:
    return neutralise_formula(value) if isinstance(value, str) else value


def _attachment(response: HttpResponse, period: str, extension: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="chargeback-{period}.{extension}"'
    return response


def chargeback_csv(period: str, groups: Sequence[DepartmentCharge]) -> HttpResponse:
    """One row per line (and per carrier's charges on no line), its department beside it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(line_headers())
    for row in line_rows(period, groups):
        writer.writerow([_safe(v) for v in row])
    return _attachment(HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type=CSV_CONTENT_TYPE),
                       period, "csv")


def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list[Any]], *, first: bool) -> None:
    sheet = book.active if first else book.create_sheet()
    sheet.title = title
    sheet.append(headers)
    currency_column = len(headers)
    for row in rows:
        sheet.append([_safe(v) for v in row])
        decimals = minor_unit(row[-1])
        number_format = "#,##0" + ("." + "0" * decimals if decimals else "")
        for column, value in enumerate(row, start=1):
            if column < currency_column and not isinstance(value, (str, int)):
                sheet.cell(sheet.max_row, column).number_format = number_format
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


def chargeback_xlsx(period: str, groups: Sequence[DepartmentCharge]) -> HttpResponse:
    """Sheets Departments (one row per department and currency) and Lines (one row per line)."""
    book = Workbook()
    _sheet(book, _("Departments"), department_headers(), department_rows(period, groups), first=True)
    _sheet(book, _("Lines"), line_headers(), line_rows(period, groups), first=False)
    buffer = io.BytesIO()
    book.save(buffer)
    return _attachment(HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE), period, "xlsx")
