"""Cost per line and department for a period, and the payments due.

Circuit charges go to their line. Charges without a circuit (taxes, surcharges, account-level late fees and
adjustments) are spread over the circuit charges *of the same invoice* in proportion to their amounts, in
the currency's minor unit, with the rounding remainder on the largest shares (largest-remainder method:
:func:`~billing_etl.model.spread`), so the spread adds up exactly. An invoice with no circuit charge keeps its account-level charges "unallocated" under the carrier.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from billing_etl.audit import (
    UNKNOWN_DEPARTMENT,
    ZERO,
    Auditor,
    Charge,
    Finding,
    active_days,
    expected_mrc,
    invoice_period,
    segment_usage_cost,
    sla_credit,
)
from billing_etl.config import Flat
from billing_etl.model import Invoice, Period, money, spread
from billing_etl.proration import commit_on
from billing_etl.usage import LineUsage


@dataclass(frozen=True)
class LineCost:
    """One row of the Lines sheet: what a line (or a ghost circuit) cost in the period and what it should
    have."""

    line: str
    carrier: str
    circuit_id: str
    site: str
    department: str
    cost_centre: str
    currency: str
    billed_amount: Decimal
    allocated_amount: Decimal
    expected_amount: Decimal | None
    at_stake_amount: Decimal
    commit_bps: int | None
    p95_bps: float | None
    peak_util_pct: float | None
    volume_gb: float | None
    availability_pct: float | None
    down_minutes: float | None
    no_data_minutes: float | None

    @property
    def total_amount(self) -> Decimal:
        return self.billed_amount + self.allocated_amount


@dataclass(frozen=True)
class SegmentCost:
    """One row of the Contract changes sheet: the days of a line's month under one set of terms, for a line
    whose contract (or, without its own commit, capacity) changes inside the period. The Lines sheet keeps one
    row per line (its totals are what the department sums add up); these rows show how its expected amount
    was made. The usage figures are those of the usage segment (blank when the change did not touch the usage
    terms: the month's usage on the Lines row then holds)."""

    line: str
    carrier: str
    currency: str
    first_day: str
    last_day: str
    days: int
    mrc_amount: Decimal  # the MRC per month in force (after discounts)
    expected_mrc_amount: Decimal  # its share for these days
    commit_bps: int
    p95_bps: float | None
    volume_gb: float | None
    expected_usage_amount: Decimal | None


@dataclass(frozen=True)
class DepartmentCost:
    department: str
    cost_centre: str
    currency: str  # one row per currency: amounts in different currencies are never added up
    lines: int
    billed_amount: Decimal
    allocated_amount: Decimal
    total_amount: Decimal
    expected_amount: Decimal
    at_stake_amount: Decimal


@dataclass(frozen=True)
class PaymentDue:
    due_date: str
    carrier: str
    billing_account: str
    invoice_number: str
    invoice_date: str
    currency: str
    amount: Decimal
    stated_total: Decimal | None
    disputed_amount: Decimal
    findings: int


def _key(carrier: str, circuit: str, line_id: str | None) -> str:
    return line_id if line_id else f"{carrier}:{circuit}"


def line_costs(
    auditor: Auditor, findings: Iterable[Finding]
) -> tuple[list[LineCost], dict[tuple[str, str], Decimal]]:
    """Per-line cost of ``auditor.period`` and the unallocated account-level amount per (carrier,
    currency)."""
    period = auditor.period
    billed: dict[str, Decimal] = defaultdict(Decimal)
    allocated: dict[str, Decimal] = defaultdict(Decimal)
    unallocated: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    ghosts: dict[str, tuple[str, str, str]] = {}
    by_invoice: dict[tuple[str, str], list[Charge]] = defaultdict(list)
    for c in auditor.charges:
        by_invoice[(c.invoice.carrier, c.invoice.invoice_number)].append(c)
    for charges in by_invoice.values():
        weights: dict[tuple[str, bool], Decimal] = defaultdict(Decimal)
        account = []
        for c in charges:
            if c.row.circuit_id and not c.row.charge_type.account_level:
                key = _key(c.row.carrier, c.row.circuit_id, c.line.id if c.line else None)
                if c.line is None:
                    ghosts[key] = (c.row.carrier, c.row.circuit_id, c.row.currency)
                share = c.share_in(period)  # a charge counts in each month its service days cover
                if share or c.period == period:
                    billed[key] += share
                weights[(key, True)] += abs(share)
                weights[(key, False)] += abs(c.row.amount - share)
            else:
                account.append(c)
        for a in account:
            shares = spread(
                a.row.amount,
                {f"{k}\x00{int(p)}": w for (k, p), w in weights.items()},
                currency=a.row.currency,
            )
            if not shares:
                if a.share_in(period):
                    unallocated[(a.row.carrier, a.row.currency)] += a.share_in(period)
                continue
            for composite, share in shares.items():
                key, in_period = composite.split("\x00")
                if in_period == "1":
                    allocated[key] += share
    at_stake: dict[str, Decimal] = defaultdict(Decimal)
    for f in findings:
        at_stake[_key(f.carrier, f.circuit_id, f.line or None)] += f.recoverable
    carrier_currency = {c.name: c.currency for c in auditor.config.carriers.carriers}
    out = []
    for line in auditor.config.inventory.lines:
        contract = auditor.contracts.get(line.id)
        usage: LineUsage | None = auditor.usage.get(line.id)
        if (
            line.id not in billed
            and line.id not in allocated
            and (contract is None or active_days(line, period) is None)
        ):
            continue
        expected = None
        if contract is not None:
            days = active_days(line, period)
            expected = ZERO
            if days is not None:
                expected = expected_mrc(contract, *days)
                expected += auditor.expected_usage(line) or ZERO
                expected -= sla_credit(contract, usage, period, line)[0]
        has = usage is not None and usage.has_data
        currency = contract.currency if contract else carrier_currency.get(line.carrier)
        if currency is None:
            continue  # no contract and no carrier in carriers.yaml: nothing about this line is priced
        out.append(
            LineCost(
                line=line.id,
                carrier=line.carrier,
                circuit_id=line.circuit_id,
                site=line.site,
                department=line.department,
                cost_centre=line.cost_centre or "",
                currency=currency,
                billed_amount=money(billed.get(line.id, ZERO), currency),
                allocated_amount=money(allocated.get(line.id, ZERO), currency),
                expected_amount=None if expected is None else money(expected, currency),
                at_stake_amount=money(at_stake.get(line.id, ZERO), currency),
                commit_bps=auditor.commit_bps(line),
                p95_bps=usage.p95_bps if has else None,
                peak_util_pct=usage.peak_util_pct if has else None,
                volume_gb=(usage.in_bytes + usage.out_bytes) / 1e9 if has else None,
                availability_pct=usage.availability_pct if has else None,
                down_minutes=usage.down_minutes if has else None,
                no_data_minutes=usage.no_data_minutes if usage is not None else None,
            )
        )
    for key, (carrier, circuit, currency) in sorted(ghosts.items()):
        if key not in billed and key not in allocated:
            continue
        out.append(
            LineCost(
                line=key,
                carrier=carrier,
                circuit_id=circuit,
                site="",
                department=UNKNOWN_DEPARTMENT,
                cost_centre="",
                currency=currency,
                billed_amount=money(billed.get(key, ZERO), currency),
                allocated_amount=money(allocated.get(key, ZERO), currency),
                expected_amount=ZERO,
                at_stake_amount=money(at_stake.get(key, ZERO), currency),
                commit_bps=None,
                p95_bps=None,
                peak_util_pct=None,
                volume_gb=None,
                availability_pct=None,
                down_minutes=None,
                no_data_minutes=None,
            )
        )
    return out, {k: money(v, k[1]) for k, v in sorted(unallocated.items())}


def segment_costs(auditor: Auditor) -> list[SegmentCost]:
    """The Contract changes rows of ``auditor.period``: every line whose month is cut by a change of terms."""
    out = []
    for line in auditor.config.inventory.lines:
        contract = auditor.contracts.get(line.id)
        days = active_days(line, auditor.period)
        if contract is None or days is None:
            continue
        by_usage = {s.first: s for s in auditor.usage_segments(line)}
        cuts = {s for s, _e, _t in contract.segments(*days)} | set(by_usage)
        if len(cuts) < 2:
            continue
        usage = auditor.usage.get(line.id)
        starts = sorted(cuts)
        for i, first in enumerate(starts):
            last = starts[i + 1] - dt.timedelta(days=1) if i + 1 < len(starts) else days[1]
            segment = by_usage.get(first)
            whole_segment = segment is not None and segment.last == last and len(by_usage) > 1
            measured = usage.segment(segment.key) if whole_segment and usage and segment else None
            cost = segment_usage_cost(segment, usage) if measured and segment and usage else None
            if isinstance(contract.billing, Flat):
                cost = ZERO
            billing = contract.terms_on(first).billing
            gb_unit = getattr(billing, "gb_unit", None)
            out.append(
                SegmentCost(
                    line=line.id,
                    carrier=line.carrier,
                    currency=contract.currency,
                    first_day=first.isoformat(),
                    last_day=last.isoformat(),
                    days=(last - first).days + 1,
                    mrc_amount=money(contract.mrc_on(first), contract.currency),
                    expected_mrc_amount=expected_mrc(contract, first, last),
                    commit_bps=commit_on(contract, line, first),
                    p95_bps=measured.p95_bps if measured else None,
                    volume_gb=(measured.in_bytes + measured.out_bytes) / (gb_unit.bytes if gb_unit else 1e9)
                    if measured
                    else None,
                    expected_usage_amount=None if cost is None else money(cost, contract.currency),
                )
            )
    return out


def department_costs(lines: Iterable[LineCost]) -> list[DepartmentCost]:
    groups: dict[tuple[str, str, str], list[LineCost]] = defaultdict(list)
    for lc in lines:
        groups[(lc.department, lc.cost_centre, lc.currency)].append(lc)
    out = []
    for (dept, cc, currency), members in sorted(groups.items()):
        out.append(
            DepartmentCost(
                department=dept,
                cost_centre=cc,
                currency=currency,
                lines=len(members),
                billed_amount=sum((m.billed_amount for m in members), ZERO),
                allocated_amount=sum((m.allocated_amount for m in members), ZERO),
                total_amount=sum((m.total_amount for m in members), ZERO),
                expected_amount=sum((m.expected_amount or ZERO for m in members), ZERO),
                at_stake_amount=sum((m.at_stake_amount for m in members), ZERO),
            )
        )
    return out


def payments_due(
    invoices: Iterable[Invoice], period: Period, findings: Iterable[Finding]
) -> list[PaymentDue]:
    """The invoices of ``period`` (their service period, whatever their date: see
    :func:`~billing_etl.audit.invoice_period`), by due date, with the amount the audit disputes on each."""
    disputed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for f in findings:
        if f.invoice_number:
            disputed[(f.carrier, f.invoice_number)] += f.recoverable
            counts[(f.carrier, f.invoice_number)] += 1
    out = [
        PaymentDue(
            due_date=inv.due_date.isoformat(),
            carrier=inv.carrier,
            billing_account=inv.billing_account,
            invoice_number=inv.invoice_number,
            invoice_date=inv.invoice_date.isoformat(),
            currency=inv.currency,
            amount=money(inv.lines_total, inv.currency),
            stated_total=inv.stated_total,
            disputed_amount=money(disputed.get((inv.carrier, inv.invoice_number), ZERO), inv.currency),
            findings=counts.get((inv.carrier, inv.invoice_number), 0),
        )
        for inv in invoices
        if invoice_period(inv) == period
    ]
    return sorted(out, key=lambda p: (p.due_date, p.carrier, p.invoice_number))
