"""Usage of lines carried by several interfaces (issue 10), measured in a real InfluxDB.

A line's value in a 5-minute bucket is the sum over its member series (device, interface) of each member's
value in that bucket. The points are written by the real writer (linewatch.influx.PointWriter), one point per
member per poll, tagged as docs/schema.md describes; the expected figures follow from the arithmetic written
out here, not from the code under test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_etl import usage as usage_mod
from billing_etl.model import Period
from billing_etl.usage import measure_p95, measure_usage
from linewatch.choices import LineMemberRole, UsageDirection
from linewatch.influx import InfluxClient, InfluxSettings, Point, PointWriter, SpoolSettings

OCT = Period(2026, 10)
BUCKETS = 8928  # 31 × 288; ⌊0.05 × 8928⌋ = 446 samples dropped, the 447th highest is billed
MBPS = 1_000_000
LAG_CAPACITY_BPS = 200 * MBPS

pytestmark = pytest.mark.slow  # a month of 5-minute points of five lines, and the member-sum statements


def _point(
    line: str,
    member: tuple[str, str, LineMemberRole],
    t: int,
    *,
    in_bps: float,
    interval_s: float = 300,
    oper: int = 1,
    capacity_bps: int = LAG_CAPACITY_BPS,
) -> Point:
    device, interface, role = member
    out_bps = 1 * MBPS
    return Point(
        "line_traffic",
        {
            "line": line,
            "carrier": "Acme",
            "device": device,
            "interface": interface,
            "member_role": role.value,
        },
        {
            "in_bps": in_bps,
            "out_bps": out_bps,
            # a member's utilization is relative to the LINE's capacity: the members' add up to the line's
            "in_util_pct": in_bps / capacity_bps * 100,
            "out_util_pct": out_bps / capacity_bps * 100,
            "capacity_bps": capacity_bps,
            "oper_status": oper,
            "admin_status": 1,
            "interval_s": interval_s,
        },
        t * 10**9,
    )


M1 = ("r1", "xe-0/0/1", LineMemberRole.MEMBER)
M2 = ("r2", "xe-0/0/2", LineMemberRole.MEMBER)
PRIMARY = ("r1", "ge-0/0/5", LineMemberRole.PRIMARY)
BACKUP = ("r2", "ge-0/0/6", LineMemberRole.BACKUP)


def seed() -> Iterator[Point]:
    for i in range(BUCKETS):
        t = OCT.start_s + i * 300
        # LAG: each member bursts to 100 Mbit/s in 600 samples (more than the 446 dropped), overlapping in 300:
        # per bucket the sum is 200 (300 samples), 110 (600), 20 (the rest). p95 of the sum = 110; each member's
        # p95 = 100, their sum 200; the mean of the members per bucket gives 100 / 55 / 10, its p95 = 55.
        yield _point("LAG", M1, t, in_bps=(100 if i < 600 else 10) * MBPS)
        yield _point("LAG", M2, t, in_bps=(100 if 300 <= i < 900 else 10) * MBPS)
        # PB: the primary is down (admin up) for 100 samples; the backup carries the traffic meanwhile.
        primary_down = 1000 <= i < 1100
        yield _point("PB", PRIMARY, t, in_bps=0 if primary_down else 30 * MBPS, oper=2 if primary_down else 1)
        yield _point("PB", BACKUP, t, in_bps=30 * MBPS if primary_down else 0)
        # BOTH: member 1 down in samples 2000..2019, member 2 in 2008..2031: both down in 12 samples = 60 min.
        yield _point("BOTH", M1, t, in_bps=5 * MBPS, oper=2 if 2000 <= i < 2020 else 1)
        yield _point("BOTH", M2, t, in_bps=5 * MBPS, oper=2 if 2008 <= i < 2032 else 1)
        # S: one member: what the plain per-line statements measure.
        yield _point("S", M1, t, in_bps=(50 if i % 7 else 90) * MBPS, oper=2 if 3000 <= i < 3003 else 1)
    # MIN: one-minute polls on October 1st; member 1 down in minutes 600..609, member 2 in 605..614: both down
    # in minutes 605..609 only (one 5-minute bucket), 5 minutes.
    for i in range(1440):
        t = OCT.start_s + i * 60
        yield _point("MIN", M1, t, in_bps=MBPS, interval_s=60, oper=2 if 600 <= i < 610 else 1)
        yield _point("MIN", M2, t, in_bps=MBPS, interval_s=60, oper=2 if 605 <= i < 615 else 1)


LINES = ["LAG", "PB", "BOTH", "S", "MIN"]


@pytest.fixture(scope="module")
def client(influxd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxClient]:
    spool = tmp_path_factory.mktemp("spool")
    settings = InfluxSettings(
        url=influxd.url,
        database=f"lw_members_{uuid.uuid4().hex[:8]}",
        timeout_s=120,
        spool=SpoolSettings(path=Path(spool)),
    )
    with PointWriter.from_settings(settings) as writer:
        writer.client.ensure_database()
        writer.write(list(seed()))
        stats = writer.stats()
        assert (stats.spooled_batches, stats.dropped_batches) == (0, 0)
    with InfluxClient(settings) as c:
        yield c
        c.query(f'DROP DATABASE "{settings.database}"', database="")


@pytest.fixture(scope="module")
def usage(client: InfluxClient) -> dict:
    return measure_usage(client, OCT, LINES)


def test_lag_p95_is_percentile_of_member_sum_not_mean(usage: dict) -> None:
    """p95 of the per-bucket sum (110), not the mean of the members (55, what GROUP BY "line" with MEAN gave)
    nor the sum of the members' p95s (200)."""
    assert usage["LAG"].samples_5m == BUCKETS
    assert usage["LAG"].p95_bps == pytest.approx(110 * MBPS)


