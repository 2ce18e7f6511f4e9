"""``linewatch etl run --period YYYY-MM``: import what is new, measure usage, audit, allocate, export, record.

The steps, each re-runnable without double counting:

1. import every configured invoice file into the SQLite store (identical invoices are no-ops, conflicting ones
are
   recorded, bad files are reported and skip nothing else);
2. measure each line's usage of the period in InfluxDB (aggregated there, see :mod:`billing_etl.usage`);
3. audit the stored invoices (:mod:`billing_etl.audit`), cost per line and department, savings proposals;
4. write CSV, XLSX and Parquet exports (byte-identical on a re-run with the same inputs);
5. write ``line_cost`` and ``billing_findings`` points (same tags and timestamp on a re-run: overwritten, not
added).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import pandas as pd

from billing_etl.audit import ZERO, Auditor, Finding, RejectedFile
from billing_etl.config import BillingConfig, load_billing_config
from billing_etl.costs import (
    DepartmentCost,
    LineCost,
    PaymentDue,
    SegmentCost,
    department_costs,
    line_costs,
    payments_due,
    segment_costs,
)
from billing_etl.exports import Column, Table, write_all
from billing_etl.finding_ids import finding_key
from billing_etl.importer import QuarantinedRow, import_file, write_quarantine
from billing_etl.model import Period, amount_text, money
from billing_etl.proration import usage_segments
from billing_etl.savings import Proposal, propose
from billing_etl.store import ImportOutcome, InvoiceStore
from billing_etl.usage import LineUsage, measure_usage, service_days, service_windows
from billing_etl.voice_audit import VoiceMonth, load_voice_month, voice_lines
from billing_etl.voice_costs import VoiceReport, voice_report
from billing_etl.voice_savings import channel_sizing
from linewatch.choices import AuditRule, BillingModel, Language, UsageDirection
from linewatch.errors import InvoiceFileError
from linewatch.influx import InfluxClient, Point, encode_points
from linewatch.settings import Settings

log = logging.getLogger(__name__)

STORE_NAME = "billing.sqlite"


class Progress:
    """A one-line progress bar on a terminal (silent otherwise, or when disabled)."""

    def __init__(
        self, total: int, *, stream: TextIO | None = None, enabled: bool | None = None, width: int = 30
    ):
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.width = width

    def step(self, label: str, n: int = 1) -> None:
        self.done = min(self.done + n, self.total)
        if not self.enabled:
            return
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {100 * self.done // self.total:3d}% {label[:50]:<50}")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


@dataclass
class ImportSummary:
    files: int = 0
    new_invoices: int = 0
    unchanged_invoices: int = 0
    conflicting_invoices: int = 0
    completed_invoices: int = 0  # imports with quarantined rows replaced by their corrected file
    good_rows: int = 0
    bad_rows: int = 0
    file_errors: list[str] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)  # file_errors for the audit
    quarantined: list[QuarantinedRow] = field(default_factory=list)


@dataclass
class PeriodReport:
    period: Period
    imports: ImportSummary
    usage: dict[str, LineUsage]
    findings: list[Finding]
    lines: list[LineCost]
    departments: list[DepartmentCost]
    proposals: list[Proposal]
    payments: list[PaymentDue]
    unallocated: dict[tuple[str, str], Decimal]
    segments: list[SegmentCost] = field(default_factory=list)  # lines whose terms change in the period
    exports: list[Path] = field(default_factory=list)
    influx_points: int = 0
    voice: VoiceReport | None = None  # the voice trunks' month (None: the inventory has no voice trunk)

    def totals(self) -> dict[str, dict[str, Decimal]]:
        """Per currency: billed (line charges), allocated, total, expected, at stake, proposed saving."""
        out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for lc in self.lines:
            t = out[lc.currency]
            t["billed"] += lc.billed_amount
            t["allocated"] += lc.allocated_amount
            t["total"] += lc.total_amount
            t["expected"] += lc.expected_amount or ZERO
        for (_carrier, currency), amount in self.unallocated.items():
            out[currency]["unallocated"] += amount
        for f in self.findings:
            out[f.currency]["at_stake"] += f.recoverable
        for p in self.proposals:
            if p.monthly_saving is not None and p.monthly_saving > 0:
                out[p.currency]["saving"] += p.monthly_saving
        return {cur: dict(v) for cur, v in sorted(out.items())}


def find_invoice_files(config: BillingConfig, invoice_dir: Path | None = None) -> list[tuple[Path, str]]:
    """(file, carrier name) for every file matching a carrier's patterns, sorted; a file goes to the first
    carrier."""
    base = invoice_dir or config.invoice_dir
    seen: dict[Path, str] = {}
    for carrier in config.carriers.carriers:
        for pattern in carrier.files:
            for path in sorted(base.glob(pattern)):
                if path.is_file():
                    seen.setdefault(path, carrier.name)
    return sorted(seen.items())


def import_invoices(
    config: BillingConfig,
    store: InvoiceStore,
    *,
    invoice_dir: Path | None = None,
    progress: Progress | None = None,
    files: Sequence[tuple[Path, str]] | None = None,
) -> ImportSummary:
    """Import every invoice file (or ``files``); a bad file is reported and skipped, the others still load."""
    summary = ImportSummary()
    carriers = config.carriers.by_name()
    for path, carrier_name in files if files is not None else find_invoice_files(config, invoice_dir):
        summary.files += 1
        try:
            result = import_file(path, carriers[carrier_name])
        except InvoiceFileError as exc:
            log.error("invoice file skipped: %s", exc)
            summary.file_errors.append(str(exc))
            summary.rejected.append(RejectedFile(carrier_name, Path(exc.file).name, exc.reason))
            if progress:
                progress.step(f"skipped {path.name}")
            continue
        outcomes = store.add_invoices(result.invoices, complete=not result.quarantined)
        counts = Counter(outcomes.values())
        summary.new_invoices += counts[ImportOutcome.NEW]
        summary.unchanged_invoices += counts[ImportOutcome.UNCHANGED]
        summary.conflicting_invoices += counts[ImportOutcome.CONFLICT]
        summary.completed_invoices += counts[ImportOutcome.COMPLETED]
        summary.good_rows += result.good_rows
        summary.bad_rows += result.bad_rows
        summary.quarantined += result.quarantined
        for q in result.quarantined:
            log.warning("quarantined: %s", q)
        if progress:
            progress.step(f"imported {path.name}")
    return summary


def _directions(config: BillingConfig) -> dict[str, UsageDirection]:
    lines = {line.id for line in config.inventory.polled_lines()} | set(config.contracts.by_line())
    out = {line: UsageDirection.MAX for line in lines}
    for contract in config.contracts.contracts:
        if contract.billing.model == BillingModel.BURSTABLE_95:
            out[contract.line] = contract.billing.direction  # type: ignore[union-attr]
    return out


def usage_segment_days(config: BillingConfig, period: Period) -> dict[str, list[tuple[dt.date, dt.date]]]:
    """The lines whose contract's usage terms change inside ``period``, with their service days cut there
    (what :func:`~billing_etl.usage.measure_usage` measures segment by segment)."""
    contracts = config.contracts.by_line()
    out = {}
    for line in config.inventory.lines:
        contract, days = contracts.get(line.id), service_days(line, period)
        if contract is None or days is None or contract.billing.model is BillingModel.FLAT:
            continue
        segments = usage_segments(contract, line, *days)
        if len(segments) > 1:
            out[line.id] = [(s.first, s.last) for s in segments]
    return out


def _history(
    config: BillingConfig,
    store: InvoiceStore,
    client: InfluxClient | None,
    period: Period,
    directions: dict[str, UsageDirection],
) -> dict[str, dict[str, LineUsage]]:
    """Usage of the months before ``period`` the savings rules look at: from the store, else measured and
    cached."""
    history: dict[str, dict[str, LineUsage]] = {}
    p = period
    for _ in range(config.contracts.savings.underused_months - 1):
        p = p.previous()
        stored = store.load_usage(str(p))
        cached = {line: LineUsage(**data) for line, data in stored.items()}  # type: ignore[arg-type]
        if cached and all(u.has_data for u in cached.values()):
            history[str(p)] = cached
        elif client is not None:
            measured = measure_usage(
                client, p, directions, directions, service=service_windows(config.inventory.lines, p)
            )
            if any(u.has_data for u in measured.values()):
                store.save_usage(str(p), {k: v.as_dict() for k, v in measured.items()})
            history[str(p)] = measured
    return history


def voice_month(
    settings: Settings,
    config: BillingConfig,
    period: Period,
    *,
    call_store_path: Path | None = None,
    invoice_dir: Path | None = None,
) -> VoiceMonth | None:
    """The period's voice inputs (:func:`~billing_etl.voice_audit.load_voice_month`) from the call store at
    ``call_store_path`` (default voice.yaml ``store_path``, else ``state_dir/calls.sqlite``), read-only; a store
    that does not exist yet holds no call. None without voice trunks in the inventory."""
    from linewatch.voice.store import CallStore, store_path

    if not voice_lines(config):
        return None
    path = call_store_path or store_path(settings, config.voice)
    if not path.is_file():
        log.info("no call store at %s: the voice trunks' calls of %s are not rated", path, period)
        return load_voice_month(config, period, store=None, invoice_dir=invoice_dir)
    with CallStore(path, read_only=True) as store:
        return load_voice_month(config, period, store=store, invoice_dir=invoice_dir)


def run_period(
    settings: Settings,
    period: Period,
    *,
    client: InfluxClient | None = None,
    config: BillingConfig | None = None,
    invoice_dir: Path | None = None,
    out_dir: Path | None = None,
    write_influx: bool = True,
    formats: Sequence[str] = ("csv", "xlsx", "parquet"),
    progress_enabled: bool | None = None,
    store_path: Path | None = None,
    language: Language | str | None = None,
    call_store_path: Path | None = None,
    itemized_dir: Path | None = None,
) -> PeriodReport:
    """The whole ETL for one period. ``client=None`` builds one from the settings (closed at the end);
    ``language`` of the CSV/XLSX headers, default the settings' ``export_language``; ``call_store_path``: the
    voice calls (see :func:`voice_month`); ``itemized_dir``: where the carriers' itemized call files are (default
    ``invoice_dir``, else carriers.yaml's)."""
    config = config or load_billing_config(settings)
    own_client = client is None
    client = client or InfluxClient(settings.influx)
    store = InvoiceStore(store_path or settings.resolve(settings.state_dir) / STORE_NAME)
    try:
        files = find_invoice_files(config, invoice_dir)
        progress = Progress(len(files) + 6, enabled=progress_enabled)
        imports = import_invoices(config, store, progress=progress, files=files)
        directions = _directions(config)
        usage = measure_usage(
            client,
            period,
            directions,
            directions,
            service=service_windows(config.inventory.lines, period),
            segments=usage_segment_days(config, period),
        )
        store.save_usage(str(period), {k: v.as_dict() for k, v in usage.items()})
        progress.step("usage measured")
        history = _history(config, store, client, period, directions)
        progress.step("usage history")
        invoices = store.invoices()
        voice = voice_month(
            settings, config, period, call_store_path=call_store_path, invoice_dir=itemized_dir or invoice_dir
        )
        for problem in voice.itemized_problems if voice else ():
            log.warning("itemized call not read: %s", problem)
        auditor = Auditor(
            config=config,
            invoices=invoices,
            period=period,
            usage=usage,
            conflicts=store.conflicts(),
            rejected=imports.rejected,
            voice=voice,
        )
        findings = auditor.run()
        progress.step(f"{len(findings)} findings")
        lines, unallocated = line_costs(auditor, findings)
        sizing = channel_sizing(config, voice.calls, voice.lines, voice.windows) if voice else {}
        report = PeriodReport(
            period=period,
            imports=imports,
            usage=usage,
            findings=findings,
            lines=lines,
            departments=department_costs(lines),
            proposals=propose(config, period, usage, history, channels=sizing),
            payments=payments_due(invoices, period, findings),
            unallocated=unallocated,
            segments=segment_costs(auditor),
            voice=voice_report(auditor, voice, sizing, findings, config.directory) if voice else None,
        )
        progress.step("costs allocated")
        out = out_dir or settings.resolve(settings.state_dir) / "exports"
        stamp = dt.datetime(period.year, period.month, 1)
        mode = settings.export_mode
        report.exports = write_all(
            build_tables(report),
            out,
            stem=f"billing-{period}",
            stamp=stamp,
            formats=formats,
            mode=mode,
            language=language or settings.export_language,
        )
        write_quarantine(
            imports.quarantined,
            out / f"billing-{period}-quarantine.csv",
            mode=mode,
            language=language or settings.export_language,
        )
        report.exports.append(out / f"billing-{period}-quarantine.csv")
        progress.step("exports written")
        if write_influx:
            points = influx_points(report, config)
            body = encode_points(points)
            client.write(body)
            report.influx_points = len(points)
        progress.step("recorded in InfluxDB" if write_influx else "done")
        return report
    finally:
        store.close()
        if own_client:
            client.close()


