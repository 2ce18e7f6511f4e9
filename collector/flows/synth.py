"""Deterministic traffic and export synthesis: pcap/pcapng writers and NetFlow v5/v9/IPFIX encoders.

Used by the tests (captures fed to softflowd, tshark and nfdump), the benchmarks and the demo. Everything is a pure
function of its arguments (a seeded ``random.Random``), so the same call writes the same bytes.
"""

from __future__ import annotations

import random
import socket
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from collector.flows.netflow import IPFIX_HEADER, V5_HEADER, V5_RECORD, V9_HEADER

ETH_SRC, ETH_DST = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


@dataclass(frozen=True, slots=True)
class SynthPacket:
    time_s: float
    src: str
    dst: str
    proto: int  # 6, 17 or 1
    src_port: int
    dst_port: int
    payload_bytes: int
    vlan: int | None = None

    @property
    def ip_bytes(self) -> int:
        """IPv4 total length (what NetFlow counts)."""
        l4 = 20 if self.proto == 6 else 8
        return 20 + l4 + self.payload_bytes


def frame(p: SynthPacket) -> bytes:
    """Ethernet (optionally 802.1Q) + IPv4 + TCP/UDP/ICMP frame of ``p``."""
    payload = b"\x00" * p.payload_bytes
    if p.proto == 6:
        l4 = struct.pack("!HHIIBBHHH", p.src_port, p.dst_port, 1, 0, 0x50, 0x18, 65535, 0, 0)
    elif p.proto == 17:
        l4 = struct.pack("!HHHH", p.src_port, p.dst_port, 8 + p.payload_bytes, 0)
    else:
        l4 = struct.pack("!BBHHH", 8, 0, 0, 1, 1)
    body = l4 + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0x4000, 64, p.proto, 0,
                     socket.inet_aton(p.src), socket.inet_aton(p.dst))
    if p.vlan is not None:
        eth = ETH_DST + ETH_SRC + struct.pack("!HHH", 0x8100, p.vlan & 0xFFF, 0x0800)
    else:
        eth = ETH_DST + ETH_SRC + b"\x08\x00"
    return eth + ip + body


def pcap_bytes(packets: Iterable[SynthPacket], *, nanoseconds: bool = False) -> bytes:
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    out = [struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 262144, 1)]
    scale = 1_000_000_000 if nanoseconds else 1_000_000
    for p in packets:
        f = frame(p)
        sec = int(p.time_s)
        frac = round((p.time_s - sec) * scale)
        out.append(struct.pack("<IIII", sec, frac, len(f), len(f)))
        out.append(f)
    return b"".join(out)


def pcapng_bytes(packets: Iterable[SynthPacket], *, simple_blocks: bool = False) -> bytes:
    """pcapng with one Ethernet interface (µs resolution); EPBs, or SPBs when ``simple_blocks``."""

    def block(btype: int, body: bytes) -> bytes:
        body += b"\x00" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
           block(1, struct.pack("<HHI", 1, 0, 262144) + struct.pack("<HHB3x", 9, 1, 6) + struct.pack("<HH", 0, 0))]
    for p in packets:
        f = frame(p)
        if simple_blocks:
            out.append(block(3, struct.pack("<I", len(f)) + f))
        else:
            ts = round(p.time_s * 1_000_000)
            out.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f))
    return b"".join(out)


def write_pcap(path: Path, packets: Iterable[SynthPacket]) -> Path:
    path.write_bytes(pcap_bytes(packets))
    return path


# -- a traffic mix --------------------------------------------------------------------------------------------------

# (weight, proto, dst_port, payload range): a branch-office mix with a few heavy talkers.
_MIX = (
    (30, 6, 443, (900, 1400)),
    (8, 17, 443, (900, 1200)),
    (6, 6, 80, (400, 1400)),
    (6, 17, 53, (40, 200)),
    (4, 6, 445, (1000, 1400)),
    (4, 6, 22, (60, 600)),
    (3, 17, 5060, (300, 700)),
    (3, 6, 3389, (100, 1200)),
    (2, 6, 5432, (200, 1400)),
    (2, 17, 123, (48, 48)),
    (1, 1, 0, (56, 56)),
    (3, 6, 8081, (100, 1400)),
    (3, 17, 40000, (100, 1000)),
)


