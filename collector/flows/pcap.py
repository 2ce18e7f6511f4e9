"""A fast pure-Python reader of pcap and pcapng files, and the capture summary built on it.

Reads the file through ``mmap`` and ``struct.unpack_from`` (no per-packet copies): classic pcap (µs and ns, both
byte orders), pcapng (SHB/IDB/EPB/SPB and the obsolete PB, any number of sections and interfaces, ``if_tsresol``).
Link layers: Ethernet, Linux cooked (SLL, SLL2), raw IP, BSD loopback, PPP (with or without HDLC framing, with
direction), Cisco HDLC. Inside them, in any order and depth: 802.1Q/802.1ad tags (QinQ), PPPoE sessions, MPLS label
stacks (IP found after the bottom label by its version nibble).
Network/transport: IPv4 (fragments: ports only on the first), IPv6 (hop-by-hop, routing, destination-options and
fragment headers), TCP/UDP/SCTP ports.

Each packet counts its IP total length (what NetFlow calls octets), so capture and flow summaries compare directly.
A packet we cannot parse is counted by reason, never fatal; a file that is not a capture at all raises
:class:`~linewatch.errors.CaptureError` naming the file and offset. A capture cut off mid-packet (tcpdump killed)
ends at the last whole packet with a warning.
"""

from __future__ import annotations

import logging
import mmap
import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from linewatch.errors import CaptureError

log = logging.getLogger(__name__)

PCAP_MAGIC_US, PCAP_MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D
PCAPNG_SHB = 0x0A0D0D0A
BYTE_ORDER_MAGIC = 0x1A2B3C4D

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 = 0, 1, 101, 113, 276
LINKTYPE_IPV4, LINKTYPE_IPV6 = 228, 229
LINKTYPE_PPP, LINKTYPE_PPP_HDLC, LINKTYPE_C_HDLC, LINKTYPE_PPP_WITH_DIR = 9, 50, 104, 204
_RAW_TYPES = {LINKTYPE_RAW, 12, 14}
_PPP_TYPES = {LINKTYPE_PPP, LINKTYPE_PPP_HDLC, LINKTYPE_PPP_WITH_DIR}
_KNOWN_LINKTYPES = {LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_IPV4,
                    LINKTYPE_IPV6, LINKTYPE_C_HDLC, *_RAW_TYPES, *_PPP_TYPES}

ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD
_VLAN_TYPES = {0x8100, 0x88A8, 0x9100, 0x9200, 0x9300}
ETH_PPPOE_SESSION = 0x8864
_MPLS_TYPES = {0x8847, 0x8848}
# PPP protocol numbers (RFC 1661, IANA "PPP DLL protocol numbers") -> EtherType.
_PPP_PROTOCOLS = {0x0021: ETH_IPV4, 0x0057: ETH_IPV6, 0x0281: 0x8847, 0x0283: 0x8848}
_MAX_ENCAPSULATIONS = 16  # tags + PPPoE + labels per frame; a deeper stack is counted, not followed
_PORT_PROTOS = {6, 17, 132}
_IPV6_EXT = {0, 43, 60}

_U16 = struct.Struct("!H")
_IPV4 = struct.Struct("!BxHxxHxB2x4s4s")  # vihl, total length, flags/fragment, proto, src, dst
_IPV6 = struct.Struct("!4xHB1x16s16s")  # payload length, next header, src, dst
_PORTS = struct.Struct("!HH")

Packet = tuple[float, bytes, bytes, int, int, int, int]  # time_s, src, dst, proto, src_port, dst_port, ip_bytes


@dataclass(slots=True)
class CaptureStats:
    packets: int = 0  # frames read
    ip_packets: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> frames
    truncated_tail: bool = False


def _ppp(buf: mmap.mmap | bytes, off: int, end: int) -> tuple[int, int] | None:
    """A PPP header (RFC 1661; HDLC-like framing ff 03 optional; protocol field compression) -> (ethertype, off)."""
    if end - off >= 2 and buf[off] == 0xFF and buf[off + 1] == 0x03:
        off += 2
    if end - off < 1:
        return None
    if buf[off] & 1:  # compressed 1-byte protocol field
        proto, off = buf[off], off + 1
    else:
        if end - off < 2:
            return None
        proto, off = _U16.unpack_from(buf, off)[0], off + 2
    return _PPP_PROTOCOLS.get(proto, 0), off


