"""Export headers written for people: English or Korean in CSV and XLSX, machine names kept in Parquet.

The catalogue checks are pure (no I/O); the end-to-end cases run ``linewatch etl run --language ko`` against the
session influxd on the KRW/BHD/USD world of test_exports and read every file back (openpyxl, csv, pyarrow).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from test_exports import write_multi_currency_world

from billing_etl import labels
from billing_etl.exports import Column, ExportError, Table, write_all, write_csv
from billing_etl.importer import QUARANTINE_COLUMNS
from billing_etl.model import Period
from billing_etl.run import ImportSummary, PeriodReport, build_tables
from linewatch.choices import Language
from linewatch.cli import main as cli_main

STAMP = dt.datetime(2026, 10, 1)
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _empty_report() -> PeriodReport:
    return PeriodReport(
        period=Period(2026, 10),
        imports=ImportSummary(),
        usage={},
        findings=[],
        lines=[],
        departments=[],
        proposals=[],
        payments=[],
        unallocated={},
    )


def _etl_tables() -> list[Table]:
    """Every table the ETL writes: the period's sheets and the quarantine CSV."""
    quarantine = Table("Quarantine", [Column(name) for name in QUARANTINE_COLUMNS])
    return [*build_tables(_empty_report()), quarantine]


def _csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


# -- the catalogue (pure) --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column"),
    [(t.name, c.name) for t in _etl_tables() for c in t.columns],
    ids=[f"{t.name}.{c.name}" for t in _etl_tables() for c in t.columns],
)
def test_every_column_the_etl_writes_has_an_english_and_a_korean_header(table: str, column: str) -> None:
    english = labels.column_label(table, column, Language.EN)
    korean = labels.column_label(table, column, Language.KO)
    assert english and english != column, "the English header is written for people, not the machine name"
    assert HANGUL.search(korean), f"{table}.{column}: Korean header {korean!r} has no Hangul"


@pytest.mark.parametrize("table", [t.name for t in _etl_tables()])
def test_every_sheet_has_a_korean_name_within_excels_31_characters(table: str) -> None:
    korean = labels.table_label(table, Language.KO)
    assert HANGUL.search(korean) and len(korean) <= 31 and len(labels.table_label(table)) <= 31


@pytest.mark.parametrize("language", list(Language))
def test_headers_of_one_table_are_distinct_and_read_back_to_their_machine_names(language: Language) -> None:
    """A reader can map a header row of either language back to the columns (labels.machine_names)."""
    for table in _etl_tables():
        headers = table.headers(language)
        assert len(set(headers)) == len(headers), (table.name, headers)
        assert labels.machine_names(table.name, headers) == [c.name for c in table.columns], table.name


@pytest.mark.parametrize("language", list(Language))
def test_no_two_columns_of_the_catalogue_share_a_header(language: Language) -> None:
    texts = [label.text(language) for label in labels.COLUMNS.values()]
    duplicated = sorted({t for t in texts if texts.count(t) > 1})
    assert not duplicated


