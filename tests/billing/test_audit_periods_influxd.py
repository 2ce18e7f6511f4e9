"""`etl run` against a real InfluxDB, read back from the XLSX: which period an invoice belongs to, and what a
rejected invoice file does to the audit (issue 9).

World: billing_support's five Acme lines, invoices written as CSV in the Acme layout, no traffic seeded (usage
findings are left out of the assertions).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from billing_support import write_config_tree

from billing_etl.labels import machine_names
from billing_etl.model import Period
from billing_etl.run import PeriodReport, run_period
from linewatch.settings import load_settings

HEADER = "invoice,date,due,circuit,type,from,to,qty,price,amount,text,total"
SEP_FILE = [
    "SEP-1,2026-09-30,2026-10-30,C-1,MRC,2026-09-01,2026-09-30,1,100,100.00,flat,",
    "SEP-1,2026-09-30,2026-10-30,C-2,MRC,2026-09-01,2026-09-30,1,200,200.00,burst base,",
    "SEP-1,2026-09-30,2026-10-30,C-3,MRC,2026-09-01,2026-09-30,1,300,300.00,volume base,",
]


def oct_file(invoice_date: str, due: str, total: str) -> list[str]:
    """October's service and its VAT (rows add up to 878.39), dated and due as given."""
    rows = [
        ("C-1", "2026-10-01", "2026-10-31", "100.00"),
        ("C-2", "2026-10-01", "2026-10-31", "200.00"),
        ("C-3", "2026-10-01", "2026-10-31", "300.00"),
        ("C-4", "2026-10-01", "2026-10-15", "48.39"),
        ("C-5", "2026-10-11", "2026-10-31", "210.00"),
    ]
    out = [f"OCT-1,{invoice_date},{due},{c},MRC,{a},{b},,,{amount},,{total}" for c, a, b, amount in rows]
    return [*out, f"OCT-1,{invoice_date},{due},,TAX,,,,,20.00,VAT,{total}"]


def _write(folder: Path, name: str, lines: list[str]) -> None:
    (folder / name).write_text("\n".join([HEADER, *lines]) + "\n")


def _run(cfg: Path, out: Path, period: str) -> PeriodReport:
    return run_period(load_settings(cfg), Period.parse(period), out_dir=out, progress_enabled=False)


def _sheet(path: Path, name: str) -> list[dict]:
    from openpyxl import load_workbook

    ws = load_workbook(path)[name]
    header = machine_names(name, [c.value for c in ws[1]])  # the headers are written for people
    return [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("invoice_date", "due"),
    [
        pytest.param("2026-11-05", "2026-12-05", id="dated-in-november-for-october"),
        pytest.param("2026-10-31", "2026-11-30", id="dated-in-october"),
    ],
)
def test_invoice_dated_after_its_service_month_is_audited_and_due_in_that_month(
    tmp_path: Path, influx_db: tuple[str, str], invoice_date: str, due: str
) -> None:
    """November's invoice for October's service: its arithmetic is checked and it is listed in Payments due
    in October's report, once, and not in November's."""
    url, db = influx_db
    cfg = write_config_tree(tmp_path / "cfg", influx_url=url, database=db)
    invoices = tmp_path / "cfg" / "invoices"
    _write(invoices, "acme-2026-09.csv", SEP_FILE)
    _write(invoices, "acme-2026-10.csv", oct_file(invoice_date, due, "900.00"))  # rows: 878.39
    for period, listed in (("2026-10", True), ("2026-11", False)):
        out = tmp_path / period
        _run(cfg, out, period)
        xlsx = out / f"billing-{period}.xlsx"
        payments = [
            (p["invoice"], p["invoice_date"].date().isoformat()) for p in _sheet(xlsx, "Payments due")
        ]
        arithmetic = [
            (f["invoice"], f["amount_at_stake"])
            for f in _sheet(xlsx, "Findings")
            if f["rule"] == "invoice_arithmetic"
        ]
        if listed:
            assert payments == [("OCT-1", invoice_date)], period
            assert arithmetic == [("OCT-1", pytest.approx(21.61))], period
        else:
            assert ("OCT-1", invoice_date) not in payments and arithmetic == [], period


@pytest.mark.slow
@pytest.mark.parametrize(
    ("october", "expected"),
    [
        pytest.param(
            ["invoice,date", "OCT-1,2026-10-31"],
            [("invoice_not_imported", "Acme", "")],
            id="rejected-file-one-finding",
        ),
        pytest.param(
            None,
            [("unbilled_line", "Acme", line) for line in ("L-BURST", "L-FLAT", "L-NEW", "L-VOL")],
            id="no-file-at-all-each-line-unbilled",
        ),
    ],
)
def test_rejected_invoice_file_is_reported_once_not_per_line(
    tmp_path: Path, influx_db: tuple[str, str], october: list[str] | None, expected: list[tuple]
) -> None:
    """A carrier whose October file was rejected gets one finding naming the carrier, the period, the file
    and the reason, instead of one unbilled_line per line."""
    url, db = influx_db
    cfg = write_config_tree(tmp_path / "cfg", influx_url=url, database=db)
    invoices = tmp_path / "cfg" / "invoices"
    _write(invoices, "acme-2026-09.csv", SEP_FILE)
    if october is not None:
        (invoices / "acme-2026-10.csv").write_text("\n".join(october) + "\n")
    report = _run(cfg, tmp_path / "out", "2026-10")
    findings = _sheet(tmp_path / "out" / "billing-2026-10.xlsx", "Findings")
    relevant = sorted(
        (f["rule"], f["carrier"], f["line"] or "")
        for f in findings
        if f["rule"] in ("invoice_not_imported", "unbilled_line")
    )
    assert relevant == expected
    if october is not None:
        [finding] = [f for f in report.findings if f.rule.value == "invoice_not_imported"]
        assert finding.reason.startswith(
            "no invoice imported for carrier Acme in period 2026-10 (file acme-2026-10.csv rejected: "
        ), finding.reason
        assert "missing" in finding.reason.split("rejected: ")[1]
        assert finding.amount_at_stake == -(100 + 200 + 300 + 210)  # every active line's MRC, to accrue
