"""`linewatch etl run` end to end against a real InfluxDB: exports checked cell by cell, re-runs identical.

World: the five lines of billing_support, October invoices written as CSV in the Acme layout (one file broken,
one row bad), traffic seeded for two lines. Figures below are the hand sums of the invoice rows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from billing_support import OCT, traffic_point, write_config_tree

from billing_etl.labels import machine_names
from billing_etl.run import run_period
from linewatch.cli import main as cli_main
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.settings import load_settings

MBPS = 1_000_000
HEADER = "invoice,date,due,circuit,type,from,to,qty,price,amount,text,total"
OCT_ROWS = [
    "OCT-1,2026-10-31,2026-11-30,C-1,MRC,2026-10-01,2026-10-31,1,100,100.00,flat,1028.39",
    "OCT-1,2026-10-31,2026-11-30,C-2,MRC,2026-10-01,2026-10-31,1,200,200.00,burst base,1028.39",
    "OCT-1,2026-10-31,2026-11-30,C-2,USE,2026-10-01,2026-10-31,50,2,100.00,burst 50 Mbit/s,1028.39",
    "OCT-1,2026-10-31,2026-11-30,C-3,MRC,2026-10-01,2026-10-31,1,300,300.00,volume base,1028.39",
    "OCT-1,2026-10-31,2026-11-30,C-3,USE,2026-10-01,2026-10-31,500,0.10,50.00,500 GB over,1028.39",
    "OCT-1,2026-10-31,2026-11-30,C-4,MRC,2026-10-01,2026-10-15,,,48.39,until termination,1028.39",
    "OCT-1,2026-10-31,2026-11-30,C-5,MRC,2026-10-11,2026-10-31,,,210.00,from install,1028.39",
    "OCT-1,2026-10-31,2026-11-30,,TAX,,,,,20.00,VAT,1028.39",
    "OCT-1,2026-10-31,2026-11-30,C-1,MRC,2026-10-01,2026-10-31,1,100,abc,bad amount,1028.39",
]
SEP_ROWS = [
    "SEP-1,2026-09-30,2026-10-30,C-1,MRC,2026-09-01,2026-09-30,1,100,100.00,flat,",
    "SEP-1,2026-09-30,2026-10-30,C-2,MRC,2026-09-01,2026-09-30,1,200,200.00,burst base,",
    "SEP-1,2026-09-30,2026-10-30,C-2,USE,2026-09-01,2026-09-30,50,2,100.00,burst,",
    "SEP-1,2026-09-30,2026-10-30,C-3,MRC,2026-09-01,2026-09-30,1,300,300.00,volume base,",
    "SEP-1,2026-09-30,2026-10-30,C-3,USE,2026-09-01,2026-09-30,500,0.10,50.00,volume,",
]


def traffic() -> list[Point]:
    """L-BURST sends 150 Mbit/s all month (95th percentile 150 → 50 Mbit/s over a 100 Mbit/s commit = 100.00);
    L-VOL is silent (0 GB → no overage, but 50.00 billed)."""
    return [
        traffic_point(line, OCT.start_s + i * 300, in_bps=in_bps, out_bps=out_bps)
        for i in range(OCT.days * 288)
        for line, in_bps, out_bps in (("L-BURST", 1 * MBPS, 150 * MBPS), ("L-VOL", 0.0, 0.0))
    ]


@pytest.fixture
def world(tmp_path: Path, influx_db: tuple[str, str]) -> Iterator[Path]:
    url, db = influx_db
    cfg = write_config_tree(tmp_path / "cfg", influx_url=url, database=db)
    invoices = tmp_path / "cfg" / "invoices"
    (invoices / "acme-2026-09.csv").write_text("\n".join([HEADER, *SEP_ROWS]) + "\n")
    (invoices / "acme-2026-10.csv").write_text("\n".join([HEADER, *OCT_ROWS]) + "\n")
    (invoices / "acme-broken.csv").write_text("invoice,date\nX,2026-10-01\n")
    with InfluxClient(InfluxSettings(url=url, database=db)) as client:
        points = traffic()
        for start in range(0, len(points), 5000):
            client.write(encode_points(points[start : start + 5000]))
    yield cfg


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_run_exports_findings_and_costs(world: Path, tmp_path: Path) -> None:
    settings = load_settings(world)
    report = run_period(settings, OCT, out_dir=tmp_path / "out", progress_enabled=False)
    assert report.imports.file_errors and "acme-broken.csv" in report.imports.file_errors[0]
    assert (report.imports.new_invoices, report.imports.good_rows, report.imports.bad_rows) == (2, 13, 1)
    assert [(f.rule.value, f.line, f.amount_at_stake) for f in report.findings] == [
        ("usage_mismatch", "L-VOL", Decimal("50.00"))
    ]
    totals = report.totals()["EUR"]
    assert (totals["billed"], totals["allocated"], totals["total"]) == (
        Decimal("1008.39"),
        Decimal("20.00"),
        Decimal("1028.39"),
    )
    assert totals["expected"] == Decimal("958.39")  # 100 + (200 + 100) + 300 + 48.39 + 210
    assert totals["at_stake"] == Decimal("50.00")
    quarantine = (tmp_path / "out" / "billing-2026-10-quarantine.csv").read_text().splitlines()
    assert quarantine == ["File,Row,Column,Reason", "acme-2026-10.csv,10,amount,'abc' is not a number"]


def test_xlsx_cell_by_cell(world: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    run_period(load_settings(world), OCT, out_dir=tmp_path / "out", progress_enabled=False)
    wb = load_workbook(tmp_path / "out" / "billing-2026-10.xlsx")
    assert wb.sheetnames == [
        "Summary",
        "Counts",
        "Lines",
        "Contract changes",
        "Findings",
        "Savings",
        "Departments",
        "Payments due",
    ]
    summary = {ws_row[0].value: ws_row[1] for ws_row in wb["Summary"].iter_rows(min_row=2)}
    for label, value in (
        ("billed (line charges)", 1008.39),
        ("taxes & surcharges allocated", 20.0),
        ("total cost", 1028.39),
        ("expected (contracts)", 958.39),
        ("at stake (over-billed)", 50.0),
    ):
        cell = summary[label]
        assert cell.value == pytest.approx(value) and cell.data_type == "n", label
        assert '"EUR"' in cell.number_format
    lines = wb["Lines"]
    header = machine_names("Lines", [c.value for c in lines[1]])  # the headers are written for people
    assert lines.freeze_panes == "A2" and lines.auto_filter.ref.startswith("A1:")
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in lines.iter_rows(min_row=2, values_only=True)}
    assert rows["L-VOL"]["billed"] == pytest.approx(350.0) and rows["L-VOL"]["at_stake"] == pytest.approx(
        50.0
    )
    assert rows["L-BURST"]["p95_mbps"] == pytest.approx(150.0)
    assert rows["L-BURST"]["expected"] == pytest.approx(300.0)
    assert sum(r["allocated"] for r in rows.values()) == pytest.approx(20.0)
    assert sum(r["total"] for r in rows.values()) == pytest.approx(1028.39)
    findings = list(wb["Findings"].iter_rows(min_row=2, values_only=True))
    assert [(f[1], f[4], f[7]) for f in findings] == [("usage_mismatch", "L-VOL", 50.0)]  # f[0]: finding_id
    due = list(wb["Payments due"].iter_rows(min_row=2, values_only=True))
    assert [(d[3], d[6], d[8]) for d in due] == [("OCT-1", 1028.39, 50.0)]
    departments = {r[0]: r for r in wb["Departments"].iter_rows(min_row=2, values_only=True)}
    assert departments["Engineering"][2] == 2  # L-BURST and L-VOL
    for ws in wb.worksheets:  # every sheet: frozen bold header, filter over all rows, numbers never as text
        assert (
            ws.freeze_panes == "A2"
            and ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        ), ws.title
        assert all(c.font.bold for c in ws[1]), ws.title
        for ws_row in ws.iter_rows(min_row=2):
            for cell in ws_row:
                if isinstance(cell.value, str):
                    assert not re.fullmatch(r"-?[\d.,]+", cell.value), (ws.title, cell.coordinate)
                if '"EUR"' in cell.number_format and cell.value is not None:
                    assert cell.data_type == "n", (ws.title, cell.coordinate)
    money_formats = {c.number_format for c in wb["Payments due"][2][6:9]}
    assert money_formats == {'#,##0.00 "EUR";-#,##0.00 "EUR"'}
    assert wb["Payments due"]["A2"].is_date


def test_rerun_is_byte_identical_and_does_not_double_count(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert (  # 3: acme-broken.csv is rejected (ExitCode.INPUT_REJECTED), the rest of the run is done
        cli_main(["-c", str(world), "etl", "run", "--period", "2026-10", "--out", str(out), "--no-progress"])
        == 3
    )
    first = _digests(out)
    printed = capsys.readouterr().out
    assert "linewatch billing 2026-10" in printed and "at stake" in printed
    assert (
        cli_main(["-c", str(world), "etl", "run", "--period", "2026-10", "--out", str(out), "--no-progress"])
        == 3
    )
    assert "0 new / 2 unchanged" in capsys.readouterr().out
    assert _digests(out) == first
    settings = load_settings(world)
    with InfluxClient(settings.influx) as client:
        [cost] = client.query("SELECT COUNT(billed_amount), SUM(billed_amount) FROM line_cost")
        assert cost["values"][0][1:] == [5, pytest.approx(1008.39)]
        [findings] = client.query('SELECT SUM("count"), SUM(amount) FROM billing_findings')
        assert findings["values"][0][1:] == [1, pytest.approx(50.0)]


def test_run_without_influx_answering_fails_cleanly(tmp_path: Path) -> None:
    from linewatch.servers import free_tcp_port

    cfg = write_config_tree(tmp_path / "cfg", influx_url=f"http://127.0.0.1:{free_tcp_port()}")
    assert cli_main(["-c", str(cfg), "etl", "run", "--period", "2026-10", "--no-progress"]) == 1


@pytest.mark.parametrize("period", ["2026-13", "26-10", "october"])
def test_bad_period_is_a_usage_error(period: str) -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main(["etl", "run", "--period", period])
    assert exc.value.code == 2


def test_etl_import_loads_once_and_reports_rejected_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config_tree(tmp_path / "cfg")
    invoices = tmp_path / "cfg" / "invoices"
    (invoices / "acme-2026-10.csv").write_text("\n".join([HEADER, *OCT_ROWS]) + "\n")
    assert cli_main(["-c", str(cfg), "etl", "import"]) == 0
    out = capsys.readouterr().out
    assert "1 new, 0 unchanged, 0 conflicting invoice(s); 8 row(s) loaded, 1 quarantined" in out
    quarantine = tmp_path / "cfg" / "var" / "billing-quarantine.csv"
    assert quarantine.read_text().splitlines()[1] == "acme-2026-10.csv,10,amount,'abc' is not a number"
    (invoices / "acme-broken.csv").write_text("invoice,date\nX,2026-10-01\n")
    assert cli_main(["-c", str(cfg), "etl", "import"]) == 3  # ExitCode.INPUT_REJECTED
    out = capsys.readouterr().out
    assert "0 new, 1 unchanged" in out and "rejected:" in out and "acme-broken.csv" in out


@pytest.mark.parametrize(
    ("enabled", "expected_end"),
    [
        pytest.param(True, "100% done", id="terminal-shows-a-bar"),
        pytest.param(False, "", id="pipe-stays-quiet"),
    ],
)
def test_progress_bar(enabled: bool, expected_end: str) -> None:
    import io

    from billing_etl.run import Progress

    stream = io.StringIO()
    progress = Progress(4, stream=stream, enabled=enabled, width=8)
    for label in ("a", "b", "c", "done"):
        progress.step(label)
    text = stream.getvalue()
    assert text.rstrip().endswith(expected_end)
    if enabled:
        assert "[##......]  25% a" in text and "[########] 100% done" in text and text.endswith("\n")
