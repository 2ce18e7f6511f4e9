"""The line inventory: which carrier lines exist, what they cost us in capacity, and which router port carries each.

Loaded once from ``lines.yaml`` (path in settings) into typed, validated objects. Cross-field rules (unknown device,
duplicate ids, dates) are checked here and reported with the file line of the offending entry.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from linewatch.choices import LineStatus, LineType, SnmpAuthProtocol, SnmpPrivProtocol
from linewatch.errors import ConfigError, Problem
from linewatch.yamlconf import EnvSecretStr, Located, load_located, validation_problems

_STRICT = ConfigDict(extra="forbid", frozen=True)
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\s,=\"\\]+$")]


class SnmpV2c(BaseModel):
    model_config = _STRICT
    version: Literal["2c"]
    community: EnvSecretStr

    @field_validator("community")
    @classmethod
    def _non_empty(cls, v: SecretStr) -> SecretStr:
        if not v.get_secret_value():
            raise ValueError("community must not be empty")
        return v


class SnmpV3(BaseModel):
    model_config = _STRICT
    version: Literal["3"]
    user: str = Field(min_length=1)
    security_level: Literal["authPriv", "authNoPriv"] = "authPriv"
    auth_protocol: SnmpAuthProtocol | None = None
    auth_key: EnvSecretStr | None = None
    priv_protocol: SnmpPrivProtocol | None = None
    priv_key: EnvSecretStr | None = None

    @model_validator(mode="after")
    def _keys_match_level(self) -> SnmpV3:
        if self.auth_protocol is None or self.auth_key is None:
            raise ValueError(f"SNMPv3 user {self.user!r} needs auth_protocol and auth_key")
        if len(self.auth_key.get_secret_value()) < 8:
            raise ValueError("auth_key must be at least 8 characters (RFC 3414)")
        if self.security_level == "authPriv":
            if self.priv_protocol is None or self.priv_key is None:
                raise ValueError(f"SNMPv3 user {self.user!r} with authPriv needs priv_protocol and priv_key")
            if len(self.priv_key.get_secret_value()) < 8:
                raise ValueError("priv_key must be at least 8 characters (RFC 3414)")
        elif self.priv_protocol is not None or self.priv_key is not None:
            raise ValueError("priv_protocol/priv_key given but security_level is authNoPriv")
        return self


class Device(BaseModel):
    """A router or switch linewatch polls over SNMP."""

    model_config = _STRICT
    name: Name
    address: str = Field(min_length=1)
    port: int = Field(default=161, ge=1, le=65535)
    snmp: Annotated[SnmpV2c | SnmpV3, Field(discriminator="version")]
    timeout_s: float = Field(default=2.0, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=10)
    site: str | None = None

    @field_validator("snmp", mode="before")
    @classmethod
    def _version_as_string(cls, v: object) -> object:
        if isinstance(v, dict) and isinstance(v.get("version"), (int, float)):
            v = {**v, "version": "3" if v["version"] == 3 else str(v["version"])}
        return v


class Line(BaseModel):
    """A carrier line and the device interface that carries it."""

    model_config = _STRICT
    id: Name
    carrier: str = Field(min_length=1)
    circuit_id: str = Field(min_length=1)
    type: LineType
    site: str = Field(min_length=1)
    department: str = Field(min_length=1)
    cost_centre: str | None = None
    device: str
    interface: str | None = Field(default=None, description="ifName of the carrying interface")
    if_index: int | None = Field(default=None, ge=1)
    capacity_bps: int = Field(gt=0, description="contracted (committed) capacity in bits per second")
    status: LineStatus = LineStatus.ACTIVE
    install_date: dt.date | None = None
    termination_date: dt.date | None = None
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> Line:
        if (self.interface is None) == (self.if_index is None):
            raise ValueError("give exactly one of interface (ifName) or if_index")
        if self.install_date and self.termination_date and self.termination_date < self.install_date:
            raise ValueError(
                f"termination_date {self.termination_date} is before install_date {self.install_date}"
            )
        return self

    @property
    def interface_label(self) -> str:
        return self.interface if self.interface is not None else f"ifIndex:{self.if_index}"

    def tags(self) -> dict[str, str]:
        """The InfluxDB tags of this line's series (docs/schema.md)."""
        return {
            "line": self.id,
            "carrier": self.carrier,
            "site": self.site,
            "department": self.department,
            "line_type": self.type.value,
            "device": self.device,
            "interface": self.interface_label,
        }


