"""Import and export of the inventory as YAML: ``linewatch inventory import DIR`` / ``export DIR``.

The files are exactly those linewatch's consumers load: ``lines.yaml`` (:func:`linewatch.inventory.load_inventory`:
devices, lines with their ``capacity_changes``, the top-level ``maintenance`` windows) and ``contracts.yaml``
(:class:`billing_etl.config.ContractsFile`, with each contract's ``changes``); an import also reads the carriers' facts
(currency) from ``carriers.yaml`` when the folder has one. An import is validated as a whole by those same
pydantic models and rules (one validation): with any problem it raises :class:`~linewatch.errors.ConfigError`
naming each (``file:line: field: reason``) and changes nothing; otherwise it creates, updates and deletes in one
transaction so the database matches the files, writing change-log rows attributed to the importing user.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from pydantic import ValidationError

from billing_etl import config as billing
from linewatch import inventory as yaml_inventory
from linewatch.choices import LineStatus
from linewatch.errors import ConfigError, Problem
from linewatch.fileperms import replace_atomically
from linewatch.yamlconf import load_located, load_model
from web.audit.context import change_context
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
    PlannedMaintenance,
    Site,
)

LINES_FILE = "lines.yaml"
CONTRACTS_FILE = "contracts.yaml"
CARRIERS_FILE = "carriers.yaml"
SECRET_MODES = ("env", "clear")
_SNMP_SECRETS = {"community": "snmp_community", "auth_key": "auth_key", "priv_key": "priv_key"}


# -- export --------------------------------------------------------------------------------------------------


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    env_vars: list[str] = field(default_factory=list)  # the variables the exported lines.yaml refers to
    notes: list[str] = field(default_factory=list)  # lines lines.yaml cannot express (polled, without members)


def secret_env_var(device: str, key: str) -> str:
    """The environment variable an exported lines.yaml names for a device's secret (``${…}``)."""
    return "LINEWATCH_SNMP_" + re.sub(r"[^A-Z0-9]+", "_", f"{device}_{key}".upper()).strip("_")


_UNPOLLED = (LineStatus.PLANNED, LineStatus.DECOMMISSIONED)  # lines.yaml lists these without members too


# The line's own fields, as Line.as_config() names them (a test holds the two equal), read with one values() query:
# the collectors' endpoint builds this document for 10,000 lines, and model instances took ~95 % of its time.
_LINE_VALUES = {"id": "name", "carrier": "carrier__name", "circuit_id": "circuit_id", "type": "type",
                "site": "site__name", "department": "department__name", "cost_centre": "cost_centre__code",
                "capacity_bps": "capacity_bps", "channels": "channels", "rate_plan": "rate_plan", "status": "status",
                "install_date": "install_date", "termination_date": "termination_date", "description": "description"}


# Entries in the order they were created: an imported file comes back in its own order.
def inventory_data(*, secrets: str = "clear", notes: list[str] | None = None,
                   maintenance_since: dt.datetime | None = None) -> dict[str, Any]:
    """The inventory as lines.yaml data (``devices``, ``lines``, ``maintenance``). ``secrets="env"`` writes
    ``${VAR}`` instead of each SNMP secret (see :func:`secret_env_var`); ``"clear"`` the values (for the collector
    endpoint). ``maintenance_since``: only the windows ending after it (None: every window).

    Six queries whatever the size: the devices (model instances: their secrets are decrypted by the field),
    every line with its joins, every member with its device name, every capacity change, the windows and their
    lines (``values()``, straight to dicts)."""
    if secrets not in SECRET_MODES:
        raise ValueError(f"secrets must be one of {SECRET_MODES}")
    devices = []
    for d in Device.objects.select_related("site").order_by("pk"):
        data = d.as_config()
        if secrets == "env":
            for key in _SNMP_SECRETS:
                if data["snmp"].get(key):
                    data["snmp"][key] = "${" + secret_env_var(d.name, key) + "}"
        devices.append(data)
    members: dict[int, list[dict[str, Any]]] = {}
    for line_id, device, interface, if_index, role in LineMember.objects.order_by("pk").values_list(
            "line_id", "device__name", "interface", "if_index", "role"):
        member = {"device": device}  # LineMember.port() | {"role": …}, written out: it runs for every member
        if interface:
            member["interface"] = interface
        if if_index is not None:
            member["if_index"] = if_index
        member["role"] = role
        members.setdefault(line_id, []).append(member)
    changes: dict[int, list[dict[str, Any]]] = {}
    for line_id, effective, capacity_bps in CapacityChange.objects.order_by("line_id", "effective").values_list(
            "line_id", "effective", "capacity_bps"):
        changes.setdefault(line_id, []).append({"effective": effective.isoformat(), "capacity_bps": capacity_bps})
    lines = []
    keys = tuple(_LINE_VALUES)
    for pk, *row in Line.objects.order_by("pk").values_list("pk", *_LINE_VALUES.values()):
        # Only the values that are set, as Line.as_config() (validation.present) gives them.
        line = {key: value for key, value in zip(keys, row, strict=True) if value is not None and value != ""}
        carried = members.get(pk, [])
        if not carried and line["status"] not in _UNPOLLED:
            if notes is not None:
                notes.append(f"line {line['id']}: no interface carries it; lines.yaml cannot list it")
            continue
        lines.append(line | {"members": carried} | ({"capacity_changes": changes[pk]} if pk in changes else {}))
    return {"devices": devices, "lines": lines,
            "maintenance": maintenance_data({line["id"] for line in lines}, since=maintenance_since)}


