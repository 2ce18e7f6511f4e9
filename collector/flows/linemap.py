"""Which inventory line a flow belongs to, and in which direction.

A router exporter: (exporter address, observation domain) -> device, then input ifIndex -> line (direction ``in``,
arriving from the carrier) and output ifIndex -> line (direction ``out``). A flow routed from one line to another
counts on both. A probe exporter or a capture sees one line: the direction is ``out`` when the source address is in
``local_networks`` (our side), else ``in``.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field

from collector.flows.config import FlowsConfig
from linewatch.choices import FlowDirection
from linewatch.inventory import Inventory

log = logging.getLogger(__name__)


class LocalNetworks:
    """Is an address (packed bytes) on our side? Results are cached per address."""

    def __init__(self, networks: list[str]):
        self._v4 = [ipaddress.ip_network(n, strict=False) for n in networks if ":" not in n]
        self._v6 = [ipaddress.ip_network(n, strict=False) for n in networks if ":" in n]
        self._cache: dict[bytes, bool] = {}

    def __call__(self, raw: bytes) -> bool:
        hit = self._cache.get(raw)
        if hit is not None:
            return hit
        if len(raw) == 4:
            addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(raw)
            local = any(addr in n for n in self._v4)
        elif len(raw) == 16:
            addr = ipaddress.IPv6Address(raw)
            local = any(addr in n for n in self._v6)
        else:
            local = False
        if len(self._cache) > 1_000_000:
            self._cache.clear()
        self._cache[raw] = local
        return local


@dataclass(frozen=True)
class Route:
    """How the flows of one (exporter, domain) reach lines: by ifIndex (``ports``) or all to ``line``."""

    name: str  # device or line id, for logs
    ports: dict[int, str] = field(default_factory=dict)
    line: str | None = None
    # ifIndex -> (line, "in") / (line, "out"), built once so the hot path allocates nothing per flow.
    in_targets: dict[int, tuple[str, str]] = field(default_factory=dict)
    out_targets: dict[int, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, line in self.ports.items():
            self.in_targets[index] = (line, FlowDirection.IN.value)
            self.out_targets[index] = (line, FlowDirection.OUT.value)


class LineMap:
    """Resolves (exporter address, observation domain) to a :class:`Route`."""

    def __init__(self, cfg: FlowsConfig, inventory: Inventory):
        self.local = LocalNetworks(cfg.local_networks)
        self._routes: dict[tuple[str, int | None], Route] = {}
        explicit: set[str] = set()
        for exp in cfg.exporters:
            if exp.line is not None:
                route = Route(exp.line, line=exp.line)
            else:
                assert exp.device is not None
                explicit.add(exp.device)
                route = Route(exp.device, ports=_ports(inventory, exp.device, exp.if_indexes))
            self._routes[(exp.address, exp.observation_domain)] = route
        # Devices not listed: their inventory address, when no other device shares it.
        by_address: dict[str, list[str]] = {}
        for dev in inventory.devices:
            if dev.name not in explicit:
                by_address.setdefault(_normal(dev.address), []).append(dev.name)
        for address, names in by_address.items():
            if len(names) > 1:
                log.info("devices %s share address %s: map their flows with exporters in flows.yaml",
                         ", ".join(names), address)
                continue
            self._routes.setdefault((address, None), Route(names[0], ports=_ports(inventory, names[0], {})))

    def route(self, exporter: str, domain: int) -> Route | None:
        return self._routes.get((exporter, domain)) or self._routes.get((exporter, None))

    def is_configured(self, exporter: str, domain: int) -> bool:
        """Is (exporter, domain) one of flows.yaml's exporters or an inventory device? Only these teach templates."""
        return self.route(exporter, domain) is not None

    def lines(self) -> set[str]:
        out = set()
        for r in self._routes.values():
            out.update(r.ports.values())
            if r.line:
                out.add(r.line)
        return out


def _normal(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address  # a host name: flows arrive from addresses, so it will simply not match


def _ports(inventory: Inventory, device: str, if_indexes: dict[str, int]) -> dict[int, str]:
    ports: dict[int, str] = {}
    for line, member in inventory.ports_on(device):
        if not line.status.monitored and line.id in ports.values():
            continue
        index = member.if_index if member.if_index is not None else if_indexes.get(member.interface or "")
        if index is not None and (index not in ports or line.status.monitored):
            ports[index] = line.id
    return ports