def _encapsulated(buf: mmap.mmap | bytes, etype: int, off: int, end: int) -> tuple[int, int] | None:
    """Follow VLAN tags, PPPoE session headers and MPLS labels from ``etype`` at ``off`` to the IP header."""
    for _ in range(_MAX_ENCAPSULATIONS):
        if etype in _VLAN_TYPES:
            if end - off < 4:
                return None
            etype = _U16.unpack_from(buf, off + 2)[0]
            off += 4
        elif etype == ETH_PPPOE_SESSION:
            if end - off < 6:  # ver/type, code, session id, length; then the PPP protocol
                return None
            ppp = _ppp(buf, off + 6, end)
            if ppp is None:
                return None
            etype, off = ppp
        elif etype in _MPLS_TYPES:
            while True:  # label stack: 4 bytes each, bottom of stack bit 0x100 in the third byte
                if end - off < 4:
                    return None
                bottom = buf[off + 2] & 1
                off += 4
                if bottom:
                    break
            if end - off < 1:
                return None
            version = buf[off] >> 4
            etype = ETH_IPV4 if version == 4 else ETH_IPV6 if version == 6 else 0  # 0: pseudowire, not IP
        else:
            return etype, off
    return 0, off


def _l3(buf: mmap.mmap | bytes, off: int, end: int, linktype: int) -> tuple[int, int] | None:
    """(ethertype, offset of the IP header) for one frame, or None when it carries no IP."""
    l2 = _l2(buf, off, end, linktype)
    if l2 is None:
        return None
    etype, off = l2
    if etype in (ETH_IPV4, ETH_IPV6):
        return l2
    return _encapsulated(buf, etype, off, end)


def _l2(buf: mmap.mmap | bytes, off: int, end: int, linktype: int) -> tuple[int, int] | None:
    """(ethertype, offset after the link-layer header), or None for a frame too short for it."""
    if linktype == LINKTYPE_ETHERNET:
        if end - off < 14:
            return None
        return _U16.unpack_from(buf, off + 12)[0], off + 14
    if linktype in _PPP_TYPES:
        if linktype == LINKTYPE_PPP_WITH_DIR:
            off += 1  # direction byte
        return _ppp(buf, off, end)
    if linktype == LINKTYPE_C_HDLC:
        if end - off < 4:
            return None
        return _U16.unpack_from(buf, off + 2)[0], off + 4
    if linktype in _RAW_TYPES or linktype in (LINKTYPE_IPV4, LINKTYPE_IPV6):
        if end - off < 1:
            return None
        version = buf[off] >> 4
        return (ETH_IPV4 if version == 4 else ETH_IPV6 if version == 6 else 0), off
    if linktype == LINKTYPE_LINUX_SLL:
        if end - off < 16:
            return None
        return _U16.unpack_from(buf, off + 14)[0], off + 16
    if linktype == LINKTYPE_LINUX_SLL2:
        if end - off < 20:
            return None
        return _U16.unpack_from(buf, off)[0], off + 20
    if linktype == LINKTYPE_NULL:
        if end - off < 4:
            return None
        family = int.from_bytes(buf[off:off + 4], "little")
        if family > 0xFFFF:
            family = int.from_bytes(buf[off:off + 4], "big")
        return (ETH_IPV4 if family == 2 else ETH_IPV6 if family in (10, 24, 28, 30) else 0), off + 4
    return None


