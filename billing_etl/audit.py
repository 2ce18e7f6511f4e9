"""The invoice audit: pure rules over invoices, contracts, the inventory and measured usage.

Every rule yields :class:`Finding` objects naming the rule, line, carrier, invoice, the amount at stake and a
plain-language reason. Sign convention of ``amount_at_stake``: **positive = billed too much** (money to claim
back or not to pay), negative = billed too little (money that will still be charged: accrue it).

Periods: an invoice is dated after the service it bills (November's invoice for October) or before it (a month
in advance), so the invoice date decides nothing but the invoice's own period when no row says what it covers:

* a charge is *checked* (rate, proration, install, duplicate, usage, …) once, in the billing period holding its
  service period's first day; a row without a service period (tax, late fee, adjustment) belongs to its
  invoice's period;
* a charge's *amount* counts (cost, month over month) in every period its service days cover, in proportion
  to the share of each month covered (a quarter billed in advance is a third in each month);
* an invoice as a whole (arithmetic, conflicts, payments due) belongs to its **service period**
  (:func:`invoice_period`): the month most of its rows bill, whatever the invoice date.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from billing_etl.config import BillingConfig, Burstable, Contract, Flat, VolumeQuota
from billing_etl.finding_ids import charge_key
from billing_etl.model import (
    CurrencyError,
    Invoice,
    InvoiceLine,
    Period,
    amount_text,
    money,
    overlap_days,
    spread,
)
from billing_etl.proration import UsageSegment, commit_on, prorated_mrc, usage_segments
from billing_etl.store import Conflict
from billing_etl.usage import LineUsage, day_start_s, service_days
from linewatch.choices import AuditRule, ChargeType, LineStatus
from linewatch.inventory import Line

if TYPE_CHECKING:  # billing_etl.voice_audit builds on this module
    from billing_etl.voice_audit import VoiceMonth

ZERO = Decimal(0)
UNKNOWN_DEPARTMENT = "(unassigned)"


@dataclass(frozen=True, order=True)
class Finding:
    """One audit result. ``line`` is the inventory line id (``None`` for ghosts and invoice-level
    findings)."""

    rule: AuditRule
    carrier: str
    invoice_number: str
    line: str
    circuit_id: str
    amount_at_stake: Decimal
    reason: str
    department: str = UNKNOWN_DEPARTMENT
    source: str = ""  # "file:row" of the charge the finding rests on
    # ISO 4217 code of amount_at_stake: the charge's, else its invoice's, contract's or carrier's; never assumed.
    currency: str = field(kw_only=True)
    # billing_etl.finding_ids.charge_key of the one charge row the finding is about; "" for invoice-level and
    # line-level findings (part of the finding's stable key, see billing_etl.finding_ids).
    charge_key: str = field(default="", kw_only=True)

    @property
    def recoverable(self) -> Decimal:
        """What this finding adds to "at stake": over-billing only; contract events are commitments, not
        errors."""
        if self.rule is AuditRule.CONTRACT_EVENT:
            return ZERO
        return max(self.amount_at_stake, ZERO)


@dataclass(frozen=True)
class Charge:
    """An invoice row joined with the inventory (``line`` is None for circuits the inventory does not
    know). ``period``: where it is checked (see the module docstring)."""

    row: InvoiceLine
    invoice: Invoice
    line: Line | None
    period: Period

    def share_in(self, period: Period) -> Decimal:
        """The part of the amount billing days of ``period`` (the whole amount for a row without service
        period, in its own period)."""
        if self.row.period_start is None:
            return self.row.amount if period == self.period else ZERO
        return month_shares(
            self.row.amount, self.row.service_start, self.row.service_end, currency=self.row.currency
        ).get(period, ZERO)

    @property
    def source(self) -> str:
        return f"{self.row.source_file}:{self.row.source_row}"

    @property
    def order_key(self) -> tuple[dt.date, str, int]:
        return (self.invoice.invoice_date, self.invoice.invoice_number, self.row.source_row)


@dataclass(frozen=True)
class RejectedFile:
    """An invoice file of ``carrier`` that could not be imported at all this run."""

    carrier: str
    source_file: str
    reason: str


def invoice_period(invoice: Invoice) -> Period:
    """The billing period an invoice belongs to as a whole: the month holding the most of its rows' service
    period starts (the earliest on a tie), whatever its date; its invoice date's month when no row has a
    service period."""
    months = Counter(Period.containing(r.period_start) for r in invoice.lines if r.period_start is not None)
    if not months:
        return Period.containing(invoice.invoice_date)
    return min(months, key=lambda p: (-months[p], p))


def month_shares(amount: Decimal, start: dt.date, end: dt.date, *, currency: str) -> dict[Period, Decimal]:
    """``amount`` for the service days ``start..end`` split over the months they cover, each weighted by the
    share of that month covered (a whole month weighs 1), in the currency's minor unit, adding up exactly
    (largest remainder, ties to the earlier month)."""
    period = Period.containing(start)
    if end <= period.last_day:
        return {period: amount}
    weights: dict[Period, Decimal] = {}
    while period.first_day <= end:
        days = overlap_days(start, end, period.first_day, period.last_day)
        weights[period] = Decimal(days) / calendar.monthrange(period.year, period.month)[1]
        period = period.next()
    return spread(amount, weights, currency=currency)


def _fmt(amount: Decimal, currency: str) -> str:
    """``1,235 KRW``, ``12.35 USD``, ``1.235 BHD``: rounded to the currency's minor unit."""
    if not currency:
        return f"{money(amount):,.2f}"
    return f"{amount_text(amount, currency)} {currency}"


