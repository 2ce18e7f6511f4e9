"""Demo stage: flow summaries for the demo lines, consistent with the demo traffic model.

1. Backfill: the last ``BACKFILL_S`` seconds of per-minute summaries, synthesized and aggregated in-process.
2. Live: a real flow receiver (:func:`run_receiver`) on an ephemeral loopback port; every minute the stage
   exports that minute's flows of every router as IPFIX datagrams over UDP to it, and the receiver writes them.

Flow volumes follow ``collector.demo.model.rate_bps`` for each line, so the top-talkers table adds up to the
line_traffic graphs. Exporter -> device mapping is config/flows.yaml (all demo routers share 127.0.0.1, so each
uses its own observation domain).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from collector.demo.network import member_share
from collector.flows.aggregate import FlowAggregator, summary_points
from collector.flows.config import FlowsConfig, load_for_settings
from collector.flows.linemap import LineMap
from collector.flows.records import FlowRecord, ip_bytes
from collector.flows.service import FlowService, run_receiver
from collector.flows.synth import SynthFlow, ipfix_packet
from linewatch.choices import OperStatus
from linewatch.errors import InfluxError
from linewatch.influx import encode_points
from linewatch.inventory import Inventory, Line

log = logging.getLogger(__name__)

BACKFILL_S = 3 * 3600
FLOWS_PER_DATAGRAM = 20

# (dst_port, proto, weight): the application mix of demo traffic.
_SERVICES = ((443, 6, 40), (443, 17, 12), (80, 6, 6), (445, 6, 8), (5432, 6, 5), (22, 6, 3), (3389, 6, 4),
             (53, 17, 1), (5060, 17, 2), (8081, 6, 6), (40000, 17, 5), (25, 6, 2))


@dataclass(frozen=True)
class _Port:
    line: str
    versions: Line = field(compare=False, repr=False)  # the inventory line: its capacity at a time
    share: float  # of the line's traffic this port carries
    exporter: str
    domain: int
    if_index: int
    site_index: int


def _ports(cfg: FlowsConfig, inventory: Inventory) -> list[_Port]:
    out = []
    for exp in cfg.exporters:
        if exp.device is None:
            continue
        for i, (line, member) in enumerate(inventory.ports_on(exp.device)):
            if line not in inventory.polled_lines():
                continue
            index = member.if_index if member.if_index is not None else exp.if_indexes.get(member.interface or "")
            if index is not None:
                share = member_share(line, member)  # a LAG's members split the line's demo traffic
                if not share:
                    continue  # an idle backup port exports no flows
                out.append(_Port(line.id, line, share, exp.address, exp.observation_domain or 0, index,
                                 int(hashlib.sha256(line.id.encode()).hexdigest()[:4], 16) % 200 + i))
    return out


def _talkers(port: _Port) -> list[tuple[str, str, int, int, float]]:
    """A fixed cast per line: (local host, remote host, proto, dst_port, weight), Zipf-weighted."""
    rng = random.Random(port.line)
    cast = []
    for rank in range(40):
        dst_port, proto, _ = rng.choices(_SERVICES, [s[2] for s in _SERVICES])[0]
        local = f"10.{port.site_index % 250}.{rng.randrange(1, 20)}.{rng.randrange(2, 250)}"
        remote = f"203.0.{rng.randrange(113, 114)}.{rng.randrange(1, 250)}" if rank % 3 else \
            f"198.51.100.{rng.randrange(1, 250)}"
        cast.append((local, remote, proto, dst_port, 1.0 / (rank + 1) ** 1.1))
    return cast


def minute_flows(port: _Port, minute_start_s: int, *, live: bool = False) -> Iterator[SynthFlow]:
    """The flows of one line for one minute (both directions), matching the demo model's rates."""
    from collector.demo.model import oper_status, rate_bps

    if oper_status(port.line, minute_start_s, live=live) != OperStatus.UP:  # a down line carries nothing
        return
    rng = random.Random(f"{port.line}:{minute_start_s}")
    cast = _talkers(port)
    end_s = minute_start_s + 59.5
    for direction in ("in", "out"):
        capacity_bps = int(port.versions.capacity_at(minute_start_s + 30) * port.share)
        total_bytes = rate_bps(port.line, capacity_bps, minute_start_s + 30, direction=direction) * 60 / 8
        shares = [c[4] * rng.uniform(0.7, 1.3) for c in cast]  # minute-to-minute jitter, same total as the model
        shares_total = sum(shares)
        for (local, remote, proto, dst_port, _), share in zip(cast, shares):
            nbytes = int(total_bytes * share / shares_total)
            if nbytes <= 0:
                continue
            packets = max(nbytes // 1200, 1)
            eph = 32768 + rng.randrange(20000)
            if direction == "in":  # the remote service answers the local client
                yield SynthFlow(remote, local, proto, dst_port, eph, nbytes, packets, port.if_index, 1, end_s)
            else:
                yield SynthFlow(local, remote, proto, eph, dst_port, nbytes, packets, 1, port.if_index, end_s)


def backfill(cfg: FlowsConfig, inventory: Inventory, *, start_s: int, end_s: int) -> list[Any]:
    """Summaries points for ``[start_s, end_s)`` without UDP (same aggregation as the receiver)."""
    linemap = LineMap(cfg, inventory)
    agg = FlowAggregator(interval_s=cfg.interval_s, top_n=cfg.top_n, flush_delay_s=0)
    for port in _ports(cfg, inventory):
        for minute in range(start_s - start_s % 60, end_s, 60):
            records = [FlowRecord(ip_bytes(f.src), ip_bytes(f.dst), f.proto, f.src_port, f.dst_port, f.bytes,
                                  f.packets, f.in_if, f.out_if, f.end_s) for f in minute_flows(port, minute)]
            agg.add_records(records, exporter=port.exporter, domain=port.domain, linemap=linemap, now_s=end_s)
    return summary_points(agg.flush_all())


def demo_stage(ctx: Any) -> None:
    """DEMO_STAGES entry ``collector.flows.demo:demo_stage``: backfill, then export live until ``ctx.stop_event``."""
    cfg, inventory = load_for_settings(ctx.settings)
    ports = _ports(cfg, inventory)
    if not ports:
        log.warning("flows demo: no exporter in flows.yaml maps a demo line; skipping")
        return
    now = int(time.time())
    start = now - now % 60 - BACKFILL_S
    points = backfill(cfg, inventory, start_s=start, end_s=now - now % 60)
    for i in range(0, len(points), 5000):
        ctx.influx.write(encode_points(points[i:i + 5000]))
    print(f"[demo] flows: backfilled {len(points)} flow summary points for {len({p.line for p in ports})} lines",
          flush=True)

    def sink(pts: list[Any]) -> None:
        try:
            ctx.influx.write(encode_points(pts))
        except InfluxError as exc:  # InfluxDB hiccup in the demo: log and carry on
            log.warning("flows demo: write failed: %s", exc)

    service = FlowService(cfg, inventory, sink=sink, template_path=None)
    ready = threading.Event()
    bound: list[int] = []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def on_ready(port: int) -> None:
        bound.append(port)
        ready.set()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(run_receiver(service, address="127.0.0.1", port=0, stop=stop, on_ready=on_ready,
                                             collector_name="demo"))

    thread = threading.Thread(target=serve, name="flows-demo-receiver", daemon=True)
    thread.start()
    if not ready.wait(10):
        log.error("flows demo: receiver did not start")
        return
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sequences: dict[tuple[str, int], int] = {}
    sent = 0
    minute = now - now % 60
    try:
        while not ctx.stop_event.is_set():
            for port in ports:
                flows = list(minute_flows(port, minute, live=True))
                key = (port.exporter, port.domain)
                for i in range(0, len(flows), FLOWS_PER_DATAGRAM):
                    chunk = flows[i:i + FLOWS_PER_DATAGRAM]
                    seq = sequences.get(key, 0)
                    sock.sendto(ipfix_packet(chunk, export_s=int(time.time()), sequence=seq, domain=port.domain),
                                ("127.0.0.1", bound[0]))
                    sequences[key] = seq + len(chunk)
                    sent += 1
            minute += 60
            ctx.stop_event.wait(max(0.0, minute + 1 - time.time()))
    finally:
        sock.close()
        deadline = time.monotonic() + 5  # let the receiver drain what was sent before it stops
        while service.datagrams < sent and time.monotonic() < deadline:
            time.sleep(0.01)
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