def maintenance_data(line_ids: set[str], *, since: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The planned maintenance windows as lines.yaml's ``maintenance`` entries (as ``PlannedMaintenance.as_config``
    gives them), by start; only the lines in ``line_ids`` (those the document lists), a window left with none
    left out; ``since``: only the windows ending after it."""
    windows = PlannedMaintenance.objects.order_by("starts", "pk")
    if since is not None:
        windows = windows.filter(ends__gt=since)
    names: dict[int, list[str]] = {}
    for window_id, name in PlannedMaintenance.lines.through.objects.filter(
            plannedmaintenance__in=windows).values_list("plannedmaintenance_id", "line__name"):
        if name in line_ids:
            names.setdefault(window_id, []).append(name)
    out = []
    for window in windows:
        if window.pk in names:
            out.append(window.as_config(names[window.pk]))
    return out


def contracts_data() -> dict[str, Any]:
    """The contracts as contracts.yaml data (``contracts``; ``audit`` and ``savings`` are settings of the ETL, not
    inventory, and are not stored in the application)."""
    queryset = Contract.objects.select_related("line__carrier").prefetch_related(
        "credit_tiers", "discounts", "changes").order_by("pk")
    return {"contracts": [c.as_config() for c in queryset]}


class _Dumper(yaml.SafeDumper):
    pass


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    if value == value.to_integral_value():
        return dumper.represent_int(int(value))
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value.normalize(), "f"))


_Dumper.add_representer(Decimal, _decimal)


def dump_yaml(data: dict[str, Any], header: str = "") -> str:
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def export_dir(directory: Path | str, *, secrets: str = "env") -> ExportResult:
    """Write lines.yaml and contracts.yaml (both 0600: with ``secrets="clear"`` they hold SNMP secrets)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    result = ExportResult()
    lines = inventory_data(secrets=secrets, notes=result.notes)
    if secrets == "env":
        result.env_vars = sorted({v[2:-1] for d in lines["devices"] for k, v in d["snmp"].items()
                                  if k in _SNMP_SECRETS and isinstance(v, str) and v.startswith("${")})
    header = "# Exported by `linewatch inventory export` from the management application.\n"
    for name, data in ((LINES_FILE, lines), (CONTRACTS_FILE, contracts_data())):
        path = out / name
        replace_atomically(path, dump_yaml(data, header), mode=0o600)
        result.files.append(path)
    return result


