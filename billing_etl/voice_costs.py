"""The voice trunks' month for finance: per trunk (calls, minutes, busy hour, channels needed, rated and billed
call charges), per department (the extension directory), and the itemized calls' reconciliation — the rows of the
"Voice trunks", "Voice by department" and "Voice calls reconciliation" sheets (docs/billing.md "Voice trunks").

A call is charged to the department of its extension (the company's own party) in the extension directory
(:mod:`linewatch.voice.directory`: the application's, or voice.yaml ``extensions``); a call whose extension the
directory does not cover is listed under "(unassigned)"; without a directory every call goes to its trunk's
department (the inventory's).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from billing_etl.audit import UNKNOWN_DEPARTMENT, ZERO, Auditor, Finding
from billing_etl.finding_ids import finding_key, itemized_call_key
from billing_etl.model import money
from billing_etl.voice_audit import CALL_RULES, VoiceMonth, call_charges
from billing_etl.voice_savings import ChannelSizing
from linewatch.choices import AuditRule
from linewatch.voice.directory import UNASSIGNED, Directory, department_costs


@dataclass(frozen=True)
class VoiceLineCost:
    """One row of the Voice trunks sheet."""

    line: str
    carrier: str
    site: str
    department: str
    rate_plan: str
    currency: str
    channels: int | None
    calls: int
    answered: int
    blocked: int
    talk_minutes: float
    billed_minutes: float
    busy_hour_erlangs: float  # the period's busiest hour, carried
    design_erlangs: float  # the offered design traffic the channels are sized for
    channels_needed: int | None
    blocking_pct: float | None
    rated_amount: Decimal | None  # None: the line has no rate plan
    billed_amount: Decimal  # call charges (usage rows) on the period's invoices
    at_stake_amount: Decimal  # what the voice findings of the line claim


@dataclass(frozen=True)
class VoiceDepartmentCost:
    """One row of the Voice by department sheet (one per department and currency)."""

    department: str
    currency: str
    calls: int
    answered: int
    minutes: float
    cost_amount: Decimal


@dataclass(frozen=True)
class VoiceReport:
    """The voice part of a period's report."""

    lines: list[VoiceLineCost]
    departments: list[VoiceDepartmentCost]
    reconciliation: pd.DataFrame  # billing_etl.itemized.RECONCILIATION_COLUMNS + finding_id, carrier, invoice, currency
    sizing: Mapping[str, ChannelSizing]


def voice_line_costs(
    auditor: Auditor, month: VoiceMonth, sizing: Mapping[str, ChannelSizing], findings: Iterable[Finding]
) -> list[VoiceLineCost]:
    rated = month.rated()
    charges = call_charges(auditor, list(month.lines))
    at_stake: dict[str, Decimal] = defaultdict(Decimal)
    voice_rules = {*CALL_RULES, AuditRule.VOICE_USAGE_MISMATCH}
    for f in findings:
        if f.rule in voice_rules and f.line in month.lines:
            at_stake[f.line] += f.recoverable
    out = []
    for line_id, line in sorted(month.lines.items()):
        total = rated.get(line_id)
        contract = auditor.contracts.get(line_id)
        currency = (total.currency if total else "") or (contract.currency if contract else "")
        line_charges = charges.get(line_id, [])
        s = sizing.get(line_id)
        calls = month.line_calls(line_id)
        outcome = calls["outcome"].astype("string")
        out.append(
            VoiceLineCost(
                line=line_id,
                carrier=line.carrier,
                site=line.site,
                department=line.department,
                rate_plan=line.rate_plan or "",
                currency=currency,
                channels=line.channels,
                calls=len(calls),
                answered=int((outcome == "answered").fillna(False).sum()),
                blocked=int((outcome == "blocked").fillna(False).sum()),
                talk_minutes=float(calls["billsec_s"].astype("float64").fillna(0).sum() / 60),
                billed_minutes=float(calls["billed_s"].astype("float64").fillna(0).sum() / 60),
                busy_hour_erlangs=s.busiest_hour_erlangs if s else 0.0,
                design_erlangs=s.design_erlangs if s else 0.0,
                channels_needed=s.channels_needed if s and s.days else None,
                blocking_pct=s.blocking_pct if s else None,
                rated_amount=total.cost if total else None,
                billed_amount=money(sum((c.row.amount for c in line_charges), ZERO), currency or None),
                at_stake_amount=money(at_stake.get(line_id, ZERO), currency or None),
            )
        )
    return out


