"""The demo's voice invoices: call charges of the voice trunks and Orange Business's itemized calls, made from the
demo's call store (filled by the voice backfill before the billing stage), with planted problems.

* Deutsche Telekom bills FRA-VOICE-1's calls **12 % above** the rated total (``voice_usage_mismatch``);
* Orange Business bills PAR-VOICE-1's calls as the sum of an itemized call file (``orange-calls-YYYY-MM.csv``, the
  ``obs-itemized`` layout of voice.yaml) written from the line's answered outbound calls, in which **3 calls the PBX
  never made** (``call_not_in_cdrs``), **5 calls rounded to whole minutes** instead of the contract's 30/6
  (``call_rounding``) and **2 national calls charged as mobile** (``call_wrong_class``) are planted;
* the month before bills the calls at 97 % of this month's rated total (no call of it is in the store: it is not
  audited), so the month-over-month rule sees an ordinary month.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from billing_etl.config import BillingConfig
from billing_etl.model import Period, money
from linewatch.choices import CallDirection, CallOutcome

TELEKOM_MARKUP = Decimal("1.12")
PREVIOUS_MONTH = Decimal("0.97")
NOT_IN_CDRS, ROUNDED, WRONG_CLASS = 3, 5, 2
MOBILE_SURCHARGE_PER_MIN = Decimal("0.10")  # what Orange's mobile rate costs more than its national one
ITEMIZED_HEADER = [
    "Réf. appel",
    "Circuit",
    "Début",
    "Appelant",
    "Appelé",
    "Durée (s)",
    "Durée facturée (s)",
    "Destination",
    "Montant HT (EUR)",
]
DESTINATIONS = {
    "local": "Local",
    "national": "National",
    "mobile": "Mobile",
    "international": "International",
    "premium": "Numéro spécial",
    "toll_free": "Numéro vert",
    "emergency": "Urgence",
    "unknown": "Autre",
}

VOICE_PLANTED = {
    "voice_usage_mismatch": "Deutsche Telekom bills FRA-VOICE-1's calls 12 % above the rated total",
    "call_not_in_cdrs": "Orange's itemized calls hold 3 calls of PAR-VOICE-1 the PBX never made",
    "call_rounding": "5 of Orange's itemized calls are rounded to whole minutes instead of 30/6",
    "call_wrong_class": "2 national calls are charged as mobile on Orange's itemized calls",
}


@dataclass(frozen=True)
class VoiceDemo:
    """Call charges per circuit (the month before's, the period's) and the itemized files' rows per file name."""

    charges: Mapping[str, tuple[Decimal, Decimal]]
    itemized: Mapping[str, list[list[str]]] = field(default_factory=dict)


def _fr(start_s: float) -> str:
    return dt.datetime.fromtimestamp(start_s, dt.UTC).astimezone(ZoneInfo("Europe/Paris")).strftime(
        "%d/%m/%Y %H:%M:%S"
    )


def _amount(value: Decimal) -> str:
    return f"{money(value, 'EUR'):.2f}"


