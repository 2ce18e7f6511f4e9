"""Text PDF invoices through the real importer: the PDFs are rendered here by WeasyPrint from HTML (ruled and
unruled tables, one and two pages, the header row repeated or not, Korean descriptions), a scan by Pillow
(an image-only PDF), and read back with pdfplumber by ``billing_etl.importer.import_file``."""

from __future__ import annotations

import copy
import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import pytest
import yaml
from billing_support import CARRIERS, write_config_tree
from pydantic import ValidationError

from billing_etl.config import Carrier, load_billing_config
from billing_etl.demo import html_to_pdf
from billing_etl.importer import import_file, write_quarantine
from billing_etl.pdf_invoice import SCANNED, row_name
from billing_etl.run import find_invoice_files, import_invoices
from billing_etl.store import InvoiceStore
from linewatch.choices import ChargeType
from linewatch.configcheck import check_all
from linewatch.errors import InvoiceFileError
from linewatch.settings import load_settings

D = Decimal
HEADER = ["Leitung", "Art", "Von", "Bis", "Beschreibung", "Betrag"]
LAYOUT: dict[str, Any] = {
    "format": "pdf",
    "pdf": {"pages": "all", "table_settings": {}},
    "decimal_separator": ",",
    "thousands_separator": ".",
    "date_format": "%d.%m.%Y",
    "fields": {
        "invoice_number": {"label": "Rechnungsnummer"},
        "billing_account": {"label": "Kundennummer"},
        "invoice_date": {"label": "Rechnungsdatum"},
        "due_date": {"label": "Fällig am"},
        "invoice_total": {"label": "Gesamtbetrag", "pattern": r"([\d.]+,\d\d)"},
    },
    "columns": {
        "circuit_id": "Leitung",
        "charge_type": "Art",
        "period_start": "Von",
        "period_end": "Bis",
        "description": "Beschreibung",
        "amount": "Betrag",
    },
    "charge_types": {"GRUND": "monthly_recurring", "MWST": "tax", "GUTS": "credit"},
}
TEXT_STRATEGY = {"vertical_strategy": "text", "horizontal_strategy": "text"}


def carrier(layout: dict[str, Any] | None = None, **changes: Any) -> Carrier:
    data = copy.deepcopy(layout or LAYOUT)
    data.update(changes)
    return Carrier.model_validate(
        {"name": "PdfCarrier", "files": ["*.pdf"], "currency": "EUR", "layout": data}
    )


def charge(i: int, *, description: str | None = None, amount: str | None = None) -> list[str]:
    return [
        f"DE-{i:04d}",
        "GRUND",
        "01.10.2026",
        "31.10.2026",
        description or f"Anschluss {i}",
        amount or f"{100 + i},00",
    ]


@dataclass
class Invoice:
    """An invoice PDF to render: header-block labels, charge rows, where the pages break, ruling lines,
    whether the header row repeats on each page (``<thead>``), the totals as a table row or text."""

    rows: list[list[str]]
    ruled: bool = True
    repeat_header: bool = True
    break_before: set[int] = field(default_factory=set)  # indexes of rows that start a new page
    totals_row: bool = False
    block: list[tuple[str, str]] = field(
        default_factory=lambda: [
            ("Rechnungsnummer", "R-2026-10-77"),
            ("Kundennummer:", "K-5531"),
            ("Rechnungsdatum", "31.10.2026"),
            ("Fällig am", "30.11.2026"),
        ]
    )
    total_label: str = "Gesamtbetrag"
    lang: str = "de"

    def total(self) -> Decimal:
        amounts = [r[-1].replace(".", "").replace(",", ".") for r in self.rows]
        return sum((D(a) for a in amounts if a.replace(".", "").isdigit()), D(0))

    def html(self) -> str:
        border = "border: 0.5pt solid #222;" if self.ruled else ""
        head = "".join(f"<th>{escape(h)}</th>" for h in HEADER)
        head_row = f"<thead><tr>{head}</tr></thead>" if self.repeat_header else f"<tr>{head}</tr>"
        body = "".join(
            f"<tr{' class=brk' if i in self.break_before else ''}>"
            + "".join(f"<td>{escape(c)}</td>" for c in row)
            + "</tr>"
            for i, row in enumerate(self.rows)
        )
        total = f"{self.total():,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        totals = ""
        if self.totals_row:
            body += (
                f"<tr><td>{self.total_label}</td><td></td><td></td><td></td><td></td><td>{total}</td></tr>"
            )
        else:
            totals = f"<p class=total>{self.total_label}&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;{total} EUR</p>"
        block = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in self.block)
        return f"""<!doctype html><html lang="{self.lang}"><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 20mm; @bottom-center {{ content: "Seite " counter(page) " von " counter(pages); }} }}
body {{ font: 9pt "Noto Sans CJK KR", "DejaVu Sans", sans-serif; }}
table.block td {{ padding: 1pt 30pt 1pt 0; }}
table.charges {{ border-collapse: collapse; width: 100%; margin-top: 14pt; }}
table.charges th, table.charges td {{ {border} padding: 2pt 5pt; text-align: left; }}
tr.brk {{ break-before: page; }}
p.total {{ margin-top: 12pt; }}
</style></head><body><h1>Rechnung</h1>
<table class="block">{block}</table>
<table class="charges">{head_row}<tbody>{body}</tbody></table>{totals}
<p>Zahlbar ohne Abzug. Fragen: billing@carrier.example</p></body></html>"""

    def write(self, path: Path) -> Path:
        path.write_bytes(html_to_pdf(self.html()))
        return path