def traffic(*, seed: int, packets: int, start_s: float, duration_s: float, local_prefix: str = "10.1.",
            remote_prefix: str = "198.51.", hosts: int = 40, servers: int = 60, vlan_every: int = 0,
            heavy: Sequence[tuple[str, str, int, int]] = ()) -> list[SynthPacket]:
    """A deterministic mix of ``packets`` IPv4 packets over ``duration_s`` seconds, both directions.

    ``heavy``: extra (src, dst, dst_port, share_percent) TCP conversations that take that share of packets.
    """
    rng = random.Random(seed)
    weights = [m[0] for m in _MIX]
    local = [f"{local_prefix}{i // 250}.{i % 250 + 1}" for i in range(hosts)]
    remote = [f"{remote_prefix}{100 + i // 250}.{i % 250 + 1}" for i in range(servers)]
    conv_mix = [(rng.choice(local), rng.choice(remote), rng.choices(_MIX, weights)[0], rng.randrange(32768, 61000))
                for _ in range(hosts * 6)]
    out: list[SynthPacket] = []
    step = duration_s / max(packets, 1)
    for i in range(packets):
        t = start_s + i * step
        vlan = (i % 7 + 10) if vlan_every and i % vlan_every == 0 else None
        r = rng.random() * 100
        acc = 0.0
        chosen = None
        for src, dst, port, share in heavy:
            acc += share
            if r < acc:
                chosen = SynthPacket(t, src, dst, 6, 50000, port, 1400, vlan)
                break
        if chosen is None:
            lhost, rhost, (_, proto, port, (lo, hi)), eph = conv_mix[rng.randrange(len(conv_mix))]
            size = rng.randint(lo, hi)
            if rng.random() < 0.45:  # request: local -> remote service port
                chosen = SynthPacket(t, lhost, rhost, proto, eph if proto != 1 else 0, port, size, vlan)
            else:  # response: remote service port -> local
                chosen = SynthPacket(t, rhost, lhost, proto, port, eph if proto != 1 else 0, size, vlan)
        out.append(chosen)
    return out


# -- NetFlow encoders ------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SynthFlow:
    src: str
    dst: str
    proto: int
    src_port: int
    dst_port: int
    bytes: int
    packets: int
    in_if: int
    out_if: int
    end_s: float


