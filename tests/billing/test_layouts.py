"""Invoice files laid out the way carriers' portals export them: a title cell with the invoice number, a
label–value header block, the table of charges, a totals row with the stated total, footnotes.

Every file is written here (openpyxl for XLSX, bytes for CSV) and read back through the real importer; the
end-to-end cases run ``linewatch etl run`` against the session influxd.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import string
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from billing_support import CARRIERS, OCT, write_config_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_etl import importer
from billing_etl.config import Carrier
from billing_etl.importer import import_file
from linewatch.choices import ChargeType, ExitCode
from linewatch.configcheck import check_all
from linewatch.errors import InvoiceFileError

D = Decimal
REPO = Path(__file__).resolve().parents[2]


def xlsx(path: Path, rows: list[list[Any]], *, merge: str | None = None, sheet: str = "Invoice") -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    if merge:
        ws.merge_cells(merge)
    wb.save(path)
    return path


def csv_file(path: Path, lines: list[str], *, encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def carrier(layout: dict[str, Any], *, name: str = "Portal", currency: str = "EUR") -> Carrier:
    return Carrier.model_validate({"name": name, "files": ["*"], "currency": currency, "layout": layout})


# -- the portal layouts -----------------------------------------------------------------------------------

EN_TYPES = {"Monthly charge": "monthly_recurring", "Usage": "usage", "VAT": "tax", "One-off": "one_time"}
EN_FOOTNOTES = [
    ["* All amounts in EUR. Prices exclude VAT unless stated."],
    ["Please pay by bank transfer to IBAN DE02 1001 0010 0123 4567 89, quoting INV-2026-1101."],
    ["Page 1 of 1"],
]


def english_xlsx(tmp_path: Path) -> Path:
    """Title cell, header block, table, a blank row, TOTAL DUE (stated total in the Amount column),
    footnotes."""
    return xlsx(
        tmp_path / "portal-2026-11.xlsx",
        [
            ["Invoice No. INV-2026-1101"],
            [],
            ["Account", "ACC-778812"],
            ["Invoice date", dt.datetime(2026, 11, 5)],
            ["Due date", dt.datetime(2026, 12, 5)],
            [],
            ["Circuit", "Description", "Service from", "Service to", "Type", "Amount"],
            [
                "C-1",
                "Internet 100M",
                dt.datetime(2026, 10, 1),
                dt.datetime(2026, 10, 31),
                "Monthly charge",
                100,
            ],
            ["C-2", "MPLS 100M", dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 31), "Monthly charge", 200],
            [None, "VAT 19%", None, None, "VAT", 57],
            [],
            ["TOTAL DUE", None, None, None, None, 357],
            [],
            *EN_FOOTNOTES,
        ],
        merge="A1:F1",
    )


ENGLISH_LAYOUT = {
    "format": "xlsx",
    "sheet": "Invoice",
    "header_row": 7,
    "currency": "EUR",
    "fields": {
        "invoice_number": {"cell": "A1", "pattern": r"Invoice No\.\s*(\S+)"},
        "billing_account": {"label": "Account"},
        "invoice_date": {"label": "Invoice date"},
        "due_date": {"label": "Due date"},
        "invoice_total": {"label": "TOTAL DUE", "column": "Amount"},
    },
    "columns": {
        "circuit_id": "Circuit",
        "description": "Description",
        "period_start": "Service from",
        "period_end": "Service to",
        "charge_type": "Type",
        "amount": "Amount",
    },
    "charge_types": EN_TYPES,
}


def korean_xlsx(tmp_path: Path) -> Path:
    """A Korean carrier: 청구서 title, 청구번호 with a full-width colon in its own cell, text dates in two
    formats, the service period as one "from ~ to" cell, 합계 row with "원", ※ footnotes; the header block
    is as long as the customer's address, so the table's row is found by its column names."""
    return xlsx(
        tmp_path / "kt-2026-11.xlsx",
        [
            ["청구서"],
            ["청구번호：KT-2026-11-000123"],
            ["고객번호", None, "1234-5678-90"],
            ["상호", None, "(주)라인워치"],
            ["주소", None, "서울특별시 중구 세종대로 110"],
            ["청구일", None, "2026.11.05"],
            ["납부기한", None, "2026년 11월 30일"],
            ["사용기간", None, "2026.10.01 ~ 2026.10.31"],
            [],
            ["회선번호", "서비스", "구분", "금액"],
            ["C-1", "인터넷 전용회선 100M", "월정액", 1_250_000],
            ["C-2", "MPLS 100M", "월정액", 1_250_000],
            [None, "부가가치세", "부가세", 250_000],
            ["합계", None, None, "2,750,000원"],
            ["※ 부가가치세 포함 금액입니다."],
            ["※ 문의: 기업고객센터 100"],
        ],
    )


KOREAN_LAYOUT = {
    "format": "xlsx",
    "header_row": "auto",
    "currency": "KRW",
    "thousands_separator": ",",
    "date_format": "%Y.%m.%d",
    "fields": {
        "invoice_number": {"label": "청구번호"},
        "billing_account": {"label": "고객번호"},
        "invoice_date": {"label": "청구일"},
        "due_date": {"label": "납부기한", "date_format": "%Y년 %m월 %d일"},
        "period_start": {"label": "사용기간", "pattern": r"^(\S+)"},
        "period_end": {"label": "사용기간", "pattern": r"(\S+)$"},
        "invoice_total": {"label": "합계", "pattern": r"([\d,]+)"},
    },
    "columns": {"circuit_id": "회선번호", "description": "서비스", "charge_type": "구분", "amount": "금액"},
    "charge_types": {"월정액": "monthly_recurring", "사용료": "usage", "부가세": "tax"},
}


def english_csv(tmp_path: Path) -> Path:
    """The same invoice from a CSV portal: header lines before the table (fewer cells than the table), a blank
    line ending it, TOTAL DUE and footnotes after it."""
    return csv_file(
        tmp_path / "portal-2026-11.csv",
        [
            "Invoice No. INV-2026-1101",
            "Account:;ACC-778812",
            "Invoice date:;05.11.2026",
            "Due date:;05.12.2026",
            "",
            "Circuit;Description;Service from;Service to;Type;Amount",
            "C-1;Internet 100M;01.10.2026;31.10.2026;Monthly charge;100,00",
            "C-2;MPLS 100M;01.10.2026;31.10.2026;Monthly charge;200,00",
            ";VAT 19%;;;VAT;57,00",
            "",
            "TOTAL DUE;;;;;357,00",
            "* All amounts in EUR; prices exclude VAT unless stated",
            "Page 1 of 1",
        ],
    )


ENGLISH_CSV_LAYOUT = {
    **ENGLISH_LAYOUT,
    "format": "csv",
    "sheet": None,
    "delimiter": ";",
    "decimal_separator": ",",
    "date_format": "%d.%m.%Y",
    "header_row": "auto",
    "table_end": {"blank_row": True},
}


def korean_csv(tmp_path: Path) -> Path:
    """Korean CSV in cp949 (what Korean portals and Excel export): inline "label : value" cells, the invoice
    number found by its pattern alone, a 합계 marker ending the table."""
    return csv_file(
        tmp_path / "kt-2026-11.csv",
        [
            "청구서 KT-2026-11-000123",
            "고객번호 : 1234-5678-90",
            "청구일 : 2026-11-05",
            "납부기한 : 2026-11-30",
            "회선번호,서비스,구분,사용기간 시작,사용기간 끝,금액",
            "C-1,인터넷 전용회선 100M,월정액,2026-10-01,2026-10-31,1250000",
            "C-2,MPLS 100M,월정액,2026-10-01,2026-10-31,1250000",
            ",부가가치세,부가세,,,250000",
            "합계,,,,,2750000",
            "※ 부가가치세 포함 금액입니다.",
        ],
        encoding="cp949",
    )


KOREAN_CSV_LAYOUT = {
    "format": "csv",
    "encoding": "cp949",
    "header_row": "auto",
    "currency": "KRW",
    "fields": {
        "invoice_number": {"pattern": r"KT-\d{4}-\d{2}-\d+"},
        "billing_account": {"label": "고객번호"},
        "invoice_date": {"label": "청구일"},
        "due_date": {"label": "납부기한"},
        "invoice_total": {"label": "합계", "column": "금액"},
    },
    "columns": {
        "circuit_id": "회선번호",
        "description": "서비스",
        "charge_type": "구분",
        "period_start": "사용기간 시작",
        "period_end": "사용기간 끝",
        "amount": "금액",
    },
    "charge_types": {"월정액": "monthly_recurring", "부가세": "tax"},
}


@dataclass(frozen=True)
class Expected:
    number: str
    account: str
    invoice_date: dt.date
    due_date: dt.date
    total: Decimal
    currency: str


EN = Expected("INV-2026-1101", "ACC-778812", dt.date(2026, 11, 5), dt.date(2026, 12, 5), D(357), "EUR")
KO = Expected(
    "KT-2026-11-000123", "1234-5678-90", dt.date(2026, 11, 5), dt.date(2026, 11, 30), D(2_750_000), "KRW"
)

PORTALS = [
    pytest.param(english_xlsx, ENGLISH_LAYOUT, EN, id="english-xlsx-title-cell-labels-total-due-column"),
    pytest.param(korean_xlsx, KOREAN_LAYOUT, KO, id="korean-xlsx-header-auto-period-pattern-won-total"),
    pytest.param(english_csv, ENGLISH_CSV_LAYOUT, EN, id="english-csv-header-lines-blank-row-ends-table"),
    pytest.param(korean_csv, KOREAN_CSV_LAYOUT, KO, id="korean-csv-cp949-inline-labels-pattern-only"),
]


@pytest.mark.parametrize(("build", "layout", "expected"), PORTALS)
def test_invoice_with_header_block_and_totals_row_is_read_not_rejected(
    tmp_path: Path, build: Any, layout: dict[str, Any], expected: Expected
) -> None:
    """Fields come from the title cell and the label–value block, the table stops at the totals row or the
    blank row, the stated total comes from the totals row, and the footnotes are not read as rows."""
    result = import_file(build(tmp_path), carrier(layout, currency=expected.currency))
    assert result.quarantined == []
    [inv] = result.invoices
    assert (inv.invoice_number, inv.billing_account, inv.invoice_date, inv.due_date, inv.currency) == (
        expected.number,
        expected.account,
        expected.invoice_date,
        expected.due_date,
        expected.currency,
    )
    assert inv.stated_total == expected.total == inv.lines_total
    assert [(r.circuit_id, r.charge_type) for r in inv.lines] == [
        ("C-1", ChargeType.MONTHLY_RECURRING),
        ("C-2", ChargeType.MONTHLY_RECURRING),
        (None, ChargeType.TAX),
    ]
    assert (inv.lines[0].period_start, inv.lines[0].period_end) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 31),
    )


def test_footnotes_without_a_table_end_are_what_the_table_end_keys_are_for(tmp_path: Path) -> None:
    """Without a table end (and no field label to stop at) the footnotes are read as rows and quarantined:
    the table end is what keeps them out."""
    layout = copy.deepcopy(ENGLISH_CSV_LAYOUT)
    layout["table_end"] = {}
    del layout["fields"]["invoice_total"]
    result = import_file(english_csv(tmp_path), carrier(layout))
    assert {q.row for q in result.quarantined} == {11, 12, 13}
    layout["table_end"] = {"markers": ["total due"]}  # a marker, case-insensitive
    result = import_file(english_csv(tmp_path), carrier(layout))
    assert result.quarantined == [] and result.good_rows == 3


@pytest.mark.parametrize(
    ("marker", "first_cell", "ends"),
    [
        pytest.param("TOTAL DUE", "TOTAL DUE (EUR)", True, id="marker-then-parenthesis"),
        pytest.param("total due", "Total due:", True, id="case-and-colon"),
        pytest.param("Total", "Totalcare Ltd", False, id="not-in-the-middle-of-a-word"),
        pytest.param("※", "※부가가치세 포함", True, id="symbol-marker-before-hangul"),
        pytest.param("합계", "합계금액 안내", False, id="hangul-word-continues"),
        pytest.param("소계", "　소계　", True, id="full-width-spaces"),
    ],
)
def test_table_end_marker_matches_at_a_word_boundary(
    tmp_path: Path, marker: str, first_cell: str, ends: bool
) -> None:
    """A marker ends the table when the row's first non-empty cell starts with it, not mid-word."""
    layout = copy.deepcopy(ENGLISH_CSV_LAYOUT)
    layout["table_end"] = {"markers": [marker]}
    del layout["fields"]["invoice_total"]
    lines = english_csv(tmp_path).read_text(encoding="utf-8").splitlines()[:9]
    lines.append(f"{first_cell};x;01.10.2026;31.10.2026;Monthly charge;1,00")
    result = import_file(csv_file(tmp_path / "m.csv", lines), carrier(layout))
    assert result.good_rows == (3 if ends else 4)