def _mbps(bps: float | None) -> str:
    return "n/a" if bps is None else f"{bps / 1e6:,.2f} Mbit/s"


def expected_mrc(contract: Contract, start: dt.date, end: dt.date) -> Decimal:
    """The contract's recurring charge for the service days ``start..end`` (inclusive) under its proration
    rule.

    A whole calendar month costs the (discounted) MRC; a partial month is prorated per month touched: actual
    days / days in that month, or days / 30 (capped at 30/30) for the 1/30-per-day convention. A month in which
    a contract change takes effect is billed per stretch of days under the same terms, each at its own MRC
    (:func:`billing_etl.proration.prorated_mrc`). Rounded once, to the contract currency's minor unit (fils
    stay fils, won are whole).
    """
    return money(prorated_mrc(contract, start, end), contract.currency)


def mrc_terms_text(contract: Contract, start: dt.date, end: dt.date) -> str:
    """The stretches of ``start..end`` under different MRCs, as a finding explains them:
    ``2026-11-01..2026-11-15 at 500.00 EUR/month, 2026-11-16..2026-11-30 at 800.00 EUR/month``."""
    return ", ".join(
        f"{a}..{b} at {_fmt(contract.mrc_on(a), contract.currency)}/month"
        for a, b, _t in contract.segments(start, end)
    )


def burst_cost(billing: Burstable, p95_bps: float, commit_bps: int) -> Decimal:
    """A burstable month at ``p95_bps`` above ``commit_bps``: the Mbit/s over (to 0.01) × the price per Mbit/s
    (unrounded; the audit and the upgrade proposals both use it)."""
    over_mbps = max(Decimal(repr(p95_bps)) - commit_bps, ZERO) / Decimal(10**6)
    return over_mbps.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") * billing.price_per_mbps


def _usage_cost(
    segment: UsageSegment, p95_bps: float | None, volume_bytes: float, *, whole: bool
) -> Decimal | None:
    """The usage charge of one segment (unrounded): the burst over its commit times its share of the month,
    or the GB over its share of the included GB times its price per GB; None without a 95th percentile."""
    billing = segment.terms.billing
    if isinstance(billing, Burstable):
        if p95_bps is None:
            return None
        cost = burst_cost(billing, p95_bps, segment.commit_bps)
        return cost if whole else cost * segment.share
    assert isinstance(billing, VolumeQuota)
    included = billing.included_gb if whole else billing.included_gb * segment.share
    gb = Decimal(repr(volume_bytes)) / billing.gb_unit.bytes
    over_gb = max(gb - included, ZERO).quantize(Decimal("0.001"), rounding="ROUND_HALF_UP")
    return over_gb * billing.price_per_gb


def expected_usage_charge(
    contract: Contract, usage: LineUsage | None, segments: list[UsageSegment]
) -> Decimal | None:
    """Overage the contract allows for the measured usage; ``None`` when there is nothing to measure
    against. ``segments`` (:func:`billing_etl.proration.usage_segments` of the line's service days): one —
    the month's 95th percentile or volume against the terms; several — each segment's own measurement
    (``usage.segments``) against its terms, weighted by its share (see docs/billing.md)."""
    if isinstance(contract.billing, Flat):
        return ZERO
    if usage is None or not usage.has_data or not segments:
        return None
    if len(segments) == 1:
        cost = _usage_cost(segments[0], usage.p95_bps, usage.in_bytes + usage.out_bytes, whole=True)
        return None if cost is None else money(cost, contract.currency)
    total = ZERO
    for segment in segments:
        cost = segment_usage_cost(segment, usage)
        if cost is None:
            return None  # a segment without data (or measured for other terms): cannot be verified
        total += cost
    return money(total, contract.currency)


def segment_usage_cost(segment: UsageSegment, usage: LineUsage) -> Decimal | None:
    """One segment's part of a month's usage charge (unrounded; its share applied), from its own measurement
    in ``usage.segments``; None when it was not measured or has no data."""
    measured = usage.segment(segment.key)
    if measured is None or not measured.samples_5m:
        return None
    return _usage_cost(segment, measured.p95_bps, measured.in_bytes + measured.out_bytes, whole=False)