def test_summary_and_counts_metrics_are_translated_and_other_text_is_not() -> None:
    assert labels.value_label("Summary", "metric", "total cost", Language.KO) == "총 비용"
    assert labels.value_label("Summary", "metric", "total cost", Language.EN) == "total cost"
    assert labels.value_label("Findings", "reason", "total cost", Language.KO) == "total cost"  # carrier text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda p: write_all(
                [Table("T", [Column("circuit_id")])], p, stem="t", stamp=STAMP, language="fr"
            ),
            "language: 'fr' is not one of en, ko",
            id="unknown-language",
        ),
        pytest.param(
            lambda p: write_all(
                [Table("T", [Column("circuit_id"), Column("colour")])], p, stem="t", stamp=STAMP
            ),
            "table T, column colour: no English/Korean header (add it to billing_etl/labels.py COLUMNS)",
            id="column-without-a-label",
        ),
    ],
)
def test_a_header_that_cannot_be_written_is_an_error_before_any_file(
    call, message: str, tmp_path: Path
) -> None:
    with pytest.raises(ExportError, match=re.escape(message)):
        call(tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_column_can_bring_its_own_label(tmp_path: Path) -> None:
    """Other exports (the web's AP export) name their columns without extending the ETL's catalogue."""
    table = Table("AP", [Column("vendor", label=labels.Label("Vendor", "거래처"))], rows=[("Colt",)])
    write_csv(table, tmp_path / "ap.csv", language="ko")
    assert _csv_header(tmp_path / "ap.csv") == ["거래처"]


# -- end to end: etl run against influxd -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def korean_and_english_exports(tmp_path_factory: pytest.TempPathFactory, influxd) -> tuple[Path, Path]:
    """One ``etl run`` in Korean (``--language ko``) and one with the default language, same world, on a
    database of this module's own on the session influxd."""
    import requests

    db = f"lw_labels_{uuid.uuid4().hex[:12]}"
    requests.post(
        f"{influxd.url}/query", params={"q": f'CREATE DATABASE "{db}"'}, timeout=10
    ).raise_for_status()
    root = tmp_path_factory.mktemp("labels")
    cfg = write_multi_currency_world(root / "cfg", influx_url=influxd.url, database=db)
    out_ko, out_en = root / "ko", root / "en"
    base = ["-c", str(cfg), "etl", "run", "--period", "2026-10", "--no-progress", "--no-influx"]
    assert cli_main([*base, "--out", str(out_ko), "--language", "ko"]) == 0
    assert cli_main([*base, "--out", str(out_en)]) == 0
    return out_ko, out_en


@pytest.mark.slow
def test_korean_run_writes_korean_sheets_and_headers_and_parquet_keeps_machine_names(
    korean_and_english_exports: tuple[Path, Path],
) -> None:
    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    out_ko, _ = korean_and_english_exports
    tables = {t.name: t for t in build_tables(_empty_report())}
    wb = load_workbook(out_ko / "billing-2026-10.xlsx")
    assert wb.sheetnames == [labels.table_label(name, "ko") for name in tables]
    for name, table in tables.items():
        slug = name.lower().replace(" ", "_")
        korean = table.headers("ko")
        assert [c.value for c in wb[labels.table_label(name, "ko")][1]] == korean, name
        assert _csv_header(out_ko / f"billing-2026-10-{slug}.csv") == korean, name
        parquet = pq.read_schema(out_ko / f"billing-2026-10-{slug}.parquet").names
        assert parquet == [c.name for c in table.columns], name
    assert "쟁점 금액" in tables["Findings"].headers("ko") and "회선 번호" in tables["Lines"].headers("ko")
    assert _csv_header(out_ko / "billing-2026-10-quarantine.csv") == ["파일", "행", "열", "사유"]


@pytest.mark.slow
def test_korean_amounts_keep_their_currency_and_metrics_are_in_korean(
    korean_and_english_exports: tuple[Path, Path],
) -> None:
    from openpyxl import load_workbook

    out_ko, _ = korean_and_english_exports
    ws = load_workbook(out_ko / "billing-2026-10.xlsx")["요약"]
    assert [c.value for c in ws[1]] == ["항목", "금액", "통화", "청구 기간"]
    summary = {(r[0].value, r[2].value): r[1] for r in ws.iter_rows(min_row=2)}
    assert summary[("청구액 (회선 요금)", "KRW")].value == 1934567
    assert summary[("청구액 (회선 요금)", "KRW")].number_format == '#,##0 "KRW";-#,##0 "KRW"'
    assert summary[("청구액 (회선 요금)", "BHD")].number_format == '#,##0.000 "BHD";-#,##0.000 "BHD"'
    findings = load_workbook(out_ko / "billing-2026-10.xlsx")["지적 사항"]
    header = labels.machine_names("Findings", [c.value for c in findings[1]])
    for cells in findings.iter_rows(min_row=2):
        row = dict(zip(header, cells, strict=True))
        assert f'"{row["currency"].value}"' in row["amount_at_stake"].number_format
        assert row["rule"].value.islower()  # rule names stay the machine's: people filter on them


@pytest.mark.slow
def test_default_language_is_english_and_the_data_is_the_same_in_both(
    korean_and_english_exports: tuple[Path, Path],
) -> None:
    """Only the header row (and the metrics' names) differ; every amount and id is identical."""
    import pyarrow.parquet as pq

    out_ko, out_en = korean_and_english_exports
    assert _csv_header(out_en / "billing-2026-10-findings.csv")[:3] == ["Finding id", "Audit rule", "Carrier"]
    for name in ("findings", "lines", "payments_due"):
        ko = (out_ko / f"billing-2026-10-{name}.csv").read_text().splitlines()[1:]
        en = (out_en / f"billing-2026-10-{name}.csv").read_text().splitlines()[1:]
        assert ko == en, name
        assert (out_ko / f"billing-2026-10-{name}.parquet").read_bytes() == (
            out_en / f"billing-2026-10-{name}.parquet"
        ).read_bytes()
    lines = pq.read_table(out_ko / "billing-2026-10-lines.parquet").to_pylist()
    assert {(r["line"], r["billed"], r["currency"]) for r in lines} >= {("L-BH", Decimal("123.456"), "BHD")}


def test_settings_choose_the_export_language(tmp_path: Path) -> None:
    from linewatch.errors import ConfigError
    from linewatch.settings import load_settings

    cfg = write_multi_currency_world(tmp_path / "cfg", influx_url="http://127.0.0.1:9", database="lw")
    base = cfg.read_text()
    assert load_settings(cfg).export_language is Language.EN
    cfg.write_text(base + "export_language: ko\n")
    assert load_settings(cfg).export_language is Language.KO
    cfg.write_text(base + "export_language: fr\n")
    with pytest.raises(ConfigError, match="export_language"):
        load_settings(cfg)