def test_header_values_below_their_labels(tmp_path: Path) -> None:
    """Some portals print the header block as a small table: a row of labels above a row of values."""
    path = xlsx(
        tmp_path / "grid.xlsx",
        [
            ["청구서"],
            ["청구번호", "고객번호", "청구일", "납부기한"],
            ["SKB-2026-10-0042", "7001-22", "2026.11.05", "2026.11.30"],
            [],
            ["회선번호", "서비스", "구분", "금액"],
            ["C-1", "인터넷", "월정액", 1_250_000],
            ["합계", None, None, 1_250_000],
        ],
    )
    layout = copy.deepcopy(KOREAN_LAYOUT)
    layout["fields"] = {
        name: {"label": label, "value": "below"}
        for name, label in (
            ("invoice_number", "청구번호"),
            ("billing_account", "고객번호"),
            ("invoice_date", "청구일"),
            ("due_date", "납부기한"),
        )
    }
    layout["fields"]["invoice_total"] = {"label": "합계", "column": "금액"}
    layout["charge_types"]["월정액"] = "one_time"  # no service period in this file
    [inv] = import_file(path, carrier(layout, currency="KRW")).invoices
    assert (inv.invoice_number, inv.billing_account, inv.invoice_date, inv.due_date, inv.stated_total) == (
        "SKB-2026-10-0042",
        "7001-22",
        dt.date(2026, 11, 5),
        dt.date(2026, 11, 30),
        D(1_250_000),
    )