KOREAN = [
    charge(1, description="전용회선 월정액 (서울–부산)"),
    charge(2, description="인터넷 회선 100M 기본료"),
    ["", "MWST", "", "", "부가가치세 10 %", "20,30"],
]
TWO_PAGES = [charge(i) for i in range(1, 9)]

LAYOUTS = [
    pytest.param(Invoice(TWO_PAGES[:3]), {}, id="ruled-one-page-totals-as-text"),
    pytest.param(
        Invoice(TWO_PAGES[:3], totals_row=True),
        {"fields": {**LAYOUT["fields"], "invoice_total": {"label": "Gesamtbetrag", "column": "Betrag"}}},
        id="ruled-totals-row-ends-the-table",
    ),
    pytest.param(Invoice(TWO_PAGES, break_before={5}), {}, id="ruled-two-pages-header-repeated"),
    pytest.param(
        Invoice(TWO_PAGES, break_before={5}, repeat_header=False),
        {},
        id="ruled-two-pages-header-not-repeated",
    ),
    pytest.param(
        Invoice(TWO_PAGES, ruled=False, break_before={4}),
        {"pdf": {"table_settings": TEXT_STRATEGY}},
        id="unruled-text-strategy-two-pages",
    ),
    pytest.param(
        Invoice(TWO_PAGES[:4], ruled=False),
        # the table's part of the page only: the header block and the footer stay text
        {"pdf": {"area": [0, 150, 595, 780], "table_settings": TEXT_STRATEGY}},
        id="unruled-text-strategy-within-an-area",
    ),
    pytest.param(Invoice(KOREAN, lang="ko"), {}, id="korean-descriptions"),
    pytest.param(
        Invoice(
            KOREAN,
            lang="ko",
            block=[
                ("청구번호", "R-2026-10-77"),
                ("고객번호", "K-5531"),
                ("청구일", "31.10.2026"),
                ("납부기한: 30.11.2026", ""),  # label and value in one cell, read after the colon
            ],
            total_label="합계",
        ),
        {
            "fields": {
                "invoice_number": {"label": "청구번호"},
                "billing_account": {"label": "고객번호"},
                "invoice_date": {"label": "청구일"},
                "due_date": {"label": "납부기한"},
                "invoice_total": {"label": "합계", "pattern": r"([\d.]+,\d\d)"},
            }
        },
        id="korean-labels-one-with-its-value-after-a-colon",
    ),
]


@pytest.mark.parametrize(("invoice", "changes"), LAYOUTS)
def test_pdf_invoice_reads_header_block_table_and_stated_total(
    tmp_path: Path, invoice: Invoice, changes: dict[str, Any]
) -> None:
    """Every charge row of every page is read once (the page footer, the header block and a repeated header
    row never as a charge), the header-block fields from the page text, the stated total from the totals."""
    result = import_file(invoice.write(tmp_path / "carrier-2026-10.pdf"), carrier(**changes))
    assert result.quarantined == []
    [inv] = result.invoices
    assert (inv.invoice_number, inv.billing_account, inv.invoice_date, inv.due_date) == (
        "R-2026-10-77",
        "K-5531",
        dt.date(2026, 10, 31),
        dt.date(2026, 11, 30),
    )
    assert inv.stated_total == invoice.total()
    read = [
        [
            line.circuit_id or "",
            "MWST" if line.charge_type is ChargeType.TAX else "GRUND",
            line.period_start.strftime("%d.%m.%Y") if line.period_start else "",
            line.period_end.strftime("%d.%m.%Y") if line.period_end else "",
            line.description,
            f"{line.amount:.2f}".replace(".", ","),
        ]
        for line in inv.lines
    ]
    assert read == invoice.rows
    assert sum(line.amount for line in inv.lines) == inv.stated_total


