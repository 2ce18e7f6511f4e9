"""The PDF invoice reader on a 20-page text PDF, against pdfplumber's bare table extraction of the same pages.

Data: Deutsche Telekom's demo invoice (``billing_etl.demo.telekom_html``, the shipped ``carriers.yaml`` layout:
ruled table, header row repeated on every page, German header block, Gesamtbetrag row, page footer) with 550
charge rows, rendered by WeasyPrint to 20 A4 pages (checked).

Figure: pages per second of ``billing_etl.importer.import_file`` (open, tables and page text of every page, the
grid, header block fields, 550 rows validated), best of ``BENCH_PDF_RUNS`` (default 3). Reference: the bare
``pdfplumber`` pass every PDF reader needs (open, ``extract_tables()`` and ``extract_words()`` of each page),
best of as many runs, interleaved. Ratio = import / bare.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from decimal import Decimal
from pathlib import Path

RUNS = int(os.environ.get("BENCH_PDF_RUNS", "3"))
PAGES = 20
ROWS = 550


def build(folder: Path) -> Path:
    from billing_etl.demo import html_to_pdf, telekom_html
    from billing_etl.model import Period

    period = Period(2026, 10)
    rows = [
        [
            f"DTAG-SIP-{5000 + i}",
            f"SIP-Trunk {i % 30 + 1} Sprachkanäle",
            "GRUND",
            "01.10.2026",
            "31.10.2026",
            "1",
            f"{100 + i % 300},00",
            f"{100 + i % 300},00",
        ]
        for i in range(ROWS)
    ]
    path = folder / "telekom-2026-10.pdf"
    path.write_bytes(html_to_pdf(telekom_html(period, rows=rows)))
    return path


def bare(path: Path) -> int:
    import pdfplumber

    rows = 0
    with pdfplumber.open(path) as doc:
        for page in doc.pages:
            rows += sum(len(t) for t in page.extract_tables())
            page.extract_words()
    return rows


def main() -> None:
    import pdfplumber

    from billing_etl.config import load_billing_config
    from billing_etl.importer import import_file
    from linewatch.settings import load_settings

    repo = Path(__file__).resolve().parents[1]
    carrier = load_billing_config(load_settings(repo / "config" / "linewatch.yaml")).carriers.by_name()[
        "Deutsche Telekom"
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = build(Path(tmp))
        with pdfplumber.open(path) as doc:
            pages = len(doc.pages)
        assert pages == PAGES, f"the invoice rendered to {pages} pages, not {PAGES}: adjust ROWS"
        ours, theirs = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            result = import_file(path, carrier)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            bare(path)
            theirs.append(time.perf_counter() - started)
        assert result.good_rows == ROWS and not result.quarantined, (result.good_rows, result.quarantined)
        [invoice] = result.invoices
        assert invoice.stated_total == sum((line.amount for line in invoice.lines), Decimal(0))
        assert invoice.invoice_date == dt.date(2026, 10, 31)
    best, ref = min(ours), min(theirs)
    print(
        f"bench pdf-import: {pages / best:.1f} pages/s ({best:.2f} s, {pages} pages, {ROWS} rows) | "
        f"bare pdfplumber: {pages / ref:.1f} pages/s ({ref:.2f} s) | ratio {best / ref:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
