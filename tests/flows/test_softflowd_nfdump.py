"""Real tools end to end: a generated capture -> softflowd (NetFlow v5/v9/IPFIX) over real UDP to nfcapd and to our
receiver -> our top talkers and totals vs what nfdump computes from the same export. Then the flow totals of the line against its SNMP octet counters (a simulated agent read with net-snmp's
``snmpget``), with softflowd sampling 1 in 10: they must agree within what sampling explains."""

from __future__ import annotations

import csv
import io
import math
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.flows.aggregate import FlowAggregator, summary_points
from collector.flows.capture import summarize_file
from collector.flows.config import FlowsConfig
from collector.flows.linemap import LocalNetworks
from collector.flows.softflowd import export_capture
from collector.flows.synth import SynthPacket, pcap_bytes, traffic
from collector.simagent.agent import SimAgent
from collector.simagent.model import SimDevice, SimInterface
from linewatch.servers.ports import free_udp_port

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("softflowd", "softflowctl", "nfcapd", "nfdump")),
                                reason="needs Debian softflowd and nfdump (scripts/ensure-sysdeps.sh)")

T0 = 1_700_000_000.0
LOCAL = "10.0.0.0/8"
PROTO_NAMES = {"TCP": 6, "UDP": 17, "ICMP": 1}


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SynthPacket]]:
    packets = traffic(seed=11, packets=6000, start_s=T0, duration_s=170, hosts=6, servers=10,
                      heavy=[("10.1.0.9", "203.0.113.5", 443, 15.0), ("203.0.113.77", "10.1.0.3", 8443, 8.0)])
    path = tmp_path_factory.mktemp("softflowd") / "line.pcap"
    path.write_bytes(pcap_bytes(packets))
    return path, packets


class Nfcapd:
    """nfcapd on a free loopback port, writing into ``flow_dir``."""

    def __init__(self, flow_dir: Path):
        self.port = free_udp_port()
        self.flow_dir = flow_dir
        flow_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["nfcapd", "-b", "127.0.0.1", "-p", str(self.port), "-w", str(flow_dir), "-t", "3600",
             ], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 10
        while not list(flow_dir.glob("nfcapd.current*")) and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nfcapd failed: {self.proc.stdout.read() if self.proc.stdout else ''}")
            time.sleep(0.05)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=20)
        return out

    def nfdump(self, *args: str) -> str:
        return subprocess.run(["nfdump", "-R", str(self.flow_dir), *args], capture_output=True, text=True,
                              timeout=60, check=True).stdout


def _csv_rows(text: str) -> list[dict[str, str]]:
    body = text.split("\nSummary")[0]
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def nfcapd_factory(tmp_path: Path) -> Iterator:
    started: list[Nfcapd] = []

    def make() -> Nfcapd:
        n = Nfcapd(tmp_path / f"nf{len(started)}")
        started.append(n)
        return n

    yield make
    for n in started:
        if n.proc.poll() is None:
            n.stop()


def _cfg(**overrides: object) -> FlowsConfig:
    return FlowsConfig(interval_s=3600, top_n=100, flush_delay_s=0, local_networks=[LOCAL],
                       exporters=[{"address": "127.0.0.1", "line": "L-PROBE"}], **overrides)


def _export(receiver_factory, nfcapd_factory, inventory, capture, tmp_path: Path, *, version: int,
            sampling: int | None = None):
    path, packets = capture
    receiver, points = receiver_factory(_cfg(), inventory, template_path=tmp_path / "templates.json")
    nf = nfcapd_factory()
    # softflowd sends to one destination only (and nfcapd's -R repeater fails on large IPFIX messages), so the
    # file is exported twice; softflowd on a file is deterministic, so both get the same datagrams.
    for port in (nf.port, receiver.port):
        export_capture(path, [("127.0.0.1", port)], version=version, workdir=tmp_path / "sf", packets=len(packets),
                       sampling=sampling)
    nf_log = nf.stop()
    flows_exported = int(next(line.split()[1] for line in nf.nfdump("-I").splitlines() if line.startswith("Flows:")))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        decoded = receiver.run_in_loop(lambda: sum(s.records for s in receiver.service.decoder.stats.values()))
        if decoded >= flows_exported:
            break
        time.sleep(0.05)
    stats = receiver.run_in_loop(receiver.service.stats)
    summaries = receiver.run_in_loop(lambda: receiver.service.aggregator.flush_all())
    receiver.stop()
    return nf, nf_log, stats, summaries, points


@pytest.mark.parametrize("version", [pytest.param(5, id="netflow-v5"), pytest.param(9, id="netflow-v9"),
                                     pytest.param(10, id="ipfix")])