def test_charge_described_like_a_header_label_does_not_end_the_table(tmp_path: Path) -> None:
    """Field labels end the table (TOTAL DUE), but a label the header block holds (Account) did too: a charge
    described "Account management fee" cut the table there and every row after it was lost, silently."""
    path = xlsx(
        tmp_path / "portal-2026-11.xlsx",
        [
            ["Invoice No. INV-2026-1101"],
            [],
            ["Account", "ACC-778812"],
            ["Invoice date", dt.datetime(2026, 11, 5)],
            ["Due date", dt.datetime(2026, 12, 5)],
            [],
            ["Circuit", "Description", "Service from", "Service to", "Type", "Amount"],
            ["C-1", "Internet 100M", dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 31), "Monthly charge", 100],
            [None, "Account management fee", None, None, "Surcharge", 20],
            ["C-2", "MPLS 100M", dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 31), "Monthly charge", 200],
            [None, "Due date extension", None, None, "Surcharge", 5],
            [None, "VAT 19%", None, None, "VAT", 61.75],
            [],
            ["TOTAL DUE", None, None, None, None, 386.75],
            *EN_FOOTNOTES,
        ],
    )
    layout = copy.deepcopy(ENGLISH_LAYOUT)
    layout["charge_types"]["Surcharge"] = "surcharge"
    result = import_file(path, carrier(layout))
    assert result.quarantined == []
    [inv] = result.invoices
    assert [r.amount for r in inv.lines] == [D(100), D(20), D(200), D(5), D("61.75")]
    assert inv.lines_total == inv.stated_total == D("386.75")


