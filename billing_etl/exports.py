"""Write a period's tables as CSV, XLSX (formatted for finance) and Parquet — byte-identical on every re-run.

A :class:`Table` is a list of typed columns and rows; each writer renders the same tables. A table with money
columns names the column holding each row's currency (ISO 4217): every amount is rounded half up to that
currency's minor unit (KRW and JPY 0 decimals, USD and EUR 2, BHD 3) and carries its code in every format. An
amount without a known currency is an :class:`ExportError`, never a default.

* CSV: UTF-8, ``,``, ``\\n`` line ends; money as plain decimals in the minor unit (``1234.50`` USD, ``1235``
  KRW), empty for "none". Text that a spreadsheet would run as a formula (starting with ``= + - @``, tab or
  CR; OWASP's CSV-injection guidance) is written with a leading ``'``.
* XLSX (openpyxl): one sheet per table, bold frozen header row, auto-filter, column widths from content;
  numbers are written as numbers (money as floats with a per-currency format such as ``#,##0 "KRW"``,
  ``#,##0.00 "USD"``, ``#,##0.000 "BHD"``, percentages, integers), never as text; text is always a string
  cell (never a formula, whatever it starts with), formula-like text also with Excel's quote prefix. The file
  is made deterministic: fixed document timestamps and fixed ZIP entry times.
* Parquet (pyarrow): money as ``decimal128(20, 4)`` (exact; ISO 4217 has at most 4 minor digits), rates as
  float64, counts as int64; the currency is a column of the table.

Headers are for people: CSV and XLSX carry each column's label in the chosen language (English by default, or
Korean: :mod:`billing_etl.labels`, e.g. "Amount at stake" / "쟁점 금액") and the XLSX sheets the tables' labels;
Parquet keeps the machine names (``amount_at_stake``) for programs. A column without a label is an
:class:`ExportError` naming it.

Every file is written atomically (a temporary file with the export mode, default 0640, renamed over the old
one), so a reader never sees half a file and an old world-readable export is replaced, not reused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from billing_etl.labels import Label, LabelError, column_label, parse_language, table_label, value_label
from billing_etl.model import CurrencyError, minor_unit, money
from linewatch.choices import Language
from linewatch.fileperms import replace_atomically

Kind = Literal["text", "money", "int", "float", "pct", "date"]
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MONEY_SCALE = Decimal("0.0001")
EXPORT_MODE = 0o640
# OWASP CSV injection: a cell starting with one of these is run as a formula by Excel, LibreOffice, Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """A table cannot be exported as it stands (an amount without a currency): names table, row and column."""


@dataclass(frozen=True)
class Column:
    """``name`` is the machine name (Parquet, programs); the header people read comes from ``label`` when given,
    else from the catalogue of :mod:`billing_etl.labels` (by table and name)."""

    name: str
    kind: Kind = "text"
    width: int | None = None
    label: Label | None = None

    def header(self, table: str, language: Language | str = Language.EN) -> str:
        """This column's header in ``language``; :class:`ExportError` when it has no label."""
        if self.label is not None:
            return self.label.text(language)
        try:
            return column_label(table, self.name, language)
        except LabelError as exc:
            raise ExportError(str(exc)) from None


@dataclass
class Table:
    """Rows of one sheet. A table with money columns must name, in ``currency_column``, the column holding
    each row's ISO 4217 currency code: there is no default currency."""

    name: str
    columns: Sequence[Column]
    rows: list[Sequence[Any]] = field(default_factory=list)
    currency_column: str | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if self.currency_column is not None and self.currency_column not in names:
            raise ExportError(f"table {self.name}: currency column {self.currency_column!r} is not a column")
        if self.currency_column is None and any(c.kind == "money" for c in self.columns):
            raise ExportError(f"table {self.name}: money columns need a currency column")

    def row_currency(self, row: Sequence[Any]) -> str | None:
        """The row's currency code, None when the row has none (then it must hold no amount)."""
        if self.currency_column is None:
            return None
        value = row[[c.name for c in self.columns].index(self.currency_column)]
        return str(value).strip() if value not in (None, "") else None

    def amount(self, index: int, row: Sequence[Any], column: Column, value: Any) -> tuple[Decimal, str]:
        """``value`` rounded to the row's currency's minor unit, and that currency."""
        currency = self.row_currency(row)
        where = f"table {self.name}, row {index + 1}, column {column.name}"
        if currency is None:
            raise ExportError(f"{where}: amount {value} has no currency")
        try:
            rounded = money(Decimal(value), currency)
        except CurrencyError as exc:
            raise ExportError(f"{where}: {exc}") from None
        return (abs(rounded) if rounded == 0 else rounded), currency

    def headers(self, language: Language | str = Language.EN) -> list[str]:
        """The header row people read, in ``language``."""
        return [c.header(self.name, language) for c in self.columns]

    def text(self, column: Column, value: Any, language: Language | str) -> str:
        """A text cell in ``language`` (a metric's name is translated; carrier and other text as it stands)."""
        return value_label(self.name, column.name, str(value), language)


