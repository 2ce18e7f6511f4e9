"""What an evidence pack shows, as plain dataclasses (:class:`PackData`), and where it comes from.

:func:`gather` reads one dispute from the database (its findings, their invoice rows, the lines' contracts) and the
period's measurements from InfluxDB (:func:`measure_lines`); :mod:`web.findings.evidence` renders a
:class:`PackData` into PDF and XLSX without touching either. The rendering tests build :class:`PackData` by hand.

Which invoice rows: per finding, the :class:`~web.invoices.models.InvoiceRow` of its invoice with its
``charge_key`` (the one charge it is about); for an invoice- or line-level finding (no charge key) the invoice's
rows of that circuit. Which measurement: a line with an SLA-credit finding shows its availability (outages
shaded), every other line its 5-minute traffic in and out against the commit (or the capacity without one); the
summary figures are :func:`billing_etl.usage.measure_usage`'s, the ETL's own, so the pack shows what the audit
used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from billing_etl.model import Period
from billing_etl.usage import BUCKET_S, LineUsage, down_buckets_statement, line_buckets, measure_usage
from linewatch.choices import AuditRule, UsageDirection
from linewatch.errors import InfluxError
from linewatch.influx import InfluxClient
from linewatch.influx.influxql import exact_regex

MeasurementKind = Literal["usage", "availability"]


@dataclass(frozen=True)
class ChargeRow:
    """One invoice row the dispute is about, as the carrier billed it."""

    invoice_number: str
    invoice_date: dt.date | None
    circuit_id: str
    line: str
    charge_type: str  # a ChargeType value
    period_start: dt.date | None
    period_end: dt.date | None
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal
    currency: str
    description: str
    source: str  # "file:row"


@dataclass(frozen=True)
class CreditTier:
    below_pct: Decimal
    credit_pct: Decimal


@dataclass(frozen=True)
class ContractTerms:
    """The terms of one line's contract (web ``inventory.Contract``) that a clause in words is made of."""

    line: str
    circuit_id: str
    currency: str
    mrc: Decimal
    billing_model: str  # a BillingModel value
    commit_bps: int | None = None
    capacity_bps: int | None = None
    direction: str = UsageDirection.MAX.value
    price_per_mbps: Decimal | None = None
    included_gb: Decimal | None = None
    price_per_gb: Decimal | None = None
    sla_target_pct: Decimal | None = None
    sla_cap_pct: Decimal | None = None
    tiers: tuple[CreditTier, ...] = ()
    term_start: dt.date | None = None
    term_months: int | None = None
    auto_renew: bool = False
    renewal_months: int | None = None
    notice_days: int | None = None


@dataclass(frozen=True)
class Sample:
    """One 5-minute bucket starting at ``start_s`` (epoch s): the line's in and out rates (sum of its members)."""

    start_s: int
    in_bps: float | None
    out_bps: float | None


@dataclass(frozen=True)
class DownBucket:
    """A 5-minute bucket in which the line was down for ``down_s`` seconds (all its members down)."""

    start_s: int
    down_s: float


@dataclass(frozen=True)
class Measurement:
    """What was measured on one line in the period: the 5-minute series behind the chart and the ETL's figures."""

    line: str
    kind: MeasurementKind
    period: str
    limit_bps: int | None = None  # the commit, else the capacity: the chart's red line
    limit_is_commit: bool = False
    samples: tuple[Sample, ...] = ()
    down: tuple[DownBucket, ...] = ()
    usage: LineUsage | None = None
    error: str = ""  # InfluxDB could not be read: the pack says so instead of showing nothing

    @property
    def has_data(self) -> bool:
        return bool(self.samples) or (self.usage is not None and self.usage.has_data)


@dataclass(frozen=True)
class FindingItem:
    """One finding of the dispute and what it puts at stake."""

    ref: str  # F-<pk>
    rule: str  # an AuditRule value
    invoice_number: str
    line: str
    circuit_id: str
    reason: str
    amount_at_stake: Decimal
    recoverable: Decimal
    currency: str


