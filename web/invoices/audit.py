"""The invoice audit run by the application: the billing ETL's own ``run_period`` on the web's inventory and
contracts, its findings and costs recorded in the database, the period's received invoices moved to ``audited``.

The BillingConfig comes from the database (the inventory as the collector endpoint serves it, the contracts as
contracts.yaml would hold them, the extension directory of web/voice), the carriers' invoice layouts, the audit
tolerances and the voice configuration from the files (carriers.yaml, contracts.yaml ``audit``/``savings``,
voice.yaml: rate plans, numbering, the itemized calls' layouts). The voice trunks' calls are read from the call
store (voice.yaml ``store_path``) and re-rated; the carriers' itemized call files from carriers.yaml's
``invoice_dir``. ``run_period`` imports nothing here: the invoices reached
the store through the intake (web/intake) or ``linewatch etl``, and :func:`web.invoices.sync.sync_store` mirrored
them. One period failing is logged and reported; the others still run.
"""

from __future__ import annotations

import importlib
import logging
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from billing_etl import config as billing
from billing_etl.model import Period
from billing_etl.run import PeriodReport, run_period
from linewatch.choices import InvoiceState
from linewatch.errors import ConfigError, Problem
from linewatch.influx import InfluxClient
from linewatch.voice.config import load_voice_config
from linewatch.voice.directory import Directory
from linewatch.inventory_source import inventory_from_document
from linewatch.yamlconf import load_model
from web.inventory.io import contracts_data, inventory_data
from web.inventory.models import Carrier
from web.invoices.models import Invoice
from web.invoices.services import system_move
from web.invoices.sync import default_store_path

log = logging.getLogger(__name__)


@dataclass
class PeriodAudit:
    period: str
    ok: bool = False
    error: str = ""  # why the period failed (the exception's type and text)
    findings: int = 0
    invoices_audited: list[str] = field(default_factory=list)  # "<carrier> <number>"
    exports: list[Path] = field(default_factory=list)
    report: PeriodReport | None = None


def billing_config() -> billing.BillingConfig:
    """The ETL's configuration from the web database (inventory, contracts) and the files (carriers' layouts,
    audit and savings tolerances). ConfigError names the file or the entry at fault."""
    lw = settings.LINEWATCH
    carriers_path = lw.resolve(lw.carriers_path)
    carriers, _located = load_model(carriers_path, billing.CarriersFile)
    contracts_path = lw.resolve(lw.contracts_path)
    tolerances = billing.ContractsFile()
    if contracts_path.is_file():
        tolerances, _located = load_model(contracts_path, billing.ContractsFile)
    inventory = inventory_from_document(inventory_data(secrets="clear"), origin="the application's inventory")
    in_file = {c.name for c in carriers.carriers}
    currencies = dict(Carrier.objects.exclude(currency="").values_list("name", "currency"))
    contracts = []
    for i, data in enumerate(contracts_data()["contracts"]):
        if not data.get("currency") and data.get("carrier") not in in_file and data.get("carrier") in currencies:
            data = data | {"currency": currencies[data["carrier"]]}
        try:
            contracts.append(billing.Contract.model_validate(data))
        except ValueError as exc:
            raise ConfigError([Problem("the application's contracts", None, f"contracts[{i}] ({data.get('line')})",
                                       str(exc))]) from None
    voice = load_voice_config(lw, inventory)
    return billing.BillingConfig(
        carriers=carriers, contracts=tolerances.model_copy(update={"contracts": contracts}), inventory=inventory,
        invoice_dir=carriers_path.parent / carriers.invoice_dir, voice=voice, directory=_directory())


def _directory() -> Directory | None:
    """The application's extension directory (web/voice); None when the app is not installed or has no entry."""
    try:
        from web.voice.directory import app_directory
    except ImportError:
        return None
    directory = app_directory()
    return directory if len(directory) else None


def _record(period: str, report: PeriodReport) -> None:
    """The findings (web/findings ``record_audit``) and the costs (web/finance ``record_costs``) of the period's
    audit; an app whose service is not there (a checkout without it) is logged and skipped."""
    for module_name, function, argument in (("web.findings.services", "record_audit", report.findings),
                                            ("web.finance.services", "record_costs", report)):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            module = None
        if not hasattr(module, function):
            log.warning("%s.%s is not available: the audit of %s is not recorded there", module_name, function,
                        period)
            continue
        getattr(module, function)(period, argument)


def audit_periods(periods: Iterable[str], *, client: InfluxClient | None = None) -> list[PeriodAudit]:
    """Audit each period (sorted, each once): ``run_period`` (exports under ``STATE_DIR/exports``, InfluxDB
    points), the findings and costs recorded, then the period's ``received`` invoices moved to ``audited``."""
    results = []
    for period in sorted(set(periods)):
        result = PeriodAudit(period=period)
        try:
            _audit_one(period, result, client=client)
            result.ok = True
        except Exception as exc:  # one period's failure must not stop the others
            result.error = f"{type(exc).__name__}: {exc}"
            log.exception("invoice audit of period %s failed", period)
        results.append(result)
    _propose_credit_matches()
    return results


def _audit_one(period: str, result: PeriodAudit, *, client: InfluxClient | None) -> None:
    parsed = Period.parse(period)
    config = billing_config()
    lw = settings.LINEWATCH
    with tempfile.TemporaryDirectory(prefix="lw-audit-") as nothing_to_import:
        report = run_period(lw, parsed, client=client, config=config, invoice_dir=Path(nothing_to_import),
                            out_dir=Path(settings.STATE_DIR) / "exports",
                            progress_enabled=False, store_path=default_store_path(),
                            itemized_dir=config.invoice_dir)
    result.report, result.findings, result.exports = report, len(report.findings), list(report.exports)
    _record(period, report)
    per_invoice = Counter((f.carrier, f.invoice_number) for f in report.findings)
    for invoice in Invoice.objects.filter(period=period, state=InvoiceState.RECEIVED.value).select_related(
            "carrier"):
        key = (invoice.carrier.name, invoice.number)
        system_move(invoice, "audit", data={"period": period, "findings": per_invoice.get(key, 0)})
        result.invoices_audited.append(f"{invoice.carrier.name} {invoice.number}")
    log.info("invoice audit of %s: %d findings, %d invoices audited", period, result.findings,
             len(result.invoices_audited))


def _propose_credit_matches() -> Any:
    """web/credits proposes matches for the credit rows the sync brought (contracts §5)."""
    try:
        from web.credits.jobs import propose_matches
    except ImportError:
        log.warning("web.credits.jobs.propose_matches is not available: no credit matches proposed")
        return None
    return propose_matches()
