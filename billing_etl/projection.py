"""Projected end-of-period bill of a burstable or volume-quota line: the month so far plus the forecast.

Finance and engineers want to see an overage coming before the invoice does. For a line billed on its 95th
percentile (``burstable_95th``) or on its volume (``volume_quota``) the month's bill depends on days that have not
happened yet; this module fills them in and prices the whole month **with the audit's own pricing code**
(:func:`billing_etl.audit.expected_mrc`, :func:`~billing_etl.audit.expected_usage_charge`,
:func:`billing_etl.proration.usage_segments`), so a projection and the later audit of the invoice cannot disagree
on how a month is priced.

How the days still to come are filled in (docs/trends.md, "Projections"):

* The month so far is the line's complete UTC days of the period before today: their 5-minute values in the
  contract's direction (burstable) or their bytes (quota), as measured.
* Each later day of the period (today included) is the **same weekday of the last seven complete days**
  (weekday/weekend shape and office hours kept), scaled by the forecast's growth: ``1 + g·Δ/30/B`` with ``g`` the
  forecast's growth in percentage points per 30 days, ``Δ`` the days between the day and its reference day and
  ``B`` the reference week's mean busy-hour utilization (a line growing 3 points a month from 60 % grows 5 % a
  month). Without a forecast (history too short) ``g`` is 0: the last week repeated.
* The projected 95th percentile is the billed value of all the month's 5-minute values, actual and projected
  (``burstable_p95``: the top 5 % dropped), the projected volume the sum of the days' bytes; both priced as the
  audit prices a month (a contract change inside the month: each usage segment on its own).

Pure: the trends job (:mod:`billing_etl.trends`) queries the samples.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from billing_etl.audit import ZERO, expected_mrc, expected_usage_charge
from billing_etl.config import Burstable, Contract, VolumeQuota
from billing_etl.model import Period, money
from billing_etl.proration import commit_on, usage_segments
from billing_etl.usage import LineUsage, SegmentUsage, burstable_p95, service_days
from linewatch.choices import BillingModel, UsageDirection
from linewatch.inventory import Line

__all__ = ["Projection", "growth_scale", "project_line", "projected_days", "reference_day"]

_DAY = dt.timedelta(days=1)
REFERENCE_DAYS = 7  # the complete days before today whose weekdays stand in for the days to come


@dataclass(frozen=True)
class Projection:
    """A line's month: what it has cost so far, what it will cost at the end, what the contract fixes.

    Amounts in ``currency`` (rounded to its minor unit). ``contracted_amount``: the recurring charge for the
    month's days in service (what the bill is without any usage charge); ``projected_amount``: that plus the
    projected usage charge; ``month_to_date_amount``: the recurring charge's share of the days so far plus the
    usage charge those days alone would already cost (their 95th percentile above the commit, their GB above the
    whole month's allowance)."""

    line: str
    period: Period
    billing_model: BillingModel
    currency: str
    commit_bps: int | None
    included_gb: float | None
    projected_p95_bps: float | None
    projected_volume_gb: float | None
    month_to_date_p95_bps: float | None
    month_to_date_volume_gb: float | None
    month_to_date_amount: Decimal
    projected_amount: Decimal
    contracted_amount: Decimal
    actual_days: int
    projected_days: int
    unprojected_days: int  # days to come without a reference day (no data in the last week): counted as empty

    @property
    def overage_amount(self) -> Decimal:
        """The projected usage charge: what the month will cost above the contract's fixed part."""
        return self.projected_amount - self.contracted_amount


def reference_day(day: dt.date, today: dt.date, available: Sequence[dt.date] | set[dt.date]) -> dt.date | None:
    """The day of the last :data:`REFERENCE_DAYS` complete days (before ``today``) that stands in for ``day``
    (today or later): the same weekday; when that one has no data, the nearest available day of the same kind
    (weekday / weekend), else the nearest available day; None without any."""
    window = {today - _DAY * k for k in range(1, REFERENCE_DAYS + 1)}
    have = sorted(d for d in available if d in window)
    if not have:
        return None
    weeks = (day - today).days // 7 + 1
    same = day - _DAY * 7 * weeks
    if same in have:
        return same
    weekend = day.weekday() >= 5
    kind = [d for d in have if (d.weekday() >= 5) == weekend] or have
    return min(kind, key=lambda d: (abs((d - same).days), d))


def growth_scale(day: dt.date, ref: dt.date, *, growth_pct_per_month: float | None,
                 level_pct: float | None) -> float:
    """How much bigger ``day`` is than its reference day ``ref`` under the forecast's trend: ``1 + g·Δ/30/B``
    (never below 0); 1 without a growth, or when the reference level is not a positive number."""
    g = growth_pct_per_month
    if g is None or level_pct is None or not math.isfinite(g) or not math.isfinite(level_pct) or level_pct <= 0:
        return 1.0
    return max(0.0, 1.0 + g * (day - ref).days / 30.0 / level_pct)


def projected_days(
    days: Sequence[dt.date],
    today: dt.date,
    values: Mapping[dt.date, object],
    *,
    growth_pct_per_month: float | None,
    level_pct: float | None,
) -> dict[dt.date, tuple[dt.date, float]]:
    """For each of ``days`` (today or later): its reference day and scale (days without a reference are left
    out). ``values``: what is known per complete day (only the keys are used)."""
    out = {}
    for day in days:
        ref = reference_day(day, today, set(values))
        if ref is not None:
            out[day] = (ref, growth_scale(day, ref, growth_pct_per_month=growth_pct_per_month, level_pct=level_pct))
    return out


def _usage(line: str, period: Period, direction: UsageDirection, samples: np.ndarray, volume_bytes: float,
           segments: tuple[SegmentUsage, ...] = ()) -> LineUsage:
    """A :class:`LineUsage` holding only what pricing reads: N, the 95th percentile, the volume, the segments."""
    n = int(samples.size)
    p95 = burstable_p95(np.sort(samples)[::-1].tolist(), n) if n else None
    return LineUsage(
        line=line, period=str(period), direction=direction.value, samples_5m=n or (1 if volume_bytes else 0),
        p95_bps=p95, in_bytes=float(volume_bytes), out_bytes=0.0, mean_in_bps=None, mean_out_bps=None,
        peak_util_pct=None, capacity_bps=None, down_minutes=0.0, no_data_minutes=0.0, availability_pct=None,
        segments=segments,
    )


def _priced(contract: Contract, line: Line, period: Period, first: dt.date, last: dt.date,
            samples: Mapping[dt.date, np.ndarray], day_bytes: Mapping[dt.date, float]) -> tuple[LineUsage, Decimal]:
    """The usage of the days ``first..last`` (from per-day samples and bytes) and its price: recurring charge
    plus usage charge, as the audit computes it for a month."""
    direction = contract.billing.direction if isinstance(contract.billing, Burstable) else UsageDirection.MAX
    segments = usage_segments(contract, line, first, last)

    def measure(a: dt.date, b: dt.date) -> tuple[np.ndarray, float]:
        days = [a + _DAY * k for k in range((b - a).days + 1)]
        arrays = [samples[d] for d in days if d in samples]
        values = np.concatenate(arrays) if arrays else np.empty(0)
        return values, float(sum(day_bytes.get(d, 0.0) for d in days))

    values, volume = measure(first, last)
    parts: tuple[SegmentUsage, ...] = ()
    if len(segments) > 1:
        measured = []
        for seg in segments:
            v, b = measure(seg.first, seg.last)
            n = int(v.size) or (1 if b else 0)
            measured.append(SegmentUsage(
                first_day=seg.first.isoformat(), last_day=seg.last.isoformat(), samples_5m=n,
                p95_bps=burstable_p95(np.sort(v)[::-1].tolist(), int(v.size)) if v.size else None,
                in_bytes=b, out_bytes=0.0,
            ))
        parts = tuple(measured)
    usage = _usage(line.id, period, direction, values, volume, parts)
    usage_amount = expected_usage_charge(contract, usage, segments) if usage.has_data else None
    return usage, expected_mrc(contract, first, last) + (usage_amount or ZERO)


def project_line(
    *,
    line: Line,
    contract: Contract,
    period: Period,
    today: dt.date,
    samples_bps: Mapping[dt.date, np.ndarray],
    day_bytes: Mapping[dt.date, float],
    growth_pct_per_month: float | None,
    level_pct: float | None,
) -> Projection | None:
    """The projection of ``line``'s bill for ``period`` (the month holding ``today``), or None when the contract
    bills no usage (flat) or the line is not in service in the period.

    ``samples_bps``: per complete UTC day (the month's days before today and the last seven days) the line's
    5-minute values in the contract's direction, bit/s (burstable lines); ``day_bytes``: per such day the bytes
    moved in + out (quota lines). ``growth_pct_per_month``: the forecast's growth (None: no forecast);
    ``level_pct``: the reference week's mean busy-hour utilization."""
    billing = contract.billing
    if not isinstance(billing, Burstable | VolumeQuota):
        return None
    days_in_service = service_days(line, period)
    if days_in_service is None:
        return None
    first, last = days_in_service
    burstable = isinstance(billing, Burstable)
    known: Mapping[dt.date, object] = samples_bps if burstable else day_bytes
    past_last = min(last, today - _DAY)
    future = [d for d in (max(first, today) + _DAY * k for k in range((last - max(first, today)).days + 1))]
    plan = projected_days(future, today, known, growth_pct_per_month=growth_pct_per_month, level_pct=level_pct)
    samples: dict[dt.date, np.ndarray] = {}
    volumes: dict[dt.date, float] = {}
    past = [first + _DAY * k for k in range((past_last - first).days + 1)] if past_last >= first else []
    for d in past:
        if d in samples_bps:
            samples[d] = np.asarray(samples_bps[d], dtype=float)
        if d in day_bytes:
            volumes[d] = float(day_bytes[d])
    mtd_samples, mtd_volumes = dict(samples), dict(volumes)
    for d, (ref, scale) in plan.items():
        if ref in samples_bps:
            samples[d] = np.asarray(samples_bps[ref], dtype=float) * scale
        if ref in day_bytes:
            volumes[d] = float(day_bytes[ref]) * scale
    currency = contract.currency
    projected, projected_amount = _priced(contract, line, period, first, last, samples, volumes)
    if past:
        so_far, mtd_amount = _priced(contract, line, period, first, past[-1], mtd_samples, mtd_volumes)
    else:
        so_far, mtd_amount = None, ZERO
    terms = contract.terms_on(last).billing
    gb_bytes = terms.gb_unit.bytes if isinstance(terms, VolumeQuota) else None

    def gb(usage: LineUsage | None) -> float | None:
        return None if gb_bytes is None or usage is None else (usage.in_bytes + usage.out_bytes) / float(gb_bytes)

    return Projection(
        line=line.id,
        period=period,
        billing_model=billing.model,
        currency=currency,
        commit_bps=commit_on(contract, line, last) if burstable else None,
        included_gb=float(terms.included_gb) if isinstance(terms, VolumeQuota) else None,
        projected_p95_bps=projected.p95_bps if burstable else None,
        projected_volume_gb=gb(projected),
        month_to_date_p95_bps=so_far.p95_bps if burstable and so_far is not None else None,
        month_to_date_volume_gb=gb(so_far),
        month_to_date_amount=money(mtd_amount, currency),
        projected_amount=money(projected_amount, currency),
        contracted_amount=money(expected_mrc(contract, first, last), currency),
        actual_days=len(past),
        projected_days=len(plan),
        unprojected_days=len(future) - len(plan),
    )