def sla_credit(
    contract: Contract, usage: LineUsage | None, period: Period, line: Line | None = None
) -> tuple[Decimal, Decimal | None]:
    """(credit owed, availability %) for the period; zero credit without SLA or data, and never for days out
    of service: a decommissioned line or a period outside install..termination owes nothing; a partial month
    credits the tier's share of the MRC for the days in service (the availability is measured over those days,
    see :func:`billing_etl.usage.measure_usage`)."""
    if contract.sla is None or usage is None or usage.availability_pct is None:
        return ZERO, None
    days = (period.first_day, period.last_day) if line is None else active_days(line, period)
    if days is None or (line is not None and line.status is LineStatus.DECOMMISSIONED):
        return ZERO, None
    availability = Decimal(repr(round(usage.availability_pct, 4)))
    pct = contract.sla.credit_pct(availability)
    return money(expected_mrc(contract, *days) * pct / 100, contract.currency), availability


active_days = service_days  # the days of a period a line is in service (install..termination), or None


def _segment_text(segment: UsageSegment, usage: LineUsage) -> str:
    """What one usage segment measured against which terms (a finding's reason)."""
    measured = usage.segment(segment.key)
    days = f"{segment.first}..{segment.last} ({segment.share:.4f} of the month)"
    billing = segment.terms.billing
    if isinstance(billing, Burstable):
        p95 = measured.p95_bps if measured else None
        return f"{days}: 95th percentile {_mbps(p95)} against a {_mbps(segment.commit_bps)} commit"
    assert isinstance(billing, VolumeQuota)
    gb = (measured.in_bytes + measured.out_bytes) / billing.gb_unit.bytes if measured else 0.0
    return f"{days}: {gb:,.1f} GB against {billing.included_gb * segment.share:,.3f} GB included"


def _whole_period(line: Line, period: Period) -> bool:
    """The line is in service on every day of ``period`` (no install or termination inside it)."""
    return active_days(line, period) == (period.first_day, period.last_day)


_SHORT_ROW_DAYS = 7  # rows up to a week are indexed by day in the duplicate check, longer ones by month


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