def test_layout_currency_defaults_to_the_carriers_currency(tmp_path: Path) -> None:
    """The carrier must state its currency; a layout without a currency column need not say it again."""
    layout = {k: v for k, v in KOREAN_LAYOUT.items() if k != "currency"}
    [inv] = import_file(korean_xlsx(tmp_path), carrier(layout, currency="KRW")).invoices
    assert inv.currency == "KRW"
    assert {line.currency for line in inv.lines} == {"KRW"}
    assert inv.lines_total == inv.stated_total == D(2_750_000)


def test_xlsx_with_a_wrong_dimension_record_is_read_whole(tmp_path: Path) -> None:
    """Exporters other than Excel often write <dimension ref="A1" />; openpyxl's read-only mode trusts it and
    would cut every row to one column. The importer reads every cell whatever the record says."""
    good = english_xlsx(tmp_path)
    path = tmp_path / "portal-dimension.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:F16" />' in data
                data = data.replace(b'<dimension ref="A1:F16" />', b'<dimension ref="A1" />')
            dst.writestr(info, data)
    [inv] = import_file(path, carrier(ENGLISH_LAYOUT)).invoices
    assert inv.lines_total == inv.stated_total == D(357)


HEADER_FIELD_ERRORS = [
    pytest.param(
        {"invoice_number": {"cell": "A1", "pattern": r"Rechnung Nr\.\s*(\S+)"}},
        "invoice_number: cell A1: 'Invoice No. INV-2026-1101' does not match the pattern",
        id="title-cell-does-not-match-the-pattern",
    ),
    pytest.param(
        {"billing_account": {"label": "Customer number"}},
        "billing_account: label 'Customer number' not found outside the table (searched rows 1–6 above and "
        "rows 12–16 below)",
        id="label-not-found",
    ),
    pytest.param(
        {"due_date": {"cell": "B3"}},
        "due_date: cell B3: 'ACC-778812' is not a date in the format %Y-%m-%d",
        id="header-value-is-not-a-date",
    ),
    pytest.param(
        {"invoice_total": {"label": "TOTAL DUE", "column": "Net"}},
        "invoice_total: no column 'Net' in the header row",
        id="totals-column-not-in-the-table",
    ),
    pytest.param({"due_date": {"cell": "H4"}}, "due_date: cell H4 is empty", id="fixed-cell-is-empty"),
]


