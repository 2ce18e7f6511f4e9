"""The flow receiver: UDP datagrams -> decoder -> aggregator -> ``flow_top``/``flow_proto`` points -> InfluxDB.

:class:`FlowService` holds the pure pipeline (handle a datagram, flush finished buckets) with an injected clock;
:func:`run_receiver` binds it to an asyncio ``DatagramProtocol`` on the configured address. Points go to InfluxDB
from a writer thread, so a slow or unreachable InfluxDB never stalls the receive loop (the PointWriter spools).
Templates are saved to disk (SQLite, only what changed: :mod:`collector.flows.state`) and loaded at start. Only
exporters of flows.yaml or the inventory may teach templates (a flood from other addresses is counted, not kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import queue
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from collector.flows.aggregate import FlowAggregator, Summary, summary_points
from collector.flows.config import FlowsConfig
from collector.flows.linemap import LineMap
from collector.flows.netflow import FlowDecoder, TemplateCache
from collector.flows.state import TemplateStore
from linewatch.influx import Point
from linewatch.inventory import Inventory

log = logging.getLogger(__name__)

PointSink = Callable[[list[Point]], Any]


def load_templates(path: Path | None) -> TemplateCache:
    """The persisted template cache, or an empty one (a missing or unreadable file is logged, not fatal)."""
    if path is None:
        return TemplateCache()
    store = TemplateStore(path)
    try:
        return store.load()
    finally:
        store.close()


def save_templates(cache: TemplateCache, path: Path) -> int:
    """Write what changed in ``cache`` to ``path``; return the rows written (see :class:`TemplateStore`)."""
    store = TemplateStore(path)
    try:
        return store.save(cache)
    finally:
        store.close()


def exporter_address(addr: Any) -> str:
    """The exporter's address as text; IPv4-mapped IPv6 (dual-stack sockets) becomes plain IPv4."""
    return _normal_address(addr[0] if isinstance(addr, tuple) else str(addr))


@lru_cache(maxsize=65536)
def _normal_address(host: str) -> str:
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class FlowService:
    """Decode, map to lines, aggregate and flush. Not thread-safe: drive it from one thread / event loop."""

    def __init__(self, cfg: FlowsConfig, inventory: Inventory, *, sink: PointSink,
                 template_path: Path | None = None, clock: Callable[[], float] = time.time):
        self.cfg = cfg
        self.sink = sink
        self.template_path = template_path
        self._clock = clock
        self.store = (TemplateStore(template_path, max_templates=cfg.max_templates_per_exporter,
                                    max_fields=cfg.max_template_fields_per_exporter)
                      if template_path is not None else None)
        templates = self.store.load() if self.store is not None else TemplateCache(
            max_templates=cfg.max_templates_per_exporter, max_fields=cfg.max_template_fields_per_exporter)
        self.linemap = LineMap(cfg, inventory)
        self.decoder = FlowDecoder(templates=templates, pending_hold_s=cfg.pending_hold_s,
                                   pending_max_sets=cfg.pending_max_sets, clock=clock, plain_tuples=True,
                                   accept=self.linemap.is_configured)
        self.aggregator = FlowAggregator(interval_s=cfg.interval_s, top_n=cfg.top_n,
                                         max_conversations=cfg.max_conversations,
                                         flush_delay_s=cfg.flush_delay_s, clock=clock)
        if self.decoder.templates.written_until_s is not None:
            # The previous run wrote its last (partial) minute at shutdown; writing that minute again would
            # replace it with another partial one and leave its higher ranks behind, so it stays closed.
            self.aggregator.written_until(self.decoder.templates.written_until_s)
        self.datagrams = 0
        self.summaries_written = 0

    def handle_datagram(self, data: bytes, addr: Any) -> int:
        """Decode and aggregate one datagram; return the flow records placed on lines."""
        self.datagrams += 1
        exporter = exporter_address(addr)
        domain: list[int] = []
        records = self.decoder.decode(data, exporter, domain_out=domain)
        if not records:
            return 0
        return self.aggregator.add_records(records, exporter=exporter, domain=domain[0] if domain else 0,
                                           linemap=self.linemap)

    def tick(self, *, final: bool = False) -> list[Summary]:
        """Flush finished buckets (all when ``final``) to the sink; persist templates if they changed."""
        self.decoder.expire_pending()
        summaries = self.aggregator.flush_all() if final else self.aggregator.flush()
        if summaries:
            self.summaries_written += len(summaries)
            self.sink(summary_points(summaries))
            if final:
                cache = self.decoder.templates
                cache.written_until_s = max(s.start_s + s.interval_s for s in summaries)
                cache.changed = True
        if self.store is not None and self.decoder.templates.changed:
            try:
                self.store.save(self.decoder.templates)
            except (OSError, sqlite3.Error) as exc:
                log.error("cannot save flow templates to %s: %s", self.template_path, exc)
        if final and self.store is not None:
            self.store.close()
        return summaries

    def exporter_points(self, collector: str) -> list[Point]:
        """``flow_exporter`` points: cumulative decode counters per exporter (docs/schema.md)."""
        t_ns = int(self._clock() * 1e9)
        points = []
        for exporter, st in sorted(self.decoder.stats.items()):
            points.append(Point("flow_exporter", {"exporter": exporter, "collector": collector}, {
                "packets": st.packets, "records": st.records, "malformed_packets": st.malformed_packets,
                "sequence_gaps": st.sequence_gaps, "lost_records": st.lost_records,
                "lost_packets": st.lost_packets, "pending_sets": st.pending_sets,
                "pending_expired_sets": st.pending_expired_sets + st.pending_overflow_sets,
                "unmapped_records": self.aggregator.unmapped_records.get(exporter, 0),
                "template_sets_refused": st.template_sets_refused, "data_sets_refused": st.data_sets_refused,
                "templates_over_limit": st.templates_over_limit, "leftover_sets": st.leftover_sets,
                "leftover_bytes": st.leftover_bytes,
            }, t_ns))
        return points

    def stats(self) -> dict[str, Any]:
        return {
            "datagrams": self.datagrams,
            "summaries_written": self.summaries_written,
            "open_buckets": self.aggregator.open_buckets(),
            "late_records": self.aggregator.late_records,
            "future_records": self.aggregator.future_records,
            "unmapped_records": dict(self.aggregator.unmapped_records),
            "refused_datagrams": self.decoder.refused_datagrams,
            "exporters": {k: v.as_dict() for k, v in self.decoder.stats.items()},
        }


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, service: FlowService):
        self.service = service

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            self.service.handle_datagram(data, addr)
        except Exception:  # the decoder never raises on bad input; this is a bug guard, never a dead receiver
            log.exception("flow datagram from %s: unexpected error", addr)

    def error_received(self, exc: Exception) -> None:
        log.warning("flow receiver socket error: %s", exc)


