"""NetFlow decode benchmark: flow records decoded **and aggregated** per second on one core, from a recorded export.

The recording is made fresh each run and replayed from memory (no UDP, so no socket loss muddles the figure):

* a real export: a generated 200,000-packet capture turned into NetFlow v9 and IPFIX by Debian's ``softflowd``
  (its templates: 16 fields, sysUptime-relative times), received once over loopback UDP and kept as datagrams;
* a large synthetic export in the same two versions (``collector.flows.synth``: 13-field templates, absolute
  times), 30 records per datagram, 400,000 records in one minute from 200 exporters with 4 lines each; every line
  has its own 150 conversations, Zipf-weighted, and every record a fresh client port (see ``_synthetic_export``).

Figure: records / s through ``FlowService.handle_datagram`` (decode, exporter/ifIndex -> line, per-minute top-N and
app aggregation) plus the final flush into ``flow_top``/``flow_proto`` points, per second of CPU time of the one thread doing it
(``time.thread_time``, so other load on the machine does not distort it), best of 3 runs. Reference: Telegraf's
NetFlow input, reported to top out near 20,000 flows/s per node. Ratio = ours / Telegraf (target ≥ 5).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from collector.flows.config import FlowsConfig
from collector.flows.service import FlowService
from collector.flows.synth import SynthFlow, ipfix_packet, pcap_bytes, traffic, v9_packet
from linewatch.inventory import Inventory

TELEGRAF_RECORDS_PER_S = 20_000
SYNTH_RECORDS = 400_000
T0 = 1_699_999_980  # a minute boundary


def _inventory(devices: int, lines_per_device: int) -> Inventory:
    devs = [{"name": f"r{d}", "address": f"10.255.{d // 250}.{d % 250 + 1}",
             "snmp": {"version": "2c", "community": "x"}} for d in range(devices)]
    lines = [{"id": f"L{d}-{i}", "carrier": "C", "circuit_id": f"c{d}-{i}", "type": "internet", "site": "S",
              "department": "D", "device": f"r{d}", "if_index": i + 1, "capacity_bps": 10**9}
             for d in range(devices) for i in range(lines_per_device)]
    # The softflowd probe: every flow on one line (softflowd reports ifIndex 0).
    devs.append({"name": "probe", "address": "127.0.0.1", "snmp": {"version": "2c", "community": "x"}})
    lines.append({"id": "PROBE", "carrier": "C", "circuit_id": "p", "type": "internet", "site": "S",
                  "department": "D", "device": "probe", "if_index": 1, "capacity_bps": 10**9})
    return Inventory.model_validate({"devices": devs, "lines": lines})


def _softflowd_export(workdir: Path) -> list[tuple[bytes, str]]:
    from collector.flows import softflowd

    if not softflowd.available():
        return []
    packets = traffic(seed=5, packets=200_000, start_s=T0, duration_s=600)
    pcap = workdir / "export.pcap"
    pcap.write_bytes(pcap_bytes(packets))
    recorded = []
    for version in (9, 10):
        for data in softflowd.record_export(pcap, version=version, workdir=workdir, packets=len(packets)):
            recorded.append((data, "127.0.0.1"))
    return recorded


def _synthetic_export(devices: int, lines_per_device: int) -> list[tuple[bytes, str]]:
    """30-record datagrams from ``devices`` exporters; each line has its own 150 conversations (Zipf-weighted, as
    real traffic has heavy hitters), each flow record a fresh client port, half v9 and half IPFIX."""
    rng = random.Random(1)
    casts = {}
    for d in range(devices):
        for port in range(1, lines_per_device + 1):
            casts[(d, port)] = [(f"10.{d % 250}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                                 f"198.51.{rng.randrange(100, 110)}.{rng.randrange(1, 255)}",
                                 rng.choice((6, 6, 6, 17)), rng.choice((443, 443, 80, 53, 22, 445, 8080, 3389)))
                                for _ in range(150)]
    weights = [1.0 / (rank + 1) for rank in range(150)]
    out = []
    seq: dict[tuple[int, int], int] = {}
    per_packet = 30
    for n in range(SYNTH_RECORDS // per_packet):
        d = n % devices
        flows = []
        for _ in range(per_packet):
            port = rng.randrange(1, lines_per_device + 1)
            local, remote, proto, service = rng.choices(casts[(d, port)], weights)[0]
            eph = rng.randrange(32768, 61000)
            inbound = rng.random() < 0.6
            flows.append(SynthFlow(remote if inbound else local, local if inbound else remote, proto,
                                   service if inbound else eph, eph if inbound else service,
                                   rng.randrange(64, 2_000_000), rng.randrange(1, 1500),
                                   port if inbound else 99, 99 if inbound else port, T0 + rng.random() * 55))
        version = 9 if n % 2 else 10
        key = (d, version)
        s = seq.get(key, 0)
        if version == 9:
            data = v9_packet(flows, export_s=T0 + 60, sequence=s, source_id=0, with_template=s % 20 == 0)
            seq[key] = s + 1
        else:
            data = ipfix_packet(flows, export_s=T0 + 60, sequence=s, with_template=s % 600 == 0)
            seq[key] = s + len(flows)
        out.append((data, f"10.255.{d // 250}.{d % 250 + 1}"))
    return out


def _run(datagrams: list[tuple[bytes, str]], inventory: Inventory) -> tuple[float, int, int]:
    cfg = FlowsConfig(interval_s=60, top_n=10, flush_delay_s=0)
    points: list = []
    service = FlowService(cfg, inventory, sink=points.extend, clock=lambda: T0 + 60)
    handle = service.handle_datagram
    start = time.thread_time()  # CPU time of this thread: "one core", not disturbed by other processes' load
    for data, exporter in datagrams:
        handle(data, (exporter, 2055))
    service.tick(final=True)
    elapsed = time.thread_time() - start
    records = sum(s.records for s in service.decoder.stats.values())
    malformed = sum(s.malformed_packets for s in service.decoder.stats.values())
    if malformed:
        raise SystemExit(f"bench netflow-decode: {malformed} malformed datagrams in the recording")
    return elapsed, records, len(points)


def main() -> None:
    devices, lines_per_device = 200, 4
    inventory = _inventory(devices, lines_per_device)
    with tempfile.TemporaryDirectory(prefix="bench-netflow-") as tmp:
        datagrams = _softflowd_export(Path(tmp)) + _synthetic_export(devices, lines_per_device)
    best = None
    for _ in range(3):
        elapsed, records, _points = _run(datagrams, inventory)
        rate = records / elapsed
        best = rate if best is None else max(best, rate)
    assert best is not None
    print(f"bench netflow-decode: {best:,.0f} records/s ({records:,} records, {len(datagrams):,} datagrams, "
          f"v9+IPFIX) | Telegraf reported: {TELEGRAF_RECORDS_PER_S:,} records/s | "
          f"ratio {best / TELEGRAF_RECORDS_PER_S:.2f}")


if __name__ == "__main__":
    main()