@pytest.mark.parametrize(("override", "reason"), HEADER_FIELD_ERRORS)
def test_header_block_field_that_is_not_there_rejects_the_file_naming_where(
    tmp_path: Path, override: dict[str, Any], reason: str
) -> None:
    layout = copy.deepcopy(ENGLISH_LAYOUT)
    layout["fields"].update(override)
    path = english_xlsx(tmp_path)
    with pytest.raises(InvoiceFileError) as err:
        import_file(path, carrier(layout))
    assert reason in str(err.value) and str(path) in str(err.value)


def test_stated_total_of_the_file_is_not_split_across_several_invoices(tmp_path: Path) -> None:
    layout = copy.deepcopy(ENGLISH_CSV_LAYOUT)
    layout["columns"]["invoice_number"] = "Invoice"
    del layout["fields"]["invoice_number"]
    lines = english_csv(tmp_path).read_text().splitlines()
    lines[5] = "Invoice;" + lines[5]
    lines[6:9] = ["A-1;" + lines[6], "A-2;" + lines[7], "A-2;" + lines[8]]
    lines[10] = "TOTAL DUE;;;;;;357,00"
    path = csv_file(tmp_path / "two.csv", lines)
    with pytest.raises(InvoiceFileError, match=r"rows belong to 2 invoices \('A-1', 'A-2'\)"):
        import_file(path, carrier(layout))


LAYOUT_CONFIG_ERRORS = [
    pytest.param(
        {"fields": {"amount": {"label": "Total"}}},
        "carriers[0].layout.fields",
        "field(s) amount cannot be taken from outside the table",
        id="row-field-from-outside-the-table",
    ),
    pytest.param(
        {"fields": {"invoice_number": {"cell": "A1"}}},
        "carriers[0].layout",
        "invoice_number given both in columns and in fields",
        id="field-in-columns-and-fields",
    ),
    pytest.param(
        {"fields": {"invoice_total": {"label": "Total", "pattern": "(["}}},
        "carriers[0].layout.fields.invoice_total.pattern",
        "invalid regular expression",
        id="pattern-does-not-compile",
    ),
    pytest.param(
        {"fields": {"invoice_total": {"label": "Total", "pattern": r"(\d+)-(\d+)"}}},
        "carriers[0].layout.fields.invoice_total.pattern",
        "has 2 groups; give at most one",
        id="pattern-with-two-groups",
    ),
    pytest.param(
        {"fields": {"due_date": {"cell": "B2", "label": "Due"}}},
        "carriers[0].layout.fields.due_date",
        "give cell or label, not both",
        id="cell-and-label",
    ),
    pytest.param(
        {"fields": {"due_date": {"cell": "2B"}}},
        "carriers[0].layout.fields.due_date.cell",
        "should match pattern",
        id="cell-is-not-a-reference",
    ),
    pytest.param(
        {"fields": {"due_date": {"cell": "B2", "column": "Due"}}},
        "carriers[0].layout.fields.due_date",
        "column needs a label",
        id="column-without-label",
    ),
    pytest.param(
        {"fields": {"due_date": {"label": "Due", "date_format": "dd.mm.yyyy"}}},
        "carriers[0].layout.fields.due_date.date_format",
        "has no strftime field",
        id="field-date-format-without-strftime-field",
    ),
    pytest.param(
        {"date_format": "dd.mm.yyyy"},
        "carriers[0].layout.date_format",
        "has no strftime field",
        id="layout-date-format-without-strftime-field",
    ),
    pytest.param(
        {"fields": {"due_date": {"label": "Due", "value": "left"}}},
        "carriers[0].layout.fields.due_date.value",
        "'right' or 'below'",
        id="value-position-not-a-choice",
    ),
    pytest.param(
        {"fields": {"due_date": {"label": "Due", "column": "Due", "value": "below"}}},
        "carriers[0].layout.fields.due_date",
        "give column (the label's row) or value: below, not both",
        id="column-and-below",
    ),
    pytest.param(
        {"table_end": {"blank_rows": True}},
        "carriers[0].layout.table_end.blank_rows",
        "unknown key",
        id="table-end-typo",
    ),
    pytest.param(
        {"header_row": "first"},
        "carriers[0].layout.header_row",
        "auto",
        id="header-row-neither-number-nor-auto",
    ),
]