# -- tables
# -----------------------------------------------------------------------------------------------------


def build_tables(report: PeriodReport) -> list[Table]:
    """Summary, Counts, Lines, Contract changes, Findings, Savings, Departments, Payments due — the sheets of
    the XLSX."""
    summary = Table(
        "Summary",
        [Column("metric"), Column("value", "money"), Column("currency"), Column("period")],
        currency_column="currency",
    )
    counts = Table("Counts", [Column("metric"), Column("value", "int")])
    imp = report.imports
    # Only figures that do not depend on what earlier runs imported: a re-run must write identical files.
    conflicts = sum(1 for f in report.findings if f.rule is AuditRule.INVOICE_CONFLICT)
    for metric, value in (
        ("invoice files", imp.files),
        ("invoices of the period", len(report.payments)),  # by service period, whatever their date
        ("invoices conflicting", conflicts),
        ("rows loaded", imp.good_rows),
        ("rows quarantined", imp.bad_rows),
        ("files rejected", len(imp.file_errors)),
        ("lines", len(report.lines)),
        ("findings", len(report.findings)),
        ("savings proposals", len(report.proposals)),
    ):
        counts.rows.append((metric, value))
    labels = (
        ("billed", "billed (line charges)"),
        ("allocated", "taxes & surcharges allocated"),
        ("unallocated", "account charges unallocated"),
        ("total", "total cost"),
        ("expected", "expected (contracts)"),
        ("at_stake", "at stake (over-billed)"),
        ("saving", "savings proposed per month"),
    )
    for currency, totals in report.totals().items():
        for key, label in labels:
            summary.rows.append((label, money(totals.get(key, ZERO), currency), currency, str(report.period)))
    lines = Table(
        "Lines",
        [
            Column("line"),
            Column("carrier"),
            Column("circuit_id"),
            Column("site"),
            Column("department"),
            Column("cost_centre"),
            Column("currency"),
            Column("billed", "money"),
            Column("allocated", "money"),
            Column("total", "money"),
            Column("expected", "money"),
            Column("at_stake", "money"),
            Column("commit_mbps", "float"),
            Column("p95_mbps", "float"),
            Column("peak_util_pct", "pct"),
            Column("volume_gb", "float"),
            Column("availability_pct", "pct"),
            Column("down_minutes", "float"),
            Column("no_data_minutes", "float"),
        ],
        currency_column="currency",
    )
    for lc in report.lines:
        lines.rows.append(
            (
                lc.line,
                lc.carrier,
                lc.circuit_id,
                lc.site,
                lc.department,
                lc.cost_centre,
                lc.currency,
                lc.billed_amount,
                lc.allocated_amount,
                lc.total_amount,
                lc.expected_amount,
                lc.at_stake_amount,
                None if lc.commit_bps is None else lc.commit_bps / 1e6,
                None if lc.p95_bps is None else lc.p95_bps / 1e6,
                lc.peak_util_pct,
                lc.volume_gb,
                lc.availability_pct,
                lc.down_minutes,
                lc.no_data_minutes,
            )
        )
    changes = Table(
        "Contract changes",
        [
            Column("line"),
            Column("carrier"),
            Column("currency"),
            Column("first_day", "date"),
            Column("last_day", "date"),
            Column("days", "int"),
            Column("mrc_per_month", "money"),
            Column("expected_mrc", "money"),
            Column("commit_mbps", "float"),
            Column("p95_mbps", "float"),
            Column("volume_gb", "float"),
            Column("expected_usage", "money"),
        ],
        currency_column="currency",
    )
    for sc in report.segments:
        changes.rows.append(
            (
                sc.line,
                sc.carrier,
                sc.currency,
                sc.first_day,
                sc.last_day,
                sc.days,
                sc.mrc_amount,
                sc.expected_mrc_amount,
                sc.commit_bps / 1e6,
                None if sc.p95_bps is None else sc.p95_bps / 1e6,
                sc.volume_gb,
                sc.expected_usage_amount,
            )
        )
    findings = Table(
        "Findings",
        [
            Column("finding_id"),
            Column("rule"),
            Column("carrier"),
            Column("invoice"),
            Column("line"),
            Column("circuit_id"),
            Column("department"),
            Column("amount_at_stake", "money"),
            Column("currency"),
            Column("reason", width=100),
            Column("source"),
        ],
        currency_column="currency",
    )
    for f in report.findings:
        findings.rows.append(
            (
                finding_key(f, report.period),
                f.rule.value,
                f.carrier,
                f.invoice_number,
                f.line,
                f.circuit_id,
                f.department,
                f.amount_at_stake,
                f.currency,
                f.reason,
                f.source,
            )
        )
    savings = Table(
        "Savings",
        [
            Column("action"),
            Column("line"),
            Column("carrier"),
            Column("department"),
            Column("currency"),
            Column("current_commit_mbps", "float"),
            Column("proposed_commit_mbps", "float"),
            Column("current_mrc", "money"),
            Column("proposed_mrc", "money"),
            Column("monthly_saving", "money"),
            Column("current_channels", "int"),
            Column("proposed_channels", "int"),
            Column("evidence", width=100),
        ],
        currency_column="currency",
    )
    for p in report.proposals:
        savings.rows.append(
            (
                p.action.value,
                p.line,
                p.carrier,
                p.department,
                p.currency,
                p.current_commit_bps / 1e6,
                None if p.proposed_commit_bps is None else p.proposed_commit_bps / 1e6,
                p.current_mrc,
                p.proposed_mrc,
                p.monthly_saving,
                p.current_channels,
                p.proposed_channels,
                p.evidence,
            )
        )
    departments = Table(
        "Departments",
        [
            Column("department"),
            Column("cost_centre"),
            Column("lines", "int"),
            Column("billed", "money"),
            Column("allocated", "money"),
            Column("total", "money"),
            Column("expected", "money"),
            Column("at_stake", "money"),
            Column("currency"),
        ],
        currency_column="currency",
    )
    for d in report.departments:
        departments.rows.append(
            (
                d.department,
                d.cost_centre,
                d.lines,
                d.billed_amount,
                d.allocated_amount,
                d.total_amount,
                d.expected_amount,
                d.at_stake_amount,
                d.currency,
            )
        )
    payments = Table(
        "Payments due",
        [
            Column("due_date", "date"),
            Column("carrier"),
            Column("billing_account"),
            Column("invoice"),
            Column("invoice_date", "date"),
            Column("currency"),
            Column("amount", "money"),
            Column("stated_total", "money"),
            Column("disputed", "money"),
            Column("findings", "int"),
        ],
        currency_column="currency",
    )
    for p in report.payments:
        payments.rows.append(
            (
                p.due_date,
                p.carrier,
                p.billing_account,
                p.invoice_number,
                p.invoice_date,
                p.currency,
                p.amount,
                p.stated_total,
                p.disputed_amount,
                p.findings,
            )
        )
    tables = [summary, counts, lines, changes, findings, savings, departments, payments]
    if report.voice is not None:
        tables += voice_tables(report.voice)
    return tables


