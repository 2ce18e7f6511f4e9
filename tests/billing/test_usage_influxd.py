"""Usage measured in a real InfluxDB: 95th percentile, volume, availability against figures computed by hand.

October 2026 has 31 × 288 = 8,928 five-minute buckets; the seeded traffic is built so each expected figure
follows from a few lines of arithmetic written out here, not from the code under test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from billing_etl.model import Period
from billing_etl.usage import burstable_p95, measure_usage, service_windows
from linewatch.choices import UsageDirection
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points

OCT = Period(2026, 10)
BUCKETS = 8928
MBPS = 1_000_000


def _point(
    line: str, t: int, *, in_bps: float, out_bps: float, interval_s: float, oper: int = 1, admin: int = 1
) -> Point:
    return Point(
        "line_traffic",
        {"line": line, "carrier": "Acme"},
        {
            "in_bps": in_bps,
            "out_bps": out_bps,
            "in_util_pct": in_bps / (100 * MBPS) * 100,
            "out_util_pct": out_bps / (100 * MBPS) * 100,
            "capacity_bps": 100 * MBPS,
            "oper_status": oper,
            "admin_status": admin,
            "interval_s": interval_s,
        },
        t * 10**9,
    )


def seed() -> Iterator[Point]:
    # A: 5-minute samples all month. out bursts to 500 Mbit/s in 446 samples (= ⌊0.05 × 8928⌋, the top 5 %
    # that is dropped), one sample at 90 Mbit/s, the rest 10 in / 20 out. 12 samples oper-down (admin up) = 60
    # min down; one sample admin-down is the customer's doing, not downtime.
    for i in range(BUCKETS):
        t = OCT.start_s + i * 300
        out = 500 * MBPS if i < 446 else 90 * MBPS if i == 446 else 20 * MBPS
        oper = 2 if 1000 <= i < 1012 else 1
        admin, oper = (2, 2) if i == 2000 else (1, oper)
        yield _point("A", t, in_bps=10 * MBPS, out_bps=out, interval_s=300, oper=oper, admin=admin)
    # B ("in" direction): 8,911 samples (17 buckets without data = 85 min). ⌊0.05 × 8911⌋ = 445 samples
    # dropped: 445 at 400 Mbit/s, then 80 (the billed value), 70, and 10 for the rest. InfluxQL's PERCENTILE
    # would round the rank (0.95 × 8911 = 8465.45) and answer 70.
    for i in range(8911):
        t = OCT.start_s + (i + 17) * 300
        value = 400 * MBPS if i < 445 else 80 * MBPS if i == 445 else 70 * MBPS if i == 446 else 10 * MBPS
        yield _point("B", t, in_bps=value, out_bps=1 * MBPS, interval_s=300)
    # C: one-minute samples on October 1st only, constant 8 Mbit/s both ways; 7 samples down = 7 minutes.
    for i in range(1440):
        yield _point(
            "C",
            OCT.start_s + i * 60,
            in_bps=8 * MBPS,
            out_bps=8 * MBPS,
            interval_s=60,
            oper=2 if 600 <= i < 607 else 1,
        )
    # D: one sample just before the period and one at its end: outside, never counted.
    yield _point("D", OCT.start_s - 1, in_bps=MBPS, out_bps=MBPS, interval_s=60)
    yield _point("D", OCT.end_s, in_bps=MBPS, out_bps=MBPS, interval_s=60)


@pytest.fixture(scope="module")
def usage(influxd) -> Iterator[dict]:
    import uuid

    settings = InfluxSettings(url=influxd.url, database=f"lw_usage_{uuid.uuid4().hex[:8]}")
    with InfluxClient(settings) as client:
        client.ensure_database()
        points = list(seed())
        for start in range(0, len(points), 5000):
            client.write(encode_points(points[start : start + 5000]))
        directions = {
            "A": UsageDirection.MAX,
            "B": UsageDirection.IN,
            "C": UsageDirection.OUT,
            "D": UsageDirection.MAX,
        }
        yield measure_usage(client, OCT, ["A", "B", "C", "D", "E"], directions)
        client.query(f'DROP DATABASE "{settings.database}"', database="")


@pytest.mark.parametrize(
    ("line", "p95_mbps", "samples"),
    [
        pytest.param("A", 90, BUCKETS, id="max-direction-top-5pct-dropped"),
        pytest.param("B", 80, 8911, id="in-direction-rank-not-rounded"),
        pytest.param("C", 8, 288, id="one-minute-samples-averaged-per-5-minutes"),
    ],
)
def test_95th_percentile(usage: dict, line: str, p95_mbps: float, samples: int) -> None:
    assert usage[line].samples_5m == samples
    assert usage[line].p95_bps == pytest.approx(p95_mbps * MBPS)


@pytest.mark.parametrize(
    ("line", "in_bytes", "out_bytes"),
    [
        pytest.param(
            "A",
            BUCKETS * 10 * MBPS * 300 / 8,
            (446 * 500 + 90 + (BUCKETS - 447) * 20) * MBPS * 300 / 8,
            id="five-minute-samples",
        ),
        pytest.param("C", 1440 * 8 * MBPS * 60 / 8, 1440 * 8 * MBPS * 60 / 8, id="one-minute-samples"),
    ],
)
def test_volume_is_rate_times_interval(usage: dict, line: str, in_bytes: float, out_bytes: float) -> None:
    assert usage[line].in_bytes == pytest.approx(in_bytes)
    assert usage[line].out_bytes == pytest.approx(out_bytes)


@pytest.mark.parametrize(
    ("line", "down_min", "no_data_min", "availability"),
    [
        pytest.param("A", 60, 0, 100 * (1 - 60 / (BUCKETS * 5)), id="oper-down-admin-up-counts"),
        pytest.param("B", 0, 17 * 5, 100.0, id="missing-buckets-are-no-data-not-downtime"),
        pytest.param("C", 7, (BUCKETS - 288) * 5, 100 * (1 - 7 / 1440), id="one-minute-spacing"),
    ],
)
def test_availability(
    usage: dict, line: str, down_min: float, no_data_min: float, availability: float
) -> None:
    assert usage[line].down_minutes == pytest.approx(down_min)
    assert usage[line].no_data_minutes == pytest.approx(no_data_min)
    assert usage[line].availability_pct == pytest.approx(availability)


def test_mean_and_peak(usage: dict) -> None:
    assert usage["A"].mean_in_bps == pytest.approx(10 * MBPS)
    assert usage["A"].peak_util_pct == pytest.approx(500.0)
    assert usage["A"].capacity_bps == 100 * MBPS


@pytest.mark.parametrize("line", ["D", "E"], ids=["only-points-outside-the-period", "no-points-at-all"])
def test_line_without_data_in_the_period(usage: dict, line: str) -> None:
    u = usage[line]
    assert (u.has_data, u.p95_bps, u.in_bytes, u.availability_pct) == (False, None, 0.0, None)
    assert u.no_data_minutes == BUCKETS * 5


@pytest.mark.parametrize(
    ("values", "samples", "expected"),
    [
        pytest.param([5.0], 1, 5.0, id="one-sample"),
        pytest.param([9.0, 8.0], 20, 8.0, id="twenty-samples-drop-one"),
        pytest.param([9.0, 8.0], 19, 9.0, id="nineteen-samples-drop-none"),
        pytest.param([], 0, None, id="no-samples"),
    ],
)
def test_burstable_p95_rank(values: list[float], samples: int, expected: float | None) -> None:
    assert burstable_p95(values, samples) == expected


# -- availability over the days in service only (issue 9) ------------------------------------------------------
# Every line is polled all October, and its interface is down (admin up) whenever it is not in service:
# L-NEW before its install on Oct 11, L-TERM after its termination on Oct 15, L-GONE (decommissioned in
# September) all month. In service, L-NEW is down for 6 five-minute samples (30 min), L-TERM for 2 (10 min).
NEW_FIRST = 10 * 288  # index of the first sample on Oct 11
TERM_LAST = 15 * 288  # index of the first sample after Oct 15


def _service_seed() -> Iterator[Point]:
    for i in range(BUCKETS):
        t = OCT.start_s + i * 300
        new_down = i < NEW_FIRST or NEW_FIRST + 100 <= i < NEW_FIRST + 106
        term_down = i >= TERM_LAST or 500 <= i < 502
        for line, down in (("L-NEW", new_down), ("L-TERM", term_down), ("L-GONE", True)):
            yield _point(line, t, in_bps=MBPS, out_bps=MBPS, interval_s=300, oper=2 if down else 1)


@pytest.fixture(scope="module")
def service_lines() -> list:
    from billing_support import billing_config

    from linewatch.choices import LineStatus

    lines = billing_config().inventory.lines
    gone = lines[0].model_copy(
        update={
            "id": "L-GONE",
            "termination_date": dt.date(2026, 9, 30),
            "status": LineStatus.DECOMMISSIONED,
        }
    )
    return [*lines, gone]


@pytest.fixture(scope="module")
def service_usage(influxd, service_lines: list) -> Iterator[tuple[dict, dict]]:
    """(usage measured over the days in service, usage measured over the whole month)."""
    import uuid

    settings = InfluxSettings(url=influxd.url, database=f"lw_service_{uuid.uuid4().hex[:8]}")
    with InfluxClient(settings) as client:
        client.ensure_database()
        points = list(_service_seed())
        for start in range(0, len(points), 5000):
            client.write(encode_points(points[start : start + 5000]))
        lines = ["L-NEW", "L-TERM", "L-GONE"]
        yield (
            measure_usage(client, OCT, lines, service=service_windows(service_lines, OCT)),
            measure_usage(client, OCT, lines),
        )
        client.query(f'DROP DATABASE "{settings.database}"', database="")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "down_min", "availability"),
    [
        pytest.param("L-NEW", 30, 100 * (1 - 30 / (21 * 288 * 5)), id="installed-mid-month-from-install"),
        pytest.param("L-TERM", 10, 100 * (1 - 10 / (15 * 288 * 5)), id="terminated-mid-month-until-then"),
        pytest.param("L-GONE", 0, None, id="decommissioned-has-no-availability"),
    ],
)
def test_availability_counts_only_days_in_service(
    service_usage: tuple[dict, dict], line: str, down_min: float, availability: float | None
) -> None:
    measured, whole_month = service_usage
    u = measured[line]
    assert u.availability_pct == (None if availability is None else pytest.approx(availability))
    assert u.down_minutes == pytest.approx(down_min)
    assert u.no_data_minutes == 0
    assert whole_month[line].availability_pct < 70  # what the month as a whole says: not an outage


@pytest.mark.slow
def test_days_out_of_service_owe_no_sla_credit(service_usage: tuple[dict, dict], service_lines: list) -> None:
    """Measured in InfluxDB and audited: 30 min down in 21 days and 10 min in 15 are within a 99.9 % SLA, so
    no line is owed a credit; measured over the whole month both would have been."""
    import copy
    import dataclasses

    from billing_support import CONTRACTS, billing_config

    from billing_etl.audit import Auditor
    from billing_etl.config import ContractsFile

    contracts = copy.deepcopy(CONTRACTS)
    sla = {"target_pct": 99.9, "credit_tiers": [{"below_pct": 99.9, "credit_pct": 10}]}
    for c in contracts["contracts"]:
        if c["line"] in ("L-NEW", "L-TERM"):
            c["sla"] = sla
    contracts["contracts"].append({"line": "L-GONE", "carrier": "Acme", "mrc": 100, "sla": sla})
    config = billing_config(contracts)
    config = dataclasses.replace(
        config,
        contracts=ContractsFile.model_validate(contracts),
        inventory=config.inventory.model_copy(update={"lines": service_lines}),
    )
    measured, whole_month = service_usage

    def credited(usage: dict) -> set[str]:
        findings = Auditor(config=config, invoices=[], period=OCT, usage=usage).run()
        return {f.line for f in findings if f.rule.value == "sla_credit_owed"}

    assert credited(measured) == set()
    assert credited(whole_month) == {"L-NEW", "L-TERM"}  # never L-GONE: decommissioned is never credited