def export_language(language: Language | str) -> Language:
    """``language`` checked once (:class:`ExportError` naming the field), before anything is written."""
    try:
        return parse_language(language)
    except LabelError as exc:
        raise ExportError(str(exc)) from None


def display_width(text: str) -> int:
    """Columns ``text`` takes on screen: Hangul and other wide characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def neutralise_formula(text: str) -> str:
    """``'`` before text a spreadsheet would evaluate (OWASP CSV injection: ``= + - @``, tab, CR)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv_value(value: Any, kind: Kind, amount: Decimal | None = None) -> str:
    if value is None:
        return ""
    if kind == "money":
        return str(amount if amount is not None else Decimal(value))
    if kind in ("float", "pct"):
        return f"{float(value):.6g}" if abs(float(value)) < 1e15 else repr(float(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if kind == "text":
        return neutralise_formula(str(value))
    return str(value)


def _cells(
    table: Table, language: Language | str = Language.EN
) -> list[list[tuple[Any, Column, Decimal | None, str | None]]]:
    """Per row: (value, column, amount rounded to the row's currency or None, currency); text written for people
    (a metric's name) in ``language``."""
    out = []
    for index, row in enumerate(table.rows):
        if len(row) != len(table.columns):
            raise ExportError(
                f"table {table.name}, row {index + 1}: {len(row)} values for {len(table.columns)} columns"
            )
        cells = []
        for value, column in zip(row, table.columns, strict=True):
            if column.kind == "money" and value is not None:
                amount, currency = table.amount(index, row, column, value)
                cells.append((value, column, amount, currency))
            elif column.kind == "text" and value is not None:
                cells.append((table.text(column, value, language), column, None, None))
            else:
                cells.append((value, column, None, None))
        out.append(cells)
    return out


def write_atomic(path: Path, data: bytes, *, mode: int = EXPORT_MODE) -> Path:
    """Replace ``path`` with ``data``, the file given ``mode`` exactly (whatever the umask) before anything is
    written, renamed over the old one (:func:`linewatch.fileperms.replace_atomically`); a missing folder is
    created with the process defaults (an export folder is meant to be shared)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return replace_atomically(path, data, mode=mode)


def write_csv(
    table: Table, path: Path, *, mode: int = EXPORT_MODE, language: Language | str = Language.EN
) -> Path:
    """``table`` as CSV, the header in ``language``."""
    language = export_language(language)
    # The csv module quotes a field only for the characters of its line terminator: with "\n" alone a CR
    # inside a description would go out bare and split the row for every reader. Quote for "\r\n", end
    # each row with "\n".
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    lines = []
    rows = [table.headers(language)] + [
        [_csv_value(value, column.kind, amount) for value, column, amount, _ in cells]
        for cells in _cells(table, language)
    ]
    for row in rows:
        writer.writerow(row)
        lines.append(buffer.getvalue()[:-2] + "\n")
        buffer.seek(0)
        buffer.truncate()
    return write_atomic(path, "".join(lines).encode("utf-8"), mode=mode)


def _money_format(currency: str) -> str:
    places = minor_unit(currency)
    number = "#,##0" + ("." + "0" * places if places else "")
    return f'{number} "{currency}";-{number} "{currency}"'


_FORMATS: Mapping[Kind, str] = {"int": "#,##0", "float": "#,##0.00", "pct": '0.00"%"', "date": "yyyy-mm-dd"}


def _xlsx_value(value: Any, kind: Kind, amount: Decimal | None) -> Any:
    if value is None:
        return None
    if kind == "money":
        return float(amount if amount is not None else value)
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


def write_xlsx(
    tables: Sequence[Table],
    path: Path,
    *,
    title: str,
    stamp: dt.datetime,
    mode: int = EXPORT_MODE,
    language: Language | str = Language.EN,
) -> Path:
    """One formatted sheet per table, sheet names and headers in ``language``; ``stamp`` is the document's
    (fixed) creation time."""
    language = export_language(language)
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
        headers = table.headers(language)
        ws = wb.create_sheet(table_label(table.name, language)[:31])
        ws.append(headers)
        for cell in ws[1]:
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(horizontal="center", vertical="center")
        widths = [display_width(h) + 2 for h in headers]
        for r, cells in enumerate(_cells(table, language), start=2):
            for col, (value, column, amount, currency) in enumerate(cells, start=1):
                cell = ws.cell(row=r, column=col, value=_xlsx_value(value, column.kind, amount))
                if column.kind == "text" and value is not None:
                    # Carrier-supplied text ("=HYPERLINK(...)", "=cmd|..."): a string cell, never a formula;
                    # Excel's quote prefix keeps it text when someone edits the cell.
                    cell.data_type = "s"
                    if cell.value.startswith(FORMULA_PREFIXES):
                        cell.quotePrefix = True
                elif currency is not None:
                    cell.number_format = _money_format(currency)
                elif column.kind in _FORMATS:
                    cell.number_format = _FORMATS[column.kind]
                shown = display_width(_csv_value(value, column.kind, amount)) + (4 if currency else 0) + 1
                widths[col - 1] = max(widths[col - 1], min(shown, 80))
        for col, column in enumerate(table.columns, start=1):
            ws.column_dimensions[get_column_letter(col)].width = column.width or widths[col - 1] + 1
        ws.freeze_panes = "A2"
        last = f"{get_column_letter(len(table.columns))}{max(len(table.rows) + 1, 1)}"
        ws.auto_filter.ref = f"A1:{last}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return write_atomic(path, _deterministic_zip(buffer.getvalue(), stamp), mode=mode)


def write_parquet(table: Table, path: Path, *, mode: int = EXPORT_MODE) -> Path:
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
    cells = _cells(table)
    for i, column in enumerate(table.columns):
        values = [row[i] for row in table.rows]
        if column.kind == "money":
            values = [None if c[i][2] is None else c[i][2].quantize(MONEY_SCALE) for c in cells]
        elif column.kind in ("float", "pct"):
            values = [None if v is None else float(v) for v in values]
        elif column.kind == "date":
            values = [dt.date.fromisoformat(v) if isinstance(v, str) else v for v in values]
        elif column.kind == "text":
            values = [None if v is None else str(v) for v in values]
        arrays.append(pa.array(values, type=types[column.kind]))
    schema = pa.schema([pa.field(c.name, types[c.kind]) for c in table.columns])
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), sink, compression="zstd")
    return write_atomic(path, sink.getvalue().to_pybytes(), mode=mode)


def write_all(
    tables: Sequence[Table],
    out_dir: Path,
    *,
    stem: str,
    stamp: dt.datetime,
    formats: Sequence[str] = ("csv", "xlsx", "parquet"),
    mode: int = EXPORT_MODE,
    language: Language | str = Language.EN,
) -> list[Path]:
    """Every table in every format under ``out_dir``, each file with ``mode``; CSV and XLSX headers in
    ``language`` (file names and Parquet columns keep the machine names); returns the files written (sorted)."""
    language = export_language(language)
    for table in tables:  # a missing label is refused before any file is written
        table.headers(language)
    written = []
    if "xlsx" in formats:
        written.append(
            write_xlsx(
                tables, out_dir / f"{stem}.xlsx", title=stem, stamp=stamp, mode=mode, language=language
            )
        )
    for table in tables:
        slug = table.name.lower().replace(" ", "_")
        if "csv" in formats:
            written.append(write_csv(table, out_dir / f"{stem}-{slug}.csv", mode=mode, language=language))
        if "parquet" in formats:
            written.append(write_parquet(table, out_dir / f"{stem}-{slug}.parquet", mode=mode))
    return sorted(written)
