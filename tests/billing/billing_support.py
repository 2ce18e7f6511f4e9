"""Builders shared by the billing tests: a small inventory, contracts and invoices written in code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from billing_etl.config import BillingConfig, CarriersFile, ContractsFile
from billing_etl.model import Invoice, InvoiceLine, Period
from billing_etl.usage import LineUsage
from linewatch.choices import ChargeType
from linewatch.influx import Point
from linewatch.inventory import Inventory

OCT = Period(2026, 10)
SEP = Period(2026, 9)
CARRIER = "Acme"
D = Decimal

INVENTORY: dict[str, Any] = {
    "devices": [{"name": "r1", "address": "127.0.0.1", "snmp": {"version": "2c", "community": "x"}}],
    "lines": [
        {
            "id": "L-FLAT",
            "carrier": CARRIER,
            "circuit_id": "C-1",
            "type": "internet",
            "site": "A",
            "department": "Sales",
            "cost_centre": "CC-1",
            "device": "r1",
            "interface": "e1",
            "capacity_bps": 100_000_000,
            "install_date": "2020-01-01",
        },
        {
            "id": "L-BURST",
            "carrier": CARRIER,
            "circuit_id": "C-2",
            "type": "internet",
            "site": "A",
            "department": "Engineering",
            "cost_centre": "CC-2",
            "device": "r1",
            "interface": "e2",
            "capacity_bps": 100_000_000,
            "install_date": "2020-01-01",
        },
        {
            "id": "L-VOL",
            "carrier": CARRIER,
            "circuit_id": "C-3",
            "type": "internet",
            "site": "B",
            "department": "Engineering",
            "cost_centre": "CC-2",
            "device": "r1",
            "interface": "e3",
            "capacity_bps": 50_000_000,
            "install_date": "2020-01-01",
        },
        {
            "id": "L-TERM",
            "carrier": CARRIER,
            "circuit_id": "C-4",
            "type": "mpls",
            "site": "B",
            "department": "Sales",
            "cost_centre": "CC-1",
            "device": "r1",
            "interface": "e4",
            "capacity_bps": 10_000_000,
            "install_date": "2020-01-01",
            "termination_date": "2026-10-15",
            "status": "deprovisioning",
        },
        {
            "id": "L-NEW",
            "carrier": CARRIER,
            "circuit_id": "C-5",
            "type": "mpls",
            "site": "C",
            "department": "Finance",
            "cost_centre": "CC-3",
            "device": "r1",
            "interface": "e5",
            "capacity_bps": 10_000_000,
            "install_date": "2026-10-11",
        },
    ],
}

CARRIERS: dict[str, Any] = {
    "invoice_dir": "invoices",
    "carriers": [
        {
            "name": CARRIER,
            "files": ["acme-*.csv"],
            "currency": "EUR",
            "layout": {
                "format": "csv",
                "currency": "EUR",
                "columns": {
                    "invoice_number": "invoice",
                    "invoice_date": "date",
                    "due_date": "due",
                    "circuit_id": "circuit",
                    "charge_type": "type",
                    "period_start": "from",
                    "period_end": "to",
                    "quantity": "qty",
                    "unit_price": "price",
                    "amount": "amount",
                    "description": "text",
                    "invoice_total": "total",
                },
                "charge_types": {
                    "MRC": "monthly_recurring",
                    "USE": "usage",
                    "OTC": "one_time",
                    "TAX": "tax",
                    "CRD": "credit",
                    "LATE": "late_fee",
                    "SUR": "surcharge",
                    "ADJ": "adjustment",
                },
            },
            "rate_card": [
                {"commit_bps": 20_000_000, "mrc": 60},
                {"commit_bps": 50_000_000, "mrc": 150},
                {"commit_bps": 100_000_000, "mrc": 200},
                {"commit_bps": 200_000_000, "mrc": 320},
            ],
        }
    ],
}

CONTRACTS: dict[str, Any] = {
    "audit": {"month_over_month_pct": 20, "contract_notice_days": 90},
    "savings": {"underused_months": 2, "underused_pct": 30, "idle_bps": 100_000},
    "contracts": [
        {"line": "L-FLAT", "carrier": CARRIER, "mrc": 100, "billing": {"model": "flat"}},
        {
            "line": "L-BURST",
            "carrier": CARRIER,
            "mrc": 200,
            "billing": {"model": "burstable_95th", "price_per_mbps": 2},
            "sla": {
                "target_pct": 99.9,
                "credit_tiers": [
                    {"below_pct": 99.9, "credit_pct": 10},
                    {"below_pct": 99.0, "credit_pct": 30},
                ],
                "cap_pct": 25,
            },
        },
        {
            "line": "L-VOL",
            "carrier": CARRIER,
            "mrc": 300,
            "billing": {"model": "volume_quota", "included_gb": 1000, "price_per_gb": 0.10},
        },
        {"line": "L-TERM", "carrier": CARRIER, "mrc": 100, "billing": {"model": "flat"}},
        {"line": "L-NEW", "carrier": CARRIER, "mrc": 310, "billing": {"model": "flat"}},
    ],
}


def billing_config(contracts: dict[str, Any] | None = None) -> BillingConfig:
    return BillingConfig(
        carriers=CarriersFile.model_validate(CARRIERS),
        contracts=ContractsFile.model_validate(contracts or CONTRACTS),
        inventory=Inventory.model_validate(INVENTORY),
        invoice_dir=Path("invoices"),
    )


def write_config_tree(
    root: Path,
    *,
    influx_url: str = "http://127.0.0.1:9",
    database: str = "lw",
    contracts: dict[str, Any] | None = None,
) -> Path:
    """linewatch.yaml + lines/carriers/contracts under ``root``; returns the settings file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "invoices").mkdir(exist_ok=True)
    (root / "lines.yaml").write_text(yaml.safe_dump(INVENTORY, sort_keys=False))
    (root / "carriers.yaml").write_text(yaml.safe_dump(CARRIERS, sort_keys=False))
    (root / "contracts.yaml").write_text(yaml.safe_dump(contracts or CONTRACTS, sort_keys=False))
    settings = {
        "influx": {"url": influx_url, "database": database, "spool": {"path": str(root / "spool")}},
        "inventory_path": "lines.yaml",
        "carriers_path": "carriers.yaml",
        "contracts_path": "contracts.yaml",
        "state_dir": "var",
    }
    (root / "linewatch.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return root / "linewatch.yaml"


def row(
    invoice: str,
    charge: ChargeType,
    amount: str,
    *,
    circuit: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    invoice_date: dt.date = dt.date(2026, 10, 31),
    qty: str | None = None,
    price: str | None = None,
    description: str = "",
    n: int = 0,
) -> InvoiceLine:
    return InvoiceLine(
        carrier=CARRIER,
        invoice_number=invoice,
        invoice_date=invoice_date,
        due_date=invoice_date + dt.timedelta(days=30),
        circuit_id=circuit,
        charge_type=charge,
        period_start=start,
        period_end=end,
        quantity=None if qty is None else D(qty),
        unit_price=None if price is None else D(price),
        amount=D(amount),
        currency="EUR",
        description=description,
        source_file=f"{invoice}.csv",
        source_row=n,
    )


def invoice(number: str, rows: list[InvoiceLine], *, stated_total: Decimal | None | str = "auto") -> Invoice:
    rows = [r.model_copy(update={"source_row": i + 2}) for i, r in enumerate(rows)]
    total = sum((r.amount for r in rows), Decimal(0)) if stated_total == "auto" else stated_total
    first = rows[0]
    return Invoice(
        carrier=CARRIER,
        invoice_number=number,
        billing_account="ACC-1",
        invoice_date=first.invoice_date,
        due_date=first.due_date,
        currency="EUR",
        stated_total=total,  # type: ignore[arg-type]
        source_file=f"{number}.csv",
        lines=tuple(rows),
    )


def month(period: Period) -> tuple[dt.date, dt.date]:
    return period.first_day, period.last_day


def usage(
    line: str,
    period: Period = OCT,
    *,
    p95_bps: float | None = None,
    in_bytes: float = 0.0,
    out_bytes: float = 0.0,
    availability_pct: float | None = 100.0,
    down_minutes: float = 0.0,
) -> LineUsage:
    return LineUsage(
        line=line,
        period=str(period),
        direction="max",
        samples_5m=8928,
        p95_bps=p95_bps,
        in_bytes=in_bytes,
        out_bytes=out_bytes,
        mean_in_bps=1e6,
        mean_out_bps=1e6,
        peak_util_pct=50.0,
        capacity_bps=100_000_000,
        down_minutes=down_minutes,
        no_data_minutes=0.0,
        availability_pct=availability_pct,
    )


def traffic_point(line: str, t_s: int, *, in_bps: float, out_bps: float) -> Point:
    """One 5-minute ``line_traffic`` sample of a line that is up (100 Mbit/s capacity)."""
    return Point(
        "line_traffic",
        {"line": line},
        {
            "in_bps": float(in_bps),
            "out_bps": float(out_bps),
            "oper_status": 1,
            "admin_status": 1,
            "interval_s": 300.0,
            "capacity_bps": 100_000_000,
            "in_util_pct": in_bps / 1_000_000,
            "out_util_pct": out_bps / 1_000_000,
        },
        t_s * 10**9,
    )