@pytest.mark.parametrize(
    "direction",
    [pytest.param(d, id=d.value) for d in (UsageDirection.IN, UsageDirection.SUM, UsageDirection.MAX)],
)
def test_lag_p95_of_member_sum_in_every_direction(client: InfluxClient, direction: UsageDirection) -> None:
    out_mbps = {UsageDirection.IN: 0, UsageDirection.SUM: 2, UsageDirection.MAX: 0}[direction]
    [(samples, p95)] = measure_p95(client, OCT, {"LAG": direction}).values()
    assert (samples, p95) == (BUCKETS, pytest.approx((110 + out_mbps) * MBPS))


def test_lag_mean_rate_is_sum_of_member_means(usage: dict) -> None:
    m1 = (600 * 100 + (BUCKETS - 600) * 10) / BUCKETS
    m2 = (600 * 100 + (BUCKETS - 600) * 10) / BUCKETS
    assert usage["LAG"].mean_in_bps == pytest.approx((m1 + m2) * MBPS)
    assert usage["LAG"].mean_out_bps == pytest.approx(2 * MBPS)


def test_lag_peak_utilization_is_peak_of_member_sum(usage: dict) -> None:
    """200 Mbit/s on a 200 Mbit/s line is 100 %; each member alone peaks at 50 %."""
    assert usage["LAG"].peak_util_pct == pytest.approx(100.0)
    assert usage["LAG"].capacity_bps == LAG_CAPACITY_BPS


def test_lag_volume_counts_every_member(usage: dict) -> None:
    per_member_bits = (600 * 100 + (BUCKETS - 600) * 10) * MBPS * 300
    assert usage["LAG"].in_bytes == pytest.approx(2 * per_member_bits / 8)
    assert usage["LAG"].out_bytes == pytest.approx(2 * BUCKETS * MBPS * 300 / 8)


@pytest.mark.parametrize(
    ("line", "down_min", "availability"),
    [
        pytest.param("PB", 0, 100.0, id="primary-down-backup-up-is-available"),
        pytest.param("LAG", 0, 100.0, id="lag-all-up"),
        pytest.param("BOTH", 60, 100 * (1 - 60 / (BUCKETS * 5)), id="down-only-while-both-members-down"),
        pytest.param("MIN", 5, 100 * (1 - 5 / 1440), id="one-minute-polls-overlap-of-the-members"),
        pytest.param("S", 15, 100 * (1 - 15 / (BUCKETS * 5)), id="single-member"),
    ],
)
def test_line_is_down_only_when_all_members_are_down(
    usage: dict, line: str, down_min: float, availability: float
) -> None:
    assert usage[line].down_minutes == pytest.approx(down_min)
    assert usage[line].availability_pct == pytest.approx(availability)
    assert usage[line].no_data_minutes == (0 if line != "MIN" else (BUCKETS - 288) * 5)


def test_availability_in_service_days_follows_all_members_down(client: InfluxClient) -> None:
    """The days-in-service window (a line installed mid-month) counts the same way: only BOTH's 12 samples."""
    start_s = OCT.start_s + 86400  # from October 2nd
    counted, members = usage_mod._availability_counts(client, start_s, OCT.end_s, ["PB", "BOTH"])
    assert (members["PB"].series, members["BOTH"].series) == (2, 2)
    assert (counted["PB"].down, counted["BOTH"].down) == (0, 12)
    assert counted["BOTH"].samples == BUCKETS - 288


def test_single_member_line_same_figures_through_member_sum_statements(client: InfluxClient) -> None:
    """The member-sum statements give a single-member line the plain statements' figures (why the plain ones,
    cheaper in InfluxDB 1.x, may measure such lines)."""
    for direction in UsageDirection:
        plain = measure_p95(client, OCT, {"S": direction}, multi=[])
        summed = measure_p95(client, OCT, {"S": direction}, multi=["S"])
        assert summed == plain, direction
    [plain_down] = client.query(usage_mod.availability_statements(OCT.start_s, OCT.end_s, ["S"])[1])
    [summed_down] = client.query(usage_mod.member_down_statement(OCT.start_s, OCT.end_s, ["S"]))
    assert plain_down["values"][0][1] == summed_down["values"][0][1] == 3
    [plain_stats] = client.query(
        usage_mod.stats_statements(OCT)[1].replace('GROUP BY "line"', "AND \"line\" = 'S'")
    )
    summed_peaks = [client.query(q)[0]["values"][0][1] for q in usage_mod.member_peak_statements(OCT, ["S"])]
    assert summed_peaks == pytest.approx(plain_stats["values"][0][1:3])
