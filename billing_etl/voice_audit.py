"""The voice audit: a month's calls re-rated from the call store, the carriers' call charges checked against that
rated total, and their itemized calls reconciled call by call (docs/billing.md "Voice trunks").

**The rated total is authoritative**: the period's calls of every voice trunk are read from the call store
(:mod:`linewatch.voice.store`) and rated again by the line's rate plan (:class:`linewatch.voice.rating.Rater`), in
start order, with the included-minute bundles starting from zero at the month's start — the month of the rate
plan's time zone (``month_bounds``), so a call just after midnight in Paris on the 1st is December's, even at
23:30 UTC. What the collector rated as calls arrived does not count: the plan may have changed since.

Rules (:class:`~billing_etl.audit.Finding` with amounts, into the finance workflow like the others):

* ``voice_usage_mismatch`` — a voice line's usage rows (call charges) on the period's invoices differ from its
  rated total beyond the audit tolerance (``tolerance_amount``, ``usage_tolerance_pct``). The part the itemized
  call findings already claim is left out, so no amount is claimed twice; with no CDRs of the line at all, the
  charges cannot be verified and the whole amount is at stake.
* ``call_not_in_cdrs``, ``call_rounding``, ``call_wrong_class`` — one finding per itemized call
  (:func:`billing_etl.itemized.reconcile`), on the invoice that bills the line's calls, each with its own stable id
  (:func:`billing_etl.finding_ids.itemized_call_key`), so a dispute quotes the calls.

The I/O is :func:`load_voice_month`; everything else is pure over its frames.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from billing_etl.audit import _fmt
from billing_etl.finding_ids import itemized_call_key
from billing_etl.itemized import (
    carrier_classes,
    empty_reconciliation,
    find_itemized_files,
    read_itemized,
    reconcile,
)
from billing_etl.model import Period, money
from linewatch.choices import AuditRule, CallOutcome, ChargeType, LineType
from linewatch.inventory import Line
from linewatch.voice.frame import ALL_COLUMNS, empty_calls
from linewatch.voice.records import RowProblem

if TYPE_CHECKING:  # billing_etl.audit imports this module when it runs the voice rules
    from billing_etl.audit import Auditor, Charge, Finding
    from billing_etl.config import BillingConfig
    from linewatch.voice.store import CallStore

ZERO = Decimal(0)
CALL_RULES = (AuditRule.CALL_NOT_IN_CDRS, AuditRule.CALL_ROUNDING, AuditRule.CALL_WRONG_CLASS)


@dataclass(frozen=True)
class RatedTotal:
    """A voice line's month as rated: its calls and the cost under its rate plan."""

    line: str
    rate_plan: str
    currency: str
    calls: int
    answered: int
    blocked: int
    talk_minutes: float
    billed_minutes: float
    bundle_minutes: float
    cost: Decimal


@dataclass(frozen=True)
class VoiceMonth:
    """The voice inputs of a period's audit.

    ``calls``: the period's calls of every voice line, re-rated (ALL_COLUMNS, start order); ``windows``: each voice
    line's month as epoch seconds ``[start_s, end_s)`` (its rate plan's zone; UTC without a plan);
    ``reconciliation``: one row per itemized call of the period (:data:`~billing_etl.itemized.RECONCILIATION_COLUMNS`);
    ``lines``: the voice lines (by id) the month is about."""

    period: Period
    lines: Mapping[str, Line]
    calls: pd.DataFrame
    windows: Mapping[str, tuple[float, float]]
    reconciliation: pd.DataFrame = field(default_factory=empty_reconciliation)
    itemized_files: list[Path] = field(default_factory=list)
    itemized_problems: list[RowProblem] = field(default_factory=list)
    plans: Mapping[str, str] = field(default_factory=dict)  # line -> rate plan name
    currencies: Mapping[str, str] = field(default_factory=dict)  # rate plan -> currency
    timezones: Mapping[str, str] = field(default_factory=dict)  # carrier -> zone its itemized times are in
    windows_s: Mapping[str, float] = field(default_factory=dict)  # carrier -> itemized match window

    def line_calls(self, line: str) -> pd.DataFrame:
        return self.calls[self.calls["line"].astype("string") == line]

    def rated(self) -> dict[str, RatedTotal]:
        """Per voice line with a rate plan: its rated month (also a line without a call: all zeros)."""
        calls = self.calls
        line_col = calls["line"].astype("string").fillna("")
        answered = (calls["outcome"].astype("string") == CallOutcome.ANSWERED.value).fillna(False)
        blocked = (calls["outcome"].astype("string") == CallOutcome.BLOCKED.value).fillna(False)
        frame = pd.DataFrame(
            {
                "line": line_col.to_numpy(),
                "calls": 1,
                "answered": answered.to_numpy(dtype=np.int64),
                "blocked": blocked.to_numpy(dtype=np.int64),
                "talk": calls["billsec_s"].astype("float64").fillna(0.0).to_numpy() / 60,
                "billed": calls["billed_s"].astype("float64").fillna(0.0).to_numpy() / 60,
                "bundle": calls["bundle_s"].astype("float64").fillna(0.0).to_numpy() / 60,
                "cost": calls["cost"].astype("float64").fillna(0.0).to_numpy(),
            }
        )
        sums = frame.groupby("line").sum() if len(frame) else frame.set_index("line")
        out = {}
        for line_id, plan in sorted(self.plans.items()):
            currency = self.currencies.get(plan, "")
            row = sums.loc[line_id] if line_id in sums.index else None

            def figure(name: str, row: pd.Series | None = row) -> float:
                return 0.0 if row is None else float(row[name])

            out[line_id] = RatedTotal(
                line=line_id,
                rate_plan=plan,
                currency=currency,
                calls=int(figure("calls")),
                answered=int(figure("answered")),
                blocked=int(figure("blocked")),
                talk_minutes=figure("talk"),
                billed_minutes=figure("billed"),
                bundle_minutes=figure("bundle"),
                # each call's cost is rounded to the minor unit by the rating: their sum is exact in Decimal
                cost=money(Decimal(repr(round(figure("cost"), 6))), currency or None),
            )
        return out


