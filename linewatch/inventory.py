"""The line inventory: which carrier lines exist, what they cost us in capacity, and which router ports (members)
carry each.

Loaded once from ``lines.yaml`` (path in settings) into typed, validated objects. Cross-field rules (unknown device,
duplicate ids, dates) are checked here and reported with the file line of the offending entry.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from linewatch.choices import LineMemberRole, LineStatus, LineType, SnmpAuthProtocol, SnmpPrivProtocol
from linewatch.errors import ConfigError, Problem
from linewatch.yamlconf import EnvSecretStr, Located, load_located, validation_problems

_STRICT = ConfigDict(extra="forbid", frozen=True)
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\s,=\"\\]+$")]
_MOMENT_EXAMPLE = "2026-11-16T09:00:00+09:00"


def _moment_input(v: object) -> object:
    if isinstance(v, dt.datetime) or (isinstance(v, str) and "T" in v.upper()):
        return v
    raise ValueError(f"expected a date and time with its UTC offset, e.g. {_MOMENT_EXAMPLE}")


def _aware(v: dt.datetime) -> dt.datetime:
    if v.tzinfo is None or v.utcoffset() is None:
        raise ValueError(f"a date and time without UTC offset is ambiguous: give the offset, e.g. {_MOMENT_EXAMPLE}")
    return v


Moment = Annotated[dt.datetime, BeforeValidator(_moment_input), AfterValidator(_aware)]
"""An aware ISO 8601 moment (``2026-11-16T09:00:00+09:00``); a naive one or a bare date is an error."""


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


class LineMember(BaseModel):
    """One interface carrying (part of) a line: a LAG member, the primary or backup port, or the only port."""

    model_config = _STRICT
    device: str
    interface: str | None = Field(default=None, description="ifName of the carrying interface")
    if_index: int | None = Field(default=None, ge=1)
    role: LineMemberRole = LineMemberRole.MEMBER

    @model_validator(mode="after")
    def _one_port(self) -> LineMember:
        if (self.interface is None) == (self.if_index is None):
            raise ValueError("give exactly one of interface (ifName) or if_index")
        return self

    @property
    def interface_label(self) -> str:
        return self.interface if self.interface is not None else f"ifIndex:{self.if_index}"

    @property
    def port(self) -> tuple[str, str]:
        """(device, interface label): the member's series in ``line_traffic`` (docs/schema.md)."""
        return (self.device, self.interface_label)


SINGLE_PORT_KEYS = ("device", "interface", "if_index")
_UNPOLLED = (LineStatus.PLANNED, LineStatus.DECOMMISSIONED)


def both_port_forms(entry: object) -> str | None:
    """Why a raw ``lines:`` entry is refused for giving ``members`` and the single-port form, else None."""
    if not isinstance(entry, dict) or "members" not in entry:
        return None
    given = [k for k in SINGLE_PORT_KEYS if k in entry]
    if not given:
        return None
    return (f"{', '.join(given)} given together with members: give either members: [{{device, interface | "
            f"if_index, role}}] or the single-port form (device + interface | if_index), not both")


class CapacityChange(BaseModel):
    """From ``effective`` on, the line's contracted capacity is ``capacity_bps`` (an upgrade or a downgrade)."""

    model_config = _STRICT
    effective: Moment
    capacity_bps: int = Field(gt=0, description="contracted capacity in bits per second from ``effective`` on")

    @cached_property
    def effective_s(self) -> float:
        return self.effective.timestamp()


def _increasing(changes: tuple[CapacityChange, ...]) -> tuple[CapacityChange, ...]:
    """Changes must be in strictly increasing ``effective`` order; the error names the offending change."""
    errors = [
        InitErrorDetails(
            type=PydanticCustomError("not_increasing", "{reason}", {"reason": (
                f"effective {cur.effective.isoformat()} is not after capacity_changes[{j - 1}].effective "
                f"{prev.effective.isoformat()}: list the changes in strictly increasing effective order")}),
            loc=(j, "effective"), input=cur.effective)
        for j, (prev, cur) in enumerate(pairwise(changes), start=1) if cur.effective_s <= prev.effective_s
    ]
    if errors:
        raise ValidationError.from_exception_data("capacity_changes", errors)
    return changes


