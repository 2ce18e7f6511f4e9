"""One device's poll: decide what to fetch, fetch it through an :class:`SnmpClient`, return raw readings.

I/O is only the client calls; everything else (index resolution, fetch planning, value conversion) is plain code so
the counter math downstream never knows whether it was UDP.

Fetch plan: the ifXTable/ifTable columns for the configured interfaces only — GET by index when the device's line members
are a small part of its interfaces, a GETBULK walk of the columns when they are most of them (fewer round trips).
The column a line's name matched (``ifName``, or ``ifDescr`` on devices without ifXTable: :mod:`.names`) is read
with every poll so an ifIndex that moved (line card swap, reboot renumbering) is noticed and re-resolved in the same
poll.

Timing: every request carries sysUpTime.0 (a GETBULK non-repeater, a GET varbind) and every response is stamped by
the injected clock when it arrives. A reading takes the time and sysUpTime of the response that carried its
in-octets counter, and the out-octets time separately when a GETBULK reply ended between the two (GET PDUs always
hold whole rows). So a slow poll, a 32-bit fallback request or a retry never shifts a rate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from collector.snmp import ifmib, names
from collector.snmp.counters import Reading, port_speed_bps
from collector.snmp.names import InterfaceNames, Resolved
from collector.snmp.protocol import SnmpClient, TimedTable, Value
from linewatch.inventory import Device, Line, LineMember

log = logging.getLogger(__name__)

# Walk instead of GET when the polled interfaces are at least this share of the device's interfaces.
WALK_SHARE = 0.5
# An ifName not found on the device is looked for again at most this often (it may be configured later).
RESOLVE_RETRY_S = 600.0
# Read in the same PDU as the counters (a non-repeater of every GETBULK, a varbind of every GET).
UPTIME = (ifmib.SYS_UPTIME,)


@dataclass(frozen=True, slots=True)
class Port:
    """One member interface of a line, on the polled device: what is read and written as one series."""

    line: Line
    member: LineMember

    @property
    def key(self) -> str:
        """The port's key in a :class:`DevicePoll`: the line id, followed by the interface for a line with several
        members (line ids hold no spaces)."""
        if len(self.line.members) == 1:
            return self.line.id
        return f"{self.line.id} {self.member.interface_label}"


def ports_of(device: str, lines: Sequence[Line]) -> list[Port]:
    """Every member of ``lines`` on ``device`` (a line on two devices is polled by each device's poll)."""
    return [Port(line, m) for line in lines for m in line.members if m.device == device]


@dataclass(frozen=True, slots=True)
class LineSample:
    """What one poll read for one line member's interface."""

    reading: Reading
    oper_status: int | None
    admin_status: int | None
    port_speed_bps: int | None


@dataclass
class DevicePoll:
    device: str
    ok: bool
    duration_s: float
    varbinds: int = 0
    error: str = ""
    # Keyed by Port.key: the line id (the line's member interface for a line with several members).
    samples: dict[str, LineSample] = field(default_factory=dict)  # port -> sample
    line_errors: dict[str, str] = field(default_factory=dict)  # port -> why it has no sample
    unresolved: set[str] = field(default_factory=set)  # ports whose interface could not be located (of line_errors)
    notes: dict[str, str] = field(default_factory=dict)  # port -> remark on a sampled port (e.g. matched ifDescr)


@dataclass
class DeviceIndex:
    """What we remember about a device between polls: its interface names, and interfaces without HC counters."""

    names: InterfaceNames | None = None
    resolved_at_s: float | None = None
    no_hc: set[int] = field(default_factory=set)

    @property
    def by_name(self) -> dict[str, int]:
        """ifName -> ifIndex of the names the device reports once."""
        return self.names.unique_names() if self.names is not None else {}

    @property
    def interface_count(self) -> int:
        return self.names.interface_count if self.names is not None else 0


def _as_int(v: Value) -> int | None:
    return v if isinstance(v, int) else None


class DevicePoller:
    """Polls every member interface of the device's lines. Keeps the device's ifName index between polls."""

    def __init__(self, device: Device, lines: Sequence[Line], client: SnmpClient, *,
                 max_repetitions: int = 50, clock: Callable[[], float] = time.time):
        self.device = device
        self.lines = list(lines)
        self.ports = {p.key: p for p in ports_of(device.name, self.lines)}
        self.client = client
        self.max_repetitions = max_repetitions
        self.clock = clock
        self.index = DeviceIndex()
        self._matched: dict[str, str] = {}  # port -> column its interface matched (names.IF_NAME / IF_DESCR)
        self._said: dict[str, Resolved] = {}  # port -> the match last logged
        self._keys = {key: names.config_keys(p.member.interface) for key, p in self.ports.items()
                      if p.member.interface is not None}

    # -- index resolution -------------------------------------------------------------------------------------------
    async def _resolve_names(self) -> int:
        table = await self.client.walk_table(list(names.COLUMN_OIDS.values()), max_repetitions=self.max_repetitions)
        self.index.names = InterfaceNames.from_table(self.device.name, table)
        self.index.resolved_at_s = self.clock()
        return sum(len(v) for v in table.values())

    def _wanted(self) -> tuple[dict[str, int], dict[str, str]]:
        """port -> ifIndex for the ports we can locate; port -> error for the others."""
        wanted: dict[str, int] = {}
        errors: dict[str, str] = {}
        self._matched = {}
        for key, port in self.ports.items():
            member = port.member
            if member.if_index is not None:
                wanted[key] = member.if_index
                continue
            assert member.interface is not None and self.index.names is not None
            found = self.index.names.resolve(member.interface)
            if isinstance(found, Resolved):
                wanted[key] = found.if_index
                self._matched[key] = found.column
                if found.column != names.IF_NAME and self._said.get(key) != found:
                    log.info("%s %s: interface %r matched %s at ifIndex %d (no ifName matches)", self.device.name,
                             key, member.interface, found.column, found.if_index)
                self._said[key] = found
            else:
                errors[key] = found.message
        return wanted, errors

    # -- fetching ------------------------------------------------------------------------------------------------------
    def _columns(self, indexes: set[int]) -> list[str]:
        matched = set(self._matched.values())
        cols = [names.COLUMN_OIDS[label] for label in names.COLUMN_OIDS if label in matched]
        cols += [*ifmib.HC_COLUMNS, *ifmib.STATUS_COLUMNS]
        if self.index.no_hc & indexes:
            cols += ifmib.C32_COLUMNS
        return cols

    async def _fetch(self, indexes: set[int]) -> tuple[TimedTable, int]:
        """The columns of ``indexes``, sysUpTime in every request, each response stamped when it arrived."""
        cols = self._columns(indexes)
        if not indexes:  # no line to read (all unresolved): still ask, so a dead device fails instead of "ok"
            await self.client.get(list(UPTIME))
            return TimedTable(values={c: {} for c in cols}, responses=[], response_of={c: {} for c in cols}), 1
        total = self.index.interface_count
        if total and len(indexes) >= WALK_SHARE * total:
            table = await self.client.walk_table_timed(cols, scalars=UPTIME, max_repetitions=self.max_repetitions,
                                                       clock=self.clock)
        else:
            table = await self.client.get_rows_timed(cols, sorted(indexes), scalars=UPTIME, clock=self.clock)
        varbinds = sum(len(v) for v in table.values.values()) + len(table.responses)
        return table, varbinds

    def _moved(self, wanted: dict[str, int], table: TimedTable) -> list[str]:
        """Ports whose interface name is no longer at the ifIndex it was found at."""
        out = []
        for key, ix in wanted.items():
            column = self._matched.get(key)
            if column is None:
                continue  # configured by if_index
            if names.raw_name(table.values.get(names.COLUMN_OIDS[column], {}).get(ix)) not in self._keys[key]:
                out.append(key)
        return out

    async def poll(self) -> DevicePoll:
        """Poll every line member on the device. Raises the client's SnmpError when the device fails as a whole."""
        started = time.monotonic()
        varbinds = 0
        needs_names = any(p.member.interface is not None for p in self.ports.values())
        resolved_now = False
        if needs_names and not self.index.interface_count:  # not read yet, or the device had none (booting)
            varbinds += await self._resolve_names()
            resolved_now = True
        wanted, line_errors = self._wanted()
        if line_errors and not resolved_now and self.index.resolved_at_s is not None \
                and self.clock() - self.index.resolved_at_s >= RESOLVE_RETRY_S:
            varbinds += await self._resolve_names()
            wanted, line_errors = self._wanted()
        table, n = await self._fetch(set(wanted.values()))
        varbinds += n

        # A name that no longer matches means the index moved: re-resolve once and refetch.
        moved = self._moved(wanted, table)
        if moved:
            log.info("%s: ifIndex moved for %s; re-resolving interface names", self.device.name, ", ".join(moved))
            varbinds += await self._resolve_names()
            wanted, line_errors = self._wanted()
            table, n = await self._fetch(set(wanted.values()))
            varbinds += n
        unresolved = set(line_errors)

        # Interfaces without HC counters fall back to 32-bit ones (fetched now, and in every later poll).
        hc_in = table.values.get(ifmib.IF_HC_IN_OCTETS, {})
        no_hc = {ix for ix in wanted.values() if hc_in.get(ix) is None and ix not in self.index.no_hc}
        if no_hc:
            self.index.no_hc |= no_hc
            extra = await self.client.get_rows_timed(list(ifmib.C32_COLUMNS), sorted(no_hc), scalars=UPTIME,
                                                     clock=self.clock)
            varbinds += sum(len(v) for v in extra.values.values()) + len(extra.responses)
            table.update(extra)

        values = table.values
        samples: dict[str, LineSample] = {}
        notes: dict[str, str] = {}
        for key, ix in wanted.items():
            oper = _as_int(values.get(ifmib.IF_OPER_STATUS, {}).get(ix))
            if oper is None and values.get(ifmib.IF_ADMIN_STATUS, {}).get(ix) is None \
                    and all(values.get(c, {}).get(ix) is None for c in names.COLUMN_OIDS.values()):
                line_errors[key] = f"ifIndex {ix} not present on {self.device.name}"
                unresolved.add(key)
                continue
            if ix in self.index.no_hc and values.get(ifmib.IF_IN_OCTETS, {}).get(ix) is None \
                    and values.get(ifmib.IF_OUT_OCTETS, {}).get(ix) is None:
                line_errors[key] = (f"ifIndex {ix} on {self.device.name} has no octet counters (neither "
                                        "ifHCIn/OutOctets nor ifIn/OutOctets): no traffic point written")
                continue
            if self._matched.get(key) == names.IF_DESCR:
                notes[key] = f"matched {names.IF_DESCR}"
            samples[key] = self._sample(table, ix)
        return DevicePoll(device=self.device.name, ok=True, duration_s=time.monotonic() - started,
                          varbinds=varbinds, samples=samples, line_errors=line_errors, unresolved=unresolved,
                          notes=notes)

    def _sample(self, table: TimedTable, ix: int) -> LineSample:
        values = table.values

        def col(oid: str) -> int | None:
            return _as_int(values.get(oid, {}).get(ix))

        if ix in self.index.no_hc:
            bits, in_col, out_col = 32, ifmib.IF_IN_OCTETS, ifmib.IF_OUT_OCTETS
        else:
            bits, in_col, out_col = 64, ifmib.IF_HC_IN_OCTETS, ifmib.IF_HC_OUT_OCTETS
        # Timed by the responses that carried the octet counters (in and out may come in two GETBULK responses
        # when a reply ends between them); sysUpTime from the same response as in-octets.
        r_in, r_out = table.response(in_col, ix), table.response(out_col, ix)
        base = r_in or r_out or table.response(ifmib.IF_OPER_STATUS, ix) or table.responses[0]
        out_time_s = r_out.time_s if r_in is not None and r_out is not None and r_out is not r_in else None
        reading = Reading(
            time_s=base.time_s, uptime_cs=_as_int(base.scalars.get(ifmib.SYS_UPTIME)), if_index=ix,
            counter_bits=bits, in_octets=col(in_col), out_octets=col(out_col),
            in_errors=col(ifmib.IF_IN_ERRORS), out_errors=col(ifmib.IF_OUT_ERRORS),
            in_discards=col(ifmib.IF_IN_DISCARDS), out_discards=col(ifmib.IF_OUT_DISCARDS), out_time_s=out_time_s,
        )
        return LineSample(
            reading=reading,
            oper_status=col(ifmib.IF_OPER_STATUS),
            admin_status=col(ifmib.IF_ADMIN_STATUS),
            port_speed_bps=port_speed_bps(high_speed_mbps=col(ifmib.IF_HIGH_SPEED), speed_bps=col(ifmib.IF_SPEED)),
        )