def test_rows_of_a_pdf_are_named_by_page_and_row(tmp_path: Path) -> None:
    """A bad row on the second page is quarantined as ``page 2 row N`` (the page's header row is row 1),
    in the message and in the quarantine CSV; the good rows still load."""
    rows = [charge(i) for i in range(1, 9)]
    rows[6] = charge(7, amount="12,3x")  # page 2 holds rows[5:]: header, rows[5], rows[6] → row 3
    path = Invoice(rows, break_before={5}).write(tmp_path / "carrier-2026-10.pdf")
    result = import_file(path, carrier())
    [q] = result.quarantined
    assert (q.where, q.column) == ("page 2 row 3", "Betrag")
    assert str(q).startswith("carrier-2026-10.pdf: page 2 row 3: column 'Betrag':")
    assert result.good_rows == 7
    assert [line.source_row for line in result.invoices[0].lines] == [
        1002,
        1003,
        1004,
        1005,
        1006,
        2002,
        2004,
    ]
    written = tmp_path / "quarantine.csv"
    write_quarantine(result.quarantined, written)
    assert written.read_text().splitlines()[1].startswith("carrier-2026-10.pdf,page 2 row 3,Betrag,")


@pytest.mark.parametrize(
    ("number", "name"),
    [(1002, "page 1 row 2"), (2005, "page 2 row 5"), (1500, "page 1 line 1"), (3503, "page 3 line 4")],
)
def test_row_name(number: int, name: str) -> None:
    assert row_name(number) == name


def _scan(path: Path) -> Path:
    """An image-only PDF, as a scanner writes it: a picture of an invoice, no text layer."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(image)
    draw.text((100, 100), "Rechnungsnummer R-2026-10-77", fill="black")
    draw.rectangle((100, 300, 1100, 600), outline="black")
    image.save(path, "PDF", resolution=150)
    return path


def _encrypted(path: Path) -> Path:
    """A PDF under the standard security handler whose user password is not empty (RC4, revision 2): what
    pdfminer meets when a carrier protects its invoice with a password."""
    body = (
        b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
        b"3 0 obj <</Filter /Standard /V 1 /R 2 /P -44 /O <"
        + b"ab" * 32
        + b"> /U <"
        + b"cd" * 32
        + b">>> endobj\n"
    )
    xref = len(body)
    body += (
        b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000111 00000 n \n"
        b"trailer <</Size 4 /Root 1 0 R /Encrypt 3 0 R /ID [<00112233445566778899aabbccddeeff>"
        b" <00112233445566778899aabbccddeeff>]>>\nstartxref\n" + str(xref).encode() + b"\n%%EOF\n"
    )
    path.write_bytes(body)
    return path


def _unmapped_font(path: Path) -> Path:
    """A PDF whose text is in a CID font without a Unicode map: pdfminer reads every glyph as ``(cid:N)``."""
    text = "".join(f"{0x0100 + ord(c):04x}" for c in "Rechnung Leitung Art Betrag").encode()
    content = b"BT /F1 12 Tf 72 720 Td <" + text + b"> Tj ET"
    objects = [
        b"<</Type /Catalog /Pages 2 0 R>>",
        b"<</Type /Pages /Kids [3 0 R] /Count 1>>",
        (
            b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 5 0 R>>>> "
            b"/Contents 4 0 R>>"
        ),
        b"<</Length %d>>stream\n" % len(content) + content + b"\nendstream",
        b"<</Type /Font /Subtype /Type0 /BaseFont /NoMap /Encoding /Identity-H /DescendantFonts [6 0 R]>>",
        (
            b"<</Type /Font /Subtype /CIDFontType2 /BaseFont /NoMap "
            b"/CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> /DW 600>>"
        ),
    ]
    body, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj " % number + obj + b" endobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer <</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(body)
    return path


REJECTED = [
    pytest.param(_unmapped_font, "page 1: the PDF's fonts map no text", id="fonts-without-unicode-map"),
    pytest.param(_scan, SCANNED, id="scanned-no-text-layer"),
    pytest.param(_encrypted, "encrypted PDF (it needs a password to open)", id="password-protected"),
    pytest.param(
        lambda p: (p.write_bytes(b"%PDF-1.4\n%garbage, no objects\n"), p)[1], "broken PDF", id="broken"
    ),
    pytest.param(
        lambda p: (p.write_bytes(b"Leitung;Art;Betrag\n"), p)[1], "not a PDF file (no %PDF- header)", id="csv"
    ),
    pytest.param(lambda p: (p.write_bytes(b""), p)[1], "file is empty", id="empty"),
    pytest.param(
        lambda p: Invoice([charge(1)], ruled=False).write(p),
        "no table found on the page(s) read",
        id="unruled-table-under-the-lines-strategy",
    ),
]


@pytest.mark.parametrize(("make", "reason"), REJECTED)
def test_unreadable_pdf_is_rejected_naming_the_file_and_why(tmp_path: Path, make: Any, reason: str) -> None:
    path = make(tmp_path / "carrier-2026-10.pdf")
    with pytest.raises(InvoiceFileError) as caught:
        import_file(path, carrier())
    assert caught.value.file == str(path)
    assert reason in caught.value.reason


def test_scanned_reason_says_what_to_ask_for() -> None:
    assert SCANNED == "scanned PDF (no text layer): ask the carrier for a text PDF or the CSV/XLSX"


def test_pages_setting_reads_only_the_pages_named(tmp_path: Path) -> None:
    """``pages: [1]`` reads page 1's rows only (page 2 holds the rest); a page the file does not have rejects it."""
    path = Invoice(TWO_PAGES, break_before={5}).write(tmp_path / "carrier-2026-10.pdf")
    fields = {k: v for k, v in LAYOUT["fields"].items() if k != "invoice_total"}  # its label is on page 2
    first = import_file(path, carrier(pdf={"pages": [1]}, fields=fields))
    assert [line.circuit_id for line in first.invoices[0].lines] == [r[0] for r in TWO_PAGES[:5]]
    with pytest.raises(InvoiceFileError, match=r"pdf.pages asks for page\(s\) 3, the file has 2 page"):
        import_file(path, carrier(pdf={"pages": [1, 3]}, fields=fields))