class Line(BaseModel):
    """A carrier line and the interfaces (members) that carry it.

    ``members: [{device, interface | if_index, role}]``; the single-port form (``device`` + ``interface`` or
    ``if_index``) is the same as one member with role ``member``. A line's traffic is its members' sum per sample.
    """

    model_config = _STRICT
    id: Name
    carrier: str = Field(min_length=1)
    circuit_id: str = Field(min_length=1)
    type: LineType
    site: str = Field(min_length=1)
    department: str = Field(min_length=1)
    cost_centre: str | None = None
    capacity_bps: int = Field(gt=0, description="contracted (committed) capacity in bits per second as installed: "
                                                "valid until the first of ``capacity_changes``")
    capacity_changes: Annotated[tuple[CapacityChange, ...], AfterValidator(_increasing)] = ()
    channels: int | None = Field(default=None, gt=0, le=100_000,
                                 description="voice trunks: contracted concurrent calls (the channel capacity the "
                                             "80 % rule and Erlang sizing use); only for type voice_trunk")
    rate_plan: str | None = Field(default=None, min_length=1, max_length=128,
                                  description="voice trunks: the contract's call tariff, a voice.yaml rate_plans name "
                                              "(every CDR of the line is rated by it)")
    status: LineStatus = LineStatus.ACTIVE
    install_date: dt.date | None = None
    termination_date: dt.date | None = None
    description: str = ""
    members: tuple[LineMember, ...] = Field(default=(), validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _single_port_form(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not any(k in data for k in SINGLE_PORT_KEYS):
            return data
        both = both_port_forms(data)
        if both:
            raise ValueError(both)
        port = {k: data[k] for k in SINGLE_PORT_KEYS if k in data}
        return {**{k: v for k, v in data.items() if k not in SINGLE_PORT_KEYS}, "members": [port]}

    @field_validator("members")
    @classmethod
    def _members(cls, members: tuple[LineMember, ...], info: ValidationInfo) -> tuple[LineMember, ...]:
        status = info.data.get("status")
        if not members and status is not None and status not in _UNPOLLED:
            raise ValueError(f"a line with status {status.value} is polled and needs at least one member (members: "
                             f"[{{device, interface | if_index}}], or device + interface | if_index)")
        seen: dict[tuple[str, str], int] = {}
        for j, m in enumerate(members):
            if m.port in seen:
                raise ValueError(f"duplicate member {m.device} {m.interface_label} (members[{seen[m.port]}] "
                                 f"and members[{j}])")
            seen[m.port] = j
        roles = [m.role for m in members]
        # A primary/backup line has exactly one primary, the others backups; a LAG's members may have backups too.
        primaries = roles.count(LineMemberRole.PRIMARY)
        if primaries > 1 or (primaries and LineMemberRole.MEMBER in roles) or (
                roles and all(r is LineMemberRole.BACKUP for r in roles)):
            raise ValueError(f"a primary/backup line needs exactly one member with role primary and the others "
                             f"backup (roles given: {', '.join(r.value for r in roles)})")
        return members

    @model_validator(mode="after")
    def _check(self) -> Line:
        for field in ("channels", "rate_plan"):
            if getattr(self, field) is not None and self.type is not LineType.VOICE_TRUNK:
                raise ValueError(f"{field} is for voice trunks: line type is {self.type.value}, not voice_trunk "
                                 f"(remove {field} or change the type)")
        if self.install_date and self.termination_date and self.termination_date < self.install_date:
            raise ValueError(
                f"termination_date {self.termination_date} is before install_date {self.install_date}"
            )
        return self

    @cached_property
    def _change_starts_s(self) -> tuple[float, ...]:
        return tuple(c.effective_s for c in self.capacity_changes)

    def capacity_at(self, t_s: float) -> int:
        """The contracted capacity at epoch second ``t_s``: the last change with ``effective <= t_s``, else the
        capacity as installed."""
        k = bisect.bisect_right(self._change_starts_s, t_s)
        return self.capacity_changes[k - 1].capacity_bps if k else self.capacity_bps

    def capacity_periods(self, start_s: float, end_s: float) -> list[tuple[float, float, int]]:
        """``[start_s, end_s)`` cut at each capacity change inside it: ``(from_s, to_s, capacity_bps)`` in order
        (one period without a change inside; none for an empty range)."""
        if end_s <= start_s:
            return []
        cuts = [t for t in self._change_starts_s if start_s < t < end_s]
        bounds = [start_s, *cuts, end_s]
        return [(a, b, self.capacity_at(a)) for a, b in pairwise(bounds)]

    @property
    def primary(self) -> LineMember | None:
        """The member with role primary, else the first (None for a line without members)."""
        for m in self.members:
            if m.role is LineMemberRole.PRIMARY:
                return m
        return self.members[0] if self.members else None

    @property
    def devices(self) -> tuple[str, ...]:
        """The devices of the line's members, each once, in member order."""
        return tuple(dict.fromkeys(m.device for m in self.members))

    def members_on(self, device: str) -> list[LineMember]:
        return [m for m in self.members if m.device == device]

    def tags(self, member: LineMember | None = None) -> dict[str, str]:
        """The InfluxDB tags of ``member``'s series of this line (docs/schema.md); without ``member``, the primary
        member's (a line without members has the line's tags only)."""
        tags = {
            "line": self.id,
            "carrier": self.carrier,
            "site": self.site,
            "department": self.department,
            "line_type": self.type.value,
        }
        member = member if member is not None else self.primary
        if member is not None:
            tags |= {"device": member.device, "interface": member.interface_label, "member_role": member.role.value}
        return tags


class PlannedMaintenance(BaseModel):
    """A carrier's announced work on some lines, ``[starts, ends)``: their alert notifications are muted meanwhile."""

    model_config = _STRICT
    id: str = Field(min_length=1, max_length=128)
    lines: tuple[str, ...] = Field(min_length=1, description="ids of the lines affected")
    starts: Moment
    ends: Moment
    carrier_reference: str = ""
    description: str = ""

    @field_validator("lines")
    @classmethod
    def _unique_lines(cls, lines: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({line for line in lines if lines.count(line) > 1})
        if twice:
            raise ValueError(f"line {', '.join(twice)} listed more than once")
        return lines

    @model_validator(mode="after")
    def _ends_after_starts(self) -> PlannedMaintenance:
        if self.ends <= self.starts:
            raise ValueError(f"ends {self.ends.isoformat()} is not after starts {self.starts.isoformat()}")
        return self

    def active_at(self, t_s: float) -> bool:
        return self.starts.timestamp() <= t_s < self.ends.timestamp()

    @property
    def reason(self) -> str:
        """Why a notification is muted: ``planned maintenance MW-12 (DT-CHG-99812)``."""
        ref = f" ({self.carrier_reference})" if self.carrier_reference else ""
        return f"planned maintenance {self.id}{ref}"


class Inventory(BaseModel):
    model_config = _STRICT
    devices: list[Device] = Field(default_factory=list)
    lines: list[Line] = Field(default_factory=list)
    maintenance: list[PlannedMaintenance] = Field(default_factory=list)

    def maintenance_at(self, t_s: float) -> dict[str, PlannedMaintenance]:
        """The planned maintenance active at epoch second ``t_s`` per line id (of overlapping windows, the one
        that started first)."""
        active: dict[str, PlannedMaintenance] = {}
        for window in sorted(self.maintenance, key=lambda w: w.starts):
            if window.active_at(t_s):
                for line in window.lines:
                    active.setdefault(line, window)
        return active

    @cached_property
    def devices_by_name(self) -> dict[str, Device]:
        return {d.name: d for d in self.devices}

    @cached_property
    def lines_by_id(self) -> dict[str, Line]:
        return {line.id: line for line in self.lines}

    def lines_on(self, device: str) -> list[Line]:
        """The lines with at least one member on ``device``."""
        return [line for line in self.lines if any(m.device == device for m in line.members)]

    def ports_on(self, device: str) -> list[tuple[Line, LineMember]]:
        """Every member interface on ``device``, with its line (a line on two devices appears on each)."""
        return [(line, m) for line in self.lines for m in line.members if m.device == device]

    def polled_lines(self) -> list[Line]:
        """Lines whose members are polled: everything not yet planned and not decommissioned."""
        skip = (LineStatus.PLANNED, LineStatus.DECOMMISSIONED)
        return [line for line in self.lines if line.status not in skip]

    def line_by_circuit(self, carrier: str, circuit_id: str) -> Line | None:
        for line in self.lines:
            if line.carrier == carrier and line.circuit_id == circuit_id:
                return line
        return None


SECTIONS: dict[str, type[BaseModel]] = {"devices": Device, "lines": Line, "maintenance": PlannedMaintenance}
"""The top-level keys of lines.yaml (and of ``/api/inventory.json``) and the model of each entry."""


def cross_check(inv: Inventory, located: Located, *, device_pos: list[int] | None = None,
                line_pos: list[int] | None = None, maintenance_pos: list[int] | None = None) -> list[Problem]:
    """Rules across valid entries: unique names, one line per interface (member), one line per circuit, planned
    maintenance with unique ids naming known lines.

    ``device_pos``/``line_pos``/``maintenance_pos`` give each entry's index in the file when invalid entries were
    left out.
    """
    device_pos = device_pos if device_pos is not None else list(range(len(inv.devices)))
    line_pos = line_pos if line_pos is not None else list(range(len(inv.lines)))
    maintenance_pos = maintenance_pos if maintenance_pos is not None else list(range(len(inv.maintenance)))
    problems = _duplicates(located, "devices", "name", "device name",
                           zip(device_pos, (d.name for d in inv.devices)))
    problems += _duplicates(located, "lines", "id", "line id", zip(line_pos, (line.id for line in inv.lines)))
    seen_port: dict[tuple[str, str], str] = {}
    seen_circuit: dict[tuple[str, str], str] = {}
    for i, line in zip(line_pos, inv.lines):
        if line.status is not LineStatus.DECOMMISSIONED:
            for j, member in enumerate(line.members):
                port = member.port
                if port in seen_port:
                    field = "interface" if member.interface is not None else "if_index"
                    problems.append(located.problem(member_path(located, i, j, field),
                                                    f"interface {port[1]} on {port[0]} already carries line {seen_port[port]!r}"))
                seen_port.setdefault(port, line.id)
        circuit = (line.carrier, line.circuit_id)
        if circuit in seen_circuit:
            problems.append(located.problem(("lines", i, "circuit_id"),
                                            f"circuit {line.circuit_id!r} of {line.carrier} already used by line {seen_circuit[circuit]!r}"))
        seen_circuit.setdefault(circuit, line.id)
    return problems + _maintenance_problems(inv, located, maintenance_pos)


def _duplicates(located: Located, section: str, field: str, what: str,
                named: Iterable[tuple[int, str]]) -> list[Problem]:
    """A problem on each entry of ``section`` whose ``field`` repeats an earlier entry's; ``named``: (index, value)."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for i, name in named:
        if name in first:
            problems.append(located.problem((section, i, field),
                                            f"duplicate {what} {name!r} (first at {section}[{first[name]}])"))
        first.setdefault(name, i)
    return problems


def _maintenance_problems(inv: Inventory, located: Located, positions: list[int]) -> list[Problem]:
    # A line entry with errors of its own counts as known: its errors are reported on the line, not again here.
    known = set(inv.lines_by_id) | {e["id"] for _, e in _entries(located.data, "lines") if isinstance(e.get("id"), str)}
    problems = _duplicates(located, "maintenance", "id", "maintenance id",
                           zip(positions, (w.id for w in inv.maintenance)))
    return problems + [located.problem(("maintenance", i, "lines", k), f"unknown line {line!r}")
                       for i, window in zip(positions, inv.maintenance)
                       for k, line in enumerate(window.lines) if line not in known]


def _entries(data: Any, key: str) -> list[tuple[int, dict[str, Any]]]:
    items = data.get(key) if isinstance(data, dict) else None
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)] if isinstance(items, list) else []


def member_path(located: Located, line_pos: int, member_pos: int, field: str) -> tuple[str | int, ...]:
    """Where member ``member_pos`` of entry ``line_pos`` gives ``field``: under ``members:``, or on the entry
    itself for the single-port form."""
    entry = _descend_entry(located.data, line_pos)
    if isinstance(entry, dict) and "members" in entry:
        return ("lines", line_pos, "members", member_pos, field)
    return ("lines", line_pos, field)


def _descend_entry(data: Any, i: int) -> Any:
    items = data.get("lines") if isinstance(data, dict) else None
    return items[i] if isinstance(items, list) and 0 <= i < len(items) else None


def _raw_members(entry: dict[str, Any]) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """(path under the entry, member mapping) of a raw ``lines:`` entry, in either form."""
    if "members" not in entry:
        return [((), entry)]
    members = entry["members"]
    return [(("members", j), m) for j, m in enumerate(members) if isinstance(m, dict)] if isinstance(members, list) else []


def unknown_devices(data: dict[str, Any], located: Located) -> list[Problem]:
    """Every line member, valid or not, must name a device the file defines (a device with errors of its own counts
    as defined: its errors are reported on the device, not again on each of its lines)."""
    names = {d["name"] for _, d in _entries(data, "devices") if isinstance(d.get("name"), str)}
    known = ", ".join(sorted(names)) or "none defined"
    return [located.problem(("lines", i, *sub, "device"), f"unknown device {m['device']!r} (known: {known})")
            for i, line in _entries(data, "lines") for sub, m in _raw_members(line)
            if isinstance(m.get("device"), str) and m["device"] not in names]


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
    problems = [located.problem((key,), "unknown key") for key in data if key not in SECTIONS]
    parsed: dict[str, list[Any]] = {key: [] for key in SECTIONS}
    positions: dict[str, list[int]] = {key: [] for key in SECTIONS}
    for key, model in SECTIONS.items():
        items = data.get(key) or []
        if not isinstance(items, list):
            problems.append(located.problem((key,), "expected a list"))
            continue
        for i, item in enumerate(items):
            both = both_port_forms(item) if model is Line else None
            if both:
                given = next(k for k in SINGLE_PORT_KEYS if k in item)
                problems.append(located.problem((key, i, given), both))
                continue
            try:
                parsed[key].append(model.model_validate(item))
                positions[key].append(i)
            except ValidationError as exc:
                problems.extend(validation_problems(located, exc, prefix=(key, i)))
    inv = Inventory(**parsed)
    problems += cross_check(inv, located, device_pos=positions["devices"], line_pos=positions["lines"],
                            maintenance_pos=positions["maintenance"])
    problems += unknown_devices(data, located)
    if problems:
        raise ConfigError(problems)
    return inv
