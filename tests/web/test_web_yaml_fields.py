"""Every field of lines.yaml and contracts.yaml has a place in the models: the demo inventory stored in the
database and read back through ``as_config()`` validates to the very objects the YAML loaders produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_etl.config import ContractsFile
from linewatch.inventory import load_inventory
from linewatch.yamlconf import load_model
from web.inventory.models import (
    CapacityChange,
    Carrier,
    Contract,
    ContractChange,
    CostCentre,
    CreditTier,
    Department,
    Device,
    Discount,
    Line,
    LineMember,
    Site,
)

CONFIG = Path(__file__).resolve().parents[2] / "config"
pytestmark = pytest.mark.django_db


EVERY_FIELD = """
devices:
  - {name: r3, address: 10.0.0.3, port: 1161, timeout_s: 5, retries: 3, site: Seoul,
     snmp: {version: 3, user: lw, security_level: authPriv, auth_protocol: SHA-256, auth_key: authpass-123,
            priv_protocol: AES-256, priv_key: privpass-456}}
  - {name: r4, address: r4.example, snmp: {version: 3, user: lw2, security_level: authNoPriv,
     auth_protocol: MD5, auth_key: authpass-999}}
lines:
  - {id: SEL-LL-9, carrier: KT, circuit_id: KT-1, type: leased_line, site: Seoul, department: Finance,
     cost_centre: CC-9, device: r3, if_index: 7, capacity_bps: 2048000, status: offline,
     install_date: 2020-01-02, termination_date: 2026-06-30, description: "to be replaced"}
  - {id: SEL-LL-10, carrier: KT, circuit_id: KT-2, type: other, site: Seoul, department: Finance,
     device: r4, interface: Gi0/1, capacity_bps: 1, status: planned}
"""


@pytest.fixture(params=["demo", "every-field"])
def lines_yaml(request, tmp_path) -> Path:
    if request.param == "demo":
        return CONFIG / "lines.yaml"
    path = tmp_path / "lines.yaml"
    path.write_text(EVERY_FIELD)
    return path


def _store_inventory(path: Path = CONFIG / "lines.yaml"):
    inv = load_inventory(path)
    devices = {}
    for d in inv.devices:
        snmp = d.snmp.model_dump()
        secrets = {k: (v.get_secret_value() if v is not None else "") for k, v in snmp.items()
                   if k in ("community", "auth_key", "priv_key")}
        devices[d.name] = Device.objects.create(
            name=d.name, address=d.address, port=d.port, timeout_s=d.timeout_s, retries=d.retries,
            site=Site.objects.get_or_create(name=d.site)[0] if d.site else None, snmp_version=d.snmp.version,
            snmp_community=secrets.get("community", ""), auth_key=secrets.get("auth_key", ""),
            priv_key=secrets.get("priv_key", ""),
            **({"snmp_user": snmp["user"], "security_level": snmp["security_level"],
                "auth_protocol": snmp["auth_protocol"] or "", "priv_protocol": snmp["priv_protocol"] or ""}
               if d.snmp.version == "3" else {}))
    for y in inv.lines:
        line = Line.objects.create(
            name=y.id, carrier=Carrier.objects.get_or_create(name=y.carrier, defaults={"currency": "EUR"})[0],
            circuit_id=y.circuit_id, type=y.type, site=Site.objects.get_or_create(name=y.site)[0],
            department=Department.objects.get_or_create(name=y.department)[0],
            cost_centre=CostCentre.objects.get_or_create(code=y.cost_centre)[0] if y.cost_centre else None,
            capacity_bps=y.capacity_bps, channels=y.channels, rate_plan=y.rate_plan or "", status=y.status,
            install_date=y.install_date, termination_date=y.termination_date, description=y.description)
        for m in y.members:
            LineMember.objects.create(line=line, device=devices[m.device], interface=m.interface or "",
                                      if_index=m.if_index, role=m.role)
        for change in y.capacity_changes:
            CapacityChange.objects.create(line=line, effective=change.effective, capacity_bps=change.capacity_bps)
    return inv


def test_every_line_and_device_field_round_trips(lines_yaml):
    from linewatch import inventory as yaml_inventory

    inv = _store_inventory(lines_yaml)
    for y in inv.lines:
        line = Line.objects.get(name=y.id)
        line.full_clean()
        members = [m.port() | {"role": m.role} for m in line.members.order_by("pk")]
        assert yaml_inventory.Line.model_validate(line.as_config({"members": members})) == y
    for d in inv.devices:
        device = Device.objects.get(name=d.name)
        device.full_clean()
        assert yaml_inventory.Device.model_validate(device.as_config()) == d


EVERY_TERM = """
contracts:
  - line: FRA-INET-1
    carrier: Telia
    currency: EUR
    mrc: 1234.5678
    commit_bps: 300000000
    billing: {model: burstable_95th, direction: in+out, price_per_mbps: 1.25}
    proration: thirtieths
    discounts:
      - {name: loyalty, amount: 50, valid_to: 2026-12-31}
      - {name: launch, percent: 12.5, valid_from: 2023-03-01}
    sla: {target_pct: 99.95, cap_pct: 50, credit_tiers: [{below_pct: 99.95, credit_pct: 2}]}
    term: {start: 2023-03-01, months: 24, auto_renew: false, renewal_months: 6, notice_days: 30}
  - line: AMS-INET-1
    carrier: Telia
    mrc: 0
    billing: {model: volume_quota, included_gb: 0, price_per_gb: 0.01, gb_unit: decimal}
"""


@pytest.fixture(params=["demo", "every-term"])
def contracts_yaml(request, tmp_path) -> Path:
    if request.param == "demo":
        return CONFIG / "contracts.yaml"
    path = tmp_path / "contracts.yaml"
    path.write_text(EVERY_TERM)
    return path


def test_every_contract_term_round_trips(contracts_yaml):
    from billing_etl import config as billing

    _store_inventory()
    contracts, _ = load_model(contracts_yaml, ContractsFile)
    for y in contracts.contracts:
        b = y.billing
        contract = Contract.objects.create(
            line=Line.objects.get(name=y.line), currency=y.currency or "", mrc=y.mrc, commit_bps=y.commit_bps,
            billing_model=b.model, direction=getattr(b, "direction", "max"),
            price_per_mbps=getattr(b, "price_per_mbps", None), included_gb=getattr(b, "included_gb", None),
            price_per_gb=getattr(b, "price_per_gb", None), gb_unit=getattr(b, "gb_unit", "decimal"),
            proration=y.proration, price_per_channel=y.price_per_channel,
            sla_target_pct=y.sla.target_pct if y.sla else None,
            sla_cap_pct=y.sla.cap_pct if y.sla else 100,
            **({"term_start": y.term.start, "term_months": y.term.months, "auto_renew": y.term.auto_renew,
                "renewal_months": y.term.renewal_months, "notice_days": y.term.notice_days,
                "early_termination_pct": y.term.early_termination_pct} if y.term else {}))
        for tier in (y.sla.credit_tiers if y.sla else []):
            CreditTier.objects.create(contract=contract, below_pct=tier.below_pct, credit_pct=tier.credit_pct)
        for d in y.discounts:
            Discount.objects.create(contract=contract, **d.model_dump())
        for change in y.changes:
            ContractChange.objects.create(contract=contract, **change.model_dump())
        contract.refresh_from_db()
        contract.full_clean()
        assert billing.Contract.model_validate(contract.as_config()) == y, y.line
