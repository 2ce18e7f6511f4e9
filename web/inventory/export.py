"""The line list's export (``lines/export.csv``, ``lines/export.xlsx``): every line the list's filters, search
and sort select (not only the page), with the list's columns plus capacity_bps, members, dates, description and (voice trunks) channels and rate plan.

Headers are in the request's language. Text cells pass through :func:`billing_etl.exports.neutralise_formula`
(OWASP CSV injection). The CSV is UTF-8 with a BOM (Excel then reads Korean correctly); the XLSX (openpyxl) has
typed numbers and dates, a frozen header row and an autofilter. Two queries whatever the number of lines: the
lines with their joins, then all their members."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from billing_etl.exports import neutralise_formula
from linewatch.choices import LineMemberRole, LineStatus, LineType
from web.inventory.models import Line, LineMember
from web.inventory.models.lines import capacities_now
from web.labels import choices_of

EXPORT_VALUES = ("pk", "name", "carrier__name", "circuit_id", "type", "status", "site__name", "department__name",
                 "capacity_bps", "install_date", "termination_date", "description", "channels", "rate_plan")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def headers() -> list[str]:
    """The columns' titles in the active language."""
    return [_("Line id"), _("Carrier"), _("Circuit id"), _("Type"), _("Status"), _("Site"), _("Department"),
            _("Capacity (bit/s)"), _("Members"), _("Install date"), _("Termination date"), _("Description"),
            _("Channels"), _("Rate plan")]


def rows(lines: QuerySet[Line]) -> list[list[Any]]:
    """One typed row per line of ``lines`` (its order kept): text, int capacity_bps (the capacity in force now, as
    the list shows it), dates or None."""
    values = list(lines.values(*EXPORT_VALUES))
    capacity_now = capacities_now([v["pk"] for v in values])
    members: dict[int, list[str]] = {}
    roles = {key: str(label) for key, label in choices_of(LineMemberRole)}
    for line_id, device, interface, if_index, role in (
            LineMember.objects.filter(line_id__in=[v["pk"] for v in values])
            .order_by("role", "device__name", "interface", "if_index")
            .values_list("line_id", "device__name", "interface", "if_index", "role")):
        port = interface or f"ifIndex:{if_index}"
        members.setdefault(line_id, []).append(f"{device}:{port} ({roles.get(role, role)})")
    types = {key: str(label) for key, label in choices_of(LineType)}
    statuses = {key: str(label) for key, label in choices_of(LineStatus)}
    return [[v["name"], v["carrier__name"], v["circuit_id"], types.get(v["type"], v["type"]),
             statuses.get(v["status"], v["status"]), v["site__name"], v["department__name"],
             capacity_now.get(v["pk"], v["capacity_bps"]),
             ", ".join(members.get(v["pk"], ())), v["install_date"], v["termination_date"], v["description"],
             v["channels"], v["rate_plan"]]
            for v in values]


def _safe(value: Any) -> Any:
    return neutralise_formula(value) if isinstance(value, str) else value


def _filename(extension: str) -> str:
    return f'attachment; filename="lines-{timezone.localdate().isoformat()}.{extension}"'


def csv_bytes(titles: list[str], table: Iterable[list[Any]]) -> bytes:
    """A CSV download's bytes: UTF-8 with a BOM, the ``titles`` row first; dates ISO, empty cells for missing
    values, text neutralised (also the AP export's, web/invoices/export.py)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(titles)
    for row in table:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else _safe(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_response(table: Iterable[list[Any]]) -> HttpResponse:
    """UTF-8 with a BOM; dates ISO, empty cells for missing values."""
    response = HttpResponse(csv_bytes(headers(), table), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = _filename("csv")
    return response


_CAPACITY_COLUMN = 8  # 1-based: capacity_bps
_DATE_COLUMNS = (10, 11)


def xlsx_bytes(sheet_title: str, titles: list[str], table: Iterable[list[Any]],
               formats: dict[int, str] | None = None) -> bytes:
    """An XLSX download's bytes: one sheet, typed cells, ``formats`` {1-based column: number format}, frozen header
    row, autofilter over the table, text neutralised (also the AP export's, web/invoices/export.py)."""
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    sheet.append(titles)
    count = 0
    for row in table:
        sheet.append([_safe(v) for v in row])
        count += 1
    for index in range(2, count + 2):
        for column, number_format in (formats or {}).items():
            sheet.cell(index, column).number_format = number_format
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(titles))}{count + 1}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_response(table: Iterable[list[Any]]) -> HttpResponse:
    """One sheet: typed cells (int capacity, dates), frozen header row, autofilter over the table."""
    formats = {_CAPACITY_COLUMN: "#,##0"} | dict.fromkeys(_DATE_COLUMNS, "yyyy-mm-dd")
    response = HttpResponse(xlsx_bytes(_("Lines"), headers(), table, formats), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = _filename("xlsx")
    return response