class ThreadedSink:
    """Hands point lists to ``write`` on a background thread, in order; ``close()`` drains it."""

    def __init__(self, write: PointSink, *, max_batches: int = 10_000):
        self._write = write
        self._queue: queue.Queue[list[Point] | None] = queue.Queue(maxsize=max_batches)
        self.dropped_batches = 0
        self._thread = threading.Thread(target=self._run, name="flow-writer", daemon=True)
        self._thread.start()

    def __call__(self, points: list[Point]) -> None:
        try:
            self._queue.put_nowait(points)
        except queue.Full:
            self.dropped_batches += 1
            log.error("flow writer queue full (InfluxDB too slow?): dropped %d points", len(points))

    def _run(self) -> None:
        while True:
            points = self._queue.get()
            if points is None:
                return
            try:
                self._write(points)
            except Exception:
                log.exception("writing %d flow points failed", len(points))

    def close(self, timeout_s: float = 30.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout_s)


def _drain(sock: socket.socket, service: FlowService, *, limit: int = 100_000, max_s: float = 2.0) -> int:
    """Handle what already sits in the socket buffer, so a shutdown does not drop received datagrams.

    Bounded in count and time: under a flood the buffer refills as fast as it drains, and a stop request must
    still end the process within seconds.
    """
    handled = 0
    deadline = time.monotonic() + max_s
    with contextlib.suppress(OSError):
        while handled < limit and (handled % 256 or time.monotonic() < deadline):
            try:
                data, addr = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                break
            service.handle_datagram(data, addr)
            handled += 1
    return handled


async def run_receiver(service: FlowService, *, address: str, port: int, stop: asyncio.Event,
                       receive_buffer_bytes: int = 4 * 1024 * 1024, tick_s: float = 1.0,
                       on_ready: Callable[[int], Any] | None = None, collector_name: str = "flows",
                       stats_every_s: float = 60.0) -> None:
    """Receive until ``stop`` is set; then flush every open bucket. ``on_ready(port)`` once bound."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer_bytes)
    sock.bind((address, port))
    transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(service), sock=sock)
    bound = sock.getsockname()[1]
    log.info("flow receiver listening on %s:%d", address, bound)
    if on_ready is not None:
        on_ready(bound)
    last_stats = time.monotonic()
    try:
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), tick_s)
            service.tick()
            if time.monotonic() - last_stats >= stats_every_s:
                last_stats = time.monotonic()
                service.sink(service.exporter_points(collector_name))
    finally:
        _drain(sock, service)
        transport.close()
        service.tick(final=True)
        service.sink(service.exporter_points(collector_name))