def parse_frame(buf: mmap.mmap | bytes, off: int, caplen: int, linktype: int, ts: float,
                stats: CaptureStats) -> Packet | None:
    """Decode one captured frame into a :data:`Packet`, or count why not."""
    end = off + caplen
    l3 = _l3(buf, off, end, linktype)
    if l3 is None:
        stats.skipped["unsupported_link_layer" if linktype not in _KNOWN_LINKTYPES else "short_frame"] += 1
        return None
    etype, off = l3
    sport = dport = 0
    if etype == ETH_IPV4:
        if end - off < 20:
            stats.skipped["short_ip_header"] += 1
            return None
        vihl, total, frag, proto, src, dst = _IPV4.unpack_from(buf, off)
        ihl = (vihl & 15) * 4
        if vihl >> 4 != 4 or ihl < 20:
            stats.skipped["bad_ip_header"] += 1
            return None
        if total < ihl:
            total = end - off  # TSO/offloaded captures write 0
        if proto in _PORT_PROTOS and not frag & 0x1FFF and end - off - ihl >= 4:
            sport, dport = _PORTS.unpack_from(buf, off + ihl)
    elif etype == ETH_IPV6:
        if end - off < 40:
            stats.skipped["short_ip_header"] += 1
            return None
        payload, proto, src, dst = _IPV6.unpack_from(buf, off)
        total = payload + 40 if payload else end - off
        l4 = off + 40
        fragmented = False
        for _ in range(8):
            if proto in _IPV6_EXT and end - l4 >= 2:
                proto, hlen = buf[l4], (buf[l4 + 1] + 1) * 8
                l4 += hlen
            elif proto == 44 and end - l4 >= 8:  # fragment header
                fragmented = (_U16.unpack_from(buf, l4 + 2)[0] & 0xFFF8) != 0
                proto = buf[l4]
                l4 += 8
            else:
                break
        if proto in _PORT_PROTOS and not fragmented and end - l4 >= 4:
            sport, dport = _PORTS.unpack_from(buf, l4)
    else:
        stats.skipped["not_ip"] += 1
        return None
    stats.ip_packets += 1
    return ts, src, dst, proto, sport, dport, total


class _Reader:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, offset: int, reason: str) -> CaptureError:
        return CaptureError(f"{self.path}: offset {offset}: {reason}")


def iter_packets(path: Path | str, stats: CaptureStats | None = None) -> Iterator[Packet]:
    """Every IP packet of a pcap or pcapng file, in file order."""
    path = Path(path)
    stats = stats if stats is not None else CaptureStats()
    try:
        fh = open(path, "rb")  # noqa: SIM115 - the generator below closes it (a with-block cannot wrap the except)
    except OSError as exc:
        raise CaptureError(f"{path}: cannot open: {exc.strerror or exc}") from None
    with fh:
        size = path.stat().st_size
        if size < 4:
            raise CaptureError(f"{path}: offset 0: {size} bytes is too short for a capture file")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            magic_le = struct.unpack_from("<I", buf, 0)[0]
            if magic_le in (PCAP_MAGIC_US, PCAP_MAGIC_NS) or struct.unpack_from(">I", buf, 0)[0] in (
                    PCAP_MAGIC_US, PCAP_MAGIC_NS):
                yield from _pcap(buf, size, _Reader(path), stats)
            elif magic_le == PCAPNG_SHB:
                yield from _pcapng(buf, size, _Reader(path), stats)
            else:
                raise CaptureError(f"{path}: offset 0: not a pcap or pcapng file (magic {magic_le:#010x})")


def _pcap(buf: mmap.mmap, size: int, r: _Reader, stats: CaptureStats) -> Iterator[Packet]:
    if size < 24:
        raise r.fail(0, "pcap global header truncated")
    if struct.unpack_from("<I", buf, 0)[0] in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
        order = "<"
    else:
        order = ">"
    magic, _vmaj, _vmin, _zone, _sig, _snap, linktype = struct.unpack_from(order + "IHHiIII", buf, 0)
    linktype &= 0xFFFF
    scale = 1e-9 if magic == PCAP_MAGIC_NS else 1e-6
    rec = struct.Struct(order + "IIII")
    off = 24
    parse = parse_frame
    while off < size:
        if size - off < 16:
            stats.truncated_tail = True
            break
        sec, frac, caplen, _origlen = rec.unpack_from(buf, off)
        off += 16
        if caplen > 262144 * 4:
            raise r.fail(off - 16, f"packet record claims {caplen} captured bytes")
        if off + caplen > size:
            stats.truncated_tail = True
            break
        stats.packets += 1
        pkt = parse(buf, off, caplen, linktype, sec + frac * scale, stats)
        off += caplen
        if pkt is not None:
            yield pkt
    if stats.truncated_tail:
        log.warning("%s: capture ends inside a packet record (cut off); read %d whole frames", r.path,
                    stats.packets)