class Auditor:
    """Runs every rule for one period. Build once per run; :meth:`run` returns the sorted findings."""

    def __init__(
        self,
        *,
        config: BillingConfig,
        invoices: Iterable[Invoice],
        period: Period,
        usage: Mapping[str, LineUsage],
        conflicts: Iterable[Conflict] = (),
        rejected: Iterable[RejectedFile] = (),
        voice: VoiceMonth | None = None,
    ):
        self.config = config
        self.period = period
        self.usage = usage
        # voice lines with a rate plan: their call charges are checked against the re-rated calls
        # (billing_etl.voice_audit), not by the usage rule; their expected usage is that rated total
        self.voice = voice
        self.rated_calls = voice.rated() if voice is not None else {}
        self.conflicts = list(conflicts)
        self.rejected = list(rejected)
        self.invoices = sorted(invoices, key=lambda i: (i.carrier, i.invoice_number))
        self.contracts = config.contracts.by_line()
        self.audit = config.contracts.audit
        self.tol = self.audit.tolerance_amount
        self._circuits = {(ln.carrier, ln.circuit_id): ln for ln in config.inventory.lines}
        self.invoice_periods = {(i.carrier, i.invoice_number): invoice_period(i) for i in self.invoices}
        self.charges: list[Charge] = []
        for inv in self.invoices:
            own = self.invoice_periods[(inv.carrier, inv.invoice_number)]
            for row in inv.lines:
                line = self._circuits.get((row.carrier, row.circuit_id)) if row.circuit_id else None
                where = Period.containing(row.period_start) if row.period_start is not None else own
                self.charges.append(Charge(row, inv, line, where))
        self.in_period = [c for c in self.charges if c.period == self.period]
        self.period_invoices = [
            i for i in self.invoices if self.invoice_periods[(i.carrier, i.invoice_number)] == period
        ]

    # -- helpers
    # ------------------------------------------------------------------------------------------------

    def _finding(
        self,
        rule: AuditRule,
        charge: Charge | None,
        amount: Decimal,
        reason: str,
        *,
        line: Line | None = None,
        carrier: str = "",
        invoice: str = "",
        circuit: str = "",
        currency: str = "",
    ) -> Finding:
        if charge is not None:
            line = line or charge.line
            carrier = carrier or charge.row.carrier
            invoice = invoice or charge.row.invoice_number
            circuit = circuit or (charge.row.circuit_id or "")
        carrier = carrier or (line.carrier if line else "")
        currency = currency or self._currency_of(rule, charge, line, carrier, invoice, reason)
        return Finding(
            rule=rule,
            carrier=carrier,
            invoice_number=invoice,
            line=line.id if line else "",
            circuit_id=circuit or (line.circuit_id if line else ""),
            amount_at_stake=money(amount, currency),
            reason=reason,
            department=line.department if line else UNKNOWN_DEPARTMENT,
            source=charge.source if charge is not None else "",
            currency=currency,
            charge_key=charge_key(charge.row) if charge is not None else "",
        )

    @cached_property
    def _invoice_index(self) -> dict[tuple[str, str], Invoice]:
        return {(inv.carrier, inv.invoice_number): inv for inv in self.invoices}

    def _currency_of(
        self,
        rule: AuditRule,
        charge: Charge | None,
        line: Line | None,
        carrier: str,
        invoice: str,
        reason: str,
    ) -> str:
        """The currency a finding's amount is in: the charge's row, else the invoice it names, else the line's
        contract, else the line's carrier. No default: a finding none of them names is an error."""
        if charge is not None:
            return charge.row.currency
        inv = self._invoice_index.get((carrier, invoice))
        if inv is not None:
            return inv.currency
        if line is not None:
            contract = self.contracts.get(line.id)
            if contract is not None:
                return contract.currency
            configured = self.config.carriers.by_name().get(line.carrier)
            if configured is not None:
                return configured.currency
        raise CurrencyError(
            f"{rule.value} finding (line {line.id if line else '-'}, carrier {carrier or '-'}, invoice "
            f"{invoice or '-'}: {reason}) has no currency: neither a charge, an invoice, a contract nor a "
            "configured carrier gives one"
        )

    def commit_bps(self, line: Line) -> int:
        """The commit in force on the period's last day: the contract's, else the line's capacity then."""
        contract = self.contracts.get(line.id)
        if contract is None:
            return line.capacity_at(day_start_s(self.period.last_day))
        return commit_on(contract, line, self.period.last_day)

    def usage_segments(self, line: Line) -> list[UsageSegment]:
        """The line's service days of the period cut where its contract's usage terms change (none without a
        contract); a line billed but out of service is measured over the whole period."""
        contract = self.contracts.get(line.id)
        if contract is None:
            return []
        days = active_days(line, self.period) or (self.period.first_day, self.period.last_day)
        return usage_segments(contract, line, *days)

    def expected_usage(self, line: Line) -> Decimal | None:
        """:func:`expected_usage_charge` of the line in the period (None without a contract)."""
        contract = self.contracts.get(line.id)
        if contract is None:
            return None
        if line.id in self.rated_calls:
            return self.rated_calls[line.id].cost
        return expected_usage_charge(contract, self.usage.get(line.id), self.usage_segments(line))

    def billed_by_line(self, period: Period) -> dict[str, Decimal]:
        """Circuit charges per inventory line for the days of ``period`` (no account-level spreads)."""
        out: dict[str, Decimal] = defaultdict(Decimal)
        for c in self.charges:
            if c.line is not None:
                share = c.share_in(period)
                if share or c.period == period:
                    out[c.line.id] += share
        return dict(out)

    # -- rules
    # --------------------------------------------------------------------------------------------------

    def _ghosts(self) -> list[Finding]:
        out = []
        for c in self.in_period:
            if c.row.circuit_id and c.line is None:
                out.append(
                    self._finding(
                        AuditRule.GHOST_CIRCUIT,
                        c,
                        c.row.amount,
                        f"{c.row.carrier} bills circuit {c.row.circuit_id!r} ({c.row.charge_type.value}, "
                        f"{_fmt(c.row.amount, c.row.currency)}), a circuit that is not in our inventory",
                    )
                )
        return out

    def _install_termination(self) -> list[Finding]:
        out = []
        for c in self.in_period:
            if c.line is None or c.row.charge_type not in (ChargeType.MONTHLY_RECURRING, ChargeType.USAGE):
                continue
            start, end = c.row.service_start, c.row.service_end
            days = (end - start).days + 1
            install, term = c.line.install_date, c.line.termination_date
            if install is not None and start < install:
                before = overlap_days(start, end, start, install - dt.timedelta(days=1))
                out.append(
                    self._finding(
                        AuditRule.BEFORE_INSTALL,
                        c,
                        c.row.amount * before / days,
                        f"{c.row.charge_type.value} for {start}..{end} but line {c.line.id} was installed on "
                        f"{install}: "
                        f"{before} of {days} days billed before service started",
                    )
                )
            if term is not None and end > term:
                after = overlap_days(start, end, term + dt.timedelta(days=1), end)
                out.append(
                    self._finding(
                        AuditRule.AFTER_TERMINATION,
                        c,
                        c.row.amount * after / days,
                        f"{c.row.charge_type.value} for {start}..{end} but line {c.line.id} was terminated "
                        f"on {term}: "
                        f"{after} of {days} days billed after termination",
                    )
                )
        return out

    def _rates(self) -> list[Finding]:
        out = []
        for c in self.in_period:
            if c.line is None or c.row.charge_type is not ChargeType.MONTHLY_RECURRING:
                continue
            contract = self.contracts.get(c.line.id)
            if contract is None:
                continue
            start, end = c.row.service_start, c.row.service_end
            if contract.currency != c.row.currency:
                out.append(
                    self._finding(
                        AuditRule.RATE_MISMATCH,
                        c,
                        ZERO,
                        f"billed in {c.row.currency}, the contract is in {contract.currency}",
                    )
                )
                continue
            expected = expected_mrc(contract, start, end)
            diff = c.row.amount - expected
            if abs(diff) <= self.tol:
                continue
            full_month = start.day == 1 and end == Period.containing(start).last_day
            changed = len(contract.segments(start, end)) > 1  # a change of terms inside the billed days
            if full_month and not changed:
                out.append(
                    self._finding(
                        AuditRule.RATE_MISMATCH,
                        c,
                        diff,
                        f"monthly charge {_fmt(c.row.amount, c.row.currency)} for "
                        f"{Period.containing(start)}; the "
                        f"contract says {_fmt(expected, contract.currency)}"
                        + (" after discounts" if contract.discounts else ""),
                    )
                )
            else:
                days = (end - start).days + 1
                terms = (
                    mrc_terms_text(contract, start, end)
                    if changed
                    else f"{_fmt(contract.mrc_on(start), contract.currency)}/month"
                )
                out.append(
                    self._finding(
                        AuditRule.PRORATION_MISMATCH,
                        c,
                        diff,
                        f"{days} days ({start}..{end}) billed {_fmt(c.row.amount, c.row.currency)}; the "
                        "contract's "
                        f"{contract.proration.value} proration of {terms} "
                        f"gives {_fmt(expected, contract.currency)}",
                    )
                )
        return out

    def _duplicates(self) -> list[Finding]:
        """The later of two rows billing the same circuit and charge type for the same days (one-time: the
        same amount and text) is the duplicate; it is compared with the earlier row sharing the most days
        (the first of them on a tie).

        Indexed, not pairwise: one-time rows by (amount, text); periodic rows by the months they cover, so a
        row is only compared with earlier rows of its own months, in order, stopping at the first that covers
        all its days (nothing can share more).
        """
        groups: dict[tuple[str, str, ChargeType], list[Charge]] = defaultdict(list)
        for c in self.charges:
            if c.row.circuit_id and c.row.charge_type in (
                ChargeType.MONTHLY_RECURRING,
                ChargeType.USAGE,
                ChargeType.ONE_TIME,
            ):
                groups[(c.row.carrier, c.row.circuit_id, c.row.charge_type)].append(c)
        out = []
        for (_carrier, _circuit, charge_type), charges in sorted(groups.items()):
            charges.sort(key=lambda c: c.order_key)
            if charge_type is ChargeType.ONE_TIME:
                pairs = self._one_time_duplicates(charges)
            else:
                pairs = self._periodic_duplicates(charges)
            for later, earlier, share in pairs:
                where = (
                    "the same invoice"
                    if earlier.invoice is later.invoice
                    else f"invoice {earlier.row.invoice_number}"
                )
                out.append(
                    self._finding(
                        AuditRule.DUPLICATE_CHARGE,
                        later,
                        share,
                        f"{charge_type.value} for {later.row.service_start}..{later.row.service_end} is "
                        "already "
                        f"billed on {where} (row {earlier.row.source_row}, "
                        f"{earlier.row.service_start}..{earlier.row.service_end})",
                    )
                )
        return out

    def _one_time_duplicates(self, charges: list[Charge]) -> list[tuple[Charge, Charge, Decimal]]:
        first: dict[tuple[Decimal, str], Charge] = {}
        out = []
        for later in charges:
            key = (later.row.amount, later.row.description)
            earlier = first.get(key)
            if earlier is None:
                first[key] = later
            elif later.period == self.period and later.row.amount > 0:
                out.append((later, earlier, later.row.amount))
        return out

    def _periodic_duplicates(self, charges: list[Charge]) -> list[tuple[Charge, Charge, Decimal]]:
        # Positions of the earlier rows by what they cover: short rows (daily usage) by day, longer ones by
        # month, so a row meets only rows that can overlap it, in order.
        by_day: dict[dt.date, list[int]] = defaultdict(list)
        by_month: dict[Period, list[int]] = defaultdict(list)
        out = []
        for i, later in enumerate(charges):
            start, end = later.row.service_start, later.row.service_end
            days = (end - start).days + 1
            months = []
            month = Period.containing(start)
            while month.first_day <= end:
                months.append(month)
                month = month.next()
            if later.period == self.period and later.row.amount > 0:
                lists = [by_month[m] for m in months if m in by_month]
                if by_day:
                    lists += [by_day[d] for d in _days(start, end) if d in by_day]
                candidates = lists[0] if len(lists) == 1 else sorted({j for group in lists for j in group})
                best: tuple[int, Charge] | None = None
                for j in candidates:
                    earlier = charges[j]
                    shared = overlap_days(earlier.row.service_start, earlier.row.service_end, start, end)
                    if shared > 0 and (best is None or shared > best[0]):
                        best = (shared, earlier)
                        if shared == days:
                            break  # covers every day: nothing earlier can share more
                if best is not None:
                    out.append((later, best[1], later.row.amount * best[0] / days))
            if days <= _SHORT_ROW_DAYS:
                for d in _days(start, end):
                    by_day[d].append(i)
            else:
                for m in months:
                    by_month[m].append(i)
        return out

    def _unbilled(self) -> list[Finding]:
        carriers = set(self.config.carriers.by_name())
        billed = {
            c.line.id
            for c in self.charges
            if c.line is not None
            and c.row.charge_type is ChargeType.MONTHLY_RECURRING
            and overlap_days(
                c.row.service_start, c.row.service_end, self.period.first_day, self.period.last_day
            )
        }
        out = []
        not_imported = self._carriers_not_imported()
        unbilled: dict[str, list[tuple[Line, Contract | None, Decimal]]] = defaultdict(list)
        for line in self.config.inventory.lines:
            if line.status is not LineStatus.ACTIVE or line.carrier not in carriers or line.id in billed:
                continue
            days = active_days(line, self.period)
            if days is None:
                continue
            contract = self.contracts.get(line.id)
            expected = expected_mrc(contract, *days) if contract else ZERO
            if line.carrier in not_imported:
                unbilled[line.carrier].append((line, contract, expected))
                continue
            out.append(
                self._finding(
                    AuditRule.UNBILLED_LINE,
                    None,
                    -expected,
                    f"active line {line.id} ({line.carrier} {line.circuit_id}) has no monthly charge for "
                    f"{self.period}"
                    + (
                        f": expect {_fmt(expected, contract.currency)} on a later invoice (accrue it)"
                        if contract
                        else "; no contract is configured either"
                    ),
                    line=line,
                )
            )
        for carrier, rejected in sorted(not_imported.items()):
            out.append(self._not_imported(carrier, rejected, unbilled.get(carrier, [])))
        return out

    def _carriers_not_imported(self) -> dict[str, list[RejectedFile]]:
        """Carriers with a rejected invoice file this run and no imported charge for the period."""
        rejected: dict[str, list[RejectedFile]] = defaultdict(list)
        for r in self.rejected:
            rejected[r.carrier].append(r)
        for c in self.charges:
            if c.row.carrier in rejected and (
                c.period == self.period
                or overlap_days(
                    c.row.service_start, c.row.service_end, self.period.first_day, self.period.last_day
                )
            ):
                del rejected[c.row.carrier]
        return dict(rejected)

    def _not_imported(
        self,
        carrier: str,
        rejected: list[RejectedFile],
        unbilled: list[tuple[Line, Contract | None, Decimal]],
    ) -> Finding:
        """One finding for a carrier whose invoice file was rejected, instead of one ``unbilled_line`` per
        line: the lines are unbilled because nothing could be imported, not because the carrier forgot them."""
        configured = self.config.carriers.by_name().get(carrier)
        expected: dict[str, Decimal] = defaultdict(Decimal)
        for _line, contract, amount in unbilled:
            if contract is not None:
                expected[contract.currency] += amount
        currency = next(iter(expected)) if len(expected) == 1 else configured.currency if configured else ""
        files = "; ".join(
            f"file {r.source_file} rejected: {r.reason}"
            for r in sorted(rejected, key=lambda r: r.source_file)
        )
        reason = f"no invoice imported for carrier {carrier} in period {self.period} ({files})"
        if unbilled:
            reason += (
                f"; {len(unbilled)} active line(s) without a charge ("
                + ", ".join(line.id for line, _c, _a in unbilled)
                + ")"
            )
        if expected:
            reason += (
                ": expect "
                + " + ".join(_fmt(v, cur) for cur, v in sorted(expected.items()))
                + " (accrue it); fix the file and run again"
            )
        return self._finding(
            AuditRule.INVOICE_NOT_IMPORTED,
            None,
            -expected.get(currency, ZERO),
            reason,
            carrier=carrier,
            currency=currency,
        )

    def _late_fees(self) -> list[Finding]:
        return [
            self._finding(
                AuditRule.LATE_FEE,
                c,
                c.row.amount,
                f"late fee {_fmt(c.row.amount, c.row.currency)} on invoice {c.row.invoice_number}"
                + (f" ({c.row.description})" if c.row.description else ""),
            )
            for c in self.in_period
            if c.row.charge_type is ChargeType.LATE_FEE
        ]

    def _usage(self) -> list[Finding]:
        per_line: dict[str, list[Charge]] = defaultdict(list)
        for c in self.in_period:
            if c.line is not None and c.row.charge_type is ChargeType.USAGE and c.line.id not in self.rated_calls:
                per_line[c.line.id].append(c)
        out = []
        for line_id, charges in sorted(per_line.items()):
            line = charges[0].line
            assert line is not None
            contract = self.contracts.get(line_id)
            billed = sum((c.row.amount for c in charges), ZERO)
            usage = self.usage.get(line_id)
            first = min(charges, key=lambda c: c.order_key)
            if contract is None:
                continue
            expected = self.expected_usage(line)
            if expected is None:
                out.append(
                    self._finding(
                        AuditRule.USAGE_MISMATCH,
                        first,
                        billed,
                        f"usage billed {_fmt(billed, contract.currency)} but linewatch has no traffic data "
                        "for "
                        f"{line_id} in {self.period}: cannot be verified",
                    )
                )
                continue
            tolerance = max(self.tol, expected * self.audit.usage_tolerance_pct / 100)
            if abs(billed - expected) <= tolerance:
                continue
            segments = self.usage_segments(line)
            if len(segments) > 1 and usage is not None:
                measured = "; ".join(_segment_text(s, usage) for s in segments)
            elif isinstance(contract.billing, Burstable):
                measured = (
                    f"measured 95th percentile {_mbps(usage.p95_bps if usage else None)} "
                    f"({contract.billing.direction.value}) against a {_mbps(self.commit_bps(line))} commit"
                )
            elif isinstance(contract.billing, VolumeQuota):
                gb = ((usage.in_bytes + usage.out_bytes) / contract.billing.gb_unit.bytes) if usage else 0.0
                measured = (
                    f"measured {gb:,.1f} GB ({contract.billing.gb_unit.value}) against "
                    f"{contract.billing.included_gb} GB included"
                )
            else:
                measured = "the contract is flat rate: no usage charges"
            out.append(
                self._finding(
                    AuditRule.USAGE_MISMATCH,
                    first,
                    billed - expected,
                    f"usage billed {_fmt(billed, contract.currency)}, expected "
                    f"{_fmt(expected, contract.currency)}: "
                    f"{measured}",
                )
            )
        return out

    def _month_over_month(self) -> list[Finding]:
        now = self.billed_by_line(self.period)
        before = self.billed_by_line(self.period.previous())
        out = []
        lines = self.config.inventory.lines_by_id
        threshold = self.audit.month_over_month_pct
        previous = self.period.previous()
        for line_id in sorted(set(now) & set(before)):
            prev, cur = before[line_id], now[line_id]
            if prev <= 0:
                continue
            if not (_whole_period(lines[line_id], previous) and _whole_period(lines[line_id], self.period)):
                # Installed or terminated in one of the two months: a prorated month next to a full one is
                # the expected change (the proration rule checks the partial month against the contract).
                continue
            change_pct = (cur - prev) / prev * 100
            if abs(change_pct) > threshold:
                line = lines[line_id]
                contract = self.contracts.get(line_id)
                currency = contract.currency if contract else ""
                out.append(
                    self._finding(
                        AuditRule.MONTH_OVER_MONTH,
                        None,
                        cur - prev,
                        f"{line_id} billed {_fmt(cur, currency)} in {self.period} vs {_fmt(prev, currency)} "
                        "in "
                        f"{self.period.previous()} ({change_pct:+.1f} %, threshold {threshold} %)",
                        line=line,
                    )
                )
        return out

    def _sla(self) -> list[Finding]:
        credited: dict[str, Decimal] = defaultdict(Decimal)
        for c in self.in_period:
            if c.line is not None and c.row.charge_type is ChargeType.CREDIT:
                credited[c.line.id] += abs(c.row.amount)
        out = []
        for line in self.config.inventory.lines:
            contract = self.contracts.get(line.id)
            if contract is None:
                continue
            owed, availability = sla_credit(contract, self.usage.get(line.id), self.period, line)
            missing = owed - credited.get(line.id, ZERO)
            if owed > 0 and missing > self.tol:
                usage = self.usage[line.id]
                assert contract.sla is not None
                out.append(
                    self._finding(
                        AuditRule.SLA_CREDIT_OWED,
                        None,
                        missing,
                        f"availability {availability:.3f} % in {self.period} ({usage.down_minutes:,.0f} min "
                        "down, "
                        f"{usage.no_data_minutes:,.0f} min without data) is below the "
                        f"{contract.sla.target_pct} % SLA: "
                        f"credit {_fmt(owed, contract.currency)} owed, "
                        f"{_fmt(credited.get(line.id, ZERO), contract.currency)} "
                        "credited",
                        line=line,
                    )
                )
        return out

    def _contract_events(self) -> list[Finding]:
        horizon = self.period.last_day + dt.timedelta(days=self.audit.contract_notice_days)
        out = []
        for line in self.config.inventory.lines:
            contract = self.contracts.get(line.id)
            if contract is None or contract.term is None or line.status is LineStatus.DECOMMISSIONED:
                continue
            term = contract.term
            end = term.end(on_or_after=self.period.first_day)
            deadline = end - dt.timedelta(days=term.notice_days)
            commitment = contract.mrc_on(self.period.first_day) * term.renewal_months
            if term.auto_renew and self.period.first_day <= deadline <= horizon:
                out.append(
                    self._finding(
                        AuditRule.CONTRACT_EVENT,
                        None,
                        commitment,
                        f"contract renews automatically on {end + dt.timedelta(days=1)} for "
                        f"{term.renewal_months} months "
                        f"({_fmt(commitment, contract.currency)}) unless notice is given by {deadline}",
                        line=line,
                    )
                )
            elif not term.auto_renew and end < self.period.first_day:
                out.append(
                    self._finding(
                        AuditRule.CONTRACT_EVENT,
                        None,
                        ZERO,
                        f"contract term ended on {end}: the line runs out of contract (renegotiate)",
                        line=line,
                    )
                )
            elif not term.auto_renew and end <= horizon:
                out.append(
                    self._finding(
                        AuditRule.CONTRACT_EVENT,
                        None,
                        ZERO,
                        f"contract term ends on {end} and does not renew: renew or order a replacement"
                        + (f" (notice deadline {deadline})" if term.notice_days else ""),
                        line=line,
                    )
                )
        return out

    def _arithmetic(self) -> list[Finding]:
        out = []
        for inv in self.period_invoices:  # each invoice once, in its service period, whatever its date
            if inv.stated_total is not None and abs(inv.lines_total - inv.stated_total) > self.tol:
                out.append(
                    self._finding(
                        AuditRule.INVOICE_ARITHMETIC,
                        None,
                        inv.stated_total - inv.lines_total,
                        f"invoice total {_fmt(inv.stated_total, inv.currency)} but its {len(inv.lines)} "
                        "lines add up to "
                        f"{_fmt(inv.lines_total, inv.currency)}",
                        carrier=inv.carrier,
                        invoice=inv.invoice_number,
                    )
                )
            for row in inv.lines:
                if row.quantity is None or row.unit_price is None:
                    continue
                product = money(row.quantity * row.unit_price, row.currency)
                if abs(product - row.amount) > self.tol:
                    charge = Charge(row, inv, self._circuits.get((row.carrier, row.circuit_id)), self.period)
                    out.append(
                        self._finding(
                            AuditRule.INVOICE_ARITHMETIC,
                            charge,
                            row.amount - product,
                            f"row {row.source_row}: {row.quantity} × {row.unit_price} = "
                            f"{_fmt(product, row.currency)}, "
                            f"billed {_fmt(row.amount, row.currency)}",
                        )
                    )
        return out

    def _conflicts(self) -> list[Finding]:
        stored = {(i.carrier, i.invoice_number): i for i in self.invoices}
        out = []
        for conflict in self.conflicts:
            inv = stored.get((conflict.carrier, conflict.invoice_number))
            if inv is None or self.invoice_periods[(inv.carrier, inv.invoice_number)] != self.period:
                continue
            out.append(
                self._finding(
                    AuditRule.INVOICE_CONFLICT,
                    None,
                    conflict.lines_total - inv.lines_total,
                    f"{conflict.source_file} holds invoice {conflict.invoice_number} again with different "
                    "content "
                    f"({_fmt(conflict.lines_total, inv.currency)} vs {_fmt(inv.lines_total, inv.currency)} "
                    "imported from "
                    f"{conflict.stored_source_file}): not merged; find out which one is valid",
                    carrier=conflict.carrier,
                    invoice=conflict.invoice_number,
                )
            )
        return out

    def _voice(self) -> list[Finding]:
        if self.voice is None:
            return []
        from billing_etl.voice_audit import voice_findings

        return voice_findings(self, self.voice)

    def run(self) -> list[Finding]:
        findings = (
            self._ghosts()
            + self._install_termination()
            + self._rates()
            + self._duplicates()
            + self._unbilled()
            + self._late_fees()
            + self._usage()
            + self._month_over_month()
            + self._sla()
            + self._contract_events()
            + self._arithmetic()
            + self._conflicts()
            + self._voice()
        )
        return sorted(
            findings,
            key=lambda f: (
                f.rule.value,
                f.carrier,
                f.invoice_number,
                f.line,
                f.circuit_id,
                f.source,
                f.reason,
            ),
        )