# -- import --------------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)

    def count(self, kind: dict[str, int], model: type) -> None:
        name = model._meta.model_name
        kind[name] = kind.get(name, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        parts = [f"{verb} " + ", ".join(f"{n} {k}" for k, n in sorted(d.items()))
                 for verb, d in (("created", self.created), ("updated", self.updated), ("deleted", self.deleted))
                 if d]
        return "; ".join(parts) or "no changes"


@dataclass(frozen=True)
class ValidatedSet:
    inventory: yaml_inventory.Inventory
    contracts: billing.ContractsFile | None  # None: the folder has no contracts.yaml (contracts left alone)
    carrier_currency: dict[str, str]  # from carriers.yaml (the carriers' non-layout facts)


def validate_dir(directory: Path | str) -> ValidatedSet:
    """Validate lines.yaml, contracts.yaml and carriers.yaml of ``directory`` together; raise ConfigError with
    every problem of every file."""
    d = Path(directory)
    problems: list[Problem] = []
    inventory = None
    try:
        inventory = yaml_inventory.load_inventory(d / LINES_FILE)
    except ConfigError as exc:
        problems += exc.problems
    known_lines = inventory or _valid_lines(d / LINES_FILE)
    carriers = billing.CarriersFile()
    if (d / CARRIERS_FILE).exists():
        try:
            carriers, c_located = load_model(d / CARRIERS_FILE, billing.CarriersFile)
            problems += billing.carrier_problems(carriers, c_located)
        except ConfigError as exc:
            problems += exc.problems
    currency = {c.name: c.currency for c in carriers.carriers}
    contracts = None
    if (d / CONTRACTS_FILE).exists():
        try:
            contracts, k_located = load_model(d / CONTRACTS_FILE, billing.ContractsFile)
        except ConfigError as exc:
            problems += exc.problems
        if contracts is not None and known_lines is not None:
            problems += billing.contract_problems(_with_db_currency(contracts, currency), k_located, known_lines,
                                                   carriers)
    if problems or inventory is None:
        raise ConfigError(problems)
    return ValidatedSet(inventory=inventory, contracts=contracts, carrier_currency=currency)


def _valid_lines(path: Path) -> yaml_inventory.Inventory | None:
    """The lines of a lines.yaml with problems that are valid on their own, so the contracts are still checked
    against them; a contract of an invalid line is not reported again (its line's problem is)."""
    try:
        data = load_located(path).data
    except ConfigError:
        return None
    items = data.get("lines") if isinstance(data, dict) else None
    lines = []
    for item in items if isinstance(items, list) else []:
        try:
            lines.append(yaml_inventory.Line.model_validate(item))
        except ValidationError:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                lines.append(yaml_inventory.Line.model_construct(id=item["id"], carrier=item.get("carrier")))
    return yaml_inventory.Inventory.model_construct(devices=[], lines=lines)


def _with_db_currency(contracts: billing.ContractsFile, from_file: dict[str, str]) -> billing.ContractsFile:
    """Contracts naming no currency, with their carrier's from the database (when carriers.yaml does not describe
    the carrier), so the ETL's currency rule sees what the application stores."""
    known = {n: c for n, c in Carrier.objects.exclude(currency="").values_list("name", "currency")} | from_file
    resolved = [c.model_copy(update={"currency": known[c.carrier]})
                if c.currency is None and c.carrier in known and c.carrier not in from_file else c
                for c in contracts.contracts]
    return contracts.model_copy(update={"contracts": resolved})


def import_dir(directory: Path | str, *, user_name: str = "import") -> ImportResult:
    """Make the database match the files of ``directory`` (see the module docstring)."""
    validated = validate_dir(directory)
    with transaction.atomic(), change_context(user_name=user_name):
        return _Applier(validated).apply()


def _current(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:  # a foreign key not set yet
        return None


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if _current(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


class _Applier:
    def __init__(self, validated: ValidatedSet):
        self.v = validated
        self.result = ImportResult()
        self._cache: dict[tuple[type, str], Any] = {}

    def _save(self, obj: Any, values: dict[str, Any]) -> Any:
        creating = obj.pk is None
        if _assign(obj, values) or creating:
            obj.save()
            self.result.count(self.result.created if creating else self.result.updated, type(obj))
        return obj

    def _named(self, model: type, key: str, value: str | None, **defaults: Any) -> Any:
        if not value:
            return None
        cached = self._cache.get((model, value))
        if cached is None:
            cached = model.objects.filter(**{key: value}).first()
            if cached is None:
                cached = self._save(model(), {key: value, **defaults})
            self._cache[(model, value)] = cached
        return cached

    def apply(self) -> ImportResult:
        inv = self.v.inventory
        for name, currency in self.v.carrier_currency.items():
            carrier = Carrier.objects.filter(name=name).first() or Carrier()
            self._save(carrier, {"name": name, "currency": currency})
            self._cache[(Carrier, name)] = carrier
        devices = {d.name: d for d in Device.objects.select_related("site")}
        for y in inv.devices:
            devices[y.name] = self._save(devices.get(y.name) or Device(), self._device_values(y))
        existing = {line.name: line for line in Line.objects.prefetch_related("members__device")}
        wanted = {y.id for y in inv.lines}
        for name, line in existing.items():  # before any update: a removed line frees its circuit and port
            if name not in wanted:
                line.delete()
                self.result.count(self.result.deleted, Line)
        for y in inv.lines:
            line = self._save(existing.get(y.id) or Line(), self._line_values(y))
            self._members(line, devices, y)
            self._dated(line.capacity_changes, CapacityChange, {"line": line},
                        {c.effective: {"capacity_bps": c.capacity_bps} for c in y.capacity_changes})
        for name, device in devices.items():
            if name not in inv.devices_by_name:
                device.delete()
                self.result.count(self.result.deleted, Device)
        self._maintenance(inv.maintenance)
        if self.v.contracts is not None:
            self._contracts(self.v.contracts)
        return self.result

    def _dated(self, manager: Any, model: type, parent: dict[str, Any], wanted: dict[Any, dict[str, Any]]) -> None:
        """A parent's dated versions (capacity changes, contract changes) become exactly ``wanted`` (by
        ``effective``): a kept moment keeps its row (and history), its values updated."""
        have = {row.effective: row for row in manager.all()}
        for effective, row in have.items():
            if effective not in wanted:
                row.delete()
                self.result.count(self.result.deleted, model)
        for effective, values in wanted.items():
            self._save(have.get(effective) or model(**parent, effective=effective), values)

    def _maintenance(self, windows: list[yaml_inventory.PlannedMaintenance]) -> None:
        """The windows become exactly the file's: a window is matched by its id (``MW-<pk>``, as exported); any
        other id makes a new window (its id is then the application's). Its carrier is its lines' carrier when
        they share one."""
        existing = {w.key: w for w in PlannedMaintenance.objects.prefetch_related("lines")}
        wanted = {y.id for y in windows}
        for key, window in existing.items():
            if key not in wanted:
                window.delete()
                self.result.count(self.result.deleted, PlannedMaintenance)
        lines = {line.name: line for line in Line.objects.all()}
        for y in windows:
            chosen = [lines[name] for name in y.lines]
            carriers = {line.carrier_id for line in chosen}
            window = existing.get(y.id)
            creating = window is None
            window = self._save(window or PlannedMaintenance(), {
                "starts": y.starts, "ends": y.ends, "carrier_reference": y.carrier_reference,
                "description": y.description, "carrier_id": next(iter(carriers)) if len(carriers) == 1 else None})
            if creating or {line.pk for line in window.lines.all()} != {line.pk for line in chosen}:
                window.lines.set(chosen)
                if not creating:
                    self.result.count(self.result.updated, PlannedMaintenance)

    def _device_values(self, y: yaml_inventory.Device) -> dict[str, Any]:
        snmp = y.snmp
        secret = {k: (getattr(snmp, k).get_secret_value() if getattr(snmp, k, None) is not None else "")
                  for k in _SNMP_SECRETS}
        v3 = isinstance(snmp, yaml_inventory.SnmpV3)
        return {
            "name": y.name, "address": y.address, "port": y.port, "timeout_s": y.timeout_s, "retries": y.retries,
            "site": self._named(Site, "name", y.site), "snmp_version": snmp.version,
            "snmp_community": secret["community"], "auth_key": secret["auth_key"], "priv_key": secret["priv_key"],
            "snmp_user": snmp.user if v3 else "", "security_level": snmp.security_level if v3 else "",
            "auth_protocol": (snmp.auth_protocol or "") if v3 else "",
            "priv_protocol": (snmp.priv_protocol or "") if v3 else "",
        }

    def _line_values(self, y: yaml_inventory.Line) -> dict[str, Any]:
        return {
            "name": y.id, "carrier": self._named(Carrier, "name", y.carrier), "circuit_id": y.circuit_id,
            "type": y.type.value, "status": y.status.value, "site": self._named(Site, "name", y.site),
            "department": self._named(Department, "name", y.department),
            "cost_centre": self._named(CostCentre, "code", y.cost_centre), "capacity_bps": y.capacity_bps,
            "channels": y.channels, "rate_plan": y.rate_plan or "", "install_date": y.install_date, "termination_date": y.termination_date, "description": y.description,
        }

    def _members(self, line: Line, devices: dict[str, Device], y: yaml_inventory.Line) -> None:
        """The line's members become exactly the file's: a kept port keeps its row (and history), its role updated."""
        have = {(m.device_id, m.interface, m.if_index): m for m in line.members.all()} if line.pk else {}
        wanted = []
        for ym in y.members:
            device = devices[ym.device]
            wanted.append(((device.pk, ym.interface or "", ym.if_index),
                           {"device": device, "interface": ym.interface or "", "if_index": ym.if_index,
                            "role": ym.role.value}))
        keep = {key for key, _ in wanted}
        for key, member in have.items():  # first: a port moving between lines is free when it is saved again
            if key not in keep:
                member.delete()
                self.result.count(self.result.deleted, LineMember)
        for key, values in wanted:
            self._save(have.get(key) or LineMember(line=line), values)

    def _contracts(self, contracts: billing.ContractsFile) -> None:
        lines = {line.name: line for line in Line.objects.all()}
        existing = {c.line.name: c for c in Contract.objects.select_related("line").prefetch_related(
            "credit_tiers", "discounts")}
        wanted = {c.line for c in contracts.contracts}
        for name, contract in existing.items():
            if name not in wanted:
                contract.delete()
                self.result.count(self.result.deleted, Contract)
        for y in contracts.contracts:
            b = y.billing
            values = {
                "line": lines[y.line], "currency": y.currency or "", "mrc": y.mrc, "commit_bps": y.commit_bps,
                "billing_model": b.model.value, "direction": getattr(b, "direction", "max"),
                "price_per_mbps": getattr(b, "price_per_mbps", None), "included_gb": getattr(b, "included_gb", None),
                "price_per_gb": getattr(b, "price_per_gb", None), "gb_unit": getattr(b, "gb_unit", "decimal"),
                "proration": y.proration.value, "sla_target_pct": y.sla.target_pct if y.sla else None,
                "sla_cap_pct": y.sla.cap_pct if y.sla else Decimal(100),
                "price_per_channel": getattr(y, "price_per_channel", None),
            }
            term = y.term
            values |= {"term_start": term.start if term else None, "term_months": term.months if term else None,
                       "auto_renew": term.auto_renew if term else False,
                       "renewal_months": term.renewal_months if term else 12,
                       "notice_days": term.notice_days if term else 90,
                       "early_termination_pct": term.early_termination_pct if term else Decimal(100)}
            values = {k: (v.value if hasattr(v, "value") and not isinstance(v, Decimal) else v)
                      for k, v in values.items()}
            contract = self._save(existing.get(y.line) or Contract(), values)
            tiers = [t.model_dump() for t in (y.sla.credit_tiers if y.sla else [])]
            self._children(contract.credit_tiers, CreditTier, contract, tiers)
            self._children(contract.discounts, Discount, contract, [d.model_dump() for d in y.discounts])
            self._dated(contract.changes, ContractChange, {"contract": contract},
                        {c.effective: c.model_dump(exclude={"effective"}) for c in y.changes})

    def _children(self, manager: Any, model: type, contract: Contract, wanted: list[dict[str, Any]]) -> None:
        """Discounts and credit tiers are lists in entry order: rewritten when any entry differs."""
        have = list(manager.all())
        if len(have) == len(wanted) and all(not _differs(h, w) for h, w in zip(have, wanted, strict=True)):
            return
        for h in have:
            h.delete()
            self.result.count(self.result.deleted, model)
        for w in wanted:
            self._save(model(contract=contract), w)


def _differs(obj: Any, values: dict[str, Any]) -> bool:
    return any(getattr(obj, k) != v for k, v in values.items())


def load_export(directory: Path | str) -> tuple[yaml_inventory.Inventory, billing.ContractsFile]:
    """The exported files read back by the consumers' own loaders (tests and ``--check``)."""
    d = Path(directory)
    contracts, _ = load_model(d / CONTRACTS_FILE, billing.ContractsFile)
    return yaml_inventory.load_inventory(d / LINES_FILE), contracts