@dataclass(frozen=True)
class PackData:
    """Everything one evidence pack shows; ``generated_at`` is aware (printed in UTC and the pack's zone)."""

    reference: str  # DSP-<pk>
    carrier: str
    period: str  # YYYY-MM
    currency: str
    claimed_amount: Decimal
    generated_at: dt.datetime
    findings: tuple[FindingItem, ...]
    charges: tuple[ChargeRow, ...] = ()
    contracts: tuple[ContractTerms, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    unknown_circuits: tuple[str, ...] = ()  # circuits of findings that are not lines of ours (nothing measured)
    carrier_reference: str = ""
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None:
            raise ValueError("generated_at: give an aware datetime")
        currencies = {f.currency for f in self.findings} | {self.currency}
        if len(currencies) > 1:
            raise ValueError(f"findings: one currency per dispute, got {', '.join(sorted(currencies))}")

    @property
    def total_at_stake(self) -> Decimal:
        return sum((f.amount_at_stake for f in self.findings), Decimal(0))

    @property
    def total_recoverable(self) -> Decimal:
        return sum((f.recoverable for f in self.findings), Decimal(0))


# -- InfluxDB ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineToMeasure:
    line: str
    kind: MeasurementKind
    direction: UsageDirection = UsageDirection.MAX
    limit_bps: int | None = None
    limit_is_commit: bool = False


def measurement_kind(rules: Iterable[str]) -> MeasurementKind:
    """Availability for a line with an SLA-credit finding (the claim is about outages), else usage."""
    return "availability" if AuditRule.SLA_CREDIT_OWED.value in set(rules) else "usage"


def _line_where(period: Period, line: str) -> str:
    return f'time >= {period.start_s}s AND time < {period.end_s}s AND "line" =~ {exact_regex([line])}'


def _series_values(client: InfluxClient, statement: str) -> dict[int, float]:
    return {int(t): float(v) for s in client.query(statement) for t, v in s["values"] if v is not None}


def measure_lines(client: InfluxClient, period: Period, lines: Sequence[LineToMeasure]) -> list[Measurement]:
    """Each line's 5-minute series (in and out: the sum over its member interfaces per bucket, as the ETL sums
    them) or its down buckets, with the ETL's figures for the period (:func:`measure_usage`). InfluxDB failing is
    recorded on each measurement (``error``), not raised: the pack still goes out, saying so."""
    if not lines:
        return []
    try:
        figures = measure_usage(client, period, [t.line for t in lines], {t.line: t.direction for t in lines})
    except InfluxError as exc:
        return [Measurement(t.line, t.kind, str(period), t.limit_bps, t.limit_is_commit, error=type(exc).__name__)
                for t in lines]
    out = []
    for t in lines:
        where = _line_where(period, t.line)
        samples: tuple[Sample, ...] = ()
        down: tuple[DownBucket, ...] = ()
        error = ""
        try:
            if t.kind == "usage":
                ins = _series_values(client, line_buckets(where, UsageDirection.IN, members=True))
                outs = _series_values(client, line_buckets(where, UsageDirection.OUT, members=True))
                samples = tuple(Sample(s, ins.get(s), outs.get(s)) for s in sorted(ins.keys() | outs.keys()))
            else:
                usage = figures.get(t.line)
                down = tuple(DownBucket(s, d) for s, d in sorted(_down_seconds(
                    client, period, t.line, usage).items()) if d > 0)
        except InfluxError as exc:
            error = type(exc).__name__
        out.append(Measurement(t.line, t.kind, str(period), t.limit_bps, t.limit_is_commit, samples, down,
                               figures.get(t.line), error))
    return out


def _down_seconds(client: InfluxClient, period: Period, line: str, usage: LineUsage | None) -> dict[int, float]:
    """Seconds down per 5-minute bucket: the bucket's down samples × the line's sample spacing (as the ETL counts
    downtime: :mod:`billing_etl.usage`)."""
    buckets = _series_values(client, down_buckets_statement(period.start_s, period.end_s, [line]))
    down_samples = sum(buckets.values())
    if not down_samples or usage is None:
        return {}
    spacing_s = usage.down_minutes * 60 / down_samples  # the ETL's downtime spread over its down samples
    return {s: min(n * spacing_s, BUCKET_S) for s, n in buckets.items()}


# -- the database --------------------------------------------------------------------------------------------------


def _finding_ref(finding: Any) -> str:
    return f"F-{finding.pk}"


def _charge_row(row: Any) -> ChargeRow:
    invoice = row.invoice
    return ChargeRow(
        invoice_number=invoice.number, invoice_date=invoice.invoice_date, circuit_id=row.circuit_id,
        line=row.line.name if row.line_id else "", charge_type=row.charge_type, period_start=row.period_start,
        period_end=row.period_end, quantity=row.quantity, unit_price=row.unit_price, amount=row.amount,
        currency=row.currency, description=row.description,
        source=f"{row.source_file}:{row.source_row}" if row.source_file else "")


def invoice_rows_of(findings: Sequence[Any]) -> list[Any]:
    """The InvoiceRows the findings are about, each once, in invoice and row order: by the finding's invoice and
    ``charge_key``; for a finding without charge key, its invoice's rows of its circuit."""
    from django.db.models import Q

    from web.invoices.models import InvoiceRow

    wanted = Q(pk__in=[])
    for f in findings:
        if f.invoice_id is None:
            continue
        if f.charge_key:
            wanted |= Q(invoice_id=f.invoice_id, charge_key=f.charge_key)
        elif f.circuit_id:
            wanted |= Q(invoice_id=f.invoice_id, circuit_id=f.circuit_id)
    return list(InvoiceRow.objects.filter(wanted).select_related("invoice", "line")
                .order_by("invoice__invoice_date", "invoice__number", "idx"))


def contract_terms(line: Any) -> ContractTerms | None:
    """A line's contract (``line.contract``) as :class:`ContractTerms`; None when it has none."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        c = line.contract
    except ObjectDoesNotExist:
        return None
    return ContractTerms(
        line=line.name, circuit_id=line.circuit_id, currency=c.currency or line.carrier.currency, mrc=c.mrc,
        billing_model=c.billing_model, commit_bps=c.commit_bps, capacity_bps=line.capacity_bps,
        direction=c.direction, price_per_mbps=c.price_per_mbps, included_gb=c.included_gb,
        price_per_gb=c.price_per_gb, sla_target_pct=c.sla_target_pct,
        sla_cap_pct=c.sla_cap_pct if c.sla_target_pct is not None or c.credit_tiers.exists() else None,
        tiers=tuple(CreditTier(t.below_pct, t.credit_pct) for t in c.credit_tiers.all()),
        term_start=c.term_start, term_months=c.term_months, auto_renew=c.auto_renew,
        renewal_months=c.renewal_months, notice_days=c.notice_days)


def gather(dispute: Any, *, client: InfluxClient | None = None, now: dt.datetime | None = None) -> PackData:
    """One dispute's :class:`PackData`: its findings, their invoice rows, the lines' contracts and (with
    ``client``, else the app's InfluxDB) the period's measurements."""
    from django.conf import settings
    from django.utils import timezone

    findings = list(dispute.findings.select_related("line", "line__carrier", "invoice").order_by("pk"))
    period = Period.parse(dispute.period or min(f.period for f in findings))
    lines = {f.line_id: f.line for f in findings if f.line_id is not None}
    rules: dict[int, set[str]] = {}
    for f in findings:
        if f.line_id is not None:
            rules.setdefault(f.line_id, set()).add(f.rule)
    contracts = {pk: contract_terms(line) for pk, line in sorted(lines.items(), key=lambda kv: kv[1].name)}
    to_measure = []
    for pk, line in sorted(lines.items(), key=lambda kv: kv[1].name):
        terms = contracts[pk]
        commit = terms.commit_bps if terms is not None else None
        to_measure.append(LineToMeasure(
            line.name, measurement_kind(rules[pk]),
            UsageDirection(terms.direction) if terms is not None else UsageDirection.MAX,
            limit_bps=commit or line.capacity_bps, limit_is_commit=bool(commit)))
    own_client = client is None
    if own_client:
        client = InfluxClient(settings.LINEWATCH.influx_settings())
    try:
        measurements = measure_lines(client, period, to_measure)
    finally:
        if own_client:
            client.close()
    unknown = sorted({f.circuit_id for f in findings if f.line_id is None and f.circuit_id})
    return PackData(
        reference=dispute.reference, carrier=dispute.carrier.name, period=str(period), currency=dispute.currency,
        claimed_amount=dispute.claimed_amount, generated_at=now or timezone.now(),
        findings=tuple(FindingItem(
            ref=_finding_ref(f), rule=f.rule, invoice_number=f.invoice_number,
            line=f.line.name if f.line_id else "", circuit_id=f.circuit_id, reason=f.reason,
            amount_at_stake=f.amount_at_stake, recoverable=f.recoverable, currency=f.currency) for f in findings),
        charges=tuple(_charge_row(r) for r in invoice_rows_of(findings)),
        contracts=tuple(t for t in contracts.values() if t is not None),
        measurements=tuple(measurements), unknown_circuits=tuple(unknown),
        carrier_reference=dispute.carrier_reference or "", timezone=settings.TIME_ZONE)


__all__ = ["ChargeRow", "ContractTerms", "CreditTier", "DownBucket", "FindingItem", "LineToMeasure", "Measurement",
           "PackData", "Sample", "contract_terms", "gather", "invoice_rows_of", "measure_lines", "measurement_kind"]