def itemized_rows(calls: pd.DataFrame, circuit: str, *, seed: int = 13) -> tuple[list[list[str]], Decimal]:
    """Orange's itemized records of ``calls`` (one line's rated calls) with the planted problems, and their total.

    Only answered outbound calls are billed; each record is what the contract says (the plan's billed seconds and
    cost) except the planted ones. Deterministic for the same calls."""
    outbound = calls[
        (calls["outcome"].astype("string") == CallOutcome.ANSWERED.value)
        & (calls["direction"].astype("string") == CallDirection.OUTBOUND.value)
    ].sort_values(["answer_s", "call_key"], kind="stable")
    rng = np.random.default_rng(seed)
    n = len(outbound)
    billsec = outbound["billsec_s"].to_numpy(dtype="float64")
    billed = outbound["billed_s"].to_numpy(dtype="float64")
    cls = outbound["dest_class"].astype("string").fillna("unknown").to_numpy(dtype=object)
    whole_minutes = np.ceil(billsec / 60) * 60
    can_round = np.flatnonzero((whole_minutes > billed + 1) & (cls != "national"))
    national = np.flatnonzero(cls == "national")
    # the dearest seconds: a rounding worth disputing (international and mobile calls, the most seconds added)
    per_s = outbound["cost"].to_numpy(dtype="float64") / np.maximum(billed, 1)
    worth = per_s[can_round] * (whole_minutes[can_round] - billed[can_round])
    top = can_round[np.argsort(-worth, kind="stable")[: 10 * ROUNDED]]
    rounded = set(rng.choice(top, size=min(ROUNDED, len(top)), replace=False).tolist())
    others = np.setdiff1d(national, sorted(rounded))
    wrong = set(rng.choice(others, size=min(WRONG_CLASS, len(others)), replace=False).tolist())
    rows, total = [], Decimal(0)
    for i, r in enumerate(outbound.itertuples(index=False)):  # the carrier's file: one record per billed call
        cost = Decimal(repr(round(float(r.cost), 6)))
        seconds, text, amount = int(billed[i]), DESTINATIONS.get(str(cls[i]), "Autre"), cost
        if i in rounded:
            seconds = int(whole_minutes[i])
            amount = money(cost * seconds / Decimal(int(billed[i]) or 1), "EUR")
        elif i in wrong:
            text = "Mobile"
            amount = cost + money(MOBILE_SURCHARGE_PER_MIN * Decimal(seconds) / 60, "EUR")
        rows.append([f"OBS-C-{i + 1:07d}", circuit, _fr(r.answer_s), r.caller, r.callee, str(int(billsec[i])),
                     str(seconds), text, _amount(amount)])
        total += money(amount, "EUR")
    if n:
        first, last = float(outbound["answer_s"].min()), float(outbound["answer_s"].max())
        for k in range(NOT_IN_CDRS):  # calls nobody made: numbers and times the PBX never saw
            at = first + (k + 1) * (last - first) / (NOT_IN_CDRS + 1) + 17
            amount = Decimal("0.85") + Decimal(k) * Decimal("0.40")
            rows.append([f"OBS-C-9{k + 1:06d}", circuit, _fr(at), "+33153004100", f"08997{k}1234", "240", "240",
                         DESTINATIONS["premium"], _amount(amount)])
            total += amount
    rows.sort(key=lambda row: (dt.datetime.strptime(row[2], "%d/%m/%Y %H:%M:%S"), row[0]))
    return rows, total


def itemized_csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\n")
    writer.writerow(ITEMIZED_HEADER)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def voice_demo(config: BillingConfig, period: Period, store_path: Path) -> VoiceDemo | None:
    """The period's demo call charges from the call store at ``store_path``; None without a store or a call."""
    from billing_etl.voice_audit import load_voice_month
    from linewatch.voice.store import CallStore

    if not store_path.is_file():
        return None
    with CallStore(store_path, read_only=True) as store:
        month = load_voice_month(config, period, store=store, itemized=False)
    if month is None or month.calls.empty:
        return None
    carriers = config.carriers.by_name()
    charges, itemized = {}, {}
    for line_id, total in month.rated().items():
        line = month.lines[line_id]
        if not total.calls:
            continue
        carrier = carriers.get(line.carrier)
        if carrier is not None and carrier.itemized_calls is not None:
            rows, billed = itemized_rows(month.line_calls(line_id), line.circuit_id)
            prefix = carrier.itemized_calls.pattern.split("*", 1)[0]
            itemized[f"{prefix}{period}.csv"] = rows
        else:
            billed = money(total.cost * TELEKOM_MARKUP, total.currency)
        charges[line.circuit_id] = (money(total.cost * PREVIOUS_MONTH, total.currency), billed)
    return VoiceDemo(charges=charges, itemized=itemized) if charges else None


def write_itemized(out_dir: Path, voice: VoiceDemo | None) -> list[Path]:
    written = []
    for name, rows in sorted((voice.itemized if voice else {}).items()):
        path = out_dir / name
        path.write_bytes(itemized_csv(rows))
        written.append(path)
    return written

