"""Invoice files in: layouts, row validation and quarantine, bad files, the durable store and re-imports."""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal
from pathlib import Path

import pytest
from billing_support import CARRIERS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_etl.config import Carrier, CarriersFile
from billing_etl.importer import QuarantinedRow, import_file, parse_rows, read_raw
from billing_etl.model import parse_decimal
from billing_etl.store import ImportOutcome, InvoiceStore
from linewatch.choices import ChargeType
from linewatch.errors import InvoiceFileError

ACME = CarriersFile.model_validate(CARRIERS).carriers[0]
HEADER = "invoice,date,due,circuit,type,from,to,qty,price,amount,text,total"
GOOD = [
    "INV-1,2026-10-31,2026-11-30,C-1,MRC,2026-10-01,2026-10-31,1,100,100.00,access,130.00",
    "INV-1,2026-10-31,2026-11-30,C-2,USE,2026-10-01,2026-10-31,5,2,10.00,burst,130.00",
    "INV-1,2026-10-31,2026-11-30,,TAX,,,,,20.00,VAT,130.00",
]


def write(tmp_path: Path, name: str, lines: list[str], *, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def colt_layout() -> Carrier:
    """A European layout: ; separated, decimal comma, thousands dot, dd.mm.yyyy, Windows-1252."""
    data = {
        "name": "Colt",
        "files": ["*.csv"],
        "currency": "EUR",
        "layout": {
            "format": "csv",
            "encoding": "cp1252",
            "delimiter": ";",
            "decimal_separator": ",",
            "thousands_separator": ".",
            "date_format": "%d.%m.%Y",
            "currency": "EUR",
            "payment_terms_days": 21,
            "columns": {
                "invoice_number": "Invoice",
                "invoice_date": "Date",
                "circuit_id": "Circuit",
                "charge_type": "Code",
                "period_start": "From",
                "period_end": "To",
                "amount": "Net",
                "description": "Details",
            },
            "charge_types": {"REC": "monthly_recurring", "VAT": "tax"},
        },
    }
    return Carrier.model_validate(data)


def test_good_csv_loads_every_row(tmp_path: Path) -> None:
    result = import_file(write(tmp_path, "acme-1.csv", [HEADER, *GOOD]), ACME)
    assert (result.good_rows, result.bad_rows) == (3, 0)
    [inv] = result.invoices
    assert (inv.invoice_number, inv.stated_total, inv.lines_total) == (
        "INV-1",
        Decimal("130.00"),
        Decimal("130.00"),
    )
    assert [r.charge_type for r in inv.lines] == [
        ChargeType.MONTHLY_RECURRING,
        ChargeType.USAGE,
        ChargeType.TAX,
    ]
    assert inv.lines[0].period_end == dt.date(2026, 10, 31)
    assert inv.lines[2].circuit_id is None


def test_european_layout_with_windows_1252(tmp_path: Path) -> None:
    lines = [
        "Invoice;Date;Circuit;Code;From;To;Net;Details",
        "C-77;31.10.2026;X-1;REC;01.10.2026;31.10.2026;1.234,50;Accès 300M (€)",
        "C-77;31.10.2026;;VAT;;;246,90;TVA",
    ]
    result = import_file(write(tmp_path, "colt.csv", lines, encoding="cp1252"), colt_layout())
    [inv] = result.invoices
    assert inv.lines[0].amount == Decimal("1234.50")
    assert inv.lines[0].description == "Accès 300M (€)"
    assert inv.due_date == dt.date(2026, 11, 21)  # payment_terms_days when the file has no due date
    assert inv.currency == "EUR"


def test_xlsx_with_excel_dates_and_numbers(tmp_path: Path) -> None:
    from openpyxl import Workbook

    carrier = Carrier.model_validate(
        {
            **CARRIERS["carriers"][0],
            "layout": {**CARRIERS["carriers"][0]["layout"], "format": "xlsx", "sheet": "Bill"},
        }
    )
    wb = Workbook()
    ws = wb.active
    ws.title = "Bill"
    ws.append(HEADER.split(","))
    ws.append(
        [
            "INV-9",
            dt.datetime(2026, 10, 31),
            dt.datetime(2026, 11, 30),
            "C-1",
            "MRC",
            dt.datetime(2026, 10, 1),
            dt.datetime(2026, 10, 31),
            1,
            99.9,
            99.9,
            "access",
            99.9,
        ]
    )
    ws.append([None] * 12)  # empty rows are skipped
    wb.save(tmp_path / "acme.xlsx")
    [inv] = import_file(tmp_path / "acme.xlsx", carrier).invoices
    assert inv.lines[0].amount == Decimal("99.9")
    assert inv.lines[0].period_start == dt.date(2026, 10, 1)


BAD_ROWS = [
    pytest.param(
        "INV-1,2026-10-31,2026-11-30,C-1,MRC,2026-10-01,2026-10-31,1,100,abc,x,",
        "amount",
        "'abc' is not a number",
        id="amount-not-a-number",
    ),
    pytest.param(
        "INV-1,31/10/2026,2026-11-30,C-1,MRC,2026-10-01,2026-10-31,1,100,100,x,",
        "date",
        "'31/10/2026' is not a date in the format %Y-%m-%d",
        id="date-in-wrong-format",
    ),
    pytest.param(
        "INV-1,2026-10-31,2026-11-30,C-1,XYZ,2026-10-01,2026-10-31,1,100,100,x,",
        "type",
        "unknown charge type code 'XYZ'",
        id="unknown-charge-code",
    ),
    pytest.param(
        "INV-1,2026-10-31,2026-11-30,,MRC,2026-10-01,2026-10-31,1,100,100,x,",
        "",
        "a monthly_recurring charge needs a circuit id",
        id="recurring-without-circuit",
    ),
    pytest.param(
        "INV-1,2026-10-31,2026-11-30,C-1,MRC,2026-10-31,2026-10-01,1,100,100,x,",
        "",
        "service period ends (2026-10-01) before it starts (2026-10-31)",
        id="period-reversed",
    ),
    pytest.param(
        "INV-1,2026-10-31,2026-11-30,C-1,MRC,,,1,100,100,x,",
        "",
        "needs a service period",
        id="recurring-without-period",
    ),
    pytest.param(
        ",2026-10-31,2026-11-30,C-1,MRC,2026-10-01,2026-10-31,1,100,100,x,",
        "invoice",
        "required value is empty",
        id="missing-invoice-number",
    ),
    pytest.param(
        "INV-1,2026-10-31,2026-11-30,C-1,MRC", "", "row has 5 cells, the header has 12", id="short-row"
    ),
    pytest.param(
        "INV-1,2026-10-31,2026-10-01,C-1,MRC,2026-10-01,2026-10-31,1,100,100,x,",
        "",
        "due date 2026-10-01 is before the invoice date",
        id="due-before-invoice",
    ),
    pytest.param(
        "INV-1,2026-11-01,2026-11-30,C-1,MRC,2026-10-01,2026-10-31,1,100,100,x,",
        "invoice_date",
        "differs from row 2 of the same invoice",
        id="header-fields-contradict",
    ),
]


@pytest.mark.parametrize(("bad", "column", "reason"), BAD_ROWS)
def test_bad_row_is_quarantined_and_good_rows_still_load(
    tmp_path: Path, bad: str, column: str, reason: str
) -> None:
    result = import_file(write(tmp_path, "acme-1.csv", [HEADER, GOOD[0], bad, GOOD[2]]), ACME)
    assert result.good_rows == 2
    assert [(q.source_file, q.row, q.column) for q in result.quarantined] == [("acme-1.csv", 3, column)]
    assert reason in result.quarantined[0].reason
    assert str(result.quarantined[0]).startswith("acme-1.csv: row 3:")


BAD_FILES = [
    pytest.param(b"", "file is empty", id="empty"),
    pytest.param(b"\n\n  \n", "file is empty", id="blank-lines-only"),
    pytest.param(HEADER.encode() + b"\n", "no invoice rows below the header", id="header-only"),
    pytest.param(
        b"invoice,date,circuit\nINV-1,2026-10-01,C-1\n",
        "missing required column(s) 'type', 'amount'",
        id="missing-required-columns",
    ),
    pytest.param(
        (HEADER + "\nINV-1,2026-10-31,,C-1,MRC,,,,,10,caf\xe9,\n").encode("latin-1"),
        "not valid utf-8: byte 0xe9",
        id="wrong-encoding",
    ),
    pytest.param(b"PK\x03\x04binary", "this is a ZIP/XLSX file", id="xlsx-given-as-csv"),
    pytest.param(b"\x00\x01\x02invoice\x00", "contains NUL characters", id="binary-garbage"),
    pytest.param(
        "\n".join([HEADER, GOOD[0], GOOD[1].replace(",burst,", ',"burst,'), GOOD[2]])
        .replace("INV-1", "INV-2")
        .encode(),
        "row 3: malformed CSV",
        id="unclosed-quote-swallows-the-rows-after-it",
    ),
]


@pytest.mark.parametrize(("content", "reason"), BAD_FILES)
def test_bad_file_is_rejected_with_a_clear_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "acme-bad.csv"
    path.write_bytes(content)
    with pytest.raises(InvoiceFileError) as err:
        import_file(path, ACME)
    assert reason in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(("content", "reason"), BAD_FILES)
def test_bad_file_changes_nothing_in_the_store(tmp_path: Path, content: bytes, reason: str) -> None:
    from billing_support import billing_config

    from billing_etl.run import import_invoices

    good = write(tmp_path, "acme-1.csv", [HEADER, *GOOD])
    bad = tmp_path / "acme-bad.csv"
    bad.write_bytes(content)
    with InvoiceStore(tmp_path / "store.sqlite") as store:
        import_invoices(billing_config(), store, files=[(good, "Acme")])
        before = (store.invoices(), store.conflicts())
        summary = import_invoices(billing_config(), store, files=[(bad, "Acme")])
        assert (store.invoices(), store.conflicts()) == before
    assert (summary.new_invoices, summary.good_rows, summary.bad_rows) == (0, 0, 0)
    assert len(summary.file_errors) == 1 and reason in summary.file_errors[0]


@pytest.mark.parametrize(
    "content", [b"", b"not a zip at all", b"PK\x03\x04truncated"], ids=["empty", "text", "truncated-zip"]
)
def test_not_a_spreadsheet_is_rejected(tmp_path: Path, content: bytes) -> None:
    carrier = Carrier.model_validate(
        {**CARRIERS["carriers"][0], "layout": {**CARRIERS["carriers"][0]["layout"], "format": "xlsx"}}
    )
    path = tmp_path / "acme.xlsx"
    path.write_bytes(content)
    with pytest.raises(InvoiceFileError, match="acme.xlsx: (file is empty|not an XLSX spreadsheet)"):
        import_file(path, carrier)


# -- the store
# ------------------------------------------------------------------------------------------------


def test_reimporting_the_same_invoice_changes_nothing(tmp_path: Path) -> None:
    first = import_file(write(tmp_path, "acme-1.csv", [HEADER, *GOOD]), ACME)
    # the same invoice from another file, rows in another order: still the same invoice
    again = import_file(write(tmp_path, "acme-copy.csv", [HEADER, *reversed(GOOD)]), ACME)
    with InvoiceStore(tmp_path / "store.sqlite") as store:
        assert store.add_invoices(first.invoices) == {("Acme", "INV-1"): ImportOutcome.NEW}
        before = store.invoices()
        assert store.add_invoices(again.invoices) == {("Acme", "INV-1"): ImportOutcome.UNCHANGED}
        assert store.invoices() == before
        assert store.conflicts() == []


def test_same_number_different_content_is_flagged_not_merged(tmp_path: Path) -> None:
    first = import_file(write(tmp_path, "acme-1.csv", [HEADER, *GOOD]), ACME)
    changed = [GOOD[0].replace("100.00", "110.00"), *GOOD[1:]]
    second = import_file(write(tmp_path, "acme-2.csv", [HEADER, *changed]), ACME)
    with InvoiceStore(tmp_path / "store.sqlite") as store:
        store.add_invoices(first.invoices)
        assert store.add_invoices(second.invoices) == {("Acme", "INV-1"): ImportOutcome.CONFLICT}
        [stored] = store.invoices()
        assert stored.lines_total == Decimal("130.00")
        [conflict] = store.conflicts()
        assert (conflict.source_file, conflict.stored_source_file, conflict.lines_total) == (
            "acme-2.csv",
            "acme-1.csv",
            Decimal("140.00"),
        )


def test_store_survives_reopening(tmp_path: Path) -> None:
    result = import_file(write(tmp_path, "acme-1.csv", [HEADER, *GOOD]), ACME)
    with InvoiceStore(tmp_path / "store.sqlite") as store:
        store.add_invoices(result.invoices)
    with InvoiceStore(tmp_path / "store.sqlite") as store:
        [inv] = store.invoices()
    assert inv.lines == result.invoices[0].lines
    assert inv.content_hash == result.invoices[0].content_hash


# -- parsing properties
# -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dec", "thou", "expected"),
    [
        pytest.param("1234.50", ".", "", "1234.50", id="plain"),
        pytest.param("1.234,50", ",", ".", "1234.50", id="european"),
        pytest.param("1 234,50", ",", " ", "1234.50", id="space-thousands"),
        pytest.param("(12.00)", ".", "", "-12.00", id="accounting-negative"),
        pytest.param("12.00-", ".", "", "-12.00", id="trailing-minus"),
        pytest.param("-0,5", ",", ".", "-0.5", id="negative-comma"),
    ],
)
def test_parse_decimal(text: str, dec: str, thou: str, expected: str) -> None:
    assert parse_decimal(text, decimal_separator=dec, thousands_separator=thou) == Decimal(expected)


