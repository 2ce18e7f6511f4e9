"""The finance KPIs as pure functions on plain records (no database): disputes (claimed, recovered, pending,
ageing, recovery rate) per carrier, month and currency; and the record of the payments' figures (on time, late,
overdue, late fees) per carrier, due month and currency. :mod:`web.finance.figures` reads the records from the
database (the payments' figures through :func:`web.invoices.kpis.late_fees`, the invoices' own KPI helper).

Amounts of different currencies are never added up: every group has one currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from linewatch.choices import DisputeState

__all__ = ["AGE_BUCKETS", "DisputeFact", "DisputeKpi", "PaymentKpi", "dispute_kpis", "recovery_rate_pct",
           "totals_by_currency"]

ZERO = Decimal(0)
# (name, first day, last day or None): a dispute's age in days since it was sent to the carrier.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("open_0_30", 0, 30), ("open_31_60", 31, 60), ("open_61_90", 61, 90), ("open_over_90", 91, None))
OPEN_STATES = frozenset({DisputeState.SENT, DisputeState.ANSWERED})


@dataclass(frozen=True, slots=True)
class DisputeFact:
    """One dispute as the KPIs need it. ``month``: its billing period (YYYY-MM, the earliest finding's);
    ``sent_on``: the day it went to the carrier (None while a draft: drafts claim nothing yet)."""

    carrier: str
    currency: str
    month: str
    state: DisputeState
    claimed: Decimal
    recovered: Decimal = ZERO
    sent_on: dt.date | None = None


def age_bucket(age_days: int) -> str:
    """The AGE_BUCKETS name of an open dispute ``age_days`` old."""
    for name, first, last in AGE_BUCKETS:
        if age_days >= first and (last is None or age_days <= last):
            return name
    return AGE_BUCKETS[0][0]  # sent "in the future" (clock skew): the youngest bucket


@dataclass(slots=True)
class DisputeKpi:
    """Disputes of one carrier, month and currency. ``pending``: claimed by disputes still open (sent or
    answered); ``written_off``: claimed minus recovered of resolved ones; ``ageing``: the pending amount by
    AGE_BUCKETS name; ``resolved_claimed``: what the resolved ones had claimed (the recovery rate's base)."""

    carrier: str
    month: str
    currency: str
    disputes: int = 0
    open: int = 0
    claimed: Decimal = ZERO
    recovered: Decimal = ZERO
    pending: Decimal = ZERO
    written_off: Decimal = ZERO
    resolved_claimed: Decimal = ZERO
    ageing: dict[str, Decimal] = field(default_factory=lambda: {name: ZERO for name, _, _ in AGE_BUCKETS})
    open_by_age: dict[str, int] = field(default_factory=lambda: {name: 0 for name, _, _ in AGE_BUCKETS})

    @property
    def recovery_rate_pct(self) -> float | None:
        return recovery_rate_pct(self.recovered, self.resolved_claimed)

    def add(self, other: DisputeKpi) -> None:
        for name in ("disputes", "open", "claimed", "recovered", "pending", "written_off", "resolved_claimed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in self.ageing:
            self.ageing[name] += other.ageing[name]
            self.open_by_age[name] += other.open_by_age[name]


def recovery_rate_pct(recovered: Decimal, resolved_claimed: Decimal) -> float | None:
    """Recovered as a share of what the resolved disputes claimed (None before any is resolved)."""
    return None if not resolved_claimed else float(100 * recovered / resolved_claimed)


def dispute_kpis(disputes: Iterable[DisputeFact], *, today: dt.date) -> list[DisputeKpi]:
    """The disputes sent to carriers (drafts left out) grouped by carrier, month and currency, sorted."""
    groups: dict[tuple[str, str, str], DisputeKpi] = {}
    for d in disputes:
        if d.state == DisputeState.DRAFT or d.sent_on is None:
            continue
        key = (d.month, d.carrier, d.currency)
        kpi = groups.setdefault(key, DisputeKpi(carrier=d.carrier, month=d.month, currency=d.currency))
        kpi.disputes += 1
        kpi.claimed += d.claimed
        if d.state in OPEN_STATES:
            kpi.open += 1
            kpi.pending += d.claimed
            bucket = age_bucket((today - d.sent_on).days)
            kpi.ageing[bucket] += d.claimed
            kpi.open_by_age[bucket] += 1
        else:
            kpi.recovered += d.recovered
            kpi.resolved_claimed += d.claimed
            kpi.written_off += d.claimed - d.recovered
    return [groups[key] for key in sorted(groups)]


def totals_by_currency(kpis: Iterable[DisputeKpi]) -> dict[str, DisputeKpi]:
    """Every carrier and month added up, one total per currency."""
    out: dict[str, DisputeKpi] = {}
    for kpi in kpis:
        out.setdefault(kpi.currency, DisputeKpi(carrier="", month="", currency=kpi.currency)).add(kpi)
    return dict(sorted(out.items()))


@dataclass(slots=True)
class PaymentKpi:
    """Invoices of one carrier, due month (YYYY-MM) and currency: paid on or before the due date, after it, unpaid
    past it, the late fees billed and avoided (:func:`web.finance.figures.payment_kpis`, by H1's
    :func:`web.invoices.kpis.late_fees`)."""

    carrier: str
    month: str
    currency: str
    invoices: int = 0
    paid_on_time: int = 0
    paid_on_time_amount: Decimal = ZERO
    paid_late: int = 0
    paid_late_amount: Decimal = ZERO
    overdue: int = 0
    overdue_amount: Decimal = ZERO
    late_fees_billed: Decimal = ZERO
    late_fees_avoided: Decimal = ZERO
