"""Read one carrier invoice file (CSV, XLSX or text PDF) into normalized invoices plus quarantined rows.

A file is read as a grid of rows and cut into its parts, the way carriers' portals lay them out: the header
block above the table (invoice-level ``fields`` by cell, label or pattern), the table from the header row to a
blank row, a marker or a field's label (``TOTAL DUE``), and what follows it (totals, footnotes: searched for
labels, never read as charges).

A file is all-or-nothing at the *file* level (unreadable, wrong or mismatched encoding, missing required column
or header field, empty, not a spreadsheet, too big unpacked → :class:`~linewatch.errors.InvoiceFileError`,
nothing imported) and row-by-row inside it: a bad row is quarantined with the source file, row number, column
and reason, and the good rows still load. Whatever an error quotes from the file is cut short. A PDF is read
into the same grid by :mod:`billing_etl.pdf_invoice` (its rows named ``page 2 row 5``).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from billing_etl.config import INVOICE_FIELDS, REQUIRED_FIELDS, Carrier, FieldSource, Layout
from billing_etl.model import Invoice, InvoiceLine, parse_date, parse_decimal
from linewatch.choices import LabelValuePosition
from linewatch.errors import InvoiceFileError

QUARANTINE_COLUMNS = ("source_file", "row", "column", "reason")


@dataclass(frozen=True, order=True)
class QuarantinedRow:
    """A row that did not load: where it is and why. ``where`` names a PDF row for people (``page 2 row 5``;
    ``row`` is then its grid number, page × 1000 + row, which sorts in reading order)."""

    source_file: str
    row: int
    column: str
    reason: str
    where: str = field(default="", compare=False)

    @property
    def place(self) -> str:
        """``row 3``, or ``page 2 row 5`` in a PDF."""
        return self.where or f"row {self.row}"

    def __str__(self) -> str:
        column = f" column {self.column!r}:" if self.column else ""
        return f"{self.source_file}: {self.place}:{column} {self.reason}"


@dataclass
class FileImport:
    """What one file yielded: invoices (grouped good rows) and the rows quarantined."""

    source_file: str
    carrier: str
    invoices: list[Invoice] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    good_rows: int = 0

    @property
    def bad_rows(self) -> int:
        return len({q.row for q in self.quarantined})


RawRow = tuple[int, dict[str, Any]]
GridRow = tuple[int, tuple[Any, ...]]

# Bounds on what a hostile or broken file can make us hold or print.
MAX_QUOTE_CHARS = 60  # a file's text quoted in an error message is cut to this many characters
MAX_REASON_CHARS = 600  # and a whole file error to this
MAX_CELL_CHARS = 2_000  # a longer cell is no invoice value: its row is quarantined without quoting it
MAX_XLSX_UNPACKED_BYTES = 256 * 2**20  # an XLSX unpacking to more is refused before it is parsed (ZIP bomb)
AUTO_HEADER_ROWS = 100  # ``header_row: auto`` looks for the column names in this many rows
_LISTED_COLUMNS = 20  # columns named in a "missing column" error

DATE_FIELDS = ("invoice_date", "due_date", "period_start", "period_end")


def shorten(value: Any, limit: int = MAX_QUOTE_CHARS) -> str:
    """``repr`` of a value from the file, cut to ``limit`` characters (saying how long it was)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