def voice_department_costs(month: VoiceMonth, directory: Directory | None) -> list[VoiceDepartmentCost]:
    """Rated cost per department (see the module) and currency, sorted, "(unassigned)" last."""
    calls = month.calls
    if calls.empty:
        return []
    if directory is not None:
        frame = department_costs(calls, directory)
        frame["department"] = frame["department"].replace(UNASSIGNED, UNKNOWN_DEPARTMENT)
    else:
        departments = {line_id: line.department for line_id, line in month.lines.items()}
        frame = (
            pd.DataFrame(
                {
                    "department": calls["line"].astype("string").map(departments).fillna(UNKNOWN_DEPARTMENT),
                    "currency": calls["currency"].astype("string").fillna(""),
                    "calls": 1,
                    "answered": (calls["outcome"].astype("string") == "answered").fillna(False).astype("int64"),
                    "minutes": calls["billsec_s"].astype("float64").fillna(0.0) / 60,
                    "cost": calls["cost"].astype("float64").fillna(0.0),
                }
            )
            .groupby(["department", "currency"], as_index=False)
            .sum()
        )
    out = [
        VoiceDepartmentCost(
            department=str(r.department),
            currency=str(r.currency),
            calls=int(r.calls),
            answered=int(r.answered),
            minutes=float(r.minutes),
            cost_amount=money(Decimal(repr(round(float(r.cost), 6))), str(r.currency) or None),
        )
        for r in frame.itertuples(index=False)  # one row per department and currency: a handful
    ]
    return sorted(out, key=lambda d: (d.department == UNKNOWN_DEPARTMENT, d.department, d.currency))


def reconciliation_rows(auditor: Auditor, month: VoiceMonth, findings: Iterable[Finding]) -> pd.DataFrame:
    """The itemized calls' reconciliation with each disputed call's finding id, carrier, invoice and currency."""
    rec = month.reconciliation.copy()
    by_key = {
        (f.rule.value, f.charge_key): f for f in findings if f.rule in CALL_RULES
    }
    keys = rec["record_key"].astype("string").fillna("").map(itemized_call_key)
    found = [by_key.get((rule, key)) for rule, key in zip(rec["rule"].fillna(""), keys, strict=True)]
    lines = month.lines
    carriers = auditor.config.carriers.by_name()
    rec["carrier"] = rec["line"].map({k: v.carrier for k, v in lines.items()}).astype("string")
    rec["currency"] = rec["carrier"].map({k: v.currency for k, v in carriers.items()}).astype("string")
    rec["invoice"] = pd.Series([f.invoice_number if f else "" for f in found], index=rec.index, dtype="string")
    rec["finding_id"] = pd.Series(
        [finding_key(f, auditor.period) if f else "" for f in found], index=rec.index, dtype="string"
    )
    return rec.sort_values(["line", "start_s", "source"], kind="stable").reset_index(drop=True)


def voice_report(
    auditor: Auditor,
    month: VoiceMonth,
    sizing: Mapping[str, ChannelSizing],
    findings: Iterable[Finding],
    directory: Directory | None,
) -> VoiceReport:
    findings = list(findings)
    return VoiceReport(
        lines=voice_line_costs(auditor, month, sizing, findings),
        departments=voice_department_costs(month, directory),
        reconciliation=reconciliation_rows(auditor, month, findings),
        sizing=sizing,
    )