# -- loading (I/O) ------------------------------------------------------------------------------------------------


def voice_lines(config: BillingConfig) -> dict[str, Line]:
    return {line.id: line for line in config.inventory.lines if line.type is LineType.VOICE_TRUNK}


def country_of_lines(config: BillingConfig, lines: Mapping[str, Line]) -> dict[str, str]:
    """Each voice line's country for national numbers: its voice.yaml trunk's ``country_code``, else
    ``numbering.country_code``."""
    out = {line: config.voice.numbering.country_code for line in lines}
    for trunk in config.voice.trunks:
        if trunk.line in out and trunk.country_code:
            out[trunk.line] = trunk.country_code
    return out


def _rate(config: BillingConfig, calls: pd.DataFrame, lines: Mapping[str, Line]) -> pd.DataFrame:
    """``calls`` rated by their lines' plans, bundles from zero (ALL_COLUMNS, start order)."""
    from linewatch.voice.rating import Rater

    if calls.empty:
        return empty_calls(ALL_COLUMNS)
    calls = calls.sort_values(["start_s", "call_key"], kind="stable").reset_index(drop=True)
    plans = {p.name for p in config.voice.rate_plans}
    rater = Rater(config.voice.rate_plans, config.voice.numbering)
    batch = rater.rate(
        calls,
        plan_of_line={k: v.rate_plan for k, v in lines.items() if v.rate_plan in plans},
        country_of_line=country_of_lines(config, lines),
        bundle_used_s=None,
    )
    return batch.frame


def month_windows(config: BillingConfig, period: Period, lines: Mapping[str, Line]) -> dict[str, tuple[float, float]]:
    """Each voice line's month ``[start_s, end_s)``: its rate plan's (``month_bounds`` in the plan's zone), else
    the UTC calendar month."""
    from linewatch.voice.rating import month_bounds

    plans = {p.name: p for p in config.voice.rate_plans}
    out = {}
    for line_id, line in lines.items():
        plan = plans.get(line.rate_plan or "")
        start, end = month_bounds(plan, str(period)) if plan is not None else (period.start_s, period.end_s)
        out[line_id] = (float(start), float(end))
    return out


