"""Fixtures of the flow tests: a small inventory, its flows config, and a real UDP receiver in a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.flows.config import FlowsConfig, load_flows_config
from collector.flows.service import FlowService, run_receiver
from linewatch.influx import Point
from linewatch.inventory import Inventory, load_inventory

INVENTORY_YAML = """\
devices:
  - {name: r1, address: 192.0.2.1, snmp: {version: 2c, community: x}}
  - {name: r2, address: 192.0.2.2, snmp: {version: 2c, community: x}}
  - {name: probe-host, address: 192.0.2.3, snmp: {version: 2c, community: x}}
lines:
  - {id: L-IN, carrier: C, circuit_id: c1, type: internet, site: S, department: D, device: r1, if_index: 3,
     capacity_bps: 100000000}
  - {id: L-MPLS, carrier: C, circuit_id: c2, type: mpls, site: S, department: D, device: r1, interface: ge-0/0/1,
     capacity_bps: 50000000}
  - {id: L-R2, carrier: C, circuit_id: c3, type: internet, site: S, department: D, device: r2, if_index: 7,
     capacity_bps: 100000000}
  - {id: L-PROBE, carrier: C, circuit_id: c4, type: internet, site: S, department: D, device: probe-host,
     if_index: 1, capacity_bps: 100000000}
"""

FLOWS_YAML = """\
interval_s: 60
top_n: 3
flush_delay_s: 10
local_networks: [10.0.0.0/8]
exporters:
  - {address: 192.0.2.1, device: r1, if_indexes: {ge-0/0/1: 4}}
  - {address: 127.0.0.1, line: L-PROBE}
"""


@pytest.fixture
def flow_files(tmp_path: Path) -> Path:
    """A folder with lines.yaml and flows.yaml of the tests."""
    (tmp_path / "lines.yaml").write_text(INVENTORY_YAML)
    (tmp_path / "flows.yaml").write_text(FLOWS_YAML)
    return tmp_path


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "lines.yaml"
    path.write_text(INVENTORY_YAML)
    return load_inventory(path)


@pytest.fixture
def flows_cfg(tmp_path: Path, inventory: Inventory) -> FlowsConfig:
    path = tmp_path / "flows.yaml"
    path.write_text(FLOWS_YAML)
    return load_flows_config(path, inventory)


class Receiver:
    """A FlowService behind a real asyncio UDP receiver on 127.0.0.1, in a background thread."""

    def __init__(self, service: FlowService):
        self.service = service
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(run_receiver(self.service, address="127.0.0.1", port=0, stop=self._stop,
                                                   on_ready=self._bound, tick_s=0.05,
                                                   receive_buffer_bytes=16 * 1024 * 1024))
        self._loop.close()

    def _bound(self, port: int) -> None:
        self.port = port
        self._ready.set()

    def start(self) -> Receiver:
        self._thread.start()
        assert self._ready.wait(10), "receiver did not start"
        return self

    def run_in_loop(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the receiver's loop thread (the service is not thread-safe) and return its result."""
        fut = asyncio.run_coroutine_threadsafe(self._call(fn), self._loop)
        return fut.result(10)

    @staticmethod
    async def _call(fn: Callable[[], Any]) -> Any:
        return fn()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(15)


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def make(cfg: FlowsConfig, inventory: Inventory, *, template_path: Path | None = None,
             clock: Callable[[], float] | None = None) -> tuple[Receiver, list[Point]]:
        points: list[Point] = []
        kwargs: dict[str, Any] = {"template_path": template_path}
        if clock is not None:
            kwargs["clock"] = clock
        service = FlowService(cfg, inventory, sink=points.extend, **kwargs)
        r = Receiver(service).start()
        started.append(r)
        return r, points

    yield make
    for r in started:
        r.stop()