def _pcapng(buf: mmap.mmap, size: int, r: _Reader, stats: CaptureStats) -> Iterator[Packet]:
    off = 0
    order = "<"
    interfaces: list[tuple[int, float, int]] = []  # linktype, seconds per tick, snaplen
    parse = parse_frame
    while off < size:
        if size - off < 12:
            stats.truncated_tail = True
            break
        btype = struct.unpack_from(order + "I", buf, off)[0]
        if btype == PCAPNG_SHB:
            bom = struct.unpack_from("<I", buf, off + 8)[0]
            if bom == BYTE_ORDER_MAGIC:
                order = "<"
            elif bom == 0x4D3C2B1A:
                order = ">"
            else:
                raise r.fail(off + 8, f"bad pcapng byte-order magic {bom:#010x}")
            interfaces = []
        blen = struct.unpack_from(order + "I", buf, off + 4)[0]
        if blen < 12 or blen % 4:
            raise r.fail(off, f"pcapng block type {btype:#x} has impossible length {blen}")
        if off + blen > size:
            stats.truncated_tail = True
            break
        body, body_end = off + 8, off + blen - 4
        if btype == 6:  # enhanced packet block
            if body_end - body < 20:
                raise r.fail(off, "enhanced packet block too short")
            iface, hi, lo, caplen, _orig = struct.unpack_from(order + "IIIII", buf, body)
            if iface >= len(interfaces):
                raise r.fail(off, f"packet of undeclared interface {iface}")
            if body + 20 + caplen > body_end:
                raise r.fail(off, f"captured length {caplen} runs past its block")
            linktype, tick, _snap = interfaces[iface]
            stats.packets += 1
            pkt = parse(buf, body + 20, caplen, linktype, ((hi << 32) | lo) * tick, stats)
            if pkt is not None:
                yield pkt
        elif btype == 3:  # simple packet block: interface 0, no timestamp
            if not interfaces:
                raise r.fail(off, "simple packet block before any interface description")
            orig = struct.unpack_from(order + "I", buf, body)[0]
            linktype, _tick, snap = interfaces[0]
            caplen = min(orig, snap or orig, body_end - body - 4)
            stats.packets += 1
            pkt = parse(buf, body + 4, caplen, linktype, 0.0, stats)
            if pkt is not None:
                yield pkt
        elif btype == 2:  # obsolete packet block
            iface, _drops, hi, lo, caplen, _orig = struct.unpack_from(order + "HHIIII", buf, body)
            if iface >= len(interfaces) or body + 20 + caplen > body_end:
                raise r.fail(off, "malformed obsolete packet block")
            linktype, tick, _snap = interfaces[iface]
            stats.packets += 1
            pkt = parse(buf, body + 20, caplen, linktype, ((hi << 32) | lo) * tick, stats)
            if pkt is not None:
                yield pkt
        elif btype == 1:  # interface description
            linktype, _res, snap = struct.unpack_from(order + "HHI", buf, body)
            interfaces.append((linktype, _tsresol(buf, body + 8, body_end, order), snap))
        off += blen
    if stats.truncated_tail:
        log.warning("%s: capture ends inside a block (cut off); read %d whole frames", r.path, stats.packets)


def _tsresol(buf: mmap.mmap, off: int, end: int, order: str) -> float:
    """Seconds per timestamp tick from the IDB options (default microseconds)."""
    while end - off >= 4:
        code, length = struct.unpack_from(order + "HH", buf, off)
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = buf[off + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        off += 4 + (length + 3) // 4 * 4
    return 1e-6
