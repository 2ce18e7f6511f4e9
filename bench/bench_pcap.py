"""Capture summary benchmark: a 200,000-packet capture into per-minute top talkers, against tshark on the same file.

The capture is generated each run (``collector.flows.synth.traffic``: Ethernet, one packet in five 802.1Q-tagged,
IPv4 TCP/UDP/ICMP, 40 local hosts x 60 servers, 10 minutes) and written as classic pcap to a temporary folder.

Figure: wall seconds of ``summarize_file`` (our pcap reader + per-line/minute top-N, other and app aggregation)
plus ``summary_points`` (the InfluxDB points), best of 3. Reference: ``tshark -n -q -z conv,ip -r FILE`` (Debian
tshark: its per-address-pair conversation table, which does less — no time buckets, no ports), one run.
Ratio = ours / tshark (target <= 1).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from collector.flows.aggregate import FlowAggregator, summary_points
from collector.flows.capture import summarize_file
from collector.flows.linemap import LocalNetworks
from collector.flows.synth import pcap_bytes, traffic

PACKETS = 200_000


def _ours(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    agg = FlowAggregator(interval_s=60, top_n=10)
    stats = summarize_file(path, line="BENCH", aggregator=agg, local=LocalNetworks(["10.0.0.0/8"]))
    points = summary_points(agg.flush_all())
    elapsed = time.perf_counter() - start
    if stats.ip_packets != PACKETS:
        raise SystemExit(f"bench pcap-summary: read {stats.ip_packets} IP packets, expected {PACKETS}")
    return elapsed, len(points)


def _tshark(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["tshark", "-n", "-q", "-r", str(path), "-z", "conv,ip"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=900)
    return time.perf_counter() - start


def main() -> None:
    if shutil.which("tshark") is None:
        raise SystemExit("bench pcap-summary: tshark not installed (Debian package tshark)")
    with tempfile.TemporaryDirectory(prefix="bench-pcap-") as tmp:
        path = Path(tmp) / "bench.pcap"
        path.write_bytes(pcap_bytes(traffic(seed=42, packets=PACKETS, start_s=1_700_000_000, duration_s=600,
                                            vlan_every=5)))
        ours = min(_ours(path)[0] for _ in range(3))
        theirs = _tshark(path)  # one run: tshark takes tens of seconds here, repeating it changes nothing
    print(f"bench pcap-summary: {ours:.2f} s ({PACKETS:,} packets, {PACKETS / ours:,.0f} packets/s) | "
          f"tshark -q -z conv,ip: {theirs:.2f} s | ratio {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
