"""Stable finding ids (billing_etl.finding_ids): the same finding of the same period keeps its key on every
re-run, whatever its amount or reason; distinct findings get distinct keys; the Findings export leads with it.

The re-run and demo tests run the real audit against the session's InfluxDB 1.6.7.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import re
import threading
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from billing_support import OCT, row, traffic_point, write_config_tree

from billing_etl.audit import Finding
from billing_etl.demo import demo_stage
from billing_etl.finding_ids import charge_key, finding_key
from billing_etl.model import Period
from billing_etl.run import run_period
from linewatch.choices import AuditRule, ChargeType
from linewatch.influx import InfluxClient, InfluxSettings, encode_points
from linewatch.inventory import load_inventory
from linewatch.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
D = dataclasses.replace
BASE = Finding(
    AuditRule.USAGE_MISMATCH,
    "Acme",
    "OCT-1",
    "L-VOL",
    "C-3",
    Decimal("50.00"),
    "usage billed 50.00 EUR, expected 0.00 EUR",
    source="acme-2026-10.csv:6",
    currency="EUR",
    charge_key="0123456789abcdef",
)


def test_finding_key_is_24_lowercase_hex_of_the_documented_text() -> None:
    text = "v1|2026-10|usage_mismatch|Acme|OCT-1|L-VOL|C-3|0123456789abcdef"
    assert finding_key(BASE, OCT) == hashlib.sha256(text.encode()).hexdigest()[:24]
    assert re.fullmatch(r"[0-9a-f]{24}", finding_key(BASE, OCT))
    assert finding_key(BASE, "2026-10") == finding_key(BASE, OCT)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"amount_at_stake": BASE.amount_at_stake * 3}, id="amount"),
        pytest.param({"reason": "usage billed 50.00 EUR, expected 17.40 EUR (re-measured)"}, id="reason"),
        pytest.param({"department": "Finance"}, id="department"),
        pytest.param({"source": "acme-2026-10-reissue.csv:9"}, id="source-file-and-row"),
    ],
)
def test_finding_key_ignores_what_a_re_run_may_change(changes: dict[str, object]) -> None:
    assert finding_key(D(BASE, **changes), OCT) == finding_key(BASE, OCT)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"rule": AuditRule.RATE_MISMATCH}, id="rule"),
        pytest.param({"carrier": "Orange"}, id="carrier"),
        pytest.param({"invoice_number": "OCT-2"}, id="invoice"),
        pytest.param({"line": "L-BURST"}, id="line"),
        pytest.param({"circuit_id": "C-2"}, id="circuit"),
        pytest.param({"charge_key": "fedcba9876543210"}, id="charge-row"),
    ],
)
def test_finding_key_differs_for_a_different_finding(changes: dict[str, object]) -> None:
    assert finding_key(D(BASE, **changes), OCT) != finding_key(BASE, OCT)


def test_finding_key_differs_between_periods() -> None:
    assert finding_key(BASE, OCT) != finding_key(BASE, Period(2026, 11))


def test_charge_key_is_the_row_content_not_where_it_was_read() -> None:
    a = row(
        "OCT-1",
        ChargeType.MONTHLY_RECURRING,
        "50.00",
        circuit="C-3",
        start=OCT.first_day,
        end=OCT.last_day,
        n=6,
    )
    moved = a.model_copy(update={"source_file": "acme-2026-10-reissue.csv", "source_row": 17})
    other = a.model_copy(update={"amount": a.amount + 1})
    assert re.fullmatch(r"[0-9a-f]{16}", charge_key(a))
    assert charge_key(moved) == charge_key(a)
    assert charge_key(other) != charge_key(a)


HEADER = "invoice,date,due,circuit,type,from,to,qty,price,amount,text,total"
OCT_ROWS = [
    "OCT-1,2026-10-31,2026-11-30,C-1,MRC,2026-10-01,2026-10-31,1,100,100.00,flat,",
    "OCT-1,2026-10-31,2026-11-30,C-1,MRC,2026-10-01,2026-10-31,1,100,100.00,flat again,",
    "OCT-1,2026-10-31,2026-11-30,C-2,MRC,2026-10-01,2026-10-31,1,200,200.00,burst base,",
    "OCT-1,2026-10-31,2026-11-30,C-3,MRC,2026-10-01,2026-10-31,1,300,300.00,volume base,",
    "OCT-1,2026-10-31,2026-11-30,C-3,USE,2026-10-01,2026-10-31,500,0.10,50.00,500 GB over,",
    "OCT-1,2026-10-31,2026-11-30,C-9,MRC,2026-10-01,2026-10-31,1,70,70.00,unknown circuit,",
    "OCT-1,2026-10-31,2026-11-30,,LATE,,,,,15.00,late payment,",
]


def _seed_traffic(url: str, db: str, *, vol_out_bps: float) -> None:
    """L-BURST at 150 Mbit/s, L-VOL at ``vol_out_bps``: every 5 minutes of October (points at the same
    instants overwrite, so a second call re-measures the month)."""
    points = [
        traffic_point(line, OCT.start_s + i * 300, in_bps=0.0, out_bps=out_bps)
        for i in range(OCT.days * 288)
        for line, out_bps in (("L-BURST", 150e6), ("L-VOL", vol_out_bps))
    ]
    with InfluxClient(InfluxSettings(url=url, database=db)) as client:
        for start in range(0, len(points), 5000):
            client.write(encode_points(points[start : start + 5000]))


def _exported_ids(out: Path) -> list[str]:
    with (out / "billing-2026-10-findings.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    return [r[0] for r in rows[1:]]


def test_keys_are_stable_across_re_runs_with_re_measured_usage(
    tmp_path: Path, influx_db: tuple[str, str]
) -> None:
    url, db = influx_db
    cfg = write_config_tree(tmp_path / "cfg", influx_url=url, database=db)
    (tmp_path / "cfg" / "invoices" / "acme-2026-10.csv").write_text("\n".join([HEADER, *OCT_ROWS]) + "\n")
    settings = load_settings(cfg)
    runs = []
    for vol_out_bps in (0.0, 5e6):  # silent, then ~1,674 GB: the usage finding's amount and reason change
        _seed_traffic(url, db, vol_out_bps=vol_out_bps)
        out = tmp_path / f"out-{len(runs)}"
        report = run_period(settings, OCT, out_dir=out, progress_enabled=False)
        keyed = {finding_key(f, OCT): f for f in report.findings}
        assert len(keyed) == len(report.findings), "two findings of one run share a key"
        assert _exported_ids(out) == [finding_key(f, OCT) for f in report.findings]
        runs.append(keyed)
    first, second = runs
    assert first.keys() == second.keys()
    [usage_key] = [k for k, f in first.items() if f.rule is AuditRule.USAGE_MISMATCH and f.line == "L-VOL"]
    assert first[usage_key].amount_at_stake != second[usage_key].amount_at_stake
    assert first[usage_key].reason != second[usage_key].reason
    assert first[usage_key].charge_key and first[usage_key].charge_key == second[usage_key].charge_key
    rules = {f.rule for f in first.values()}
    assert {AuditRule.DUPLICATE_CHARGE, AuditRule.GHOST_CIRCUIT, AuditRule.LATE_FEE} <= rules
    # Regression: a dispute quotes its findings' reasons to the carrier; the ghost-circuit and late-fee reasons told
    # finance what to do ("dispute it or add the line", "ask for a waiver") and went out so in the dispute mail.
    quoted = [f.reason for f in first.values() if f.rule in (AuditRule.GHOST_CIRCUIT, AuditRule.LATE_FEE)]
    assert quoted and not [r for r in quoted if any(w in r for w in ("dispute it", "add the line", "waiver"))]


@pytest.mark.slow
def test_every_demo_finding_has_its_own_key(tmp_path: Path, influx_db: tuple[str, str]) -> None:
    url, db = influx_db
    settings = load_settings(REPO / "config" / "linewatch.yaml")
    settings = settings.model_copy(
        update={"influx": settings.influx.model_copy(update={"url": url, "database": db})}
    )
    with InfluxClient(settings.influx) as client:
        ctx = SimpleNamespace(
            settings=settings,
            run_dir=tmp_path / "run",
            influx=client,
            inventory=load_inventory(REPO / "config" / "lines.yaml"),
            stop_event=threading.Event(),
        )
        report = demo_stage(ctx, today=dt.date(2026, 11, 16))
    keys = [finding_key(f, report.period) for f in report.findings]
    assert len(report.findings) >= 14
    assert len(set(keys)) == len(keys)
    per_row = [f for f in report.findings if f.source]
    assert per_row and all(re.fullmatch(r"[0-9a-f]{16}", f.charge_key) for f in per_row)
    assert all(f.charge_key == "" for f in report.findings if not f.source)
