"""Shared builders of the fault-ticket tests: a carrier with its NOC and escalation contacts, a line with an SLA
contract, and the alert evaluator's payload shape (``alerting/service.py`` ``_alert_dict``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def fault_world(make_inventory: Any, *, sla_target_pct: str | None = "99.9") -> dict[str, Any]:
    """``make_inventory``'s lines; LINE-000's carrier has a NOC contact and two escalation levels; LINE-000 has a
    flat contract with an SLA (tiers below 99.9 → 10 %, below 99 → 25 % of the 1000 EUR MRC)."""
    from web.inventory.models import Contact, Contract, CreditTier

    inv = make_inventory(n=2)
    line = inv["lines"][0]
    carrier = line.carrier
    Contact.objects.create(carrier=carrier, role="noc", name="Telia NOC", email="noc@telia.example")
    Contact.objects.create(carrier=carrier, role="escalation", name="Duty manager", email="duty@telia.example",
                           escalation_level=1)
    Contact.objects.create(carrier=carrier, role="escalation", name="Account director",
                           email="director@telia.example", escalation_level=2)
    contract = Contract.objects.create(line=line, mrc=Decimal(1000), currency="EUR", billing_model="flat",
                                       sla_target_pct=Decimal(sla_target_pct) if sla_target_pct else None)
    if sla_target_pct:
        CreditTier.objects.create(contract=contract, below_pct=Decimal("99.9"), credit_pct=Decimal(10))
        CreditTier.objects.create(contract=contract, below_pct=Decimal(99), credit_pct=Decimal(25))
    return inv | {"line": line, "carrier": carrier, "contract": contract}


def alert(*, line: str, rule: str = "line_down", kind: str = "line_down", state: str = "firing",
          since_s: float = 1_764_640_000, alert_id: int = 1, value: float | None = 1.0) -> dict[str, Any]:
    """One alert as the evaluator's payload carries it."""
    return {"id": alert_id, "key": f"{rule}/{line}", "rule": rule, "kind": kind, "state": state,
            "severity": "critical", "since_s": since_s, "changed_s": since_s, "value": value,
            "labels": {"line": line, "carrier": "Telia", "site": "Frankfurt", "scope": "line", "rule": rule,
                       "severity": "critical"},
            "info": {"circuit_id": "CID-00000", "kind": kind}}


def payload(*, firing: list | None = None, resolved: list | None = None, group_key: str = "{}:{line=LINE-000}") \
        -> dict[str, Any]:
    return {"receiver": "app-webhook", "group_key": group_key, "group_labels": {}, "reason": "new",
            "created_s": 1_764_640_100, "firing": firing or [], "resolved": resolved or []}