def test_top_talkers_and_totals_match_nfdump_on_the_same_export(receiver_factory, nfcapd_factory, inventory,
                                                                 capture, tmp_path: Path, version: int) -> None:
    nf, nf_log, stats, summaries, _ = _export(receiver_factory, nfcapd_factory, inventory, capture, tmp_path,
                                              version=version)
    exporter = stats["exporters"]["127.0.0.1"]
    assert exporter["malformed_packets"] == 0
    assert exporter["lost_records"] == exporter["lost_packets"] == 0, nf_log
    # Totals: ours == nfdump's == the capture itself.
    _, packets = capture
    totals = dict(line.split(": ", 1) for line in nf.nfdump("-I").splitlines() if ": " in line)
    our_bytes = sum(s.total_bytes for s in summaries)
    our_packets = sum(s.total_packets for s in summaries)
    assert our_bytes == int(totals["Bytes"]) == sum(p.ip_bytes for p in packets)
    assert our_packets == int(totals["Packets"]) == len(packets)
    # Conversations (src, dst, proto, dst_port) summed over the capture: identical to nfdump -A on those keys.
    ours: Counter[tuple[str, str, int, int]] = Counter()
    for s in summaries:
        assert s.other_conversations == 0  # top_n=100 holds every conversation of this capture
        for c in s.top:
            ours[(c.src, c.dst, c.proto, c.dst_port)] += c.bytes
    theirs = Counter()
    for row in _csv_rows(nf.nfdump("-o", "csv", "-A", "srcip,dstip,proto,dstport")):
        theirs[(row["sa"], row["da"], PROTO_NAMES.get(row["pr"].strip(), 0) or int(row["pr"]), int(row["dp"]))] += \
            int(row["ibyt"])
    assert ours == theirs
    assert [k for k, _ in ours.most_common(5)] == [k for k, _ in theirs.most_common(5)]
    # Top hosts by bytes (nfdump -s ip/bytes counts an address as source and as destination).
    per_ip: Counter[str] = Counter()
    for (src, dst, _, _), b in ours.items():
        per_ip[src] += b
        per_ip[dst] += b
    top_ips = [(r["val"], int(r["byt"])) for r in _csv_rows(nf.nfdump("-q", "-o", "csv", "-s", "ip/bytes", "-n", "5"))]
    assert top_ips == per_ip.most_common(5)


def test_flow_totals_agree_with_snmp_octet_counters_within_sampling_error(receiver_factory, nfcapd_factory,
                                                                         inventory, capture, tmp_path: Path) -> None:
    _, packets = capture
    # The router's view of the same traffic: ifHCIn/OutOctets count whole frames (Ethernet header included).
    frame_overhead = 14
    in_octets = sum(p.ip_bytes + frame_overhead for p in packets if not p.src.startswith("10."))
    out_octets = sum(p.ip_bytes + frame_overhead for p in packets if p.src.startswith("10."))
    device = SimDevice(name="probe-host", interfaces={1: SimInterface(name="eth0", in_octets=in_octets,
                                                                       out_octets=out_octets)})
    agent = SimAgent([device]).start()
    try:
        out = subprocess.run(["snmpget", "-v2c", "-c", "public", "-Oqv", "-t", "2", "-r", "2",
                              f"127.0.0.1:{agent.port('probe-host')}", "1.3.6.1.2.1.31.1.1.1.6.1",
                              "1.3.6.1.2.1.31.1.1.1.10.1"], capture_output=True, text=True, timeout=30, check=True)
    finally:
        agent.stop()
    snmp_in, snmp_out = (int(v) for v in out.stdout.split())

    _, _, stats, summaries, _points = _export(receiver_factory, nfcapd_factory, inventory, capture, tmp_path,
                                             version=9, sampling=10)
    assert stats["exporters"]["127.0.0.1"]["malformed_packets"] == 0
    for direction, counter in (("in", snmp_in), ("out", snmp_out)):
        nbytes = sum(s.total_bytes for s in summaries if s.direction == direction)
        npackets = sum(s.total_packets for s in summaries if s.direction == direction)
        estimate = nbytes + frame_overhead * npackets  # flows count IP bytes; add the frame header per packet
        sampled = npackets / 10
        tolerance = 3 / math.sqrt(sampled) + 0.005  # 3 sigma of a 1-in-10 sample, plus rounding
        assert abs(estimate - counter) / counter < tolerance, (direction, estimate, counter, tolerance)
    assert summary_points(summaries)  # and the summaries become points
    # The packet view of the same line (the capture summarized directly, nothing sampled) agrees exactly.
    path, _ = capture
    agg = FlowAggregator(interval_s=60, top_n=10)
    summarize_file(path, line="L-PROBE", aggregator=agg, local=LocalNetworks([LOCAL]))
    captured = agg.flush_all()
    for direction, counter in (("in", snmp_in), ("out", snmp_out)):
        nbytes = sum(s.total_bytes for s in captured if s.direction == direction)
        npackets = sum(s.total_packets for s in captured if s.direction == direction)
        assert nbytes + frame_overhead * npackets == counter, direction


def test_templates_survive_a_receiver_restart(receiver_factory, inventory, tmp_path: Path) -> None:
    import socket

    from collector.flows.synth import SynthFlow, v9_packet

    flows = [SynthFlow("10.0.0.1", "198.51.100.1", 6, 1000, 443, 5000, 5, 0, 0, T0)]
    state = tmp_path / "templates.json"
    first, _ = receiver_factory(_cfg(), inventory, template_path=state)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(v9_packet(flows, export_s=int(T0), sequence=0), ("127.0.0.1", first.port))
        deadline = time.monotonic() + 10
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        first.stop()
        assert state.exists()
        second, _ = receiver_factory(_cfg(), inventory, template_path=state)
        sock.sendto(v9_packet(flows, export_s=int(T0), sequence=1, with_template=False), ("127.0.0.1", second.port))
        deadline = time.monotonic() + 10
        records = 0
        while records == 0 and time.monotonic() < deadline:
            records = second.run_in_loop(lambda: sum(s.records for s in second.service.decoder.stats.values()))
            time.sleep(0.02)
    assert records == 1
    assert second.run_in_loop(lambda: second.service.decoder.stats["127.0.0.1"].pending_sets) == 0
