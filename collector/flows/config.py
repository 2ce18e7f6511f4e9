"""``flows.yaml``: where the flow receiver listens, how it summarizes, and how exporters map to inventory lines.

Parsed strictly (unknown keys are errors) through :func:`linewatch.yamlconf.load_model`; cross-checks against the
inventory (unknown devices/lines, interfaces without an ifIndex, two lines on one exporter port) are reported as
:class:`~linewatch.errors.Problem` items with the line number in flows.yaml.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collector.flows.netflow import MAX_TEMPLATE_FIELDS_PER_EXPORTER, MAX_TEMPLATES_PER_EXPORTER
from linewatch.errors import ConfigError, Problem
from linewatch.inventory import Inventory
from linewatch.inventory_source import load_configured_inventory
from linewatch.settings import Settings
from linewatch.yamlconf import Located, load_model

_STRICT = ConfigDict(extra="forbid", frozen=True)
Port = Annotated[int, Field(ge=0, le=65535)]


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ValueError(f"not an IP network: {value!r} ({exc})") from None
    return value


class ExporterConfig(BaseModel):
    """One flow exporter: a router (flows carry its ifIndex values) or a probe that sees a single line.

    ``device``: ifIndex -> line through the inventory (``Line.if_index``, or ``if_indexes`` below for lines given
    by ifName). ``line``: every flow of this exporter belongs to that line; direction from ``local_networks``.
    """

    model_config = _STRICT
    address: str
    observation_domain: int | None = Field(default=None, ge=0, le=0xFFFFFFFF,
                                           description="v9 source id / IPFIX domain / v5 engine type<<8|id")
    device: str | None = None
    line: str | None = None
    if_indexes: dict[str, int] = Field(default_factory=dict, description="ifName -> ifIndex on this device")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(f"not an IP address: {value!r}") from None

    @field_validator("if_indexes")
    @classmethod
    def _indexes(cls, value: dict[str, int]) -> dict[str, int]:
        for name, index in value.items():
            if not 1 <= index <= 0x7FFFFFFF:
                raise ValueError(f"ifIndex of {name!r} must be 1..2147483647, got {index}")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> ExporterConfig:
        if (self.device is None) == (self.line is None):
            raise ValueError("give exactly one of device (a router: ifIndex -> line) or line (a probe)")
        if self.line is not None and self.if_indexes:
            raise ValueError("if_indexes only apply to a device exporter")
        return self


class ListenConfig(BaseModel):
    model_config = _STRICT
    address: str = "0.0.0.0"
    port: Port = 2055
    receive_buffer_bytes: int = Field(default=4 * 1024 * 1024, ge=65536)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(f"not an IP address: {value!r}") from None


class CaptureConfig(BaseModel):
    """Packet captures (files and live interfaces)."""

    model_config = _STRICT
    bpf_filter: str = Field(default="ip or ip6", description="capture filter for live interfaces (tshark -f)")
    interfaces: dict[str, str] = Field(default_factory=dict, description="capture interface -> line id")


class FlowsConfig(BaseModel):
    """The whole ``flows.yaml``."""

    model_config = _STRICT
    listen: ListenConfig = Field(default_factory=ListenConfig)
    interval_s: int = Field(default=60, ge=10, le=3600, description="summary bucket length")
    top_n: int = Field(default=10, ge=1, le=100, description="conversations tagged per line, direction, bucket")
    flush_delay_s: float = Field(default=30.0, ge=0, le=3600,
                                 description="how long after its end a bucket waits for late flows")
    max_conversations: int = Field(default=200_000, ge=100,
                                   description="distinct conversations kept per line/direction/bucket; "
                                               "beyond, flows count in 'other' only")
    template_state_path: Path = Field(default=Path("flow-templates.sqlite3"),
                                      description="templates and sampling (SQLite), relative to state_dir")
    max_templates_per_exporter: int = Field(default=MAX_TEMPLATES_PER_EXPORTER, ge=1, le=65536,
                                            description="templates kept per exporter address; more are counted")
    max_template_fields_per_exporter: int = Field(default=MAX_TEMPLATE_FIELDS_PER_EXPORTER, ge=16, le=1_048_576,
                                                  description="fields of all templates of one exporter address")
    pending_hold_s: float = Field(default=30.0, ge=0, le=3600,
                                  description="how long data waits for its template")
    pending_max_sets: int = Field(default=256, ge=0, le=100_000)
    local_networks: list[str] = Field(default_factory=lambda: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                               "fc00::/7"],
                                      description="our side of every line, for probes and captures")
    exporters: list[ExporterConfig] = Field(default_factory=list)
    capture: CaptureConfig = Field(default_factory=CaptureConfig)

    @field_validator("local_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return [_network(v) for v in value]


def cross_check(cfg: FlowsConfig, inv: Inventory, located: Located | None) -> list[Problem]:
    """Rules across flows.yaml and the inventory."""
    problems: list[Problem] = []

    def problem(path: tuple[str | int, ...], reason: str) -> None:
        if located is not None:
            problems.append(located.problem(path, reason))
        else:
            problems.append(Problem("flows.yaml", None, ".".join(map(str, path)), reason))

    seen: dict[tuple[str, int | None], int] = {}
    for i, exp in enumerate(cfg.exporters):
        key = (exp.address, exp.observation_domain)
        if key in seen:
            problem(("exporters", i, "address"),
                    f"exporter {exp.address} domain {exp.observation_domain} already listed at exporters[{seen[key]}]")
        seen.setdefault(key, i)
        if exp.line is not None and exp.line not in inv.lines_by_id:
            problem(("exporters", i, "line"), f"unknown line {exp.line!r}")
        if exp.device is None:
            continue
        if exp.device not in inv.devices_by_name:
            problem(("exporters", i, "device"), f"unknown device {exp.device!r}")
            continue
        ports: dict[int, str] = {}
        for line, member in inv.ports_on(exp.device):
            index = member.if_index if member.if_index is not None else exp.if_indexes.get(member.interface or "")
            if index is None:
                problem(("exporters", i, "if_indexes"),
                        f"line {line.id} is on interface {member.interface!r}: flows carry ifIndex only, "
                        f"add '{member.interface}: <ifIndex>' under if_indexes")
                continue
            if index in ports and ports[index] != line.id and line.status.monitored:
                problem(("exporters", i, "if_indexes"),
                        f"ifIndex {index} maps to both {ports[index]} and {line.id}")
            ports.setdefault(index, line.id)
    for name, line_id in cfg.capture.interfaces.items():
        if line_id not in inv.lines_by_id:
            problem(("capture", "interfaces", name), f"unknown line {line_id!r}")
    return problems


def flows_path(settings: Settings) -> Path:
    return settings.resolve(getattr(settings, "flows_path", Path("flows.yaml")))


def load_flows_config(path: Path | str, inventory: Inventory | None = None) -> FlowsConfig:
    """Load flows.yaml; with ``inventory``, also cross-check it. Raises ConfigError listing every problem."""
    cfg, located = load_model(path, FlowsConfig)
    if inventory is not None:
        problems = cross_check(cfg, inventory, located)
        if problems:
            raise ConfigError(problems)
    return cfg


def load_for_settings(settings: Settings) -> tuple[FlowsConfig, Inventory]:
    """flows.yaml (defaults when the file does not exist) and the inventory, cross-checked."""
    inventory = load_configured_inventory(settings)  # lines.yaml or the management application (inventory.source)
    path = flows_path(settings)
    if not path.exists():
        return FlowsConfig(), inventory
    return load_flows_config(path, inventory), inventory


def check_config(settings: Settings) -> list[Problem]:
    """``linewatch check-config`` hook."""
    try:
        load_for_settings(settings)
    except ConfigError as exc:
        return exc.problems
    return []