@pytest.mark.parametrize(("change", "key", "reason"), LAYOUT_CONFIG_ERRORS)
def test_bad_layout_keys_are_reported_with_file_line_and_key(
    tmp_path: Path, change: dict[str, Any], key: str, reason: str
) -> None:
    data = copy.deepcopy(CARRIERS)
    data["carriers"][0]["layout"].update(change)
    cfg = write_config_tree(tmp_path)
    (tmp_path / "carriers.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    problems = [p for p in check_all(cfg) if p.file.endswith("carriers.yaml")]
    assert any(p.key == key and reason in p.reason and p.line for p in problems), [str(p) for p in problems]


def test_shipped_portal_example_carrier_reads_its_demo_invoice() -> None:
    """config/carriers.yaml's KT Enterprise layout against config/examples/kt-2026-10.xlsx (header
    block, 합계 row, ※ footnotes): the example the docs point to keeps working."""
    from billing_etl.config import load_billing_config
    from linewatch.settings import load_settings

    config = load_billing_config(load_settings(REPO / "config" / "linewatch.yaml"))
    example = REPO / "config" / "examples" / "kt-2026-10.xlsx"
    result = import_file(example, config.carriers.by_name()["KT Enterprise"])
    assert result.quarantined == []
    [inv] = result.invoices
    assert (inv.invoice_number, inv.billing_account, inv.invoice_date, inv.due_date) == (
        "KT-2026-10-004711",
        "8421-0093-17",
        dt.date(2026, 11, 5),
        dt.date(2026, 11, 30),
    )
    assert inv.stated_total == inv.lines_total == D(3_355_000) and inv.currency == "KRW"
    assert {(r.period_start, r.period_end) for r in inv.lines} == {
        (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    }


PORTAL_CELL = st.text(alphabet=string.printable.replace("\r", "") + "합계※：€ ", max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(st.lists(PORTAL_CELL, max_size=4), max_size=5),
    after=st.lists(st.lists(PORTAL_CELL, max_size=4), max_size=5),
)
def test_fuzzed_header_block_and_footer_never_crash_the_importer(
    tmp_path: Path, before: list[list[str]], after: list[list[str]]
) -> None:
    """Whatever surrounds the table, the importer either reads the file or rejects it with InvoiceFileError
    naming it; it never raises anything else."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerows(before)
    lines = english_csv(tmp_path).read_text(encoding="utf-8").splitlines()
    body = buffer.getvalue().splitlines() + lines[1:11]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerows(after)
    path = csv_file(tmp_path / "fuzz.csv", body + buffer.getvalue().splitlines())
    try:
        result = import_file(path, carrier(ENGLISH_CSV_LAYOUT))
    except InvoiceFileError as exc:
        assert "fuzz.csv" in str(exc) and len(str(exc)) < 1_000
        return
    assert result.good_rows + len(result.quarantined) >= 1


# -- encodings ----------------------------------------------------------------------------------------------

HEADER = "invoice,date,due,circuit,type,from,to,qty,price,amount,text,total"
ROW = "INV-1,2026-10-31,2026-11-30,C-1,MRC,2026-10-01,2026-10-31,1,100,100.00,{text},100.00"


def acme(encoding: str) -> Carrier:
    data = copy.deepcopy(CARRIERS["carriers"][0])
    data["layout"]["encoding"] = encoding
    return Carrier.model_validate(data)


MOJIBAKE = [
    pytest.param("cp1252", b"", "Accès 300M", "'Accès' would import as 'AccÃ¨s'", id="utf8-under-cp1252"),
    pytest.param(
        "latin-1", b"", "Zürich Glattbrugg", "'Zürich' would import as 'ZÃ¼rich'", id="utf8-under-latin1"
    ),
    pytest.param(
        "cp1252", b"\xef\xbb\xbf", "access", "starts with a UTF-8 byte-order mark", id="utf8-bom-cp1252"
    ),
    pytest.param(
        "cp949",
        b"",
        "인터넷 전용회선",
        "(7 non-ASCII character(s) decode as UTF-8)",
        id="utf8-under-korean-cp949",
    ),
]


@pytest.mark.parametrize(("encoding", "bom", "text", "reason"), MOJIBAKE)
def test_utf8_file_under_a_legacy_layout_encoding_is_refused_not_imported_as_mojibake(
    tmp_path: Path, encoding: str, bom: bytes, text: str, reason: str
) -> None:
    path = tmp_path / "acme-utf8.csv"
    path.write_bytes(bom + f"{HEADER}\n{ROW.format(text=text)}\n".encode())
    with pytest.raises(InvoiceFileError) as err:
        import_file(path, acme(encoding))
    message = str(err.value)
    assert "this file is UTF-8" in message and f"the layout says {encoding}" in message
    assert "mojibake" in message and "encoding: utf-8" in message
    assert reason in message


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "cp949"])
def test_utf16_unicode_text_export_is_named_as_such(tmp_path: Path, encoding: str) -> None:
    """Excel's "Unicode text" export is UTF-16 with a byte-order mark (tab-separated): say so, whatever the
    layout's single- or multi-byte encoding, instead of "NUL characters" or "byte 0xff"."""
    path = tmp_path / "acme-unicode.txt"
    path.write_bytes(f"{HEADER}\n{ROW.format(text='Accès')}\n".encode("utf-16"))
    with pytest.raises(
        InvoiceFileError, match=f"this file is UTF-16 .* but the layout says {encoding}: set encoding"
    ):
        import_file(path, acme(encoding))
    [inv] = import_file(path, acme("utf-16")).invoices
    assert inv.lines[0].description == "Accès"


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        pytest.param("cp1252", "Accès 300M (€)", id="real-cp1252"),
        pytest.param("cp949", "인터넷 전용회선", id="real-cp949"),
        pytest.param("cp1252", "plain ascii", id="ascii-is-fine-under-any"),
    ],
)
def test_file_in_the_layout_encoding_still_imports(tmp_path: Path, encoding: str, text: str) -> None:
    path = tmp_path / "acme.csv"
    path.write_bytes(f"{HEADER}\n{ROW.format(text=text)}\n".encode(encoding))
    [inv] = import_file(path, acme(encoding)).invoices
    assert inv.lines[0].description == text


