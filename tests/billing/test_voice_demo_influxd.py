"""The billing stage of ``make run`` with the voice trunks: the modelled month of calls (the CDR part's synth, read by
its Asterisk parser) in a real call store, the demo invoices made from it (Telekom's call charges, Orange's itemized
call file read back through voice.yaml's obs-itemized layout), the ETL run against the session influxd.

Every planted voice problem fires where it was planted and nowhere else (billing_etl.demo_voice), the sizing
proposals follow the demo's load (FRA-VOICE-1 light, PAR-VOICE-1 blocking), and the voice sheets are exported."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from billing_etl.demo import PLANTED, demo_stage
from billing_etl.demo_voice import NOT_IN_CDRS, ROUNDED, VOICE_PLANTED, WRONG_CLASS
from billing_etl.labels import machine_names, table_label
from billing_etl.model import Period
from linewatch.influx import InfluxClient
from linewatch.inventory import load_inventory
from linewatch.settings import load_settings
from linewatch.voice.config import load_voice_config
from linewatch.voice.formats import read_file
from linewatch.voice.mapping import TrunkMapper
from linewatch.voice.store import CallStore

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 12, 2)
NOVEMBER = Period(2026, 11)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory, influxd):
    """The demo's billing stage for November 2026 with the modelled month in ``run/var/calls.sqlite``."""
    import uuid

    import requests

    from collector.voice.synth import write_asterisk_month

    db = f"lw_voice_demo_{uuid.uuid4().hex[:12]}"
    requests.post(f"{influxd.url}/query", params={"q": f'CREATE DATABASE "{db}"'}, timeout=10).raise_for_status()
    run_dir = tmp_path_factory.mktemp("voice-demo") / "run"
    settings = load_settings(REPO / "config" / "linewatch.yaml")
    settings = settings.model_copy(
        update={"influx": settings.influx.model_copy(update={"url": influxd.url, "database": db})}
    )
    inventory = load_inventory(REPO / "config" / "lines.yaml")
    voice = load_voice_config(settings, inventory)
    source = next(s for s in voice.sources if s.format.value == "asterisk")
    master = run_dir / "cdr" / "asterisk" / "Master.csv"
    write_asterisk_month(master, inventory, start_s=NOVEMBER.start_s - 86_400, end_s=NOVEMBER.end_s + 86_400)
    batch = read_file(master, source.model_copy(update={"path": master}),
                      mapper=TrunkMapper(voice.trunks, inventory, source=source.name))
    with CallStore(run_dir / "var" / "calls.sqlite") as store:
        store.add(batch.calls, problems=batch.problems)
    with InfluxClient(settings.influx) as client:
        ctx = SimpleNamespace(settings=settings, run_dir=run_dir, influx=client, inventory=inventory,
                              stop_event=threading.Event())
        report = demo_stage(ctx, today=TODAY)
    return report, run_dir


VOICE_RULES = set(VOICE_PLANTED)


@pytest.mark.slow
def test_every_planted_voice_problem_fires_on_its_line_and_invoice(demo_report) -> None:
    report, _ = demo_report
    voice = Counter((f.rule.value, f.line, f.invoice_number) for f in report.findings if f.rule.value in VOICE_RULES)
    assert voice == {
        ("voice_usage_mismatch", "FRA-VOICE-1", "DT-202611-5531"): 1,
        ("call_not_in_cdrs", "PAR-VOICE-1", "FR202611-0001"): NOT_IN_CDRS,
        ("call_rounding", "PAR-VOICE-1", "FR202611-0001"): ROUNDED,
        ("call_wrong_class", "PAR-VOICE-1", "FR202611-0001"): WRONG_CLASS,
    }
    # and the data side's planted problems are still exactly the ones planted
    assert {f.rule.value for f in report.findings} == (set(PLANTED) - {"quarantine"}) | VOICE_RULES


@pytest.mark.slow
def test_telekoms_12_percent_is_the_mismatch_and_orange_is_explained_by_its_calls(demo_report) -> None:
    report, _ = demo_report
    trunks = {v.line: v for v in report.voice.lines}
    fra = trunks["FRA-VOICE-1"]
    [mismatch] = [f for f in report.findings if f.rule.value == "voice_usage_mismatch"]
    assert mismatch.amount_at_stake == fra.billed_amount - fra.rated_amount
    assert float(fra.billed_amount / fra.rated_amount) == pytest.approx(1.12, abs=0.001)
    par = trunks["PAR-VOICE-1"]
    claimed = sum(f.amount_at_stake for f in report.findings if f.line == "PAR-VOICE-1")
    assert abs(par.billed_amount - par.rated_amount - claimed) <= par.rated_amount / 100  # nothing unexplained


@pytest.mark.slow
def test_the_demo_load_gives_fewer_channels_in_frankfurt_and_more_in_paris(demo_report) -> None:
    report, _ = demo_report
    actions = {(p.line, p.action.value): p for p in report.proposals}
    fewer = actions[("FRA-VOICE-1", "fewer_channels")]
    assert fewer.current_channels == 30 and fewer.proposed_channels < 30 and fewer.monthly_saving > 0
    more = actions[("PAR-VOICE-1", "more_channels")]
    assert more.current_channels == 10 and more.proposed_channels > 10 and more.monthly_saving < 0


@pytest.mark.slow
def test_the_voice_sheets_are_exported_with_the_reconciled_calls(demo_report) -> None:
    report, run_dir = demo_report
    wb = load_workbook(run_dir / "exports" / "billing-2026-11.xlsx")
    for name in ("Voice trunks", "Voice by department", "Voice calls reconciliation"):
        assert table_label(name) in wb.sheetnames
    ws = wb["Voice calls reconciliation"]
    header = machine_names("Voice calls reconciliation", [c.value for c in ws[1]])
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    disputed = [r for r in rows if r["rule"]]
    assert len(disputed) == NOT_IN_CDRS + ROUNDED + WRONG_CLASS
    assert all(r["finding_id"] and r["invoice"] == "FR202611-0001" for r in disputed)
    assert sum(1 for r in rows if not r["rule"]) > 100  # the rest of the month reconciles
    departments = {r[0] for r in wb["Voice by department"].iter_rows(min_row=2, values_only=True)}
    assert {"Sales", "Operations"} <= departments  # the extension directory's departments