def _reject(path: Path, reason: str) -> InvoiceFileError:
    """The error for a file that cannot be imported; its reason is capped whatever it quotes."""
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "…"
    return InvoiceFileError(str(path), reason)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _norm(text: str) -> str:
    """Text as labels and markers are compared: NFKC (full-width forms), whitespace collapsed, casefolded."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _starts_with(text: str, marker: str) -> bool:
    """``text`` is ``marker`` or starts with it, not in the middle of a word: ``TOTAL DUE (EUR)`` starts with
    ``TOTAL DUE``, ``Totalcare Ltd`` does not start with ``Total``; ``※주의`` starts with ``※``."""
    t, m = _norm(text), _norm(marker).rstrip(":").rstrip()
    if not m or not t.startswith(m):
        return False
    return len(t) == len(m) or not (m[-1].isalnum() and t[len(m)].isalnum())


def _label_value(text: str, label: str) -> str | None:
    """``None`` when the cell is not the label; ``""`` when it is (the value is elsewhere); the text after the
    colon for ``Account: 12345``."""
    t = " ".join(unicodedata.normalize("NFKC", text).split())
    m = " ".join(unicodedata.normalize("NFKC", label).split()).rstrip(":").rstrip()
    if t.rstrip(":").rstrip().casefold() == m.casefold():
        return ""
    head, rest = t[: len(m)], t[len(m) :].lstrip()
    if head.casefold() == m.casefold() and rest.startswith(":"):
        return rest[1:].strip()
    return None


def _unicode_codec(encoding: str) -> bool:
    return codecs.lookup(encoding).name.startswith(("utf-8", "utf-16", "utf-32"))


def _refuse_utf8_under_legacy_encoding(path: Path, data: bytes, encoding: str) -> None:
    """A UTF-8 file read with a legacy codec imports as mojibake (``Ã©`` for ``é``) without any decode error:
    valid UTF-8 with non-ASCII text is, in practice, never a cp1252/latin-1/cp949 file."""
    if data.isascii():
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    bom = text.startswith("\ufeff")
    non_ascii = [c for c in text.lstrip("\ufeff") if ord(c) > 127]
    if not bom and not non_ascii:
        return
    word = re.search(r"\w*[^\x00-\x7f]\w*", text.lstrip("\ufeff"))
    sample = word.group(0)[:20] if word else ""
    seen_as = sample.encode("utf-8").decode(encoding, errors="replace") if sample else ""
    what = "starts with a UTF-8 byte-order mark" if bom else f"{len(non_ascii):,} non-ASCII character(s)"
    example = f"; e.g. {sample!r} would import as {seen_as!r}" if sample else ""
    raise _reject(
        path,
        f"this file is UTF-8 ({what} decode as UTF-8), but the layout says {encoding}: read as {encoding} it "
        f"would import as mojibake{example}. Set encoding: utf-8 for this carrier in carriers.yaml (or ask "
        f"the carrier for {encoding}); nothing was imported",
    )


def _read_csv_grid(path: Path, layout: Layout) -> list[GridRow]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _reject(path, f"cannot read: {exc.strerror or exc}") from None
    if not data.strip():
        raise _reject(path, "file is empty")
    if data[:4] == b"PK\x03\x04":
        raise _reject(path, "this is a ZIP/XLSX file, but the layout says csv")
    if data[:5] == b"%PDF-":
        raise _reject(path, "this is a PDF file, but the layout says csv")
    if not _unicode_codec(layout.encoding):
        _refuse_utf8_under_legacy_encoding(path, data, layout.encoding)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") and not codecs.lookup(layout.encoding).name.startswith(
        "utf-16"
    ):
        raise _reject(
            path,
            f'this file is UTF-16 (it starts with a UTF-16 byte-order mark: Excel\'s "Unicode text"), but the '
            f'layout says {layout.encoding}: set encoding: utf-16 (and delimiter: "\\t" for a tab-separated '
            "export) for this carrier in carriers.yaml; nothing was imported",
        )
    encoding = "utf-8-sig" if codecs.lookup(layout.encoding).name == "utf-8" else layout.encoding
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _reject(
            path,
            f"not valid {layout.encoding}: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "(check the carrier's encoding in carriers.yaml)",
        ) from None
    if "\x00" in text:
        raise _reject(path, f"contains NUL characters: not a {layout.encoding} text file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter, strict=True)
    grid: list[GridRow] = []
    while True:
        starts_at = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return grid
        except csv.Error as exc:
            # The record structure is broken (typically an unclosed quote swallowing the rows after it): the
            # rows from here on cannot be told apart, so the whole file is rejected, not half-loaded.
            raise _reject(path, f"row {starts_at}: malformed CSV ({exc}); the file is rejected") from None
        grid.append((reader.line_num, tuple(cells)))


def _read_pdf_grid(path: Path, layout: Layout) -> list[GridRow]:
    """A text PDF as grid rows (:func:`billing_etl.pdf_invoice.read_pdf_grid`): tables of the layout's pages
    and area, the text around them as label/value cells."""
    from billing_etl.pdf_invoice import read_pdf_grid

    assert layout.pdf is not None  # the Layout sets the defaults for format: pdf
    return read_pdf_grid(path, layout.pdf, header_names=_required_columns(layout))


def _place(number: int, layout: Layout) -> str:
    """A grid row for people: ``row 3``, or ``page 2 row 5`` in a PDF."""
    if layout.format == "pdf":
        from billing_etl.pdf_invoice import row_name

        return row_name(number)
    return f"row {number}"


def _quarantine(source_file: str, number: int, column: str, reason: str, layout: Layout) -> QuarantinedRow:
    where = _place(number, layout) if layout.format == "pdf" else ""
    return QuarantinedRow(source_file, number, column, reason, where=where)


def _read_xlsx_grid(path: Path, layout: Layout) -> list[GridRow]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.exists():
        raise _reject(path, "file not found")
    if path.stat().st_size == 0:
        raise _reject(path, "file is empty")
    with path.open("rb") as fh:
        if fh.read(5) == b"%PDF-":
            raise _reject(path, "this is a PDF file, but the layout says xlsx")
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _reject(path, f"not an XLSX spreadsheet ({type(exc).__name__}: {shorten(exc, 200)})") from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise _reject(
            path,
            f"unpacks to {unpacked / 2**20:,.0f} MiB, more than the {MAX_XLSX_UNPACKED_BYTES / 2**20:,.0f} MiB "
            "an invoice may take (a ZIP bomb?): the file is not opened",
        )
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise _reject(path, f"not an XLSX spreadsheet ({type(exc).__name__}: {shorten(exc, 200)})") from None
    try:
        if layout.sheet is not None:
            if layout.sheet not in workbook.sheetnames:
                raise _reject(
                    path,
                    f"no sheet {layout.sheet!r} (sheets: {', '.join(shorten(n) for n in workbook.sheetnames)})",
                )
            sheet = workbook[layout.sheet]
        else:
            sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # exporters other than Excel often write a wrong <dimension>: read every cell
        return [(number, tuple(values)) for number, values in enumerate(sheet.iter_rows(values_only=True), 1)]
    finally:
        workbook.close()


@dataclass
class RawFile:
    """A file cut into its parts: the table's column names and rows, and the invoice-level field values
    found outside the table (already converted: dates, decimals, text)."""

    header: list[str]
    rows: Iterator[RawRow]
    fields: dict[str, Any] = field(default_factory=dict)


def _required_columns(layout: Layout) -> list[str]:
    return [layout.columns[f] for f in REQUIRED_FIELDS if f in layout.columns]


def _find_header(path: Path, layout: Layout, grid: list[GridRow]) -> int:
    """Index in ``grid`` of the row holding the column names."""
    if layout.header_row == "auto":
        wanted = set(_required_columns(layout))
        for i, (_, cells) in enumerate(grid[:AUTO_HEADER_ROWS]):
            if wanted <= {_text(c) for c in cells}:
                return i
        raise _reject(
            path,
            f"no header row: none of the first {AUTO_HEADER_ROWS} rows holds the column(s) "
            f"{', '.join(shorten(c) for c in sorted(wanted))}",
        )
    for i, (number, cells) in enumerate(grid):
        if layout.format == "xlsx" and number > layout.header_row:
            break
        if number >= layout.header_row and any(_text(c) for c in cells):
            if layout.format == "xlsx" and number != layout.header_row:
                break
            return i
    raise _reject(path, f"no header row (expected at row {layout.header_row})")


def _table_end_markers(layout: Layout, above: list[GridRow]) -> list[str]:
    """The ``table_end`` markers and the labels of the fields *not* found in the header block ``above`` the
    table (``TOTAL DUE``, ``합계``). A label the header block holds (``Account``) is taken from there and ends
    nothing: else a charge described "Account management fee" would end the table and lose every row after
    it."""
    texts = [t for _, cells in above for t in map(_text, cells) if t]
    labels = [s.label for s in layout.fields.values() if s.label is not None]
    return [
        *layout.table_end.markers,
        *(label for label in labels if not any(_label_value(t, label) is not None for t in texts)),
    ]


def _cut_table(layout: Layout, grid: list[GridRow], start: int) -> int:
    """Index in ``grid`` where the table that starts at ``start`` (the row after the header) ends
    (exclusive)."""
    markers = _table_end_markers(layout, grid[: start - 1])
    if layout.format == "pdf":  # the page text after the tables (footers, totals, notes) is never a charge
        from billing_etl.pdf_invoice import is_text_line

        text = next((i for i in range(start, len(grid)) if is_text_line(grid[i][0])), len(grid))
        grid = grid[:text]
    if not markers and not layout.table_end.blank_row:
        return len(grid)
    started = False
    for i in range(start, len(grid)):
        first = next((t for t in map(_text, grid[i][1]) if t), "")
        if not first:
            if layout.table_end.blank_row and started:
                return i
            continue
        if any(_starts_with(first, m) for m in markers):
            return i
        started = True
    return len(grid)


def _coordinate(number: int, column_index: int, layout: Layout) -> str:
    from openpyxl.utils.cell import get_column_letter

    if layout.format == "pdf":
        return _place(number, layout)
    return f"{get_column_letter(column_index + 1)}{number}"


def _locate(
    path: Path,
    name: str,
    source: FieldSource,
    *,
    grid: list[GridRow],
    above: list[GridRow],
    below: list[GridRow],
    header: list[str],
    layout: Layout,
) -> tuple[Any, str]:
    """The raw value of an invoice-level field and where it was found (for messages)."""
    if source.cell is not None:
        from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

        letters, number = coordinate_from_string(source.cell)
        index = column_index_from_string(letters) - 1
        cells = next((c for n, c in grid if n == number), ())
        return (cells[index] if index < len(cells) else None), f"cell {source.cell}"
    outside = above + below
    if source.label is not None:
        for number, cells in outside:
            for j, cell in enumerate(cells):
                inline = _label_value(_text(cell), source.label) if _text(cell) else None
                if inline is None:
                    continue
                where = f"label {source.label!r} at {_coordinate(number, j, layout)}"
                if inline:
                    return inline, where
                if source.column is not None:
                    if source.column not in header:
                        raise _reject(
                            path, f"{name}: no column {source.column!r} in the header row for the {where}"
                        )
                    k = header.index(source.column)
                    return (cells[k] if k < len(cells) else None), f"{where}, column {source.column!r}"
                if source.value is LabelValuePosition.BELOW:
                    at = next(i for i, (n, _) in enumerate(grid) if n == number)
                    below = grid[at + 1][1] if at + 1 < len(grid) else ()
                    return (below[j] if j < len(below) else None), f"{where}, the cell below"
                value = next((c for c in cells[j + 1 :] if _text(c)), None)
                return value, where
        searched = [
            f"the text {side}" if layout.format == "pdf" else f"rows {part[0][0]}–{part[-1][0]} {side}"
            for part, side in ((above, "above"), (below, "below"))
            if part
        ]
        raise _reject(
            path,
            f"{name}: label {source.label!r} not found outside the table (searched {' and '.join(searched) or 'nothing'})",
        )
    assert source.pattern is not None
    compiled = re.compile(source.pattern)
    for number, cells in outside:
        for j, cell in enumerate(cells):
            if _text(cell) and compiled.search(_text(cell)):
                return cell, f"pattern {source.pattern!r} at {_coordinate(number, j, layout)}"
    raise _reject(path, f"{name}: no cell outside the table matches the pattern {source.pattern!r}")


def _convert(path: Path, name: str, value: Any, where: str, source: FieldSource, layout: Layout) -> Any:
    """An invoice-level value as the row model takes it; a value that does not convert rejects the file
    (every row depends on it)."""
    if not _text(value):
        raise _reject(path, f"{name}: {where} is empty")
    if source.pattern is not None and (source.cell is not None or source.label is not None):
        match = re.search(source.pattern, _text(value))
        if match is None:
            raise _reject(
                path,
                f"{name}: {where}: {shorten(_text(value))} does not match the pattern {source.pattern!r}",
            )
        value = match.group(1) if match.groups() else match.group(0)
    elif source.pattern is not None:  # found by the pattern alone: the value is its group
        match = re.search(source.pattern, _text(value))
        assert match is not None
        value = match.group(1) if match.groups() else match.group(0)
    if len(_text(value)) > MAX_CELL_CHARS:
        raise _reject(path, f"{name}: {where} holds {len(_text(value)):,} characters: not an invoice value")
    try:
        if name in DATE_FIELDS:
            return parse_date(value, date_format=source.date_format or layout.date_format)
        if name == "invoice_total":
            return parse_decimal(
                value,
                decimal_separator=layout.decimal_separator,
                thousands_separator=layout.thousands_separator,
            )
    except ValueError:
        kind = (
            f"a date in the format {source.date_format or layout.date_format}"
            if name in DATE_FIELDS
            else f"a number with decimal separator {layout.decimal_separator!r}"
        )
        raise _reject(path, f"{name}: {where}: {shorten(_text(value))} is not {kind}") from None
    text = _text(value)
    if name == "currency":
        text = text.upper()
        if not re.fullmatch(r"[A-Z]{3}", text):
            raise _reject(path, f"currency: {where}: {shorten(text)} is not an ISO 4217 code")
    return text


def read_file(path: Path, layout: Layout) -> RawFile:
    """Cut ``path`` into header block, table and what follows it; raises InvoiceFileError for a bad file."""
    readers = {"xlsx": _read_xlsx_grid, "pdf": _read_pdf_grid, "csv": _read_csv_grid}
    grid = readers[layout.format](path, layout)
    h = _find_header(path, layout, grid)
    header = [_text(v) for v in grid[h][1]]
    missing = [c for c in _required_columns(layout) if c not in header]
    if missing:
        found = [shorten(c) for c in header if c]
        more = f", … and {len(found) - _LISTED_COLUMNS} more" if len(found) > _LISTED_COLUMNS else ""
        raise _reject(
            path,
            f"missing required column(s) {', '.join(shorten(m) for m in missing)} "
            f"(found: {', '.join(found[:_LISTED_COLUMNS])}{more})",
        )
    end = _cut_table(layout, grid, h + 1)
    fields = {}
    for name, source in layout.fields.items():
        value, where = _locate(
            path, name, source, grid=grid, above=grid[:h], below=grid[end:], header=header, layout=layout
        )
        fields[name] = _convert(path, name, value, where, source, layout)

    def rows() -> Iterator[RawRow]:  # one row dict at a time: a 200,000-row file is not held twice
        for number, cells in grid[h + 1 : end]:
            if not any(_text(c) for c in cells):
                continue
            if layout.format == "csv" and len(cells) != len(header):
                yield number, {"__error__": f"row has {len(cells)} cells, the header has {len(header)}"}
                continue
            yield number, dict(zip(header, cells, strict=False))

    return RawFile(header=header, rows=rows(), fields=fields)


def read_raw(path: Path, layout: Layout) -> tuple[list[str], Iterator[RawRow]]:
    """Header and raw rows ``(row_number, {column: value})``; raises InvoiceFileError for a bad file."""
    raw = read_file(path, layout)
    return raw.header, raw.rows


def _normalize(
    raw: dict[str, Any], layout: Layout, carrier: str, fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {"carrier": carrier, **(fields or {})}
    for name in INVOICE_FIELDS:
        column = layout.columns.get(name)
        if column is not None and column in raw:
            value = raw[column]
            data[name] = None if isinstance(value, str) and not value.strip() else value
    data.setdefault("currency", None)  # the validator falls back on the layout's currency
    return data


def _oversized_cell(raw: dict[str, Any], layout: Layout) -> tuple[str, int] | None:
    for column in layout.columns.values():
        value = raw.get(column)
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            return column, len(value)
    return None


def parse_rows(
    rows: Iterable[RawRow],
    layout: Layout,
    *,
    carrier: str,
    source_file: str,
    fields: Mapping[str, Any] | None = None,
) -> tuple[list[InvoiceLine], list[QuarantinedRow]]:
    """Validate raw rows into InvoiceLines; every failing row becomes quarantined rows (one per problem).
    ``fields``: the invoice-level values found outside the table, given to every row."""
    good: list[InvoiceLine] = []
    bad: list[QuarantinedRow] = []
    for number, raw in rows:
        if "__error__" in raw:
            bad.append(_quarantine(source_file, number, "", raw["__error__"], layout))
            continue
        oversized = _oversized_cell(raw, layout)
        if oversized is not None:
            column, length = oversized
            bad.append(
                _quarantine(
                    source_file,
                    number,
                    column,
                    f"cell holds {length:,} characters: not an invoice value",
                    layout,
                )
            )
            continue
        data = _normalize(raw, layout, carrier, fields)
        data["source_file"], data["source_row"] = source_file, number
        try:
            line = InvoiceLine.model_validate(data, context={"layout": layout})
        except ValidationError as exc:
            for err in exc.errors(include_input=False, include_url=False):
                name = str(err["loc"][0]) if err["loc"] else ""
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "missing" or (
                    name in data and data[name] is None and err["type"].endswith("_type")
                ):
                    msg = "required value is empty"
                if len(msg) > MAX_REASON_CHARS:
                    msg = msg[: MAX_REASON_CHARS - 1] + "…"
                bad.append(_quarantine(source_file, number, layout.columns.get(name, name), msg, layout))
            continue
        if line.due_date is None:
            line = line.model_copy(
                update={"due_date": line.invoice_date + dt.timedelta(days=layout.payment_terms_days)}
            )
        good.append(line)
    return good, bad


def group_invoices(
    lines: list[InvoiceLine], *, source_file: str, layout: Layout | None = None
) -> tuple[list[Invoice], list[QuarantinedRow]]:
    """Group rows by invoice number; a row whose header fields contradict its invoice's first row is
    quarantined (``layout``: how its rows are named, ``page 2 row 5`` in a PDF)."""
    by_number: dict[str, list[InvoiceLine]] = {}
    bad: list[QuarantinedRow] = []
    for line in lines:
        group = by_number.setdefault(line.invoice_number, [])
        if group:
            first = group[0]
            for name in ("invoice_date", "due_date", "billing_account", "currency", "invoice_total"):
                mine, theirs = getattr(line, name), getattr(first, name)
                if name == "invoice_total" and mine is None:
                    continue
                if mine != theirs:
                    other = f"row {first.source_row}" if layout is None else _place(first.source_row, layout)
                    reason = f"{name} {mine} differs from {other} of the same invoice ({theirs})"
                    if layout is None:
                        bad.append(QuarantinedRow(source_file, line.source_row, name, reason))
                    else:
                        bad.append(_quarantine(source_file, line.source_row, name, reason, layout))
                    break
            else:
                group.append(line)
            continue
        group.append(line)
    invoices = []
    for number, group in by_number.items():
        first = group[0]
        assert first.due_date is not None
        invoices.append(
            Invoice(
                carrier=first.carrier,
                invoice_number=number,
                billing_account=first.billing_account,
                invoice_date=first.invoice_date,
                due_date=first.due_date,
                currency=first.currency,
                stated_total=first.invoice_total,
                source_file=source_file,
                lines=tuple(group),
            )
        )
    return invoices, bad


def import_file(path: Path, carrier: Carrier, *, display_name: str | None = None) -> FileImport:
    """Parse ``path`` with ``carrier``'s layout. Raises InvoiceFileError when the file as a whole is
    unusable."""
    name = display_name or path.name
    raw = read_file(path, carrier.layout)
    lines, bad = parse_rows(
        raw.rows, carrier.layout, carrier=carrier.name, source_file=name, fields=raw.fields
    )
    if not lines and not bad:
        raise _reject(path, "no invoice rows below the header")
    invoices, inconsistent = group_invoices(lines, source_file=name, layout=carrier.layout)
    if "invoice_total" in raw.fields and len(invoices) > 1:
        raise _reject(
            path,
            f"the stated total ({carrier.layout.fields['invoice_total'].where()}) is one figure for the file, "
            f"but its rows belong to {len(invoices)} invoices "
            f"({', '.join(shorten(i.invoice_number) for i in invoices[:5])}): the total cannot be attributed",
        )
    quarantined = sorted(bad + inconsistent)
    good = sum(len(inv.lines) for inv in invoices)
    return FileImport(
        source_file=name, carrier=carrier.name, invoices=invoices, quarantined=quarantined, good_rows=good
    )


def write_quarantine(
    rows: Iterable[QuarantinedRow], path: Path, *, mode: int | None = None, language: str = "en"
) -> int:
    """Write quarantined rows as CSV (deterministic order) through the export writer (formula-like carrier text
    neutralised, atomic, ``mode`` or the default export mode, the header in ``language``); return how many."""
    from billing_etl.exports import EXPORT_MODE, Column, Table, write_csv

    rows = sorted(rows)
    columns = [Column(name, "int" if name == "row" else "text") for name in QUARANTINE_COLUMNS]
    table = Table(
        "Quarantine", columns, rows=[(q.source_file, q.where or q.row, q.column, q.reason) for q in rows]
    )
    write_csv(table, path, mode=EXPORT_MODE if mode is None else mode, language=language)
    return len(rows)
