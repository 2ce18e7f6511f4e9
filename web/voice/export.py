"""Downloads of the voice pages: the calls (CSV, XLSX) and the extension directory (CSV, the import's format).
The calls' headers are in the active language, times in the user's time zone; text is neutralised against
spreadsheet formulas by the inventory's writers (``csv_bytes``/``xlsx_bytes``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pandas as pd
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing_etl.exports import neutralise_formula
from linewatch.voice.directory import COLUMNS, Directory
from web.inventory.export import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, csv_bytes, xlsx_bytes
from web.voice.calls import records

__all__ = ["calls_csv", "calls_xlsx", "directory_csv_response"]

_START_COLUMN = 1  # 1-based, for the XLSX number formats
_SECONDS_COLUMNS = (13, 14, 15)
_COST_COLUMN = 16


def headers() -> list[str]:
    return [_("Start"), _("Line"), _("Direction"), _("Caller"), _("Callee"), _("Callee (E.164)"), _("Extension"),
            _("Department"), _("Outcome"), _("SIP code"), _("Destination class"), _("High-risk destination"),
            _("Duration (s)"), _("Talk time (s)"), _("Billed (s)"), _("Cost"), _("Currency"), _("Rate prefix")]


def _table(frame: pd.DataFrame, *, naive: bool) -> list[list[Any]]:
    tz = timezone.get_current_timezone()
    out = []
    for r in records(frame, tz):
        start: dt.datetime = r["start"]  # type: ignore[assignment]
        out.append([start.replace(tzinfo=None) if naive else start, r["line"], r["direction"], r["caller"],
                    r["callee"], r["callee_e164"], r["extension"], r.get("department") or "", r["outcome"],
                    r["sip_code"], r["dest_class"], bool(r["high_risk"]), r["duration_s"], r["billsec_s"],
                    r["billed_s"], r["cost"], r["currency"], r["rate_prefix"]])
    return out


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def calls_csv(frame: pd.DataFrame, stem: str) -> HttpResponse:
    return _attachment(HttpResponse(csv_bytes(headers(), _table(frame, naive=False)), content_type=CSV_CONTENT_TYPE),
                       f"{stem}.csv")


def calls_xlsx(frame: pd.DataFrame, stem: str) -> HttpResponse:
    formats = {_START_COLUMN: "yyyy-mm-dd hh:mm:ss", _COST_COLUMN: "#,##0.00##"} | dict.fromkeys(
        _SECONDS_COLUMNS, "#,##0")
    data = xlsx_bytes(_("Calls"), headers(), _table(frame, naive=True), formats)
    return _attachment(HttpResponse(data, content_type=XLSX_CONTENT_TYPE), f"{stem}.xlsx")


def directory_csv_response(directory: Directory) -> HttpResponse:
    """The directory in the import's format (UTF-8 with a BOM). The free-text columns are neutralised; the
    numbers are not (they are validated digits, and the import must read them back)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in directory.entries:
        writer.writerow([e.number, *(neutralise_formula(v) for v in (e.department, e.name, e.cost_centre or ""))])
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type=CSV_CONTENT_TYPE)
    return _attachment(response, f"extensions-{timezone.localdate().isoformat()}.csv")