@pytest.mark.parametrize("text", ["1.5", "12,3x", "1e5", "nan", "--1", "1..2", "€12"])
def test_parse_decimal_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text, decimal_separator=",", thousands_separator="")


CELL = st.text(alphabet=string.printable + "éü€\u00a0;", max_size=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=14), max_size=8))
def test_fuzzed_csv_never_crashes_the_parser(tmp_path: Path, rows: list[list[str]]) -> None:
    """Whatever the bytes, the parser either rejects the file with InvoiceFileError or returns rows and
    quarantined rows that account for every non-blank data row."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    writer.writerows(rows)
    path = tmp_path / "fuzz.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        result = import_file(path, ACME)
    except InvoiceFileError:
        return
    quarantined_rows = {q.row for q in result.quarantined}
    good_rows = {line.source_row for inv in result.invoices for line in inv.lines}
    assert not quarantined_rows & good_rows
    assert all(isinstance(q, QuarantinedRow) and q.reason for q in result.quarantined)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_fuzzed_bytes_are_rejected_or_parsed(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(HEADER.encode() + b"\n" + data)
    try:
        result = import_file(path, ACME)
    except InvoiceFileError as exc:
        assert "fuzz.csv" in str(exc)
        return
    assert result.good_rows + len(result.quarantined) >= 1


@settings(max_examples=100, deadline=None)
@given(amount=st.decimals(min_value=-(10**9) + 1, max_value=10**9 - 1, places=2, allow_nan=False))
def test_amounts_round_trip_through_the_european_layout(amount: Decimal) -> None:
    text = f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert parse_decimal(text, decimal_separator=",", thousands_separator=".") == amount


def test_read_raw_reports_found_columns_when_one_is_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "acme.csv", ["invoice,date,type", "I,2026-10-01,MRC"])
    with pytest.raises(
        InvoiceFileError, match=r"missing required column\(s\) 'amount' \(found: 'invoice', 'date', 'type'\)"
    ):
        read_raw(path, ACME.layout)


def test_parse_rows_reports_every_problem_of_a_row() -> None:
    rows = [
        (
            2,
            {
                "invoice": "I",
                "date": "bad",
                "type": "MRC",
                "amount": "x",
                "circuit": "C",
                "from": "2026-10-01",
                "to": "2026-10-31",
            },
        )
    ]
    good, bad = parse_rows(rows, ACME.layout, carrier="Acme", source_file="f.csv")
    assert good == []
    assert sorted(q.column for q in bad) == ["amount", "date"]


# The quarantine round trip: a bad row is fixed and the file imported again.
BROKEN = [HEADER, GOOD[0], GOOD[1].replace(",10.00,", ",1O.00,"), GOOD[2]]  # row 3 quarantined
FIXED = [HEADER, *GOOD]
REISSUED = [HEADER, GOOD[0].replace(",100.00,", ",110.00,"), *GOOD[1:]]


@pytest.mark.parametrize(
    ("steps", "expected_total", "expected_conflicts"),
    [
        pytest.param(
            [("broken", "new"), ("fixed", "completed"), ("broken", "unchanged"), ("fixed", "unchanged")],
            "130.00",
            0,
            id="corrected-file-completes-the-invoice-and-the-broken-copy-is-then-ignored",
        ),
        pytest.param(
            [("fixed", "new"), ("broken", "unchanged")],
            "130.00",
            0,
            id="broken-copy-after-the-complete-invoice-changes-nothing",
        ),
        pytest.param(
            [("broken", "new"), ("reissued", "conflict")],
            "120.00",
            1,
            id="different-amounts-are-still-a-conflict-not-a-completion",
        ),
        pytest.param(
            [("fixed", "new"), ("reissued", "conflict")],
            "130.00",
            1,
            id="complete-invoice-is-never-replaced",
        ),
    ],
)
def test_quarantine_round_trip(
    tmp_path: Path, steps: list[tuple[str, str]], expected_total: str, expected_conflicts: int
) -> None:
    from billing_support import billing_config

    from billing_etl.run import import_invoices

    files = {
        "broken": write(tmp_path, "acme-broken.csv", BROKEN),
        "fixed": write(tmp_path, "acme-fixed.csv", FIXED),
        "reissued": write(tmp_path, "acme-reissued.csv", REISSUED),
    }
    with InvoiceStore(tmp_path / "store.sqlite") as store:
        for name, outcome in steps:
            summary = import_invoices(billing_config(), store, files=[(files[name], "Acme")])
            got = {
                "new": summary.new_invoices,
                "unchanged": summary.unchanged_invoices,
                "conflict": summary.conflicting_invoices,
                "completed": summary.completed_invoices,
            }
            assert got == {k: int(k == outcome) for k in got}, name
        [stored] = store.invoices()
        assert stored.lines_total == Decimal(expected_total)
        assert len(store.conflicts()) == expected_conflicts


def test_store_written_before_the_complete_flag_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:  # the invoices table as the first release created it
        db.execute(
            "CREATE TABLE invoices (carrier TEXT NOT NULL, invoice_number TEXT NOT NULL, billing_account TEXT "
            "NOT NULL, invoice_date TEXT NOT NULL, due_date TEXT NOT NULL, currency TEXT NOT NULL, "
            "stated_total TEXT, content_hash TEXT NOT NULL, source_file TEXT NOT NULL, "
            "PRIMARY KEY (carrier, invoice_number))"
        )
    result = import_file(write(tmp_path, "acme-1.csv", FIXED), ACME)
    with InvoiceStore(path) as store:
        assert store.add_invoices(result.invoices) == {("Acme", "INV-1"): ImportOutcome.NEW}
        assert store.add_invoices(result.invoices) == {("Acme", "INV-1"): ImportOutcome.UNCHANGED}