def voice_tables(voice: VoiceReport) -> list[Table]:
    """Voice trunks, Voice by department, Voice calls reconciliation (docs/billing.md "Voice trunks")."""
    trunks = Table(
        "Voice trunks",
        [
            Column("line"),
            Column("carrier"),
            Column("site"),
            Column("department"),
            Column("rate_plan"),
            Column("currency"),
            Column("channels", "int"),
            Column("calls", "int"),
            Column("answered", "int"),
            Column("blocked", "int"),
            Column("talk_minutes", "float"),
            Column("billed_minutes", "float"),
            Column("busy_hour_erlangs", "float"),
            Column("design_erlangs", "float"),
            Column("channels_needed", "int"),
            Column("blocking_pct", "pct"),
            Column("rated", "money"),
            Column("billed", "money"),
            Column("at_stake", "money"),
        ],
        currency_column="currency",
    )
    for v in voice.lines:
        trunks.rows.append(
            (
                v.line,
                v.carrier,
                v.site,
                v.department,
                v.rate_plan,
                v.currency,
                v.channels,
                v.calls,
                v.answered,
                v.blocked,
                round(v.talk_minutes, 2),
                round(v.billed_minutes, 2),
                round(v.busy_hour_erlangs, 3),
                round(v.design_erlangs, 3),
                v.channels_needed,
                None if v.blocking_pct is None else round(v.blocking_pct, 3),
                v.rated_amount,
                v.billed_amount,
                v.at_stake_amount,
            )
        )
    departments = Table(
        "Voice by department",
        [
            Column("department"),
            Column("currency"),
            Column("calls", "int"),
            Column("answered", "int"),
            Column("talk_minutes", "float"),
            Column("rated", "money"),
        ],
        currency_column="currency",
    )
    for d in voice.departments:
        departments.rows.append(
            (d.department, d.currency, d.calls, d.answered, round(d.minutes, 2), d.cost_amount)
        )
    calls = Table(
        "Voice calls reconciliation",
        [
            Column("finding_id"),
            Column("rule"),
            Column("carrier"),
            Column("invoice"),
            Column("line"),
            Column("source"),
            Column("call_start"),
            Column("callee"),
            Column("carrier_billed_s", "int"),
            Column("carrier_amount", "money"),
            Column("carrier_class"),
            Column("dest_class"),
            Column("cdr_source"),
            Column("billsec_s", "int"),
            Column("billed_s", "int"),
            Column("rated", "money"),
            Column("amount_at_stake", "money"),
            Column("currency"),
        ],
        currency_column="currency",
    )
    for r in voice.reconciliation.itertuples(index=False):  # itemized calls: a carrier's month, not per CDR

        def whole(value: float) -> int | None:
            return None if pd.isna(value) else int(round(value))

        def amount(value: float) -> Decimal | None:
            return None if pd.isna(value) else Decimal(repr(round(float(value), 6)))

        found = not pd.isna(r.cdr_key)
        calls.rows.append(
            (
                r.finding_id,
                r.rule,
                r.carrier,
                r.invoice,
                r.line,
                r.source,
                dt.datetime.fromtimestamp(r.start_s, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                r.callee,
                whole(r.carrier_billed_s),
                amount(r.carrier_amount),
                r.carrier_class_text,
                None if pd.isna(r.dest_class) else r.dest_class,
                r.cdr_source if found else None,
                whole(r.billsec_s) if found else None,
                whole(r.billed_s) if found else None,
                amount(r.cost) if found else None,
                amount(r.amount),
                r.currency,
            )
        )
    return [trunks, departments, calls]


# -- InfluxDB
# ---------------------------------------------------------------------------------------------------


def influx_points(report: PeriodReport, config: BillingConfig) -> list[Point]:
    """``line_cost`` per line and ``billing_findings`` per rule × carrier × department × currency (zeros
    included, so a re-run after a fix overwrites yesterday's counts instead of leaving them). ``currency`` is
    a tag of both, so a dashboard sums amounts of one currency only."""
    time_ns = report.period.start_s * 10**9
    period = str(report.period)
    points = []
    saving = {p.line: p.monthly_saving or ZERO for p in report.proposals}
    for lc in report.lines:
        fields: dict[str, float | str] = {
            "billed_amount": float(lc.billed_amount),
            "allocated_amount": float(lc.allocated_amount),
            "total_amount": float(lc.total_amount),
            "at_stake_amount": float(lc.at_stake_amount),
            "saving_amount": float(saving.get(lc.line, ZERO)),
        }
        if lc.expected_amount is not None:
            fields["expected_amount"] = float(lc.expected_amount)
        points.append(
            Point(
                "line_cost",
                {
                    "line": lc.line,
                    "department": lc.department,
                    "carrier": lc.carrier,
                    "currency": lc.currency,
                    "period": period,
                },
                fields,
                time_ns,
            )
        )
    groups = {(lc.carrier, lc.department, lc.currency) for lc in report.lines}
    groups |= {(f.carrier, f.department, f.currency) for f in report.findings}
    counts: dict[tuple[str, str, str, str], list] = {}
    for rule in AuditRule:
        for carrier, dept, currency in groups:
            counts[(rule.value, carrier, dept, currency)] = [0, ZERO]
    for f in report.findings:
        entry = counts[(f.rule.value, f.carrier, f.department, f.currency)]
        entry[0] += 1
        entry[1] += f.amount_at_stake
    for (rule, carrier, dept, currency), (count, amount) in sorted(counts.items()):
        points.append(
            Point(
                "billing_findings",
                {
                    "rule": rule,
                    "carrier": carrier or "(none)",
                    "department": dept,
                    "currency": currency,
                    "period": period,
                },
                {"count": count, "amount": float(amount)},
                time_ns,
            )
        )
    return points


# -- the one-screen summary
# -------------------------------------------------------------------------------------


def summary_text(report: PeriodReport, *, top: int = 8) -> str:
    imp = report.imports
    out = [
        (
            f"linewatch billing {report.period}: {imp.files} file(s), {imp.new_invoices} new / "
            f"{imp.unchanged_invoices} unchanged / {imp.conflicting_invoices} conflicting invoice(s), "
            f"{imp.good_rows} row(s) loaded, {imp.bad_rows} quarantined, {len(imp.file_errors)} file(s) "
            "rejected"
        )
    ]
    if imp.completed_invoices:
        out.append(
            f"  {imp.completed_invoices} invoice(s) completed: a corrected file replaced an import that had "
            "quarantined rows"
        )
    for err in imp.file_errors:
        out.append(f"  rejected: {err}")
    for currency, t in report.totals().items():

        def amount(key: str, totals: dict[str, Decimal] = t, currency: str = currency) -> str:
            return amount_text(totals.get(key, ZERO), currency)

        count = sum(1 for f in report.findings if f.currency == currency)
        out.append(
            f"  billed    {amount('total'):>14} {currency}  (line charges {amount('billed')} "
            f"+ taxes/surcharges {amount('allocated')})"
        )
        out.append(f"  expected  {amount('expected'):>14} {currency}")
        out.append(f"  at stake  {amount('at_stake'):>14} {currency}  in {count} finding(s)")
        out.append(
            f"  savings   {amount('saving'):>14} {currency}/month in "
            f"{sum(1 for p in report.proposals if p.currency == currency)} proposal(s)"
        )
    if report.voice is not None:
        for v in report.voice.lines:
            out.append(
                f"  voice     {v.line:<16} {v.calls:,} calls ({v.blocked:,} blocked), {v.talk_minutes:,.0f} min, "
                f"busy hour {v.busy_hour_erlangs:.1f} E on {v.channels or '-'} channels (needs "
                f"{v.channels_needed if v.channels_needed is not None else '-'}), rated "
                + (amount_text(v.rated_amount, v.currency) if v.rated_amount is not None and v.currency else "-")
                + f" / billed {amount_text(v.billed_amount, v.currency) if v.currency else '-'} {v.currency}"
            )
    ranked = sorted(report.findings, key=lambda f: (-f.recoverable, f.rule.value, f.line))[:top]
    if ranked:
        out.append("  top findings:")
        for f in ranked:
            out.append(
                f"    {f.rule.value:<19} {f.line or f.circuit_id or f.invoice_number:<16} "
                f"{amount_text(f.amount_at_stake, f.currency):>10} {f.currency}  {f.reason[:90]}"
            )
    if report.exports:
        xlsx = [p for p in report.exports if p.suffix == ".xlsx"]
        out.append(
            f"  exports: {xlsx[0] if xlsx else report.exports[0].parent} (+ {len(report.exports) - 1} files)"
        )
    return "\n".join(out)