def _store_calls(
    store: CallStore, windows: Mapping[str, tuple[float, float]], *, margin_s: float = 0.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the calls started in each line's window, the calls started within ``margin_s`` before or after it)."""
    by_window: dict[tuple[float, float], list[str]] = defaultdict(list)
    for line, window in windows.items():
        by_window[window].append(line)
    inside, around = [], []
    for (start, end), lines in sorted(by_window.items()):
        inside.append(store.calls(lines=sorted(lines), start_s=start, end_s=end))
        if margin_s > 0:
            around.append(store.calls(lines=sorted(lines), start_s=start - margin_s, end_s=start))
            around.append(store.calls(lines=sorted(lines), start_s=end, end_s=end + margin_s))

    def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else empty_calls(ALL_COLUMNS)

    return concat(inside), concat(around)


def load_voice_month(
    config: BillingConfig,
    period: Period,
    *,
    store: CallStore | None,
    invoice_dir: Path | None = None,
    itemized: bool = True,
) -> VoiceMonth | None:
    """The period's voice inputs: calls from ``store`` (None: no call store, no calls) re-rated, the carriers'
    itemized call files under ``invoice_dir`` (default the configured one; none with ``itemized=False``) read and
    reconciled. None when the inventory has no voice trunk."""
    lines = voice_lines(config)
    if not lines:
        return None
    windows = month_windows(config, period, lines)
    files = find_itemized_files(config, invoice_dir) if itemized else []
    carriers = config.carriers.by_name()
    margin = max(
        (carriers[c].itemized_calls.match_window_s for _p, c in files if carriers[c].itemized_calls), default=0
    )
    if store is not None:
        inside, around = _store_calls(store, windows, margin_s=float(margin))
    else:
        inside, around = empty_calls(ALL_COLUMNS), empty_calls(ALL_COLUMNS)
    calls = _rate(config, inside, lines)
    plans = {p.name: p for p in config.voice.rate_plans}
    month = VoiceMonth(
        period=period,
        lines=lines,
        calls=calls,
        windows=windows,
        plans={k: v.rate_plan for k, v in lines.items() if v.rate_plan in plans},
        currencies={name: plan.currency for name, plan in plans.items()},
    )
    if not files:
        return month
    candidates = pd.concat([calls, _rate(config, around, lines)], ignore_index=True) if len(around) else calls
    parts, problems, timezones, window_s = [], [], {}, {}
    for path, carrier_name in files:
        carrier = carriers[carrier_name]
        itemized = carrier.itemized_calls
        assert itemized is not None
        read = read_itemized(path, carrier, config)
        problems += read.problems
        billed = in_windows(read.calls, windows)
        if billed.empty:
            continue
        billed = billed.assign(
            callee_e164=config.voice.numbering.to_e164(
                billed["callee"], billed["line"].map(country_of_lines(config, lines)).astype("string")
            ),
            carrier_class_text=billed["carrier_class"].astype("string"),
            carrier_class=carrier_classes(billed["carrier_class"], itemized.classes),
        )
        parts.append(reconcile(billed, candidates, window_s=itemized.match_window_s))
        layout = config.voice.layout(itemized.layout)
        timezones[carrier_name] = (layout.timezone if layout is not None else None) or "UTC"
        window_s[carrier_name] = float(itemized.match_window_s)
    reconciliation = pd.concat(parts, ignore_index=True) if parts else empty_reconciliation()
    return replace(
        month,
        reconciliation=reconciliation,
        itemized_files=[p for p, _c in files],
        itemized_problems=problems,
        timezones=timezones,
        windows_s=window_s,
    )


def in_windows(calls: pd.DataFrame, windows: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
    """The calls of ``calls`` whose line is a key of ``windows`` and that started in its window."""
    line = calls["line"].astype("string")
    start = line.map({k: v[0] for k, v in windows.items()}).astype("float64")
    end = line.map({k: v[1] for k, v in windows.items()}).astype("float64")
    t = calls["start_s"].astype("float64")
    keep = (t >= start) & (t < end)
    return calls[keep.fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


# -- the rules (pure) -----------------------------------------------------------------------------------------------


def _when(start_s: float, zone: str) -> str:
    local = dt.datetime.fromtimestamp(start_s, dt.UTC).astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M:%S} {zone}"


def _seconds(value: float) -> str:
    return "0 s" if value is None or math.isnan(value) else f"{value:,.0f} s"


def call_charges(auditor: Auditor, lines: Sequence[str]) -> dict[str, list[Charge]]:
    """The period's usage rows (call charges) of each voice line, in invoice order."""
    out: dict[str, list[Charge]] = defaultdict(list)
    wanted = set(lines)
    for c in auditor.in_period:
        if c.line is not None and c.line.id in wanted and c.row.charge_type is ChargeType.USAGE:
            out[c.line.id].append(c)
    for charges in out.values():
        charges.sort(key=lambda c: c.order_key)
    return dict(out)


def _call_reason(row: pd.Series, *, plan: str, zone: str, window_s: float, currency: str) -> str:
    rule = AuditRule(row["rule"])
    who = f"call to {row['callee']} on {_when(row['start_s'], zone)}"
    amount = Decimal(repr(round(float(row["carrier_amount"]), 6)))
    billed = f"billed {_seconds(row['carrier_billed_s'])}, {_fmt(amount, currency)}"
    if rule is AuditRule.CALL_NOT_IN_CDRS:
        return (
            f"{who} {billed}: no answered call of {row['line']} to this number within ±{window_s:,.0f} s in the "
            "PBX's call records"
        )
    cost = Decimal(repr(round(float(row["cost"]), 6)))
    if rule is AuditRule.CALL_WRONG_CLASS:
        charged = row["carrier_class_text"] + (
            f" ({row['carrier_class']})"
            if row["carrier_class"] and row["carrier_class"] != row["carrier_class_text"].casefold()
            else ""
        )
        return (
            f"{who} {billed}, charged as {charged}; the number is {row['dest_class']}: "
            f"{_fmt(cost, currency)} under rate plan {plan} (CDR {row['cdr_source']})"
        )
    return (
        f"{who} {billed}; the CDR's {_seconds(row['billsec_s'])} of talk time round to "
        f"{_seconds(row['billed_s'])} under rate plan {plan}: "
        f"{_seconds(row['carrier_billed_s'] - row['billed_s'])} billed too many (CDR {row['cdr_source']})"
    )


def voice_findings(auditor: Auditor, month: VoiceMonth) -> list[Finding]:
    """Every voice finding of ``auditor.period``: the itemized calls' verdicts, then the lines' call charges
    against their rated totals (less what the call findings claim)."""
    rated = month.rated()
    charges = call_charges(auditor, list(month.lines))
    out: list[Finding] = []
    explained: dict[str, Decimal] = defaultdict(Decimal)
    claimed: dict[str, int] = defaultdict(int)
    rows = month.reconciliation[month.reconciliation["rule"].fillna("") != ""]
    for _i, row in rows.iterrows():  # one finding per disputed call (a few dozen), never per CDR
        line = month.lines.get(row["line"])
        if line is None:
            continue
        first = charges.get(line.id, [None])[0]
        base = auditor._finding(AuditRule(row["rule"]), first, ZERO, "", line=line)
        currency = base.currency
        amount = money(Decimal(repr(round(float(row["amount"]), 6))), currency)
        zone = month.timezones.get(line.carrier, "UTC")
        reason = _call_reason(
            row,
            plan=month.plans.get(line.id, ""),
            zone=zone,
            window_s=month.windows_s.get(line.carrier, 0.0),
            currency=currency,
        )
        out.append(
            replace(
                base,
                amount_at_stake=amount,
                reason=reason,
                source=str(row["source"]),
                charge_key=itemized_call_key(str(row["record_key"])),
            )
        )
        explained[line.id] += amount
        claimed[line.id] += 1
    out += usage_findings(auditor, month, rated=rated, charges=charges, explained=explained, claimed=claimed)
    return out


def usage_findings(
    auditor: Auditor,
    month: VoiceMonth,
    *,
    rated: Mapping[str, RatedTotal],
    charges: Mapping[str, list[Charge]],
    explained: Mapping[str, Decimal],
    claimed: Mapping[str, int],
) -> list[Finding]:
    """``voice_usage_mismatch`` per voice line with call charges on the period's invoices (see the module)."""
    out = []
    for line_id, line_charges in sorted(charges.items()):
        total = rated.get(line_id)
        if total is None:
            continue  # no rate plan: nothing to rate the calls by (voice.yaml check-config names the line)
        first = line_charges[0]
        currency = first.row.currency
        billed = sum((c.row.amount for c in line_charges), ZERO)
        what = f"call charges billed {_fmt(billed, currency)}"
        if total.calls == 0:
            out.append(
                auditor._finding(
                    AuditRule.VOICE_USAGE_MISMATCH,
                    first,
                    billed,
                    f"{what} but linewatch has no call of {line_id} in {month.period}: cannot be verified",
                )
            )
            continue
        expected = total.cost
        tolerance = max(auditor.tol, expected * auditor.audit.usage_tolerance_pct / 100)
        claim = explained.get(line_id, ZERO)
        residual = billed - expected - claim
        if abs(residual) <= tolerance:
            continue
        reason = (
            f"{what}, rated {_fmt(expected, total.currency)} by rate plan {total.rate_plan}: {total.calls:,} "
            f"calls ({total.answered:,} answered, {total.talk_minutes:,.1f} talk minutes, "
            f"{total.billed_minutes:,.1f} billed"
            + (f", {total.bundle_minutes:,.1f} in the bundle" if total.bundle_minutes else "")
            + ")"
        )
        if claim:
            reason += (
                f"; {claimed.get(line_id, 0)} itemized call finding(s) claim {_fmt(claim, currency)}, "
                f"{_fmt(residual, currency)} remain"
            )
        out.append(auditor._finding(AuditRule.VOICE_USAGE_MISMATCH, first, residual, reason))
    return out