def test_area_outside_the_page_is_rejected_with_the_page_size(tmp_path: Path) -> None:
    path = Invoice(TWO_PAGES[:2]).write(tmp_path / "carrier-2026-10.pdf")
    with pytest.raises(
        InvoiceFileError, match=r"pdf.area \[0.0, 100.0, 900.0, 700.0\] is outside page 1 \(595 × 842"
    ):
        import_file(path, carrier(pdf={"area": [0, 100, 900, 700]}))


def test_header_label_missing_from_the_page_text_rejects_the_file(tmp_path: Path) -> None:
    invoice = Invoice(
        TWO_PAGES[:2],
        block=[("Rechnungsnummer", "R-1"), ("Kundennummer", "K-1"), ("Rechnungsdatum", "31.10.2026")],
    )
    with pytest.raises(InvoiceFileError, match="due_date: label 'Fällig am' not found outside the table"):
        import_file(invoice.write(tmp_path / "carrier-2026-10.pdf"), carrier())


LAYOUT_ERRORS = [
    pytest.param(
        {"pdf": {"table_settings": {"vertical": "text"}}},
        "pdf.table_settings",
        "unknown table setting(s) vertical; known: vertical_strategy, horizontal_strategy",
        id="unknown-table-setting-lists-the-known",
    ),
    pytest.param(
        {"pdf": {"table_settings": {"vertical_strategy": "ruled"}}},
        "pdf.table_settings",
        "vertical_strategy must be one of",
        id="bad-strategy-refused-by-pdfplumber",
    ),
    pytest.param(
        {"pdf": {"table_settings": {"snap_tolerance": -1}}},
        "pdf.table_settings",
        "cannot be negative",
        id="negative-tolerance",
    ),
    pytest.param(
        {"pdf": {"area": [300, 100, 200, 700]}}, "pdf.area", "x0 < x1 and top < bottom", id="area-reversed"
    ),
    pytest.param({"pdf": {"area": [0, 100, 200]}}, "pdf.area", "", id="area-of-three-numbers"),
    pytest.param({"pdf": {"pages": [2, 2]}}, "pdf.pages", "a page is listed twice", id="page-twice"),
    pytest.param({"pdf": {"pages": [0]}}, "pdf.pages", "greater than or equal to 1", id="page-zero"),
    pytest.param(
        {"pdf": {"sheet": "x"}}, "pdf.sheet", "Extra inputs are not permitted", id="unknown-pdf-key"
    ),
    pytest.param(
        {"header_row": 3}, "", "a PDF's column names are found in its tables", id="header-row-given"
    ),
    pytest.param(
        {"format": "csv", "delimiter": ";"},
        "",
        "pdf settings given for a csv layout",
        id="pdf-settings-on-a-csv-layout",
    ),
]


