"""Data model of the simulated agent: devices, interfaces, and the pluggable counter model.

Tests mutate :class:`SimDevice` directly (set/advance counters, reboot, move or remove an interface, slow/silent);
the subprocess agent lets a :class:`CounterModel` (counters = f(device, ifIndex, t)) drive the values instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from linewatch.choices import OperStatus

IF_TYPE_ETHERNET_CSMACD = 6


@dataclass
class SimInterface:
    """One row of ifTable/ifXTable. Counters are unbounded ints; the agent reduces them mod 2^32 / 2^64.

    ``name``, ``descr`` and ``alias`` are sent UTF-8-encoded, or as given when ``bytes`` (a trailing NUL, Latin-1)."""

    name: str | bytes
    descr: str | bytes = ""
    alias: str | bytes = ""
    if_type: int = IF_TYPE_ETHERNET_CSMACD
    speed_bps: int = 1_000_000_000
    admin_status: int = OperStatus.UP
    oper_status: int = OperStatus.UP
    in_octets: int = 0
    out_octets: int = 0
    in_errors: int = 0
    out_errors: int = 0
    in_discards: int = 0
    out_discards: int = 0
    hc_counters: bool = True  # False: no ifHCIn/OutOctets for this row (an old 32-bit-only device)
    octet_counters: bool = True  # False: no ifIn/OutOctets either (noSuchInstance for every octet counter)

    def zeroed(self) -> SimInterface:
        return replace(
            self, in_octets=0, out_octets=0, in_errors=0, out_errors=0, in_discards=0, out_discards=0
        )


@dataclass(frozen=True)
class CounterSample:
    """What a counter model says about one interface at one time."""

    in_octets: int
    out_octets: int
    oper_status: int = OperStatus.UP
    in_errors: int = 0
    out_errors: int = 0
    in_discards: int = 0
    out_discards: int = 0


class CounterModel(Protocol):
    """Drives counters as a function of time (the demo's daily-cycle traffic model implements this)."""

    def sample(self, device: SimDevice, if_index: int, t_s: float) -> CounterSample:
        """Counters of ``device``'s interface ``if_index`` at wall time ``t_s`` (seconds, ``time.time()``)."""
        ...


@dataclass(frozen=True)
class ConstantRateModel:
    """Counters grow linearly from ``start_s``: a simple model for benchmarks and smoke tests."""

    in_bps: float = 10_000_000.0
    out_bps: float = 5_000_000.0
    start_s: float = 0.0

    def sample(self, device: SimDevice, if_index: int, t_s: float) -> CounterSample:
        dt = max(0.0, t_s - self.start_s)
        return CounterSample(
            in_octets=int(self.in_bps * dt / 8) + if_index, out_octets=int(self.out_bps * dt / 8) + if_index
        )


@dataclass
class SimDevice:
    """One simulated router. Methods are thread-safe against the agent thread (one lock per device)."""

    name: str
    community: str = "public"
    interfaces: dict[int, SimInterface] = field(default_factory=dict)
    uptime_base_s: float | None = None  # clock() at "boot"; None = now
    sys_descr: str = "linewatch simulated router"
    delay_s: float = 0.0
    silent: bool = False
    model: CounterModel | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    layout_version: int = field(default=0, repr=False)
    request_delay_s: Callable[[int], float] | None = field(default=None, repr=False)
    """Seconds the agent is busy before it reads the counters and answers its n-th request (n from 0): a slow device
    whose answers, and the counters in them, come late. See :meth:`set_request_delays`."""
    spend_delay: Callable[[float], None] | None = field(default=None, repr=False)
    """How a request delay passes: None -> the agent really waits (requests queue behind each other); a callable
    (e.g. an injected test clock's ``advance``) -> the agent advances that clock instead and answers at once."""
    requests_seen: int = field(default=0, repr=False)
    max_bulk_varbinds: int | None = None  # GETBULK replies end after this many repeater varbinds, even mid-row
    request_id_offset: int = 0  # answer with the request-id plus this (a stale or spoofed answer, to be ignored)
    ifx_table: bool = True  # False: no ifXTable at all (no ifName, no HC counters), like Ruijie and old switches

    def __post_init__(self) -> None:
        if self.uptime_base_s is None:
            self.uptime_base_s = self.clock()

    @classmethod
    def with_interfaces(
        cls, name: str, count: int, *, community: str = "public", **kwargs: object
    ) -> SimDevice:
        """A device with ``count`` interfaces at ifIndex 1..count named ``ge-0/0/<i-1>``."""
        ifs = {
            i: SimInterface(name=f"ge-0/0/{i - 1}", descr=f"GigabitEthernet{i - 1}", alias=f"line {i}")
            for i in range(1, count + 1)
        }
        return cls(name=name, community=community, interfaces=ifs, **kwargs)  # type: ignore[arg-type]

    # ---- what the agent reads
    def uptime_ticks(self) -> int:
        """sysUpTime in hundredths of a second, wrapping at 2^32 like the real thing."""
        assert self.uptime_base_s is not None
        return int((self.clock() - self.uptime_base_s) * 100) % 2**32

    # ---- what tests and the demo change
    def set_counters(self, if_index: int, **counters: int) -> None:
        """Set fields of one interface, e.g. ``set_counters(3, in_octets=10, oper_status=2)``."""
        with self.lock:
            iface = self.interfaces[if_index]
            for k, v in counters.items():
                if not hasattr(iface, k):
                    raise AttributeError(f"{self.name}: SimInterface has no field {k!r}")
                setattr(iface, k, v)

    def advance(
        self,
        if_index: int,
        *,
        in_octets: int = 0,
        out_octets: int = 0,
        in_errors: int = 0,
        out_errors: int = 0,
        in_discards: int = 0,
        out_discards: int = 0,
    ) -> None:
        """Add to the counters of one interface."""
        with self.lock:
            i = self.interfaces[if_index]
            i.in_octets += in_octets
            i.out_octets += out_octets
            i.in_errors += in_errors
            i.out_errors += out_errors
            i.in_discards += in_discards
            i.out_discards += out_discards

    def reboot(self) -> None:
        """sysUpTime restarts from 0 and every counter resets."""
        with self.lock:
            self.uptime_base_s = self.clock()
            self.interfaces = {k: v.zeroed() for k, v in self.interfaces.items()}
            self.layout_version += 1

    def add_interface(self, if_index: int, iface: SimInterface) -> None:
        with self.lock:
            if if_index in self.interfaces:
                raise ValueError(f"{self.name}: ifIndex {if_index} already exists")
            self.interfaces[if_index] = iface
            self.layout_version += 1

    def remove_interface(self, if_index: int) -> SimInterface:
        with self.lock:
            iface = self.interfaces.pop(if_index)
            self.layout_version += 1
            return iface

    def move_interface(self, old_index: int, new_index: int) -> None:
        """Re-index an interface (its ifName now appears at ``new_index``), as after a line-card swap."""
        with self.lock:
            if new_index in self.interfaces:
                raise ValueError(f"{self.name}: ifIndex {new_index} already exists")
            self.interfaces[new_index] = self.interfaces.pop(old_index)
            self.layout_version += 1

    def set_slow(self, delay_s: float) -> None:
        """Delay every response by ``delay_s`` (0 to stop)."""
        self.delay_s = delay_s

    def set_request_delays(self, delays: Sequence[float] | Callable[[int], float] | None, *,
                           spend: Callable[[float], None] | None = None) -> None:
        """Make the device busy for ``delays[n % len(delays)]`` (or ``delays(n)``) seconds before it answers its n-th
        request from now on; ``spend``: see :attr:`spend_delay`. ``None`` removes the delays."""
        with self.lock:
            if delays is None or callable(delays):
                self.request_delay_s = delays
            else:
                seq = [float(d) for d in delays]
                if not seq or min(seq) < 0:
                    raise ValueError(f"{self.name}: request delays must be a non-empty list of seconds >= 0")
                self.request_delay_s = lambda n: seq[n % len(seq)]
            self.spend_delay = spend
            self.requests_seen = 0

    def next_request_delay(self) -> float:
        """The delay of the request being received now (0 without delays); counts the request."""
        with self.lock:
            n = self.requests_seen
            self.requests_seen = n + 1
            return max(0.0, self.request_delay_s(n)) if self.request_delay_s is not None else 0.0

    def set_silent(self, silent: bool = True) -> None:
        """Drop every request (the device looks unreachable)."""
        self.silent = silent
