"""Shared by the invoices tests: the demo inventory and contracts loaded into the app, the demo invoices imported
into a real ETL store (billing_etl.importer + InvoiceStore, as the intake does), the app's settings pointing at
config/carriers.yaml and config/contracts.yaml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from billing_etl.config import CarriersFile
from billing_etl.importer import import_file
from billing_etl.run import STORE_NAME
from billing_etl.store import InvoiceStore
from linewatch.yamlconf import load_model

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
DEMO_INVOICES = CONFIG / "demo-invoices"


def use_config(settings: Any, state_dir: Path, **influx: Any) -> None:
    """The app's STATE_DIR and linewatch settings for one test: the repository's carriers and contracts."""
    settings.STATE_DIR = state_dir
    lw = settings.LINEWATCH
    update: dict[str, Any] = {"carriers_path": CONFIG / "carriers.yaml", "contracts_path": CONFIG / "contracts.yaml",
                              "state_dir": state_dir}
    if influx:
        update["influx"] = lw.influx.model_copy(update=influx)
    settings.LINEWATCH = lw.model_copy(update=update)


def carriers() -> CarriersFile:
    parsed, _located = load_model(CONFIG / "carriers.yaml", CarriersFile)
    return parsed


def import_demo_invoices(store_path: Path, names: tuple[str, ...] | None = None) -> int:
    """Import the demo invoice files (or ``names`` of them) into the store; returns the invoices stored."""
    by_name = carriers().by_name()
    files = sorted(DEMO_INVOICES.iterdir())
    count = 0
    with InvoiceStore(store_path) as store:
        for path in files:
            if names is not None and path.name not in names:
                continue
            carrier = next((c for c in by_name.values() if any(path.match(p) for p in c.files)), None)
            if carrier is None:
                continue
            result = import_file(path, carrier)
            store.add_invoices(result.invoices, complete=not result.quarantined)
            count += len(result.invoices)
    return count


def store_path(state_dir: Path) -> Path:
    return state_dir / STORE_NAME


def load_demo_inventory() -> None:
    from web.inventory.io import import_dir

    import_dir(CONFIG)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def make_invoice(carrier: Any, number: str = "INV-1", *, due: str = "2026-12-21", total: str = "1000.00",
                 period: str = "2026-11", audited: bool = True, rows: list[dict[str, Any]] | None = None) -> Any:
    """An invoice of ``carrier`` with its rows (default: one monthly charge of ``total``), audited by linewatch."""
    from decimal import Decimal

    from web.invoices.models import Invoice, InvoiceRow
    from web.invoices.services import system_move

    rows = rows or [{"charge_type": "monthly_recurring", "amount": total}]
    amount = sum((Decimal(r["amount"]) for r in rows), Decimal(0))
    invoice = Invoice.objects.create(carrier=carrier, number=number, invoice_date=day(due) - dt.timedelta(days=21),
                                     due_date=day(due), currency=carrier.currency or "EUR", total=amount,
                                     period=period, content_hash=f"hash-{number}")
    for idx, row in enumerate(rows):
        InvoiceRow.objects.create(invoice=invoice, idx=idx, currency=invoice.currency,
                                  **{"circuit_id": "", **row, "amount": Decimal(row["amount"])})
    return system_move(invoice, "audit") if audited else invoice


def dispute_findings(carrier: Any, invoice: Any, user: Any, amounts: list[str]) -> list[Any]:
    """Findings of ``invoice`` recorded by web/findings (one per amount, EUR); all but the last (or the only one)
    put in a dispute by ``user``. Returns the findings."""
    from decimal import Decimal

    from billing_etl.audit import Finding as EtlFinding
    from linewatch.choices import AuditRule
    from web.findings import services as findings
    from web.findings.models import Finding

    etl = [EtlFinding(rule=AuditRule.DUPLICATE_CHARGE, carrier=carrier.name, invoice_number=invoice.number,
                      line="", circuit_id=f"C-{i}", amount_at_stake=Decimal(a), reason="billed twice",
                      currency="EUR", charge_key=f"{i:016x}") for i, a in enumerate(amounts)]
    findings.record_audit(invoice.period, etl)
    rows = list(Finding.objects.filter(invoice=invoice).order_by("pk"))
    findings.open_dispute(rows[:-1] if len(rows) > 1 else rows, user)
    return rows
