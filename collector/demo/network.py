"""The built-in demo network: simulated routers for the inventory's devices, driven by the demo traffic model."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from linewatch.choices import LineMemberRole, OperStatus
from linewatch.inventory import Inventory, Line, LineMember

from collector.demo.model import oper_status, profile_for, rate_bps
from collector.simagent.model import CounterSample, SimDevice, SimInterface

# Interfaces every demo router has besides its carrier lines, so ifName -> ifIndex resolution is real.
EXTRA_INTERFACES = ("lo0", "mgmt0")


@dataclass
class _Counters:
    t_s: float
    in_octets: int
    out_octets: int
    in_errors: float = 0.0
    in_discards: float = 0.0


def member_share(line: Line, member: LineMember) -> float:
    """The part of the line's demo traffic ``member`` carries: a LAG's members share it unevenly, as hashing does
    (weights n+1, n, …, 2: 60/40 for two), a primary carries all of it and its backup none."""
    if member.role is LineMemberRole.BACKUP:
        return 0.0
    if member.role is LineMemberRole.PRIMARY:
        return 1.0
    n = len(line.members)
    weights = [n + 1 - j for j in range(n)]
    return weights[line.members.index(member)] / sum(weights)


class DemoCounterModel:
    """Integrates the demo model's rates into counters as the agent is asked for them (monotonic, per interface)."""

    def __init__(self, lines_by_port: dict[tuple[str, int], tuple[Line, float]], *, start_s: float | None = None):
        """``lines_by_port``: (device, ifIndex) -> (line, the share of its traffic the port carries)."""
        self.lines_by_port = lines_by_port
        self.start_s = time.time() if start_s is None else start_s
        self._state: dict[tuple[str, int], _Counters] = {}
        self._lock = threading.Lock()

    def sample(self, device: SimDevice, if_index: int, t_s: float) -> CounterSample:
        port = self.lines_by_port.get((device.name, if_index))
        if port is None:  # loopback, management: a trickle
            n = int((t_s - self.start_s) * 1000)
            return CounterSample(in_octets=n, out_octets=n)
        line, share = port
        p = profile_for(line.id)
        with self._lock:
            c = self._state.get((device.name, if_index))
            if c is None:
                c = self._state[(device.name, if_index)] = _Counters(self.start_s, p.counter_start, p.counter_start)
            oper = oper_status(line.id, t_s, live=True)
            dt = max(0.0, t_s - c.t_s)
            if dt and oper == OperStatus.UP:
                capacity_bps = line.capacity_at(t_s)
                c.in_octets += int(share * rate_bps(line.id, capacity_bps, t_s, direction="in") * dt / 8)
                c.out_octets += int(share * rate_bps(line.id, capacity_bps, t_s, direction="out") * dt / 8)
                c.in_errors += p.error_rate_ps * dt
                c.in_discards += p.error_rate_ps * dt / 2
            c.t_s = max(c.t_s, t_s)
            return CounterSample(in_octets=c.in_octets, out_octets=c.out_octets, oper_status=int(oper),
                                 in_errors=int(c.in_errors), in_discards=int(c.in_discards))


def demo_devices(inventory: Inventory, *, start_s: float | None = None) -> list[SimDevice]:
    """One simulated router per inventory device (v2c devices only), carrying the inventory's lines."""
    lines_by_port: dict[tuple[str, int], tuple[Line, float]] = {}
    devices: list[SimDevice] = []
    model = DemoCounterModel(lines_by_port, start_s=start_s)
    for dev in inventory.devices:
        community = getattr(dev.snmp, "community", None)
        if community is None:
            continue
        interfaces: dict[int, SimInterface] = {}
        for name in EXTRA_INTERFACES:
            interfaces[len(interfaces) + 1] = SimInterface(name=name, descr=name, speed_bps=1_000_000_000)
        for line, member in inventory.ports_on(dev.name):
            ix = member.if_index or len(interfaces) + 1
            while ix in interfaces:
                ix += 1
            p = profile_for(line.id)
            interfaces[ix] = SimInterface(name=member.interface or f"if{ix}", descr=line.description or line.id,
                                          alias=f"{line.carrier} {line.circuit_id}", speed_bps=p.port_speed_bps,
                                          hc_counters=p.counter_bits == 64)
            lines_by_port[(dev.name, ix)] = (line, member_share(line, member))
        devices.append(SimDevice(name=dev.name, community=community.get_secret_value(), interfaces=interfaces,
                                 model=model))
    return devices
