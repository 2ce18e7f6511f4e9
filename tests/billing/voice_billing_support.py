"""Builders for the voice billing tests: a voice trunk in the billing test inventory, rated call frames written in
code, and a VoiceMonth around them (the pure rules need no call store)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from billing_support import CARRIERS, CONTRACTS, INVENTORY, OCT

from billing_etl.config import BillingConfig, CarriersFile, ContractsFile
from billing_etl.itemized import empty_reconciliation
from billing_etl.voice_audit import VoiceMonth
from linewatch.inventory import Inventory
from linewatch.voice.frame import ALL_COLUMNS, conform

VOICE_LINE = "L-VOICE"
VOICE_CIRCUIT = "C-9"
PLAN = "acme-voice"
T0 = float(OCT.start_s + 3 * 86_400 + 9 * 3600)  # 2026-10-04 09:00 UTC

VOICE_INVENTORY: dict[str, Any] = copy.deepcopy(INVENTORY)
VOICE_INVENTORY["lines"].append(
    {
        "id": VOICE_LINE,
        "carrier": "Acme",
        "circuit_id": VOICE_CIRCUIT,
        "type": "voice_trunk",
        "site": "A",
        "department": "Sales",
        "cost_centre": "CC-1",
        "device": "r1",
        "interface": "e9",
        "capacity_bps": 2_000_000,
        "channels": 10,
        "rate_plan": PLAN,
        "install_date": "2020-01-01",
    }
)
VOICE_CONTRACTS: dict[str, Any] = copy.deepcopy(CONTRACTS)
VOICE_CONTRACTS["contracts"].append(
    {"line": VOICE_LINE, "carrier": "Acme", "mrc": 250, "price_per_channel": "12.50"}
)


def voice_config(contracts: dict[str, Any] | None = None) -> BillingConfig:
    return BillingConfig(
        carriers=CarriersFile.model_validate(CARRIERS),
        contracts=ContractsFile.model_validate(contracts or VOICE_CONTRACTS),
        inventory=Inventory.model_validate(VOICE_INVENTORY),
        invoice_dir=Path("invoices"),
    )


def call(
    key: str,
    *,
    start_s: float = T0,
    talk_s: float = 60.0,
    ring_s: float = 5.0,
    callee: str = "0142685300",
    e164: str = "33142685300",
    outcome: str = "answered",
    dest_class: str = "national",
    billed_s: float | None = None,
    cost: float = 0.05,
    line: str = VOICE_LINE,
    bundle_s: float = 0.0,
) -> dict[str, Any]:
    """One rated call: answered ``ring_s`` after its start, ``talk_s`` long (unanswered: 0 talk, no cost)."""
    answered = outcome == "answered"
    answer_s = start_s + ring_s if answered else float("nan")
    end_s = (answer_s + talk_s) if answered else start_s + ring_s
    return {
        "call_key": key,
        "source": f"Master.csv:{key}",
        "trunk": "PJSIP/acme-1",
        "line": line,
        "start_s": start_s,
        "answer_s": answer_s,
        "end_s": end_s,
        "duration_s": end_s - start_s,
        "billsec_s": talk_s if answered else 0.0,
        "caller": "3101",
        "callee": callee,
        "extension": "3101",
        "direction": "outbound",
        "outcome": outcome,
        "sip_code": 200 if answered else 503,
        "q850_cause": 16 if answered else 34,
        "callee_e164": e164,
        "dest_class": dest_class,
        "high_risk": False,
        "rate_plan": PLAN,
        "rate_prefix": "33",
        "band": "",
        "billed_s": (billed_s if billed_s is not None else talk_s) if answered else 0.0,
        "bundle_s": bundle_s,
        "cost": cost if answered else 0.0,
        "currency": "EUR",
    }


def calls_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in ALL_COLUMNS.items()})
    return conform(pd.DataFrame(list(rows)), ALL_COLUMNS)


def month_of(
    rows: Sequence[dict[str, Any]], *, reconciliation: pd.DataFrame | None = None, config: BillingConfig | None = None
) -> VoiceMonth:
    config = config or voice_config()
    lines = {line.id: line for line in config.inventory.lines if line.type.value == "voice_trunk"}
    return VoiceMonth(
        period=OCT,
        lines=lines,
        calls=calls_frame(rows),
        windows={line: (float(OCT.start_s), float(OCT.end_s)) for line in lines},
        reconciliation=empty_reconciliation() if reconciliation is None else reconciliation,
        plans={VOICE_LINE: PLAN},
        currencies={PLAN: "EUR"},
        timezones={"Acme": "Europe/Paris"},
        windows_s={"Acme": 120.0},
    )


def billed_call(
    key: str,
    *,
    start_s: float = T0 + 5,
    callee: str = "0142685300",
    e164: str = "33142685300",
    billed_s: float = 60.0,
    amount: float = 0.05,
    carrier_class: str = "national",
    line: str = VOICE_LINE,
) -> dict[str, Any]:
    """One itemized record as the reader gives it (only the columns reconcile reads)."""
    return {
        "call_key": f"rec-{key}",
        "source": f"acme-calls-2026-10.csv:{key}",
        "line": line,
        "start_s": start_s,
        "callee": callee,
        "callee_e164": e164,
        "carrier_billed_s": billed_s,
        "carrier_amount": amount,
        "carrier_class": carrier_class,
        "carrier_class_text": carrier_class.capitalize(),
    }
