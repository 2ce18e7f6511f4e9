"""Read one carrier invoice file (CSV or XLSX) into normalized invoices plus quarantined rows.

A file is all-or-nothing at the *file* level (unreadable, wrong encoding, missing required column, empty, not
a spreadsheet → :class:`~linewatch.errors.InvoiceFileError`, nothing imported) and row-by-row inside it: a bad
row is quarantined with the source file, row number, column and reason, and the good rows still load.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from billing_etl.config import INVOICE_FIELDS, REQUIRED_FIELDS, Carrier, Layout
from billing_etl.model import Invoice, InvoiceLine
from linewatch.errors import InvoiceFileError

QUARANTINE_COLUMNS = ("source_file", "row", "column", "reason")


@dataclass(frozen=True, order=True)
class QuarantinedRow:
    """A row that did not load: where it is and why."""

    source_file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        column = f" column {self.column!r}:" if self.column else ""
        return f"{self.source_file}: row {self.row}:{column} {self.reason}"


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


def _read_csv(path: Path, layout: Layout) -> tuple[list[str], Iterator[RawRow]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvoiceFileError(str(path), f"cannot read: {exc.strerror or exc}") from None
    if not data.strip():
        raise InvoiceFileError(str(path), "file is empty")
    if data[:4] == b"PK\x03\x04":
        raise InvoiceFileError(str(path), "this is a ZIP/XLSX file, but the layout says csv")
    encoding = (
        "utf-8-sig" if layout.encoding.replace("_", "-").lower() in ("utf-8", "utf8") else layout.encoding
    )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvoiceFileError(
            str(path),
            f"not valid {layout.encoding}: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "(check the carrier's encoding in carriers.yaml)",
        ) from None
    if "\x00" in text:
        raise InvoiceFileError(str(path), f"contains NUL characters: not a {layout.encoding} text file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter, strict=True)
    header: list[str] | None = None
    try:
        while header is None:
            row = next(reader)
            if reader.line_num >= layout.header_row and any(c.strip() for c in row):
                header = [c.strip() for c in row]
    except StopIteration:
        raise InvoiceFileError(str(path), f"no header row (expected at row {layout.header_row})") from None
    except csv.Error as exc:
        raise InvoiceFileError(str(path), f"row {reader.line_num}: malformed CSV: {exc}") from None

    def rows() -> Iterator[RawRow]:
        assert header is not None
        while True:
            starts_at = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The record structure is broken (typically an unclosed quote swallowing the rows after it):
                # the rows from here on cannot be told apart, so the whole file is rejected, not half-loaded.
                raise InvoiceFileError(
                    str(path), f"row {starts_at}: malformed CSV ({exc}); the file is rejected"
                ) from None
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                yield (
                    reader.line_num,
                    {"__error__": f"row has {len(cells)} cells, the header has {len(header)}"},
                )
                continue
            yield reader.line_num, dict(zip(header, cells, strict=True))

    return header, rows()


def _read_xlsx(path: Path, layout: Layout) -> tuple[list[str], Iterator[RawRow]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.exists():
        raise InvoiceFileError(str(path), "file not found")
    if path.stat().st_size == 0:
        raise InvoiceFileError(str(path), "file is empty")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InvoiceFileError(str(path), f"not an XLSX spreadsheet ({type(exc).__name__}: {exc})") from None
    try:
        if layout.sheet is not None:
            if layout.sheet not in workbook.sheetnames:
                raise InvoiceFileError(
                    str(path), f"no sheet {layout.sheet!r} (sheets: {', '.join(workbook.sheetnames)})"
                )
            sheet = workbook[layout.sheet]
        else:
            sheet = workbook.worksheets[0]
        all_rows = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    if len(all_rows) < layout.header_row or not any(v is not None for v in all_rows[layout.header_row - 1]):
        raise InvoiceFileError(str(path), f"no header row (expected at row {layout.header_row})")
    header = ["" if v is None else str(v).strip() for v in all_rows[layout.header_row - 1]]

    def rows() -> Iterator[RawRow]:
        for number, values in enumerate(all_rows[layout.header_row :], start=layout.header_row + 1):
            if not any(v is not None and str(v).strip() for v in values):
                continue
            yield number, dict(zip(header, values, strict=False))

    return header, rows()


def read_raw(path: Path, layout: Layout) -> tuple[list[str], Iterator[RawRow]]:
    """Header and raw rows ``(row_number, {column: value})``; raises InvoiceFileError for a bad file."""
    header, rows = (_read_xlsx if layout.format == "xlsx" else _read_csv)(path, layout)
    missing = [layout.columns[f] for f in REQUIRED_FIELDS if layout.columns[f] not in header]
    if missing:
        raise InvoiceFileError(
            str(path),
            f"missing required column(s) {', '.join(repr(m) for m in missing)} "
            f"(found: {', '.join(repr(h) for h in header if h)})",
        )
    return header, rows


def _normalize(raw: dict[str, Any], layout: Layout, carrier: str) -> dict[str, Any]:
    data: dict[str, Any] = {"carrier": carrier}
    for name in INVOICE_FIELDS:
        column = layout.columns.get(name)
        if column is not None and column in raw:
            value = raw[column]
            data[name] = None if isinstance(value, str) and not value.strip() else value
    data.setdefault("currency", None)  # the validator falls back on the layout's currency
    return data


def parse_rows(
    rows: Iterable[RawRow], layout: Layout, *, carrier: str, source_file: str
) -> tuple[list[InvoiceLine], list[QuarantinedRow]]:
    """Validate raw rows into InvoiceLines; every failing row becomes quarantined rows (one per problem)."""
    good: list[InvoiceLine] = []
    bad: list[QuarantinedRow] = []
    for number, raw in rows:
        if "__error__" in raw:
            bad.append(QuarantinedRow(source_file, number, "", raw["__error__"]))
            continue
        data = _normalize(raw, layout, carrier)
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
                bad.append(QuarantinedRow(source_file, number, layout.columns.get(name, name), msg))
            continue
        if line.due_date is None:
            line = line.model_copy(
                update={"due_date": line.invoice_date + dt.timedelta(days=layout.payment_terms_days)}
            )
        good.append(line)
    return good, bad


def group_invoices(
    lines: list[InvoiceLine], *, source_file: str
) -> tuple[list[Invoice], list[QuarantinedRow]]:
    """Group rows by invoice number; a row whose header fields contradict its invoice's first row is
    quarantined."""
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
                    bad.append(
                        QuarantinedRow(
                            source_file,
                            line.source_row,
                            name,
                            f"{name} {mine} differs from row {first.source_row} of the same "
                            f"invoice ({theirs})",
                        )
                    )
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
    _, rows = read_raw(path, carrier.layout)
    lines, bad = parse_rows(rows, carrier.layout, carrier=carrier.name, source_file=name)
    if not lines and not bad:
        raise InvoiceFileError(str(path), "no invoice rows below the header")
    invoices, inconsistent = group_invoices(lines, source_file=name)
    quarantined = sorted(bad + inconsistent)
    good = sum(len(inv.lines) for inv in invoices)
    return FileImport(
        source_file=name, carrier=carrier.name, invoices=invoices, quarantined=quarantined, good_rows=good
    )


def write_quarantine(rows: Iterable[QuarantinedRow], path: Path) -> int:
    """Write quarantined rows as CSV (deterministic order); return how many."""
    rows = sorted(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(QUARANTINE_COLUMNS)
        for q in rows:
            writer.writerow([q.source_file, q.row, q.column, q.reason])
    return len(rows)
