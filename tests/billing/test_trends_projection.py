"""Projected end-of-period bills (billing_etl.projection), pure: the month so far plus the last week's weekdays
scaled by the forecast's growth, priced by the audit's own code. Every expected figure is worked out by hand in
the test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from billing_etl.config import Burstable, Contract, ContractChange, Flat, VolumeQuota
from billing_etl.model import Period
from billing_etl.projection import growth_scale, project_line, reference_day
from linewatch.choices import BillingModel, GbUnit, LineType
from linewatch.inventory import Line

NOV = Period(2026, 11)  # 30 days, 1 November 2026 is a Sunday
MBPS = 1_000_000
PER_DAY = 288
D = dt.timedelta(days=1)


def _line(**kw) -> Line:
    return Line(id="L1", carrier="Acme", circuit_id="C1", type=LineType.INTERNET, site="Paris", department="IT",
                capacity_bps=100 * MBPS, device="r1", interface="ge-0/0/0", **kw)


def _burstable(**kw) -> Contract:
    return Contract(line="L1", carrier="Acme", currency="EUR", mrc=Decimal(1000),
                    billing=Burstable(model=BillingModel.BURSTABLE_95, price_per_mbps=Decimal(9)), **kw)


def _quota() -> Contract:
    return Contract(line="L1", carrier="Acme", currency="EUR", mrc=Decimal(600),
                    billing=VolumeQuota(model=BillingModel.VOLUME_QUOTA, included_gb=Decimal(1000),
                                        price_per_gb=Decimal("0.5"), gb_unit=GbUnit.DECIMAL))


def _flat_days(first: dt.date, last: dt.date, mbps: float) -> dict[dt.date, np.ndarray]:
    out, d = {}, first
    while d <= last:
        out[d] = np.full(PER_DAY, mbps * MBPS)
        d += D
    return out


@pytest.mark.parametrize(
    ("day", "available", "expected"),
    [
        pytest.param(dt.date(2026, 11, 16), None, dt.date(2026, 11, 9), id="today-same-weekday-last-week"),
        pytest.param(dt.date(2026, 11, 30), None, dt.date(2026, 11, 9), id="two-weeks-on-same-weekday"),
        pytest.param(dt.date(2026, 11, 21), {dt.date(2026, 11, 16) - D * k for k in range(1, 8)} - {dt.date(2026, 11, 14)},
                     dt.date(2026, 11, 15), id="missing-saturday-takes-the-sunday"),
        pytest.param(dt.date(2026, 11, 17), {dt.date(2026, 11, 14), dt.date(2026, 11, 15)},
                     dt.date(2026, 11, 14), id="only-weekend-known-takes-nearest"),
        pytest.param(dt.date(2026, 11, 17), set(), None, id="no-data-no-reference"),
    ],
)
def test_reference_day_is_the_same_weekday_of_the_last_week(day, available, expected):
    today = dt.date(2026, 11, 16)
    if available is None:
        available = {today - D * k for k in range(1, 8)}
    assert reference_day(day, today, available) == expected


@pytest.mark.parametrize(
    ("growth", "level", "delta_days", "expected"),
    [
        pytest.param(5.0, 50.0, 30, 1.1, id="5-points-a-month-from-50-is-10-percent"),
        pytest.param(None, 50.0, 30, 1.0, id="no-forecast-repeats-last-week"),
        pytest.param(-90.0, 30.0, 30, 0.0, id="never-below-zero"),
        pytest.param(5.0, 0.0, 30, 1.0, id="idle-reference-unscaled"),
    ],
)
def test_growth_scale(growth, level, delta_days, expected):
    ref = dt.date(2026, 11, 1)
    assert growth_scale(ref + D * delta_days, ref, growth_pct_per_month=growth, level_pct=level) == pytest.approx(
        expected)


def test_flat_burstable_line_projects_its_own_p95_and_bill():
    """120 Mbit/s all along on a 100 Mbit/s commit: 20 Mbit/s over at 9 EUR = 180 EUR on top of the 1000 MRC;
    the 15 days so far already cost half the MRC plus the whole burst."""
    today = dt.date(2026, 11, 16)
    p = project_line(line=_line(), contract=_burstable(), period=NOV, today=today,
                     samples_bps=_flat_days(today - 15 * D, today - D, 120), day_bytes={},
                     growth_pct_per_month=0.0, level_pct=120.0)
    assert p is not None
    assert p.projected_p95_bps == pytest.approx(120 * MBPS)
    assert p.projected_amount == Decimal("1180.00")
    assert p.contracted_amount == Decimal("1000.00")
    assert p.overage_amount == Decimal("180.00")
    assert p.month_to_date_amount == Decimal("500.00") + Decimal("180.00")
    assert (p.actual_days, p.projected_days, p.unprojected_days) == (15, 15, 0)
    assert p.commit_bps == 100 * MBPS and p.projected_volume_gb is None


def test_growing_burstable_line_bills_the_grown_weeks():
    """Flat 100 Mbit/s so far, the forecast grows 5 points a month from a 50 % busy hour (1/300 per day): the
    16th–22nd are their last-week days + 7 days (×1.02333), the 23rd–29th + 14 days (×1.04667), the 30th + 21
    days (×1.07). N = 8,640, 432 dropped: the top 288 (1.07) and 144 of the 2,016 at ×1.04667 go; the billed
    value is 104.667 Mbit/s, 4.67 Mbit/s over the commit: 9 × 4.67 = 42.03 EUR."""
    today = dt.date(2026, 11, 16)
    p = project_line(line=_line(), contract=_burstable(), period=NOV, today=today,
                     samples_bps=_flat_days(NOV.first_day, today - D, 100), day_bytes={},
                     growth_pct_per_month=5.0, level_pct=50.0)
    assert p.projected_p95_bps == pytest.approx(100 * MBPS * (1 + 14 / 300))
    assert p.month_to_date_p95_bps == pytest.approx(100 * MBPS)
    assert p.projected_amount == Decimal("1042.03")
    assert p.month_to_date_amount == Decimal("500.00")


def test_quota_line_projects_its_volume():
    """40 GB a day: 15 days so far (600 GB, within the 1000 GB) and 15 more projected = 1200 GB, 200 GB over at
    0.50 EUR."""
    today = dt.date(2026, 11, 16)
    bytes_ = {today - D * k: 40e9 for k in range(1, 16)}
    p = project_line(line=_line(), contract=_quota(), period=NOV, today=today, samples_bps={}, day_bytes=bytes_,
                     growth_pct_per_month=None, level_pct=None)
    assert p.projected_volume_gb == pytest.approx(1200.0)
    assert p.month_to_date_volume_gb == pytest.approx(600.0)
    assert p.projected_amount == Decimal("700.00")
    assert p.month_to_date_amount == Decimal("300.00")
    assert p.included_gb == 1000.0 and p.projected_p95_bps is None


def test_price_change_inside_the_month_prices_each_segment():
    """From the 16th the price per Mbit/s is 18: half the month at 9, half at 18, 20 Mbit/s over all along:
    20 × 9 × 0.5 + 20 × 18 × 0.5 = 270 EUR."""
    today = dt.date(2026, 11, 10)
    contract = _burstable(changes=[ContractChange(effective=dt.date(2026, 11, 16), price_per_mbps=Decimal(18))])
    p = project_line(line=_line(), contract=contract, period=NOV, today=today,
                     samples_bps=_flat_days(NOV.first_day, today - D, 120), day_bytes={},
                     growth_pct_per_month=0.0, level_pct=120.0)
    assert p.projected_amount == Decimal("1270.00")


def test_first_day_of_the_month_projects_from_the_previous_week():
    today = NOV.first_day
    p = project_line(line=_line(), contract=_burstable(), period=NOV, today=today,
                     samples_bps=_flat_days(today - 7 * D, today - D, 120), day_bytes={},
                     growth_pct_per_month=0.0, level_pct=120.0)
    assert (p.actual_days, p.projected_days) == (0, 30)
    assert p.month_to_date_amount == Decimal("0.00")
    assert p.projected_amount == Decimal("1180.00")


def test_no_data_last_week_counts_the_days_to_come_as_empty():
    today = dt.date(2026, 11, 16)
    p = project_line(line=_line(), contract=_burstable(), period=NOV, today=today,
                     samples_bps=_flat_days(NOV.first_day, dt.date(2026, 11, 5), 120), day_bytes={},
                     growth_pct_per_month=None, level_pct=None)
    assert (p.projected_days, p.unprojected_days) == (0, 15)


@pytest.mark.parametrize(
    ("contract", "line"),
    [
        pytest.param(Contract(line="L1", carrier="Acme", currency="EUR", mrc=Decimal(1),
                              billing=Flat(model=BillingModel.FLAT)), _line(), id="flat-contract"),
        pytest.param(_burstable(), _line(install_date=dt.date(2027, 1, 1)), id="not-in-service"),
    ],
)
def test_no_projection(contract, line):
    assert project_line(line=line, contract=contract, period=NOV, today=dt.date(2026, 11, 16), samples_bps={},
                        day_bytes={}, growth_pct_per_month=None, level_pct=None) is None
