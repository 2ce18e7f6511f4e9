"""A contract change on the 16th of a 30-day month (November 2026), measured in a real InfluxDB and audited.

Three lines of billing_support's inventory, each with a ``changes:`` entry effective 2026-11-16 (days 1–15 at
the old terms, 16–30 at the new: 15/30 each):

* L-FLAT, flat: MRC 100 → 160 (commit 100 → 200 Mbit/s).
  MRC = 100 × 15/30 + 160 × 15/30 = 50.00 + 80.00 = 130.00.
* L-BURST, burstable max(in, out), MRC 200 → 320, commit 100 → 200 Mbit/s, price 2.00 → 1.50 per Mbit/s.
  Days 1–15 (4,320 five-minute samples): 216 samples (⌊0.05 × 4,320⌋, dropped) at 900 Mbit/s, the rest at 150:
  p95 150 → 50 Mbit/s over 100 × 2.00 = 100.00 × 15/30 = 50.00.
  Days 16–30 (4,320 samples): 260 Mbit/s → 60 over 200 × 1.50 = 90.00 × 15/30 = 45.00. Usage = 95.00.
  (The month's p95, 260, against either commit would give 90.00 or 320.00.)
  MRC = 200 × 15/30 + 320 × 15/30 = 100.00 + 160.00 = 260.00.
* L-VOL, volume quota (decimal GB), MRC 300, included 1,000 GB at 0.10 → 3,000 GB at 0.05.
  Days 1–15: 8 Mbit/s in = 8e6 × 300 / 8 = 300 MB per sample × 4,320 = 1,296 GB; included 1,000 × 15/30 = 500:
  796 over × 0.10 = 79.60. Days 16–30: 16 Mbit/s = 2,592 GB; included 3,000 × 15/30 = 1,500: 1,092 over × 0.05
  = 54.60. Usage = 134.20.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from billing_support import CARRIER, billing_config, invoice, row, traffic_point, write_config_tree

from billing_etl.audit import Auditor, expected_mrc
from billing_etl.config import BillingConfig
from billing_etl.model import Period
from billing_etl.run import run_period, usage_segment_days
from billing_etl.usage import LineUsage, measure_usage, service_windows
from linewatch.choices import AuditRule, ChargeType, UsageDirection
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.settings import load_settings

NOV = Period(2026, 11)
HALF = 15 * 288  # five-minute samples in 15 days
MBPS = 1_000_000
D = Decimal
CHANGE = "2026-11-16"

CONTRACTS: dict[str, Any] = {
    "contracts": [
        {
            "line": "L-FLAT",
            "carrier": CARRIER,
            "mrc": 100,
            "commit_bps": 100 * MBPS,
            "changes": [{"effective": CHANGE, "mrc": 160, "commit_bps": 200 * MBPS}],
        },
        {
            "line": "L-BURST",
            "carrier": CARRIER,
            "mrc": 200,
            "commit_bps": 100 * MBPS,
            "billing": {"model": "burstable_95th", "price_per_mbps": 2},
            "changes": [{"effective": CHANGE, "mrc": 320, "commit_bps": 200 * MBPS, "price_per_mbps": 1.5}],
        },
        {
            "line": "L-VOL",
            "carrier": CARRIER,
            "mrc": 300,
            "billing": {"model": "volume_quota", "included_gb": 1000, "price_per_gb": 0.10},
            "changes": [{"effective": CHANGE, "included_gb": 3000, "price_per_gb": 0.05}],
        },
        {"line": "L-NEW", "carrier": CARRIER, "mrc": 310},
    ]
}
LINES = ("L-FLAT", "L-BURST", "L-VOL")


def traffic() -> list[Point]:
    points = []
    for i in range(2 * HALF):
        first_half = i < HALF
        burst_out = (900 if i < 216 else 150) if first_half else 260
        vol_in = 8 if first_half else 16
        for line, in_bps, out_bps in (
            ("L-BURST", 1 * MBPS, burst_out * MBPS),
            ("L-VOL", vol_in * MBPS, 0),
            ("L-FLAT", 5 * MBPS, 5 * MBPS),
        ):
            points.append(traffic_point(line, NOV.start_s + i * 300, in_bps=in_bps, out_bps=out_bps))
    return points


def _seed(url: str, database: str) -> None:
    with InfluxClient(InfluxSettings(url=url, database=database)) as client:
        client.ensure_database()
        points = traffic()
        for start in range(0, len(points), 5000):
            client.write(encode_points(points[start : start + 5000]))


@pytest.fixture(scope="module")
def november(influxd: Any) -> Iterator[tuple[BillingConfig, dict[str, LineUsage]]]:
    database = f"lw_changes_{uuid.uuid4().hex[:8]}"
    _seed(influxd.url, database)
    config = billing_config(copy.deepcopy(CONTRACTS))
    with InfluxClient(InfluxSettings(url=influxd.url, database=database)) as client:
        directions = dict.fromkeys(LINES, UsageDirection.MAX)
        usage = measure_usage(
            client,
            NOV,
            LINES,
            directions,
            service=service_windows(config.inventory.lines, NOV),
            segments=usage_segment_days(config, NOV),
        )
        client.query(f'DROP DATABASE "{database}"', database="")
    yield config, usage


def test_only_lines_whose_usage_terms_change_are_measured_per_segment(november: Any) -> None:
    config, _usage = november
    halves = [(dt.date(2026, 11, 1), dt.date(2026, 11, 15)), (dt.date(2026, 11, 16), dt.date(2026, 11, 30))]
    assert usage_segment_days(config, NOV) == {"L-BURST": halves, "L-VOL": halves}  # L-FLAT: flat


def test_each_segment_has_its_own_95th_percentile_and_volume(november: Any) -> None:
    _config, usage = november
    burst = usage["L-BURST"].segments
    assert [(s.first_day, s.last_day, s.samples_5m) for s in burst] == [
        ("2026-11-01", "2026-11-15", HALF),
        ("2026-11-16", "2026-11-30", HALF),
    ]
    assert [s.p95_bps for s in burst] == [pytest.approx(150 * MBPS), pytest.approx(260 * MBPS)]
    assert usage["L-BURST"].p95_bps == pytest.approx(260 * MBPS)  # the month's: not what is billed
    volume = [(s.in_bytes + s.out_bytes) / 1e9 for s in usage["L-VOL"].segments]
    assert volume == [pytest.approx(1296), pytest.approx(2592)]
    assert usage["L-FLAT"].segments == ()


@pytest.mark.parametrize(
    ("line", "mrc", "usage_charge"),
    [
        pytest.param("L-FLAT", D("130.00"), D("0"), id="flat-mrc-prorated-15-30-old-15-30-new"),
        pytest.param("L-BURST", D("260.00"), D("95.00"), id="burstable-p95-per-segment-against-its-commit"),
        pytest.param("L-VOL", D("300.00"), D("134.20"), id="volume-included-gb-prorated-per-segment"),
    ],
)
def test_expected_charges_equal_the_hand_computation(
    november: Any, line: str, mrc: Decimal, usage_charge: Decimal
) -> None:
    config, usage = november
    auditor = Auditor(config=config, invoices=[], period=NOV, usage=usage)
    contract = auditor.contracts[line]
    assert expected_mrc(contract, NOV.first_day, NOV.last_day) == mrc
    assert auditor.expected_usage(config.inventory.lines_by_id[line]) == usage_charge


NOV_1, NOV_15, NOV_16, NOV_30 = (dt.date(2026, 11, n) for n in (1, 15, 16, 30))


def _rows(*rows: tuple[str, str, dt.date, dt.date, str]) -> list:
    return [
        row("NOV-1", ChargeType(kind), amount, circuit=circuit, start=a, end=b, invoice_date=NOV_30)
        for circuit, kind, a, b, amount in rows
    ]


CORRECT_BURST = [
    ("C-2", "monthly_recurring", NOV_1, NOV_30, "260.00"),
    ("C-2", "usage", NOV_1, NOV_30, "95.00"),
    ("C-3", "monthly_recurring", NOV_1, NOV_30, "300.00"),
    ("C-3", "usage", NOV_1, NOV_30, "134.20"),
    ("C-5", "monthly_recurring", NOV_1, NOV_30, "310.00"),
]


@pytest.mark.parametrize(
    ("flat_rows", "expected"),
    [
        pytest.param(
            [("C-1", "monthly_recurring", NOV_1, NOV_30, "100.00")],
            [(AuditRule.PRORATION_MISMATCH, D("-30.00"), "gives 130.00 EUR")],
            id="old-mrc-for-the-whole-month-is-flagged",
        ),
        pytest.param(
            [("C-1", "monthly_recurring", NOV_1, NOV_30, "160.00")],
            [(AuditRule.PRORATION_MISMATCH, D("30.00"), "2026-11-16..2026-11-30 at 160.00 EUR/month")],
            id="new-mrc-for-the-whole-month-is-flagged",
        ),
        pytest.param(
            [
                ("C-1", "monthly_recurring", NOV_1, NOV_15, "50.00"),
                ("C-1", "monthly_recurring", NOV_16, NOV_30, "50.00"),
            ],
            [(AuditRule.PRORATION_MISMATCH, D("-30.00"), "gives 80.00 EUR")],
            id="old-mrc-after-the-change-is-flagged-on-its-row",
        ),
        pytest.param(
            [("C-1", "monthly_recurring", NOV_1, NOV_30, "130.00")], [], id="prorated-month-accepted"
        ),
        pytest.param(
            [
                ("C-1", "monthly_recurring", NOV_1, NOV_15, "50.00"),
                ("C-1", "monthly_recurring", NOV_16, NOV_30, "80.00"),
            ],
            [],
            id="two-rows-at-old-and-new-terms-accepted",
        ),
    ],
)
def test_audit_expects_the_prorated_amount(november: Any, flat_rows: list, expected: list) -> None:
    config, usage = november
    inv = invoice("NOV-1", _rows(*flat_rows, *CORRECT_BURST))
    findings = Auditor(config=config, invoices=[inv], period=NOV, usage=usage).run()
    got = [(f.rule, f.amount_at_stake, f.reason) for f in findings if f.line in LINES]
    assert [(rule, amount) for rule, amount, _ in got] == [(rule, amount) for rule, amount, _ in expected]
    for (_, _, reason), (_, _, part) in zip(got, expected, strict=True):
        assert part in reason


def test_usage_billed_against_the_months_p95_is_flagged_with_the_segments(november: Any) -> None:
    config, usage = november
    wrong = [
        r if r[:2] != ("C-2", "usage") else ("C-2", "usage", NOV_1, NOV_30, "90.00") for r in CORRECT_BURST
    ]
    inv = invoice("NOV-1", _rows(("C-1", "monthly_recurring", NOV_1, NOV_30, "130.00"), *wrong))
    findings = [f for f in Auditor(config=config, invoices=[inv], period=NOV, usage=usage).run() if f.line]
    [finding] = [f for f in findings if f.line in LINES]
    assert (finding.rule, finding.line, finding.amount_at_stake) == (
        AuditRule.USAGE_MISMATCH,
        "L-BURST",
        D("-5.00"),
    )
    assert "2026-11-01..2026-11-15 (0.5000 of the month): 95th percentile 150.00 Mbit/s against a 100.00" in (
        finding.reason
    )


def test_run_exports_one_row_per_segment(tmp_path: Path, influx_db: tuple[str, str]) -> None:
    from openpyxl import load_workbook

    url, database = influx_db
    cfg = write_config_tree(tmp_path / "cfg", influx_url=url, database=database, contracts=CONTRACTS)
    _seed(url, database)
    report = run_period(load_settings(cfg), NOV, out_dir=tmp_path / "out", progress_enabled=False)
    expected = {lc.line: lc.expected_amount for lc in report.lines if lc.line in LINES}
    assert expected == {"L-FLAT": D("130.00"), "L-BURST": D("355.00"), "L-VOL": D("434.20")}
    sheet = load_workbook(tmp_path / "out" / "billing-2026-11.xlsx")["Contract changes"]
    rows = [r[:8] + (r[11],) for r in sheet.iter_rows(min_row=2, values_only=True)]
    first, second = dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 16)
    last_first, last = dt.datetime(2026, 11, 15), dt.datetime(2026, 11, 30)
    assert rows == [
        ("L-FLAT", CARRIER, "EUR", first, last_first, 15, 100.0, 50.0, 0.0),
        ("L-FLAT", CARRIER, "EUR", second, last, 15, 160.0, 80.0, 0.0),
        ("L-BURST", CARRIER, "EUR", first, last_first, 15, 200.0, 100.0, 50.0),
        ("L-BURST", CARRIER, "EUR", second, last, 15, 320.0, 160.0, 45.0),
        ("L-VOL", CARRIER, "EUR", first, last_first, 15, 300.0, 150.0, 79.6),
        ("L-VOL", CARRIER, "EUR", second, last, 15, 300.0, 150.0, 54.6),
    ]
