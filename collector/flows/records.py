"""The flow record every source produces (NetFlow v5/v9, IPFIX, packet captures) and address helpers."""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from typing import NamedTuple


class FlowRecord(NamedTuple):
    """One decoded flow (or one packet of a capture).

    Addresses stay as raw bytes (4 bytes IPv4, 16 bytes IPv6) on the hot path; :func:`ip_text` renders them.
    ``bytes``/``packets`` are already multiplied by the exporter's sampling interval. ``end_s`` is the flow's last
    packet in epoch seconds (what the minute buckets use); ``in_if``/``out_if`` are SNMP ifIndex values (0: unknown).
    """

    src: bytes
    dst: bytes
    proto: int
    src_port: int
    dst_port: int
    bytes: int
    packets: int
    in_if: int
    out_if: int
    end_s: float


@lru_cache(maxsize=65536)
def ip_text(raw: bytes) -> str:
    """``b"\\x0a\\x00\\x00\\x01"`` -> ``"10.0.0.1"``; 16 bytes -> compressed IPv6; anything else -> hex."""
    if len(raw) == 4:
        return socket.inet_ntoa(raw)
    if len(raw) == 16:
        return str(ipaddress.IPv6Address(raw))
    return raw.hex()


def ip_bytes(text: str) -> bytes:
    """The packed form of an address given as text (inverse of :func:`ip_text`)."""
    return ipaddress.ip_address(text).packed