# -- hostile input: what an error quotes is capped --------------------------------------------------------


def _bomb_header_xlsx(path: Path) -> Path:
    """A small XLSX (it compresses ~20:1) whose first row is a 75 kB header: two 30,000-character cells (an
    Excel cell holds at most 32,767) and 2,000 more columns."""
    return xlsx(path, [["A" * 30_000, "B" * 30_000, *(f"col{i}" for i in range(2_000))], ["x"]], sheet="S")


def test_zip_bomb_xlsx_error_does_not_repeat_its_60_kb_header(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from billing_support import billing_config

    from billing_etl.run import import_invoices
    from billing_etl.store import InvoiceStore

    path = _bomb_header_xlsx(tmp_path / "acme-bomb.xlsx")
    assert path.stat().st_size < 60_000
    config = billing_config()
    layout = config.carriers.carriers[0].layout.model_copy(update={"format": "xlsx", "sheet": None})
    config.carriers.carriers[0] = config.carriers.carriers[0].model_copy(update={"layout": layout})
    caplog.set_level(logging.INFO)
    with InvoiceStore(tmp_path / "store.sqlite") as store:
        summary = import_invoices(config, store, files=[(path, "Acme")])
    [error] = summary.file_errors
    assert (
        "missing required column(s)" in error and "(30,000 characters)" in error and "and 1982 more" in error
    )
    assert len(error) <= importer.MAX_REASON_CHARS + len(str(path)) + 2
    assert max(len(r.getMessage()) for r in caplog.records) < 1_000


def test_xlsx_unpacking_beyond_the_limit_is_refused_before_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ZIP bomb is told by its central directory (the unpacked sizes zipfile also enforces while reading):
    refused without parsing a byte of it. The limit is lowered so the bomb stays small."""
    path = tmp_path / "bomb.xlsx"
    english_xlsx(tmp_path).rename(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (3 * 2**20))
    assert path.stat().st_size < 100_000
    monkeypatch.setattr(importer, "MAX_XLSX_UNPACKED_BYTES", 2**20)
    with pytest.raises(InvoiceFileError, match=r"unpacks to 3 MiB, more than the 1 MiB .* not opened"):
        import_file(path, carrier(ENGLISH_LAYOUT))


def test_oversized_cell_is_quarantined_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "acme.csv"
    path.write_text(
        f"{HEADER}\n{ROW.format(text='x' * 50_000)}\n{ROW.format(text='ok')}\n".replace("INV-1", "I")
    )
    result = import_file(path, acme("utf-8"))
    [q] = result.quarantined
    assert (q.row, q.column, q.reason) == (2, "text", "cell holds 50,000 characters: not an invoice value")
    assert result.good_rows == 1


# -- end to end: etl run with the real influxd ------------------------------------------------------------

ACME_PORTAL = {
    **ENGLISH_LAYOUT,
    "sheet": None,
    "header_row": "auto",
    "charge_types": {"Monthly charge": "monthly_recurring", "VAT": "tax"},
}


def acme_portal_invoice(path: Path, *, stated_total: str) -> Path:
    """Acme's October invoice from its portal: every line billed as contracted, TOTAL DUE as given."""
    oct_1, oct_31 = dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 31)
    return xlsx(
        path,
        [
            ["Invoice No. ACME-2026-10"],
            ["Account", "ACC-1"],
            ["Invoice date", dt.datetime(2026, 10, 31)],
            ["Due date", dt.datetime(2026, 11, 30)],
            [],
            ["Circuit", "Description", "Service from", "Service to", "Type", "Amount"],
            ["C-1", "flat", oct_1, oct_31, "Monthly charge", 100],
            ["C-2", "burst base", oct_1, oct_31, "Monthly charge", 200],
            ["C-3", "volume base", oct_1, oct_31, "Monthly charge", 300],
            ["C-4", "until termination", oct_1, dt.datetime(2026, 10, 15), "Monthly charge", 48.39],
            ["C-5", "from install", dt.datetime(2026, 10, 11), oct_31, "Monthly charge", 210],
            [None, "VAT", None, None, "VAT", 20],
            ["TOTAL DUE", None, None, None, None, stated_total],
            ["* Amounts in EUR"],
        ],
    )


