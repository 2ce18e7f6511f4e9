"""Text PDF invoices (pdfplumber) read as the same grid of rows as a CSV or XLSX file.

A carrier's PDF is a header block (invoice number, dates, account as label–value text), a table of charges that
may run over several pages (its header row repeated on each page or not), a totals line and footnotes. The
reader turns it into the importer's grid so that everything after it — header row, table end, ``fields``,
row validation, quarantine — is the CSV/XLSX code:

* **tables** found by pdfplumber's ``find_tables(table_settings)`` within ``pdf.area`` of each page read
  (``pdf.pages``); a cell is its text with line breaks joined (``DTAG-`` + ``SIP-5531`` → ``DTAG-SIP-5531``);
* **the other text** of the pages, word by word, grouped into lines and cut into cells at gaps wider than the
  line's height, so ``Rechnungsnummer      DT-4711`` is a label next to its value (``Datum: 31.10.2026``
  stays one cell, the importer splits it at the colon);
* order: the text of the first table's page above it, then every table's rows in page order (the header row
  met again on a later page skipped: the table continues), then all the remaining text. Page headers and
  footers between two pages' tables are therefore never read as charges; totals and footnotes are searched
  for labels only.

Rows are numbered ``page × 1000 + n``: ``n`` < 500 is the n-th table row of the page (its header row
included), from 500 the page's text lines; :func:`row_name` spells it (``page 2 row 5``), the number sorts in
reading order and is the rows' ``source_row``. A PDF without text (a scan), with a password or broken is
rejected naming the file and why.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billing_etl.config import PdfSettings
from linewatch.errors import InvoiceFileError

PAGE_ROWS = 1000  # row numbers: page × PAGE_ROWS + the row's place on the page
TEXT_LINE_BASE = 500  # from here on, a page's text lines (below: its table rows)
MAX_PDF_PAGES = 500  # a longer file is no invoice a person sends: refused before any page is read
LINE_TOLERANCE_PT = 3.0  # words whose tops differ by at most this are on one line
SCANNED = "scanned PDF (no text layer): ask the carrier for a text PDF or the CSV/XLSX"

GridRow = tuple[int, tuple[Any, ...]]
Bbox = tuple[float, float, float, float]


def row_name(number: int) -> str:
    """Where a grid row of a PDF is, for people: ``page 2 row 5`` (a table row) or ``page 1 line 3`` (text)."""
    page, index = divmod(number, PAGE_ROWS)
    if index < TEXT_LINE_BASE:
        return f"page {page} row {index}"
    return f"page {page} line {index - TEXT_LINE_BASE + 1}"


def is_text_line(number: int) -> bool:
    """The grid row is a line of the page text, not a table row (the importer's table ends before it)."""
    return number % PAGE_ROWS >= TEXT_LINE_BASE


def _reject(path: Path, reason: str) -> InvoiceFileError:
    return InvoiceFileError(str(path), reason)


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _cell(value: str | None) -> str:
    """A table cell's text on one line: a line ending in ``-`` or ``/`` (a broken circuit id) joins the next
    without a space, other line breaks become one space."""
    if value is None:
        return ""
    parts = [" ".join(p.split()) for p in value.splitlines()]
    out = ""
    for part in filter(None, parts):
        out += part if not out or out.endswith(("-", "/")) else " " + part
    return out


def _unreadable(path: Path, exc: Exception) -> InvoiceFileError:
    """The rejection of a PDF pdfminer cannot read: encrypted, or broken (pdfplumber wraps pdfminer's errors
    in PdfminerException, the original as its argument)."""
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
    if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
        return _reject(
            path,
            "encrypted PDF (it needs a password to open): ask the carrier for an unprotected PDF or the CSV/XLSX",
        )
    return _reject(path, f"broken PDF, cannot be read ({type(cause).__name__}: {str(cause)[:200]})")


def _open(path: Path) -> Any:
    import pdfplumber

    if not path.exists():
        raise _reject(path, "file not found")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if not head:
        raise _reject(path, "file is empty")
    if b"%PDF-" not in head:
        kind = "a ZIP/XLSX file" if head[:4] == b"PK\x03\x04" else "not a PDF file (no %PDF- header)"
        raise _reject(path, f"this is {kind}, but the layout says pdf")
    try:
        doc = pdfplumber.open(path)
        count = len(doc.pages)
    except Exception as exc:  # noqa: BLE001 - a hostile or broken file can make pdfminer raise anything
        raise _unreadable(path, exc) from None
    if count == 0:
        doc.close()
        raise _reject(path, "the PDF has no pages")
    if count > MAX_PDF_PAGES:
        doc.close()
        raise _reject(path, f"the PDF has {count:,} pages, more than the {MAX_PDF_PAGES} an invoice may have")
    return doc


def _text_lines(words: list[dict[str, Any]]) -> list[tuple[float, tuple[str, ...]]]:
    """Words grouped into lines (top within :data:`LINE_TOLERANCE_PT`), each cut into cells at gaps wider than
    the line's height: ``(top, cells)`` top to bottom."""
    lines: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (round(w["top"], 1), w["x0"])):
        if lines and abs(word["top"] - lines[-1][0]["top"]) <= LINE_TOLERANCE_PT:
            lines[-1].append(word)
        else:
            lines.append([word])
    out = []
    for line in lines:
        line.sort(key=lambda w: w["x0"])
        height = max(w["bottom"] - w["top"] for w in line)
        cells: list[str] = []
        previous: dict[str, Any] | None = None
        for word in line:
            if previous is not None and word["x0"] - previous["x1"] <= height:
                cells[-1] += " " + word["text"]
            else:
                cells.append(word["text"])
            previous = word
        out.append((line[0]["top"], tuple(cells)))
    return out