class Inventory(BaseModel):
    model_config = _STRICT
    devices: list[Device] = Field(default_factory=list)
    lines: list[Line] = Field(default_factory=list)

    @cached_property
    def devices_by_name(self) -> dict[str, Device]:
        return {d.name: d for d in self.devices}

    @cached_property
    def lines_by_id(self) -> dict[str, Line]:
        return {line.id: line for line in self.lines}

    def lines_on(self, device: str) -> list[Line]:
        return [line for line in self.lines if line.device == device]

    def polled_lines(self) -> list[Line]:
        """Lines whose interface is polled: everything not yet planned and not decommissioned."""
        skip = (LineStatus.PLANNED, LineStatus.DECOMMISSIONED)
        return [line for line in self.lines if line.status not in skip]

    def line_by_circuit(self, carrier: str, circuit_id: str) -> Line | None:
        for line in self.lines:
            if line.carrier == carrier and line.circuit_id == circuit_id:
                return line
        return None


def cross_check(inv: Inventory, located: Located, *, device_pos: list[int] | None = None,
                line_pos: list[int] | None = None) -> list[Problem]:
    """Rules across valid entries: unique names, one line per interface, one line per circuit.

    ``device_pos``/``line_pos`` give each entry's index in the file when invalid entries were left out.
    """
    device_pos = device_pos if device_pos is not None else list(range(len(inv.devices)))
    line_pos = line_pos if line_pos is not None else list(range(len(inv.lines)))
    problems: list[Problem] = []
    seen_dev: dict[str, int] = {}
    for i, dev in zip(device_pos, inv.devices):
        if dev.name in seen_dev:
            problems.append(located.problem(("devices", i, "name"),
                                            f"duplicate device name {dev.name!r} (first at devices[{seen_dev[dev.name]}])"))
        seen_dev.setdefault(dev.name, i)
    seen_line: dict[str, int] = {}
    seen_port: dict[tuple[str, str], str] = {}
    seen_circuit: dict[tuple[str, str], str] = {}
    for i, line in zip(line_pos, inv.lines):
        if line.id in seen_line:
            problems.append(located.problem(("lines", i, "id"),
                                            f"duplicate line id {line.id!r} (first at lines[{seen_line[line.id]}])"))
        seen_line.setdefault(line.id, i)
        if line.status is not LineStatus.DECOMMISSIONED:
            port = (line.device, line.interface_label)
            if port in seen_port:
                problems.append(located.problem(("lines", i, "interface"),
                                                f"interface {port[1]} on {port[0]} already carries line {seen_port[port]!r}"))
            seen_port.setdefault(port, line.id)
        circuit = (line.carrier, line.circuit_id)
        if circuit in seen_circuit:
            problems.append(located.problem(("lines", i, "circuit_id"),
                                            f"circuit {line.circuit_id!r} of {line.carrier} already used by line {seen_circuit[circuit]!r}"))
        seen_circuit.setdefault(circuit, line.id)
    return problems


def _entries(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    items = data.get(key)
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)] if isinstance(items, list) else []


def unknown_devices(data: dict[str, Any], located: Located) -> list[Problem]:
    """Every line, valid or not, must name a device the file defines (a device with errors of its own counts as
    defined: its errors are reported on the device, not again on each of its lines)."""
    names = {d["name"] for _, d in _entries(data, "devices") if isinstance(d.get("name"), str)}
    known = ", ".join(sorted(names)) or "none defined"
    return [located.problem(("lines", i, "device"), f"unknown device {line['device']!r} (known: {known})")
            for i, line in _entries(data, "lines")
            if isinstance(line.get("device"), str) and line["device"] not in names]


def load_inventory(path: Path | str) -> Inventory:
    """Load and validate the inventory; raise ConfigError listing every problem with its line number.

    Each device and line is validated on its own, so one bad entry does not hide the problems of the others,
    and the cross-entry rules run over every entry that is valid by itself.
    """
    located = load_located(path)
    if located.empty:
        raise ConfigError([Problem(located.file, None, "", "the inventory file is empty (or only comments): "
                                                           "it must list 'devices' and 'lines'")])
    data = located.data
    if not isinstance(data, dict):
        raise ConfigError([Problem(located.file, 1, "", "expected a mapping with 'devices' and 'lines'")])
    problems = [located.problem((key,), "unknown key") for key in data if key not in ("devices", "lines")]
    parsed: dict[str, list[Any]] = {"devices": [], "lines": []}
    positions: dict[str, list[int]] = {"devices": [], "lines": []}
    for key, model in (("devices", Device), ("lines", Line)):
        items = data.get(key) or []
        if not isinstance(items, list):
            problems.append(located.problem((key,), "expected a list"))
            continue
        for i, item in enumerate(items):
            try:
                parsed[key].append(model.model_validate(item))
                positions[key].append(i)
            except ValidationError as exc:
                problems.extend(validation_problems(located, exc, prefix=(key, i)))
    inv = Inventory(devices=parsed["devices"], lines=parsed["lines"])
    problems += cross_check(inv, located, device_pos=positions["devices"], line_pos=positions["lines"])
    problems += unknown_devices(data, located)
    if problems:
        raise ConfigError(problems)
    return inv