# The v9/IPFIX data template these encoders use: common router fields, absolute end time in ms (IPFIX) or
# sysUptime-relative (v9).
V9_FIELDS = ((8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (1, 4), (2, 4), (10, 4), (14, 4), (22, 4), (21, 4), (6, 1),
             (5, 1))
IPFIX_FIELDS = ((8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (1, 8), (2, 8), (10, 4), (14, 4), (152, 8), (153, 8),
                (6, 1), (5, 1))


def _v9_record(f: SynthFlow, uptime_ms: int, export_s: int) -> bytes:
    last = uptime_ms - round((export_s - f.end_s) * 1000)
    return struct.pack("!4s4sBHHIIIIIIBB", socket.inet_aton(f.src), socket.inet_aton(f.dst), f.proto, f.src_port,
                       f.dst_port, f.bytes, f.packets, f.in_if, f.out_if, max(last - 1000, 0) & 0xFFFFFFFF,
                       last & 0xFFFFFFFF, 0, 0)


def _ipfix_record(f: SynthFlow) -> bytes:
    end_ms = round(f.end_s * 1000)
    return struct.pack("!4s4sBHHQQIIQQBB", socket.inet_aton(f.src), socket.inet_aton(f.dst), f.proto, f.src_port,
                       f.dst_port, f.bytes, f.packets, f.in_if, f.out_if, end_ms - 1000, end_ms, 0, 0)


def v5_packet(flows: Sequence[SynthFlow], *, export_s: int, sequence: int, uptime_ms: int = 3_600_000,
              engine_id: int = 0, sampling: int = 0) -> bytes:
    out = [V5_HEADER.pack(5, len(flows), uptime_ms, export_s, 0, sequence, 0, engine_id, sampling)]
    for f in flows:
        last = uptime_ms - round((export_s - f.end_s) * 1000)
        out.append(V5_RECORD.pack(socket.inet_aton(f.src), socket.inet_aton(f.dst), b"\0\0\0\0", f.in_if, f.out_if,
                                  f.packets, f.bytes, max(last - 1000, 0), last, f.src_port, f.dst_port, 0,
                                  f.proto, 0, 0, 0, 0, 0))
    return b"".join(out)


def _set(set_id: int, body: bytes, pad: bool) -> bytes:
    if pad:
        body += b"\x00" * (-(len(body) + 4) % 4)
    return struct.pack("!HH", set_id, len(body) + 4) + body


def v9_packet(flows: Sequence[SynthFlow], *, export_s: int, sequence: int, source_id: int = 0,
              template_id: int = 256, with_template: bool = True, uptime_ms: int = 3_600_000) -> bytes:
    sets = []
    count = 0
    if with_template:
        tmpl = struct.pack("!HH", template_id, len(V9_FIELDS)) + b"".join(struct.pack("!HH", *f) for f in V9_FIELDS)
        sets.append(_set(0, tmpl, True))
        count += 1
    if flows:
        sets.append(_set(template_id, b"".join(_v9_record(f, uptime_ms, export_s) for f in flows), True))
        count += len(flows)
    return V9_HEADER.pack(9, count, uptime_ms, export_s, sequence, source_id) + b"".join(sets)


def v9_custom_packet(fields: Sequence[tuple[int, int]], data: bytes, *, export_s: int, sequence: int,
                     source_id: int = 0, template_id: int = 256, with_template: bool = True,
                     uptime_ms: int = 3_600_000, trailer: bytes = b"") -> bytes:
    """A v9 packet with any template (``(element, length)`` pairs) and one data set of ``data`` as given (no
    padding added: the set is exactly ``data``); ``trailer`` is appended after the last set (e.g. zero padding)."""
    sets = b""
    if with_template:
        sets += _set(0, struct.pack("!HH", template_id, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields),
                     True)
    if data:
        sets += _set(template_id, data, False)
    return V9_HEADER.pack(9, 2, uptime_ms, export_s, sequence, source_id) + sets + trailer


def ipfix_custom_packet(fields: Sequence[tuple[int, int]], data: bytes, *, export_s: int, sequence: int,
                        domain: int = 0, template_id: int = 256, with_template: bool = True) -> bytes:
    """An IPFIX message with any template (IANA elements) and one data set of ``data`` as given."""
    sets = b""
    if with_template:
        sets += _set(2, struct.pack("!HH", template_id, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields),
                     False)
    if data:
        sets += _set(template_id, data, False)
    return IPFIX_HEADER.pack(10, IPFIX_HEADER.size + len(sets), export_s, sequence, domain) + sets


def v9_sampling_options(*, export_s: int, sequence: int, rate: int, source_id: int = 0,
                        template_id: int = 300) -> bytes:
    """A v9 packet with an options template (scope: system) and one record carrying SAMPLING_INTERVAL (34)."""
    tmpl = struct.pack("!HHH", template_id, 4, 8) + struct.pack("!HH", 1, 4) + struct.pack("!HHHH", 34, 4, 35, 1)
    data = struct.pack("!IIB", 0, rate, 1)
    sets = _set(1, tmpl, True) + _set(template_id, data, True)
    return V9_HEADER.pack(9, 2, 3_600_000, export_s, sequence, source_id) + sets


def ipfix_packet(flows: Sequence[SynthFlow], *, export_s: int, sequence: int, domain: int = 0,
                 template_id: int = 256, with_template: bool = True) -> bytes:
    sets = []
    if with_template:
        tmpl = struct.pack("!HH", template_id, len(IPFIX_FIELDS)) + b"".join(
            struct.pack("!HH", *f) for f in IPFIX_FIELDS)
        sets.append(_set(2, tmpl, False))
    if flows:
        sets.append(_set(template_id, b"".join(_ipfix_record(f) for f in flows), False))
    body = b"".join(sets)
    return IPFIX_HEADER.pack(10, IPFIX_HEADER.size + len(body), export_s, sequence, domain) + body


def flows_from_packets(packets: Iterable[SynthPacket], *, in_if: int, out_if: int, local_prefix: str,
                       active_timeout_s: float = 60.0) -> list[SynthFlow]:
    """Aggregate synthetic packets into flows the way a router would (5-tuple, active timeout); routes local
    sources out of ``out_if`` and everything else in through ``in_if``."""
    open_flows: dict[tuple[str, str, int, int, int], list[float]] = {}
    out: list[SynthFlow] = []

    def close(key: tuple[str, str, int, int, int], v: list[float]) -> None:
        src, dst, proto, sport, dport = key
        local = src.startswith(local_prefix)
        out.append(SynthFlow(src, dst, proto, sport, dport, int(v[1]), int(v[2]), 0 if local else in_if,
                             out_if if local else 0, v[3]))

    for p in packets:
        key = (p.src, p.dst, p.proto, p.src_port, p.dst_port)
        v = open_flows.get(key)
        if v is not None and p.time_s - v[0] > active_timeout_s:
            close(key, v)
            v = None
        if v is None:
            v = open_flows[key] = [p.time_s, 0.0, 0.0, p.time_s]
        v[1] += p.ip_bytes
        v[2] += 1
        v[3] = p.time_s
    for key, v in open_flows.items():
        close(key, v)
    return out
