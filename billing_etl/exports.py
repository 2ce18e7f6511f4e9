"""Write a period's tables as CSV, XLSX (formatted for finance) and Parquet — byte-identical on every re-run.

A :class:`Table` is a list of typed columns and rows; each writer renders the same tables:

* CSV: UTF-8, ``,``, ``\\n`` line ends; money as plain decimals (``1234.50``), empty for "none".
* XLSX (openpyxl): one sheet per table, bold frozen header row, auto-filter, column widths from content;
  numbers are written as numbers (money as floats with a ``#,##0.00 "EUR"`` format from the row's currency,
  percentages, integers), never as text. The file is made deterministic: fixed document timestamps and fixed
  ZIP entry times.
* Parquet (pyarrow): money as ``decimal128(20, 4)`` (exact), rates as float64, counts as int64.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

Kind = Literal["text", "money", "int", "float", "pct", "date"]
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MONEY_SCALE = Decimal("0.0001")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    width: int | None = None


@dataclass
class Table:
    """Rows of one sheet. ``currency_column`` names the column holding each row's currency (for money
    formats)."""

    name: str
    columns: Sequence[Column]
    rows: list[Sequence[Any]] = field(default_factory=list)
    currency_column: str | None = None
    currency: str = "EUR"

    def row_currency(self, row: Sequence[Any]) -> str:
        if self.currency_column is None:
            return self.currency
        value = row[[c.name for c in self.columns].index(self.currency_column)]
        return str(value or self.currency)


def _csv_value(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "money":
        number = Decimal(value)
        cents = number.quantize(Decimal("0.01"))
        return str(cents if cents == number else number.normalize())
    if kind in ("float", "pct"):
        return f"{float(value):.6g}" if abs(float(value)) < 1e15 else repr(float(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(table: Table, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([c.name for c in table.columns])
        for row in table.rows:
            writer.writerow([_csv_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
    return path


def _money_format(currency: str) -> str:
    return f'#,##0.00 "{currency}";-#,##0.00 "{currency}"'


_FORMATS: Mapping[Kind, str] = {"int": "#,##0", "float": "#,##0.00", "pct": '0.00"%"', "date": "yyyy-mm-dd"}


def _xlsx_value(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind == "money":
        return float(value)
    if kind == "int":
        return int(value)
    if kind in ("float", "pct"):
        return float(value)
    if kind == "date":
        return dt.date.fromisoformat(value) if isinstance(value, str) else value
    return str(value)


def _deterministic_zip(data: bytes, fixed: dt.datetime) -> bytes:
    """Re-pack an XLSX with fixed entry times and a fixed ``dcterms:modified`` (openpyxl stamps "now")."""
    stamp = fixed.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:modified|created)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, content)
    return out.getvalue()


def write_xlsx(tables: Sequence[Table], path: Path, *, title: str, stamp: dt.datetime) -> Path:
    """One formatted sheet per table; ``stamp`` is the document's (fixed) creation time."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "linewatch"
    wb.properties.title = title
    wb.properties.created = stamp
    wb.properties.modified = stamp
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="305496")
    for table in tables:
        ws = wb.create_sheet(table.name[:31])
        ws.append([c.name for c in table.columns])
        for cell in ws[1]:
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(horizontal="center", vertical="center")
        widths = [len(c.name) + 2 for c in table.columns]
        for r, row in enumerate(table.rows, start=2):
            currency = table.row_currency(row)
            for col, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
                cell = ws.cell(row=r, column=col, value=_xlsx_value(value, column.kind))
                if column.kind == "money":
                    cell.number_format = _money_format(currency)
                elif column.kind in _FORMATS:
                    cell.number_format = _FORMATS[column.kind]
                shown = len(_csv_value(value, column.kind)) + (5 if column.kind == "money" else 1)
                widths[col - 1] = max(widths[col - 1], min(shown, 80))
        for col, column in enumerate(table.columns, start=1):
            ws.column_dimensions[get_column_letter(col)].width = column.width or widths[col - 1] + 1
        ws.freeze_panes = "A2"
        last = f"{get_column_letter(len(table.columns))}{max(len(table.rows) + 1, 1)}"
        ws.auto_filter.ref = f"A1:{last}"
    buffer = io.BytesIO()
    wb.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_deterministic_zip(buffer.getvalue(), stamp))
    return path


def write_parquet(table: Table, path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        "text": pa.string(),
        "money": pa.decimal128(20, 4),
        "int": pa.int64(),
        "float": pa.float64(),
        "pct": pa.float64(),
        "date": pa.date32(),
    }
    arrays = []
    for i, column in enumerate(table.columns):
        values = [row[i] for row in table.rows]
        if column.kind == "money":
            values = [None if v is None else Decimal(v).quantize(MONEY_SCALE) for v in values]
        elif column.kind in ("float", "pct"):
            values = [None if v is None else float(v) for v in values]
        elif column.kind == "date":
            values = [dt.date.fromisoformat(v) if isinstance(v, str) else v for v in values]
        elif column.kind == "text":
            values = [None if v is None else str(v) for v in values]
        arrays.append(pa.array(values, type=types[column.kind]))
    schema = pa.schema([pa.field(c.name, types[c.kind]) for c in table.columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path, compression="zstd")
    return path


def write_all(
    tables: Sequence[Table],
    out_dir: Path,
    *,
    stem: str,
    stamp: dt.datetime,
    formats: Sequence[str] = ("csv", "xlsx", "parquet"),
) -> list[Path]:
    """Every table in every format under ``out_dir``; returns the files written (sorted)."""
    written = []
    if "xlsx" in formats:
        written.append(write_xlsx(tables, out_dir / f"{stem}.xlsx", title=stem, stamp=stamp))
    for table in tables:
        slug = table.name.lower().replace(" ", "_")
        if "csv" in formats:
            written.append(write_csv(table, out_dir / f"{stem}-{slug}.csv"))
        if "parquet" in formats:
            written.append(write_parquet(table, out_dir / f"{stem}-{slug}.parquet"))
    return sorted(written)
