"""The pure-Python capture reader against the formats it claims, and against tshark on the same files."""

from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from collector.flows.aggregate import FlowAggregator
from collector.flows.capture import parse_tshark_line, summarize_file, tshark_command, tshark_packets
from collector.flows.linemap import LocalNetworks
from collector.flows.pcap import CaptureStats, iter_packets
from collector.flows.records import ip_text
from collector.flows.synth import SynthPacket, frame, pcap_bytes, pcapng_bytes, traffic
from linewatch.errors import CaptureError
from linewatch.servers.ports import free_udp_port

T0 = 1_700_000_000.0
PACKETS = [
    SynthPacket(T0 + 0.000001, "10.0.0.1", "198.51.100.1", 6, 40000, 443, 1000),
    SynthPacket(T0 + 0.5, "198.51.100.1", "10.0.0.1", 6, 443, 40000, 1400, vlan=12),
    SynthPacket(T0 + 61.25, "10.0.0.2", "192.0.2.53", 17, 5353, 53, 60),
    SynthPacket(T0 + 62.0, "10.0.0.3", "192.0.2.1", 1, 0, 0, 56),
]
EXPECTED = [(round(p.time_s, 6), p.src, p.dst, p.proto, p.src_port, p.dst_port, p.ip_bytes) for p in PACKETS]


def _read(path: Path) -> list[tuple]:
    return [(round(t, 6), ip_text(s), ip_text(d), pr, sp, dp, n) for t, s, d, pr, sp, dp, n in iter_packets(path)]


