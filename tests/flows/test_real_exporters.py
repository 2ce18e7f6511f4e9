"""What real exporters send and the first trials found (issue 9), through real UDP datagrams to the real receiver:
zero padding after the last v9 flowset, Cisco ASA NSEL biflows, H3C's variable-length v9 fields, data sets with
leftover bytes (nProbe DPI)."""

from __future__ import annotations

import logging
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

import pytest

from collector.flows.config import FlowsConfig
from collector.flows.netflow import ExporterStats
from collector.flows.synth import (
    V9_FIELDS,
    SynthFlow,
    ipfix_custom_packet,
    ipfix_packet,
    v9_custom_packet,
    v9_packet,
)
from linewatch.influx import Point
from linewatch.inventory import Inventory

T0 = 1_700_000_000  # T0 % 60 == 20: the minute starts at T0 - 20
MINUTE_NS = (T0 - 20) * 10**9
CFG = FlowsConfig(interval_s=60, top_n=5, flush_delay_s=0, local_networks=["10.0.0.0/8"],
                  exporters=[{"address": "127.0.0.1", "line": "L-PROBE"}])
FLOW = SynthFlow("10.0.0.1", "198.51.100.9", 17, 40000, 53, 7000, 7, 3, 5, T0 + 5)


def _wait(cond: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def _through_receiver(receiver_factory, inventory: Inventory, packets: list[bytes]) -> tuple[ExporterStats,
                                                                                             list[Point]]:
    """Send ``packets`` over UDP to a real receiver (clock fixed at T0 + 30), stop it; its stats and points."""
    r, points = receiver_factory(CFG, inventory, clock=lambda: float(T0 + 30))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for packet in packets:
            sock.sendto(packet, ("127.0.0.1", r.port))
    assert _wait(lambda: r.run_in_loop(lambda: r.service.datagrams) == len(packets)), "datagrams not received"
    stats = r.run_in_loop(lambda: r.service.decoder.stats["127.0.0.1"])
    r.stop()
    return stats, points


def _top(points: list[Point]) -> set[tuple[Any, ...]]:
    """(direction, src, dst, bytes) of every ranked conversation."""
    return {(p.tags["direction"], p.fields["src"], p.fields["dst"], p.fields["bytes"]) for p in points
            if p.measurement == "flow_top" and p.tags["rank"] != "other"}


# -- zero padding after the last v9 flowset --------------------------------------------------------------------

@pytest.mark.parametrize("padding", [
    pytest.param(4, id="cisco-aci-4-bytes"),
    pytest.param(8, id="pan-os-8-bytes"),
    pytest.param(12, id="softflowd-12-bytes"),
    pytest.param(3, id="shorter-than-a-set-header"),
])
def test_zero_padding_after_the_last_v9_flowset_is_not_malformed(receiver_factory, inventory: Inventory,
                                                                 caplog: pytest.LogCaptureFixture,
                                                                 padding: int) -> None:
    packet = v9_packet([FLOW], export_s=T0 + 30, sequence=0) + bytes(padding)
    with caplog.at_level(logging.WARNING, logger="collector.flows"):
        stats, points = _through_receiver(receiver_factory, inventory, [packet])
    assert (stats.records, stats.malformed_packets, dict(stats.malformed_reasons)) == (1, 0, {})
    assert _top(points) == {("out", "10.0.0.1", "198.51.100.9", 7000)}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_nonzero_bytes_after_the_last_v9_flowset_are_still_malformed(receiver_factory, inventory: Inventory) -> None:
    packet = v9_packet([FLOW], export_s=T0 + 30, sequence=0) + b"\x00\x00\x00\x07"
    stats, _ = _through_receiver(receiver_factory, inventory, [packet])
    assert stats.malformed_packets == 1  # a set header claiming 7 bytes is not padding


# -- Cisco ASA NSEL -----------------------------------------------------------------------------------------------

# ASA 9.x data template (flow-teardown events): NF_F_CONN_ID, addresses/ports/interfaces (2-byte ifIndex),
# protocol, ICMP type/code, NF_F_FW_EVENT (233), NF_F_FW_EXT_EVENT (33002), NF_F_EVENT_TIME_MSEC (323),
# NF_F_FWD_FLOW_DELTA_BYTES (231), NF_F_REV_FLOW_DELTA_BYTES (232), NF_F_FLOW_CREATE_TIME_MSEC (152).
NSEL_FIELDS = [(148, 4), (8, 4), (7, 2), (10, 2), (12, 4), (11, 2), (14, 2), (4, 1), (176, 1), (177, 1), (233, 1),
               (33002, 2), (323, 8), (231, 4), (232, 4), (152, 8)]
NSEL_RECORD = struct.Struct("!I4sHH4sHHBBBBHQIIQ")


def _nsel(conn: int, src: str, sport: int, dst: str, dport: int, event: int, fwd: int, rev: int,
          event_s: float) -> bytes:
    return NSEL_RECORD.pack(conn, socket.inet_aton(src), sport, 3, socket.inet_aton(dst), dport, 5, 6, 0, 0, event,
                            2030, round(event_s * 1000), fwd, rev, round((event_s - 40) * 1000))


def test_cisco_asa_nsel_initiator_and_responder_octets_are_decoded_with_direction(receiver_factory,
                                                                                  inventory: Inventory) -> None:
    data = (_nsel(1, "10.0.0.5", 51000, "198.51.100.20", 443, 1, 0, 0, T0 + 1)  # flow create: nothing yet
            + _nsel(1, "10.0.0.5", 51000, "198.51.100.20", 443, 2, 12_000, 340_000, T0 - 25)  # teardown
            + _nsel(2, "198.51.100.77", 50000, "10.0.0.9", 25, 2, 9_000, 800, T0 - 30))  # inbound connection
    packet = v9_custom_packet(NSEL_FIELDS, data, export_s=T0 + 30, sequence=0)
    stats, points = _through_receiver(receiver_factory, inventory, [packet])
    assert (stats.malformed_packets, stats.ignored_records) == (0, 0)
    assert stats.records == 4  # two directions of each teardown; the create event carries no bytes
    assert _top(points) == {
        ("out", "10.0.0.5", "198.51.100.20", 12_000), ("in", "198.51.100.20", "10.0.0.5", 340_000),
        ("in", "198.51.100.77", "10.0.0.9", 9_000), ("out", "10.0.0.9", "198.51.100.77", 800),
    }
    # Timed by the event time (IE 323): the minute before the export time.
    assert {p.time_ns for p in points if p.measurement != "flow_exporter"} == {MINUTE_NS - 60 * 10**9}
    ports = {(p.tags["direction"], p.fields["dst_port"]) for p in points
             if p.measurement == "flow_top" and p.tags["rank"] == "1"}
    assert ports == {("out", 443), ("in", 51000)}  # the responder's direction has its ports swapped


def test_nsel_biflow_interfaces_swap_for_the_responder(inventory: Inventory) -> None:
    # Pure decoding detail (which ifIndex the responder's traffic entered on) that the line summary hides.
    from collector.flows.netflow import FlowDecoder

    data = _nsel(1, "10.0.0.5", 51000, "198.51.100.20", 443, 2, 12_000, 340_000, T0 + 15)
    records = FlowDecoder().decode(v9_custom_packet(NSEL_FIELDS, data, export_s=T0 + 30, sequence=0), "192.0.2.1")
    assert [(r.src_port, r.dst_port, r.bytes, r.in_if, r.out_if, r.end_s) for r in records] == [
        (51000, 443, 12_000, 3, 5, T0 + 15.0), (443, 51000, 340_000, 5, 3, T0 + 15.0)]


# -- variable-length v9 fields (H3C NetStream) ------------------------------------------------------------------

H3C_FIELDS = [(8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (1, 4), (2, 4), (82, 65535), (153, 8)]


def _h3c(src: str, dst: str, nbytes: int, if_name: bytes, end_s: float) -> bytes:
    name = bytes([len(if_name)]) + if_name if len(if_name) < 255 else b"\xff" + struct.pack("!H", len(if_name)) + if_name
    return (struct.pack("!4s4sBHHII", socket.inet_aton(src), socket.inet_aton(dst), 17, 4000, 53, nbytes, 3)
            + name + struct.pack("!Q", round(end_s * 1000)))


def test_v9_template_field_of_length_65535_is_variable_length_like_ipfix(receiver_factory,
                                                                        inventory: Inventory) -> None:
    data = (_h3c("10.0.0.1", "198.51.100.1", 1500, b"GigabitEthernet1/0/1", T0 + 3)
            + _h3c("198.51.100.2", "10.0.0.2", 2500, b"X" * 300, T0 + 4)  # 3-byte length form
            + _h3c("10.0.0.3", "198.51.100.3", 3500, b"", T0 + 5))
    packet = v9_custom_packet(H3C_FIELDS, data, export_s=T0 + 30, sequence=0, trailer=b"")
    stats, points = _through_receiver(receiver_factory, inventory, [packet])
    assert (stats.templates_learned, stats.malformed_packets, stats.records) == (1, 0, 3)
    assert _top(points) == {("out", "10.0.0.1", "198.51.100.1", 1500), ("in", "198.51.100.2", "10.0.0.2", 2500),
                            ("out", "10.0.0.3", "198.51.100.3", 3500)}


# -- data sets with leftover bytes (nProbe DPI) -------------------------------------------------------------------

def _v9_records(flows: list[SynthFlow]) -> bytes:
    # v9_packet's data set without its set header and padding: records of V9_FIELDS
    packet = v9_packet(flows, export_s=T0 + 30, sequence=0, with_template=False)
    return packet[20 + 4:20 + 4 + V9_RECORD_LEN * len(flows)]


V9_RECORD_LEN = sum(length for _, length in V9_FIELDS)
FLOWS3 = [SynthFlow(f"10.0.0.{i}", "198.51.100.9", 17, 40000, 53, 1000 * i, i, 3, 5, T0 + 5) for i in (1, 2, 3)]
IPFIX_FIELDS_SMALL = [(8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (1, 8), (2, 8), (153, 8)]


def _ipfix_records(flows: list[SynthFlow]) -> bytes:
    return b"".join(struct.pack("!4s4sBHHQQQ", socket.inet_aton(f.src), socket.inet_aton(f.dst), f.proto,
                                f.src_port, f.dst_port, f.bytes, f.packets, round(f.end_s * 1000)) for f in flows)


@pytest.mark.parametrize(("packet", "leftover"), [
    pytest.param(v9_custom_packet(V9_FIELDS, _v9_records(FLOWS3) + b"\x01\x02\x03\x04\x05\x06\x07", export_s=T0 + 30,
                                  sequence=0), 7, id="v9-nprobe-dpi-7-bytes"),
    pytest.param(v9_custom_packet(V9_FIELDS, _v9_records(FLOWS3) + b"\xaa" * (V9_RECORD_LEN - 1), export_s=T0 + 30,
                                  sequence=0), V9_RECORD_LEN - 1,
                 id="v9-one-byte-short-of-a-record"),
    pytest.param(ipfix_custom_packet(IPFIX_FIELDS_SMALL, _ipfix_records(FLOWS3) + b"\x05\x00\x00\x00\x09",
                                     export_s=T0 + 30, sequence=0), 5, id="ipfix-5-bytes"),
    pytest.param(v9_custom_packet(H3C_FIELDS, _h3c("10.0.0.1", "198.51.100.9", 1000, b"ge1", T0 + 5)
                                  + _h3c("10.0.0.2", "198.51.100.9", 2000, b"ge2", T0 + 5)
                                  + _h3c("10.0.0.3", "198.51.100.9", 3000, b"ge3", T0 + 5)
                                  + _h3c("10.0.0.4", "198.51.100.9", 4000, b"ge4", T0 + 5)[:-3],
                                  export_s=T0 + 30, sequence=0), 30, id="v9-variable-length-last-record-cut"),
])
def test_a_data_set_with_leftover_bytes_keeps_its_complete_records(receiver_factory, inventory: Inventory,
                                                                   packet: bytes, leftover: int) -> None:
    stats, points = _through_receiver(receiver_factory, inventory, [packet])
    assert (stats.records, stats.malformed_packets) == (3, 0)
    assert (stats.leftover_sets, stats.leftover_bytes) == (1, leftover)
    assert {(src, nbytes) for _, src, _, nbytes in _top(points)} == {("10.0.0.1", 1000), ("10.0.0.2", 2000),
                                                                     ("10.0.0.3", 3000)}


def test_zero_padding_inside_a_data_set_is_not_leftover(receiver_factory, inventory: Inventory) -> None:
    packets = [v9_custom_packet(V9_FIELDS, _v9_records(FLOWS3) + bytes(7), export_s=T0 + 30, sequence=0),
               ipfix_packet(FLOWS3, export_s=T0 + 30, sequence=0)]
    stats, _ = _through_receiver(receiver_factory, inventory, packets)
    assert (stats.records, stats.leftover_sets, stats.malformed_packets) == (6, 0, 0)


def _pcap_of_datagrams(path, datagrams: list[bytes], port: int = 2055) -> None:
    """The datagrams as Ethernet/IPv4/UDP frames to ``port`` in a pcap file (for tshark's cflow dissector)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, payload in enumerate(datagrams):
        udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, socket.inet_aton("127.0.0.1"),
                         socket.inet_aton("127.0.0.1"))
        frame = bytes(12) + b"\x08\x00" + ip + udp
        out.append(struct.pack("<IIII", T0 + i, 0, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def test_nsel_decoding_matches_tshark(tmp_path) -> None:
    # tshark's cflow dissector reads IE 231/232/323 as initiatorOctets/responderOctets/observationTimeMilliseconds:
    # our synthetic ASA export means what we think it means, and we decode what tshark decodes.
    import subprocess

    from collector.flows.netflow import FlowDecoder
    from collector.flows.records import ip_text

    data = (_nsel(1, "10.0.0.5", 51000, "198.51.100.20", 443, 2, 12_000, 340_000, T0 - 25)
            + _nsel(2, "198.51.100.77", 50000, "10.0.0.9", 25, 2, 9_000, 800, T0 - 30))
    packet = v9_custom_packet(NSEL_FIELDS, data, export_s=T0 + 30, sequence=0)
    path = tmp_path / "asa.pcap"
    _pcap_of_datagrams(path, [packet])
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-d", "udp.port==2055,cflow", "-T", "fields",
                          "-E", "occurrence=a", "-E", "aggregator=;", "-e", "cflow.srcaddr", "-e", "cflow.dstaddr",
                          "-e", "cflow.initiator_octets", "-e", "cflow.responder_octets",
                          "-e", "frame.number"], capture_output=True, text=True, timeout=120, check=True).stdout
    src, dst, fwd, rev, _ = out.strip().split("\t")
    theirs = list(zip(src.split(";"), dst.split(";"), map(int, fwd.split(";")), map(int, rev.split(";"))))
    records = FlowDecoder().decode(packet, "192.0.2.1")
    ours = [(ip_text(r.src), ip_text(r.dst), r.bytes) for r in records]
    expected = []
    for s, d, f, r in theirs:
        expected += [(s, d, f), (d, s, r)]
    assert ours == expected