def _inside(word: dict[str, Any], boxes: Iterable[Bbox]) -> bool:
    x, y = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


@dataclass
class _Header:
    """The table's header row, once met: the column names it must hold, its cells (normalised, non-empty) and
    its number of columns."""

    wanted: set[str]
    names: tuple[str, ...] | None = None
    width: int = 0


def _key(cells: Sequence[str]) -> tuple[str, ...]:
    return tuple(_norm(c) for c in cells if c)


def _drop_empty_columns(rows: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Columns empty in every row removed (the text strategy's gaps between columns)."""
    width = max((len(r) for r in rows), default=0)
    used = [j for j in range(width) if any(j < len(r) and r[j] for r in rows)]
    return [tuple(r[j] if j < len(r) else "" for j in used) for r in rows]


def _table_rows(table: Any, header: _Header) -> tuple[list[tuple[str, ...] | None], Bbox]:
    """One table's rows (``None`` for the header row met again on a later page: counted, not kept) and the
    part of the page it covers. Rows above the header row in its table (a header block the text strategy
    took in as rows, its words cut at the columns) are left to the page text; a table of another number of
    columns than the header's loses its empty columns (the text strategy's gaps)."""
    pairs = [
        (tuple(_cell(c) for c in raw), row) for raw, row in zip(table.extract(), table.rows, strict=True)
    ]
    pairs = [(cells, row) for cells, row in pairs if any(cells)]  # the text strategy's gap rows
    x0, top, x1, bottom = table.bbox
    if header.names is None:
        at = next((i for i, (cells, _) in enumerate(pairs) if header.wanted <= set(_key(cells))), None)
        if at is None:
            return [cells for cells, _ in pairs], table.bbox
        pairs, top = pairs[at:], pairs[at][1].bbox[1]
        rows = _drop_empty_columns([cells for cells, _ in pairs])
        header.names, header.width = _key(rows[0]), len(rows[0])
        return list(rows), (x0, top, x1, bottom)
    rows = [cells for cells, _ in pairs]
    if rows and len(rows[0]) != header.width:
        rows = _drop_empty_columns(rows)
    return [None if _key(cells) == header.names else cells for cells in rows], table.bbox


def _page_numbers(path: Path, settings: PdfSettings, count: int) -> list[int]:
    if settings.pages == "all":
        return list(range(1, count + 1))
    missing = [p for p in settings.pages if p > count]
    if missing:
        raise _reject(
            path,
            f"pdf.pages asks for page(s) {', '.join(map(str, missing))}, the file has {count} page(s)",
        )
    return sorted(settings.pages)


def read_pdf_grid(path: Path, settings: PdfSettings, *, header_names: Collection[str]) -> list[GridRow]:
    """The grid of ``path`` (see the module doc). ``header_names``: the column names the layout maps (the
    required ones): the first table row holding them all is the header, and a row equal to it on a later page
    is skipped. Raises InvoiceFileError for a scan, a password, a broken file or an area outside a page."""
    doc = _open(path)
    try:
        numbers = _page_numbers(path, settings, len(doc.pages))
        before: list[GridRow] = []
        tables: list[GridRow] = []
        after: list[GridRow] = []
        state = _Header(wanted={_norm(n) for n in header_names})
        any_text = False
        for number in numbers:
            page = doc.pages[number - 1]
            if page.chars:
                any_text = True
            region = page
            if settings.area is not None:
                x0, top, x1, bottom = settings.area
                px0, ptop, px1, pbottom = page.bbox
                if x0 < px0 or top < ptop or x1 > px1 or bottom > pbottom:
                    raise _reject(
                        path,
                        f"pdf.area {list(settings.area)} is outside page {number} "
                        f"({px1 - px0:.0f} × {pbottom - ptop:.0f} points)",
                    )
                region = page.crop(settings.area)
            try:
                found = region.find_tables(dict(settings.table_settings))
                words = page.extract_words()
            except Exception as exc:  # noqa: BLE001 - as in _open: a broken page content stream
                raise _unreadable(path, exc) from None
            page_rows: list[tuple[int, tuple[str, ...]]] = []
            boxes, counted = [], 0
            for table in sorted(found, key=lambda t: (t.bbox[1], t.bbox[0])):
                kept, box = _table_rows(table, state)
                boxes.append(box)
                page_rows += [(counted + i, cells) for i, cells in enumerate(kept, 1) if cells is not None]
                counted += len(kept)  # a skipped repeated header row still counts: people see it
            if words and sum("(cid:" in w["text"] for w in words) * 2 > len(words):
                raise _reject(
                    path,
                    f"page {number}: the PDF's fonts map no text (it reads as '(cid:…)' codes): ask the carrier "
                    "for a PDF with searchable text or the CSV/XLSX",
                )
            words = [w for w in words if not _inside(w, boxes)]
            lines = _text_lines(words)
            if len(page_rows) >= TEXT_LINE_BASE or len(lines) >= PAGE_ROWS - TEXT_LINE_BASE:
                raise _reject(
                    path,
                    f"page {number} holds {len(page_rows):,} table rows and {len(lines):,} lines of text, "
                    f"more than the {TEXT_LINE_BASE - 1} and {PAGE_ROWS - TEXT_LINE_BASE - 1} a page may have",
                )
            base = number * PAGE_ROWS
            tables += [(base + i, cells) for i, cells in page_rows]
            first_top = min((b[1] for b in boxes), default=None)
            for k, (top, cells) in enumerate(lines):
                row = (base + TEXT_LINE_BASE + k, cells)
                # the header block: the text above the first table of the first page holding one
                if first_top is not None and top < first_top and len(tables) == len(page_rows) > 0:
                    before.append(row)
                elif not tables:
                    before.append(row)  # pages before the table (a cover page)
                else:
                    after.append(row)
        if not any_text:
            if any(doc.pages[n - 1].chars for n in range(1, len(doc.pages) + 1)):
                raise _reject(path, f"no text on the page(s) read (pdf.pages: {settings.pages})")
            raise _reject(path, SCANNED)
        if not tables:
            raise _reject(
                path,
                "no table found on the page(s) read: check pdf.area and pdf.table_settings "
                "(vertical_strategy/horizontal_strategy: text for a table without ruling lines)",
            )
        return before + tables + after
    finally:
        doc.close()