def _big_endian_pcap(packets: list[SynthPacket]) -> bytes:
    out = [struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for p in packets:
        f = frame(p)
        sec = int(p.time_s)
        out.append(struct.pack(">IIII", sec, round((p.time_s - sec) * 1e6), len(f), len(f)) + f)
    return b"".join(out)


@pytest.mark.parametrize("content", [
    pytest.param(pcap_bytes(PACKETS), id="pcap-microseconds"),
    pytest.param(pcap_bytes(PACKETS, nanoseconds=True), id="pcap-nanoseconds"),
    pytest.param(_big_endian_pcap(PACKETS), id="pcap-big-endian"),
    pytest.param(pcapng_bytes(PACKETS), id="pcapng-enhanced-blocks"),
])
def test_every_format_yields_the_same_packets(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.cap"
    path.write_bytes(content)
    assert _read(path) == EXPECTED


def test_pcapng_simple_blocks_have_no_time_but_all_fields(tmp_path: Path) -> None:
    path = tmp_path / "spb.pcapng"
    path.write_bytes(pcapng_bytes(PACKETS, simple_blocks=True))
    assert [r[1:] for r in _read(path)] == [e[1:] for e in EXPECTED]


def _ipv6_frame(*, fragment_offset: int | None = None) -> bytes:
    udp = struct.pack("!HHHH", 5000, 53, 8 + 20, 0) + bytes(20)
    nxt, ext = 17, b""
    if fragment_offset is not None:
        nxt, ext = 44, struct.pack("!BBHI", 17, 0, fragment_offset << 3, 1)
    payload = ext + udp
    src = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
    dst = socket.inet_pton(socket.AF_INET6, "2001:db8::2")
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(payload), nxt, 64, src, dst)
    return bytes(6) + bytes(6) + b"\x86\xdd" + ip6 + payload


def _raw_pcap(frames: list[bytes], linktype: int = 1) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for i, f in enumerate(frames):
        out.append(struct.pack("<IIII", int(T0) + i, 0, len(f), len(f)) + f)
    return b"".join(out)


@pytest.mark.parametrize(("frames", "expected", "skipped"), [
    pytest.param([_ipv6_frame()], [("2001:db8::1", "2001:db8::2", 17, 5000, 53, 68)], {}, id="ipv6-udp"),
    pytest.param([_ipv6_frame(fragment_offset=0)], [("2001:db8::1", "2001:db8::2", 17, 5000, 53, 76)], {},
                 id="ipv6-first-fragment-has-ports"),
    pytest.param([_ipv6_frame(fragment_offset=100)], [("2001:db8::1", "2001:db8::2", 17, 0, 0, 76)], {},
                 id="ipv6-later-fragment-has-no-ports"),
    pytest.param([bytes(12) + b"\x08\x06" + bytes(28)], [], {"not_ip": 1}, id="arp-is-skipped"),
    pytest.param([bytes(10)], [], {"short_frame": 1}, id="runt-frame"),
    pytest.param([bytes(12) + b"\x08\x00" + b"\x45" + bytes(5)], [], {"short_ip_header": 1}, id="cut-ip-header"),
])
def test_network_layer_cases(tmp_path: Path, frames: list[bytes], expected: list[tuple], skipped: dict) -> None:
    path = tmp_path / "c.pcap"
    path.write_bytes(_raw_pcap(frames))
    stats = CaptureStats()
    got = [(ip_text(s), ip_text(d), pr, sp, dp, n) for _, s, d, pr, sp, dp, n in iter_packets(path, stats)]
    assert got == expected
    assert dict(stats.skipped) == skipped


def test_a_capture_cut_off_mid_packet_keeps_the_whole_packets(tmp_path: Path, caplog) -> None:
    path = tmp_path / "cut.pcap"
    path.write_bytes(pcap_bytes(PACKETS)[:-20])
    stats = CaptureStats()
    assert len(list(iter_packets(path, stats))) == 3
    assert stats.truncated_tail
    assert "cut off" in caplog.text


@pytest.mark.parametrize(("content", "message"), [
    pytest.param(b"", "too short", id="empty"),
    pytest.param(b"GIF89a" + bytes(40), "not a pcap or pcapng file", id="not-a-capture"),
    pytest.param(pcap_bytes([])[:20], "global header truncated", id="pcap-header-cut"),
    pytest.param(pcapng_bytes(PACKETS)[:4] + struct.pack("<I", 13) + pcapng_bytes(PACKETS)[8:], "impossible length",
                 id="pcapng-block-length-not-multiple-of-4"),
])
def test_files_that_are_not_captures_raise_a_capture_error_naming_the_file(tmp_path: Path, content: bytes,
                                                                           message: str) -> None:
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    with pytest.raises(CaptureError, match=message) as err:
        list(iter_packets(path))
    assert str(path) in str(err.value)


def test_a_missing_file_raises_a_capture_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot open"):
        list(iter_packets(tmp_path / "nope.pcap"))


# -- against tshark ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SynthPacket]]:
    packets = traffic(seed=7, packets=3000, start_s=T0, duration_s=180, vlan_every=4,
                      heavy=[("10.1.0.9", "203.0.113.5", 443, 20.0)])
    path = tmp_path_factory.mktemp("cap") / "mix.pcap"
    path.write_bytes(pcap_bytes(packets))
    return path, packets


def _tshark_conv_ip(path: Path) -> dict[frozenset[str], int]:
    """Frames per address pair from ``tshark -q -z conv,ip`` (byte columns are rounded to kB there)."""
    out = subprocess.run(["tshark", "-n", "-q", "-r", str(path), "-z", "conv,ip"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    pairs = {}
    for line in out.splitlines():
        m = re.match(r"^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s", line)
        if m:
            pairs[frozenset((m.group(1), m.group(2)))] = int(m.group(5))
    return pairs


def test_conversation_frame_counts_match_tshark_conv_ip(capture: tuple[Path, list[SynthPacket]]) -> None:
    path, _ = capture
    ours: Counter[frozenset[str]] = Counter()
    for _, s, d, *_rest in iter_packets(path):
        ours[frozenset((ip_text(s), ip_text(d)))] += 1
    assert ours == _tshark_conv_ip(path)


def _tshark_conv_ip_directed(path: Path) -> dict[tuple[str, str], tuple[int, int | None]]:
    """(src, dst) -> (frames, frame bytes or None when tshark rounds them to kB) from ``tshark -z conv,ip``."""
    out = subprocess.run(["tshark", "-n", "-q", "-r", str(path), "-z", "conv,ip"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    directed: dict[tuple[str, str], tuple[int, int | None]] = {}
    cell = r"(\d+)\s+(\d+)\s+(\S+)"
    for line in out.splitlines():
        m = re.match(rf"^(\S+)\s+<->\s+(\S+)\s+{cell}\s+{cell}\s", line)
        if not m:
            continue
        a, b = m.group(1), m.group(2)
        for (src, dst), frames, nbytes, unit in (((b, a), *m.group(3, 4, 5)), ((a, b), *m.group(6, 7, 8))):
            if int(frames):  # "<-" is B to A, "->" is A to B
                directed[(src, dst)] = (int(frames), int(nbytes) if unit == "bytes" else None)
    return directed


def test_capture_summary_matches_tshark_conv_ip_per_direction(capture: tuple[Path, list[SynthPacket]]) -> None:
    # The summary itself (not just the reader): packets per (src, dst) over every minute and both line directions
    # equal tshark's frames per direction; bytes are IP bytes, so tshark's frame bytes (where it prints them
    # exactly) are ours plus 14 (Ethernet) to 18 (802.1Q) bytes per frame.
    path, _ = capture
    agg = FlowAggregator(interval_s=60, top_n=10_000)
    summarize_file(path, line="L", aggregator=agg, local=LocalNetworks(["10.0.0.0/8"]))
    ours: dict[tuple[str, str], list[int]] = {}
    for s in agg.flush_all():
        assert s.other_conversations == 0  # every conversation of a minute is ranked here
        for c in s.top:
            acc = ours.setdefault((c.src, c.dst), [0, 0])
            acc[0] += c.packets
            acc[1] += c.bytes
    theirs = _tshark_conv_ip_directed(path)
    assert {k: v[0] for k, v in ours.items()} == {k: v[0] for k, v in theirs.items()}
    exact = [(k, frames, nbytes) for k, (frames, nbytes) in theirs.items() if nbytes is not None]
    assert len(exact) > 100
    for key, frames, nbytes in exact:
        assert ours[key][1] + 14 * frames <= nbytes <= ours[key][1] + 18 * frames, key


def test_reader_matches_tshark_field_output_packet_for_packet(capture: tuple[Path, list[SynthPacket]]) -> None:
    path, _ = capture
    ours = [(round(p[0], 6), *p[1:]) for p in iter_packets(path)]
    theirs = [(round(p[0], 6), *p[1:]) for p in tshark_packets(tshark_command(file=path))]
    assert len(ours) == 3000
    assert ours == theirs


def test_capture_summary_totals_equal_the_generated_traffic(capture: tuple[Path, list[SynthPacket]]) -> None:
    path, packets = capture
    agg = FlowAggregator(interval_s=60, top_n=5)
    summarize_file(path, line="L", aggregator=agg, local=LocalNetworks(["10.0.0.0/8"]))
    summaries = agg.flush_all()
    by_dir = Counter()
    for s in summaries:
        by_dir[s.direction] += s.total_bytes
        assert sum(b for b, _ in s.apps.values()) == s.total_bytes
    assert by_dir["out"] == sum(p.ip_bytes for p in packets if p.src.startswith("10."))
    assert by_dir["in"] == sum(p.ip_bytes for p in packets if not p.src.startswith("10."))
    assert {s.start_s for s in summaries} == {int(T0 // 60 * 60) + 60 * i for i in range(4)}
    top_out = [s.top[0] for s in summaries if s.direction == "out"]
    assert all((c.src, c.dst, c.dst_port) == ("10.1.0.9", "203.0.113.5", 443) for c in top_out)


@pytest.mark.parametrize(("line", "expected"), [
    pytest.param("1700000000.5\t10.0.0.1\t10.0.0.2\t\t\t6\t\t1234\t443\t\t\t60\t", (1700000000.5, 6, 1234, 443, 60),
                 id="ipv4-tcp"),
    pytest.param("1700000000.5\t\t\t2001:db8::1\t2001:db8::2\t\t17\t\t\t53\t5353\t\t32",
                 (1700000000.5, 17, 53, 5353, 72), id="ipv6-udp"),
    pytest.param("1700000000.5\t\t\t\t\t\t\t\t\t\t\t\t", None, id="not-ip"),
    pytest.param("garbage", None, id="garbage"),
])
def test_tshark_field_lines_parse(line: str, expected: tuple | None) -> None:
    pkt = parse_tshark_line(line)
    assert (None if pkt is None else (pkt[0], pkt[3], pkt[4], pkt[5], pkt[6])) == expected


@pytest.mark.skipif(os.geteuid() != 0, reason="live capture on lo needs root (or dumpcap capabilities)")
def test_live_capture_streams_packets_from_tshark_and_stops_on_request() -> None:
    port = free_udp_port()
    stop = threading.Event()

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            while not stop.wait(0.05):  # until seen: tshark needs a moment to start capturing
                sock.sendto(b"x" * 100, ("127.0.0.1", port))

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    got = []
    cmd = tshark_command(interface="lo", bpf_filter=f"udp and dst port {port}")
    for pkt in tshark_packets(cmd, stop=stop):
        got.append(pkt)
        if len(got) == 3:
            stop.set()
    sender.join(5)
    assert len(got) >= 3
    assert [(ip_text(p[1]), ip_text(p[2]), p[3], p[5], p[6]) for p in got[:3]] == [("127.0.0.1", "127.0.0.1", 17, port,
                                                                                   128)] * 3


# -- link layers of carrier lines: PPP, PPPoE, MPLS, QinQ (issue 9) -----------------------------------------------

def _ip4(src: str = "10.0.0.1", dst: str = "198.51.100.1", sport: int = 40000, dport: int = 443) -> bytes:
    return frame(SynthPacket(T0, src, dst, 17, sport, dport, 100))[14:]  # IPv4 + UDP, 128 bytes


def _ip6() -> bytes:
    return _ipv6_frame()[14:]


ETH = bytes(6) + bytes.fromhex("020000000001")
PPPOE = struct.pack("!BBHH", 0x11, 0, 0x1234, 130)  # version/type 1/1, session data, session 0x1234, length
QINQ = struct.pack("!HHHH", 0x88A8, 100, 0x8100, 200)  # S-tag 100, C-tag 200; then the inner EtherType
LABELS = struct.pack("!II", 16000 << 12 | 64, 299 << 12 | 0x100 | 64)  # two labels, the second bottom of stack
SLL = struct.pack("!HHH8s", 0, 1, 6, bytes(8))  # packet type, ARPHRD_ETHER, address length, address


def _ipv4_expected(src: str = "10.0.0.1", dst: str = "198.51.100.1") -> tuple:
    return (src, dst, 17, 40000, 443, 128)


IPV6_EXPECTED = ("2001:db8::1", "2001:db8::2", 17, 5000, 53, 68)


@pytest.mark.parametrize(("linktype", "frame_bytes", "expected", "skipped"), [
    pytest.param(9, b"\xff\x03\x00\x21" + _ip4(), [_ipv4_expected()], {}, id="ppp-linktype-9-hdlc-framing"),
    pytest.param(9, b"\x00\x57" + _ip6(), [IPV6_EXPECTED], {}, id="ppp-linktype-9-unframed-ipv6"),
    pytest.param(9, b"\xff\x03\x00\x21" + _ip4()[:10], [], {"short_ip_header": 1}, id="ppp-cut-ip-header"),
    pytest.param(9, b"\xff\x03\xc0\x21" + bytes(8), [], {"not_ip": 1}, id="ppp-lcp-is-not-ip"),
    pytest.param(204, b"\x01\xff\x03\x00\x21" + _ip4(), [_ipv4_expected()], {}, id="ppp-with-direction"),
    pytest.param(1, ETH + b"\x88\x64" + PPPOE + b"\x00\x21" + _ip4(), [_ipv4_expected()], {}, id="pppoe-session"),
    pytest.param(1, ETH + QINQ + b"\x88\x64" + PPPOE + b"\x00\x57" + _ip6(), [IPV6_EXPECTED], {},
                 id="qinq-pppoe-session-ipv6"),
    pytest.param(1, ETH + QINQ + b"\x08\x00" + _ip4(), [_ipv4_expected()], {}, id="qinq-ethernet"),
    pytest.param(1, ETH + b"\x88\x47" + LABELS + _ip4(), [_ipv4_expected()], {}, id="mpls-two-labels-ipv4"),
    pytest.param(1, ETH + b"\x81\x00\x00\x0c\x88\x47" + LABELS[4:] + _ip6(), [IPV6_EXPECTED], {},
                 id="vlan-mpls-ipv6"),
    pytest.param(1, ETH + b"\x88\x47" + LABELS + bytes(4) + ETH + b"\x08\x00" + _ip4(), [], {"not_ip": 1},
                 id="mpls-pseudowire-is-not-ip"),
    pytest.param(1, ETH + b"\x88\x47" + LABELS[:4] * 3, [], {"short_frame": 1}, id="mpls-stack-without-bottom"),
    pytest.param(113, SLL + b"\x81\x00" + b"\x00\x64\x81\x00\x00\xc8\x08\x00" + _ip4(), [_ipv4_expected()], {},
                 id="qinq-on-linux-cooked"),
    pytest.param(276, struct.pack("!HHIHBB8s", 0x88A8, 0, 1, 1, 0, 6, bytes(8)) + b"\x00\x64\x81\x00\x00\xc8\x08\x00"
                 + _ip4(), [_ipv4_expected()], {}, id="qinq-on-linux-cooked-v2"),
])
def test_ppp_pppoe_mpls_and_qinq_link_layers_are_read(tmp_path: Path, linktype: int, frame_bytes: bytes,
                                                      expected: list[tuple], skipped: dict) -> None:
    path = tmp_path / "line.pcap"
    path.write_bytes(_raw_pcap([frame_bytes], linktype))
    stats = CaptureStats()
    got = [(ip_text(s), ip_text(d), pr, sp, dp, n) for _, s, d, pr, sp, dp, n in iter_packets(path, stats)]
    assert got == expected
    assert dict(stats.skipped) == skipped
    if expected:  # tshark decodes the same file to the same packet
        theirs = [(ip_text(s), ip_text(d), pr, sp, dp, n)
                  for _, s, d, pr, sp, dp, n in tshark_packets(tshark_command(file=path))]
        assert theirs == expected


def test_a_pppoe_mpls_qinq_capture_matches_tshark_packet_for_packet(tmp_path: Path) -> None:
    # A longer capture mixing the encapsulations, cross-checked field by field against `tshark -T fields`.
    encaps = [ETH + b"\x88\x64" + PPPOE + b"\x00\x21", ETH + QINQ + b"\x08\x00", ETH + b"\x88\x47" + LABELS,
              ETH + QINQ + b"\x88\x64" + PPPOE + b"\x00\x21"]
    frames = []
    for i, p in enumerate(traffic(seed=11, packets=400, start_s=T0, duration_s=60)):
        frames.append(encaps[i % len(encaps)] + frame(p)[14:])
    path = tmp_path / "mix.pcap"
    path.write_bytes(_raw_pcap(frames))
    ours = [p[1:] for p in iter_packets(path)]
    theirs = [p[1:] for p in tshark_packets(tshark_command(file=path))]
    assert len(ours) == 400
    assert ours == theirs
