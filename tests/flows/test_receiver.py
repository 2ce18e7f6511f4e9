"""The real UDP receiver is never stalled: not by bad datagrams, not by a bug while handling one, not by a blocked
InfluxDB writer. Everything goes through 127.0.0.1 with real sockets."""

from __future__ import annotations

import dataclasses
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

from collector.flows.config import FlowsConfig
from collector.flows.service import FlowService, ThreadedSink
from collector.flows.synth import SynthFlow, ipfix_packet, v5_packet, v9_packet
from linewatch.influx import Point
from linewatch.inventory import Inventory
from tests.flows.conftest import Receiver

T0 = 1_700_000_000
FLOW = SynthFlow("10.0.0.1", "198.51.100.9", 6, 40000, 443, 7000, 7, 0, 0, T0)
CFG = FlowsConfig(interval_s=60, top_n=3, flush_delay_s=0, local_networks=["10.0.0.0/8"],
                  exporters=[{"address": "127.0.0.1", "line": "L-PROBE"}])

BAD_DATAGRAMS = [
    b"",  # empty
    b"\x00",  # shorter than a version
    b"\x00\x07" + bytes(40),  # NetFlow v7: unsupported version
    v5_packet([FLOW], export_s=T0, sequence=0)[:30],  # truncated v5
    struct.pack("!HHIIII", 9, 1, 0, T0, 0, 0) + struct.pack("!HH", 0, 0xFFFF),  # v9 set claiming 64 KiB
    struct.pack("!HHIII", 10, 0xFFFF, T0, 0, 0),  # IPFIX message length past the datagram
    struct.pack("!HHIII", 10, 24, T0, 0, 0) + struct.pack("!HHHH", 2, 8, 300, 60000),  # absurd field count
    b"\xff" * 1400,  # noise
]


def _wait(cond: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def _records(r: Receiver) -> int:
    return r.run_in_loop(lambda: sum(s.records for s in r.service.decoder.stats.values()))


def test_bad_datagrams_and_a_handler_bug_do_not_stop_the_receiver(inventory: Inventory) -> None:
    service = FlowService(CFG, inventory, sink=lambda points: None)
    real_decode = service.decoder.decode

    def buggy_decode(data: bytes, exporter: str, **kw: object) -> list:
        if data == b"BUG":
            raise RuntimeError("a bug in the decoder")
        return real_decode(data, exporter, **kw)

    service.decoder.decode = buggy_decode  # type: ignore[method-assign]
    r = Receiver(service).start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for data in [*BAD_DATAGRAMS, b"BUG"]:
                sock.sendto(data, ("127.0.0.1", r.port))
            for packet in ((v9_packet([FLOW], export_s=T0, sequence=0),
                                          ipfix_packet([FLOW], export_s=T0, sequence=0, domain=5))):
                sock.sendto(packet, ("127.0.0.1", r.port))
            assert _wait(lambda: _records(r) == 2), "valid datagrams after bad ones were not decoded"
        st = r.run_in_loop(lambda: r.service.decoder.stats["127.0.0.1"])
        assert st.malformed_packets == len(BAD_DATAGRAMS)
        assert r.run_in_loop(lambda: r.service.datagrams) == len(BAD_DATAGRAMS) + 3
    finally:
        r.stop()


def test_a_blocked_influxdb_writer_does_not_stall_receiving(inventory: Inventory, tmp_path: Path) -> None:
    release = threading.Event()
    written: list[Point] = []

    def slow_write(points: list[Point]) -> None:  # InfluxDB hanging: the writer thread waits
        release.wait(30)
        written.extend(points)

    sink = ThreadedSink(slow_write, max_batches=2)
    now = [float(T0)]  # injected clock: each minute is finished (and flushed) on demand
    service = FlowService(CFG, inventory, sink=sink, template_path=tmp_path / "t.json", clock=lambda: now[0])
    r = Receiver(service).start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for minute in range(20):
                start = T0 + 60 * minute
                now[0] = start + 30
                flow = dataclasses.replace(FLOW, end_s=start + 10)
                sock.sendto(ipfix_packet([flow], export_s=start + 30, sequence=minute), ("127.0.0.1", r.port))
                assert _wait(lambda m=minute: _records(r) == m + 1), f"datagram {minute} not handled"
                now[0] = start + 61  # the minute is over: the next tick hands it to the (stuck) writer
                assert _wait(lambda: r.run_in_loop(lambda: r.service.aggregator.open_buckets()) == 0)
        assert sink.dropped_batches > 0  # bounded queue: dropped and counted rather than blocking the loop
    finally:
        r.stop()
        release.set()
        sink.close()
    assert written  # what was queued is written once InfluxDB answers again


def test_a_restart_never_rewrites_the_partial_minute_written_at_shutdown(inventory: Inventory,
                                                                        tmp_path: Path) -> None:
    # Shutdown writes the open minute (ranks 1..3 + other). Writing that minute again after a restart would
    # replace it with a second partial summary and leave ranks 2..3 of the first one behind: the rows would no
    # longer add up. The restarted receiver counts those flows in the next minute instead, like late flows.
    state = tmp_path / "flow-templates.json"
    minute = T0 - T0 % 60
    now = [minute + 20.0]
    points: list[Point] = []
    first = FlowService(CFG, inventory, sink=points.extend, template_path=state, clock=lambda: now[0])
    flows = [dataclasses.replace(FLOW, src=f"10.0.0.{i}", bytes=1000 * i, end_s=minute + 5) for i in range(1, 5)]
    first.handle_datagram(ipfix_packet(flows, export_s=int(now[0]), sequence=0), ("127.0.0.1", 9999))
    first.tick(final=True)
    first_ranks = {p.tags["rank"] for p in points if p.measurement == "flow_top"}
    assert first_ranks == {"1", "2", "3", "other"}
    assert {p.time_ns for p in points} == {minute * 10**9}

    points.clear()
    now[0] = minute + 40.0
    second = FlowService(CFG, inventory, sink=points.extend, template_path=state, clock=lambda: now[0])
    late = [dataclasses.replace(FLOW, end_s=minute + 30)]  # same minute, after the restart; no template resent
    assert second.handle_datagram(ipfix_packet(late, export_s=int(now[0]), sequence=4, with_template=False),
                                  ("127.0.0.1", 9999)) == 1
    second.tick(final=True)
    assert {p.time_ns for p in points} == {(minute + 60) * 10**9}
    assert sum(p.fields["bytes"] for p in points if p.measurement == "flow_top") == FLOW.bytes
    assert second.aggregator.late_records == 1
