"""The voice sheets (Voice trunks, Voice by department, Voice calls reconciliation): every header in English and
Korean, written to CSV, XLSX and Parquet like the other sheets; the cost per department with and without an
extension directory."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from billing_support import OCT
from voice_billing_support import T0, billed_call, call, calls_frame, month_of, voice_config

from billing_etl import labels
from billing_etl.audit import Auditor
from billing_etl.exports import write_all
from billing_etl.itemized import reconcile
from billing_etl.run import voice_tables
from billing_etl.voice_costs import voice_department_costs, voice_report
from billing_etl.voice_savings import channel_sizing
from linewatch.choices import Language
from linewatch.voice.directory import Directory, Extension

HANGUL = re.compile(r"[\uac00-\ud7a3]")
CALLS = [call("1", cost=1.25), call("2", start_s=T0 + 600, cost=0.75), call("3", start_s=T0 + 900, outcome="blocked")]
CALLS[1]["extension"] = "4101"


def _report(directory: Directory | None = None):
    config = voice_config()
    rec = reconcile(pd.DataFrame([billed_call("x", start_s=T0 + 7200, callee="0899123456", e164="33899123456",
                                              amount=0.80)]), calls_frame(CALLS), window_s=120)
    month = month_of(CALLS, reconciliation=rec, config=config)
    auditor = Auditor(config=config, invoices=[], period=OCT, usage={}, voice=month)
    findings = auditor.run()
    sizing = channel_sizing(config, month.calls, month.lines, month.windows)
    return voice_report(auditor, month, sizing, findings, directory)


def test_every_voice_column_has_an_english_and_a_korean_header_and_reads_back() -> None:
    for table in voice_tables(_report()):
        for language in Language:
            headers = table.headers(language)
            assert len(set(headers)) == len(headers), table.name
            assert labels.machine_names(table.name, headers) == [c.name for c in table.columns]
        assert all(HANGUL.search(h) for h in table.headers(Language.KO)), table.name
        korean = labels.table_label(table.name, Language.KO)
        assert HANGUL.search(korean) and len(korean) <= 31 and len(table.name) <= 31


@pytest.mark.parametrize("language", list(Language))
def test_the_voice_sheets_are_written_in_every_format(tmp_path: Path, language: Language) -> None:
    import pyarrow.parquet as pq

    paths = write_all(voice_tables(_report()), tmp_path, stem="voice", stamp=dt.datetime(2026, 10, 1),
                      language=language)
    assert {p.suffix for p in paths} == {".csv", ".xlsx", ".parquet"}
    rec = pq.read_table(tmp_path / "voice-voice_calls_reconciliation.parquet").to_pylist()
    assert [(r["rule"], r["line"], r["carrier_amount"], r["amount_at_stake"], r["currency"]) for r in rec] == [
        ("call_not_in_cdrs", "L-VOICE", Decimal("0.8000"), Decimal("0.8000"), "EUR")]
    trunks = pq.read_table(tmp_path / "voice-voice_trunks.parquet").to_pylist()
    assert [(t["line"], t["calls"], t["answered"], t["blocked"], t["rated"]) for t in trunks] == [
        ("L-VOICE", 3, 2, 1, Decimal("2.0000"))]


def test_without_a_directory_every_call_goes_to_its_trunks_department() -> None:
    [sales] = _report().departments
    assert (sales.department, sales.calls, sales.answered, sales.cost_amount) == ("Sales", 3, 2, Decimal("2.00"))


def test_with_a_directory_calls_go_to_their_extensions_department_and_the_rest_is_unassigned() -> None:
    directory = Directory([Extension(number="41*", department="Operations")])
    departments = [(d.department, d.calls, d.cost_amount) for d in _report(directory).departments]
    assert departments == [("Operations", 1, Decimal("0.75")), ("(unassigned)", 2, Decimal("1.25"))]


def test_the_reconciliation_row_carries_its_findings_id() -> None:
    from billing_etl.finding_ids import FINDING_KEY_HEX

    rec = _report().reconciliation
    assert len(rec.iloc[0]["finding_id"]) == FINDING_KEY_HEX and rec.iloc[0]["rule"] == "call_not_in_cdrs"