@pytest.mark.parametrize(("changes", "loc", "reason"), LAYOUT_ERRORS)
def test_bad_pdf_layout_is_refused_naming_the_key(changes: dict[str, Any], loc: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        carrier(**changes)
    errors = [(".".join(map(str, e["loc"])), e["msg"]) for e in caught.value.errors()]
    assert any(where.startswith(f"layout.{loc}".rstrip(".")) and reason in msg for where, msg in errors), (
        errors
    )


@pytest.mark.slow
def test_twenty_page_invoice_reads_every_row(tmp_path: Path, record_property: Any) -> None:
    """A 20-page invoice (30 rows a page, header repeated) imports all 600 rows; its pages per second are
    recorded (docs/billing.md quotes the benchmark, ``python -m bench pdf``)."""
    rows = [charge(i) for i in range(1, 601)]
    path = Invoice(rows, break_before=set(range(30, 600, 30))).write(tmp_path / "carrier-2026-10.pdf")
    started = time.perf_counter()
    result = import_file(path, carrier())
    elapsed_s = time.perf_counter() - started
    record_property("pdf_pages_per_s", round(20 / elapsed_s, 1))
    assert result.quarantined == [] and result.good_rows == 600
    assert result.invoices[0].lines[-1].source_row == 20 * 1000 + 31
    assert result.invoices[0].stated_total == sum(line.amount for line in result.invoices[0].lines)


def test_check_config_names_file_line_and_key_of_a_bad_pdf_setting(tmp_path: Path) -> None:
    """``linewatch check-config`` reports a PDF layout's unknown table setting at its key and line."""
    data = copy.deepcopy(CARRIERS)
    layout = copy.deepcopy(LAYOUT)
    layout["pdf"]["table_settings"] = {"vertical_strategy": "text", "snap_tolerence": 3}
    data["carriers"][0]["layout"] = layout
    cfg = write_config_tree(tmp_path)
    (tmp_path / "carriers.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    problems = [p for p in check_all(cfg) if p.file.endswith("carriers.yaml")]
    assert any(
        p.key == "carriers[0].layout.pdf.table_settings"
        and "unknown table setting(s) snap_tolerence; known: vertical_strategy" in p.reason
        and p.line
        for p in problems
    ), [str(p) for p in problems]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_pdf_under_a_spreadsheet_layout_is_named_as_a_pdf(tmp_path: Path, kind: str) -> None:
    """A carrier that switched to PDF (or a pattern matching its PDF) gets the reason, not a decoding error."""
    path = Invoice(TWO_PAGES[:1]).write(tmp_path / f"carrier-2026-10.{kind}")
    layout = {
        "format": kind,
        "delimiter": ";",
        "columns": {
            "invoice_number": "No",
            "invoice_date": "Date",
            "charge_type": "Type",
            "amount": "Amount",
        },
        "charge_types": {"X": "usage"},
    }
    with pytest.raises(InvoiceFileError, match=f"this is a PDF file, but the layout says {kind}"):
        import_file(
            path, Carrier.model_validate({"name": "C", "files": ["*"], "currency": "EUR", "layout": layout})
        )


def test_scanned_pdf_is_rejected_and_the_text_pdf_beside_it_stored(tmp_path: Path) -> None:
    """Through the ETL's import (the SQLite store): a scan among a carrier's files is a rejected file naming the
    reason; the carrier's text PDF still loads, complete, with its rows' page-numbered source rows."""
    data = copy.deepcopy(CARRIERS)
    data["carriers"].append(
        {"name": "PdfCarrier", "files": ["pdf-*.pdf"], "currency": "EUR", "layout": LAYOUT}
    )
    cfg = write_config_tree(tmp_path)
    (tmp_path / "carriers.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    Invoice(TWO_PAGES, break_before={5}).write(tmp_path / "invoices" / "pdf-2026-10.pdf")
    _scan(tmp_path / "invoices" / "pdf-2026-10-scan.pdf")
    config = load_billing_config(load_settings(cfg))
    with InvoiceStore(tmp_path / "billing.sqlite") as store:
        summary = import_invoices(config, store, files=find_invoice_files(config, None))
        stored = [i for i in store.invoices() if i.carrier == "PdfCarrier"]
    assert summary.file_errors == [f"{tmp_path / 'invoices' / 'pdf-2026-10-scan.pdf'}: {SCANNED}"]
    [invoice] = stored
    assert invoice.invoice_number == "R-2026-10-77" and len(invoice.lines) == len(TWO_PAGES)
    assert sorted(line.source_row for line in invoice.lines)[-3:] == [2002, 2003, 2004]