@pytest.fixture
def portal_world(tmp_path: Path, influx_db: tuple[str, str]) -> Iterator[Path]:
    url, db = influx_db
    cfg = write_config_tree(tmp_path / "cfg", influx_url=url, database=db)
    data = copy.deepcopy(CARRIERS)
    data["carriers"][0]["files"] = ["acme-*.xlsx", "acme-*.csv"]
    data["carriers"][0]["layout"] = ACME_PORTAL
    (tmp_path / "cfg" / "carriers.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    yield cfg


def _etl_run(cfg: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linewatch.cli", "-c", str(cfg), "etl", "run", "--period", "2026-10"]
        + ["--out", str(out), "--no-progress", "--no-influx", "--formats", "csv"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


@pytest.mark.slow
def test_stated_total_from_the_totals_row_feeds_the_invoice_arithmetic_check(
    portal_world: Path, tmp_path: Path
) -> None:
    from billing_etl.run import run_period
    from linewatch.choices import AuditRule
    from linewatch.settings import load_settings

    invoices = portal_world.parent / "invoices"
    acme_portal_invoice(invoices / "acme-2026-10.xlsx", stated_total="978.39")  # rows: 878.39
    report = run_period(
        load_settings(portal_world),
        OCT,
        out_dir=tmp_path / "out",
        progress_enabled=False,
        write_influx=False,
        formats=("csv",),
    )
    assert report.imports.file_errors == [] and report.imports.good_rows == 6
    arithmetic = [f for f in report.findings if f.rule is AuditRule.INVOICE_ARITHMETIC]
    assert [(f.invoice_number, f.amount_at_stake) for f in arithmetic] == [("ACME-2026-10", D("100.00"))]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("broken", "code"),
    [
        pytest.param(False, ExitCode.OK, id="every-file-imported-exits-0"),
        pytest.param(True, ExitCode.INPUT_REJECTED, id="a-rejected-file-exits-3"),
    ],
)
def test_etl_run_exits_non_zero_when_it_rejected_an_input_file(
    portal_world: Path, tmp_path: Path, broken: bool, code: ExitCode
) -> None:
    invoices = portal_world.parent / "invoices"
    acme_portal_invoice(invoices / "acme-2026-10.xlsx", stated_total="878.39")
    if broken:
        (invoices / "acme-2026-10-copy.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")
    done = _etl_run(portal_world, tmp_path / "out")
    assert done.returncode == code, done.stderr[-2000:]
    assert ("rejected: " in done.stdout) is broken
    assert (tmp_path / "out" / "billing-2026-10-lines.csv").is_file()  # the rest of the run still happened
