"""Fuzzing the decoders and the capture reader: random and mutated real packets never raise, never hang, and every
bad datagram is counted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.flows import softflowd
from collector.flows.netflow import FlowDecoder
from collector.flows.pcap import CaptureStats, iter_packets
from collector.flows.synth import (
    SynthFlow,
    SynthPacket,
    ipfix_packet,
    pcap_bytes,
    pcapng_bytes,
    v5_packet,
    v9_packet,
    v9_sampling_options,
)
from linewatch.errors import CaptureError

EXPORT_S = 1_700_000_000
_FLOWS = [SynthFlow(f"10.0.0.{i}", "198.51.100.1", 6, 1000 + i, 443, 1000 * i, i, 3, 4, EXPORT_S - i)
          for i in range(1, 6)]
SEEDS = [
    v5_packet(_FLOWS, export_s=EXPORT_S, sequence=0),
    v9_packet(_FLOWS, export_s=EXPORT_S, sequence=0),
    v9_packet(_FLOWS, export_s=EXPORT_S, sequence=1, with_template=False),
    v9_sampling_options(export_s=EXPORT_S, sequence=2, rate=10),
    ipfix_packet(_FLOWS, export_s=EXPORT_S, sequence=0),
    ipfix_packet(_FLOWS, export_s=EXPORT_S, sequence=5, with_template=False),
]
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(dec: FlowDecoder, data: bytes) -> None:
    before = dec.stats.get("198.51.100.9")
    malformed_before = before.malformed_packets if before else 0
    records = dec.decode(data, "198.51.100.9")
    st_ = dec.stats["198.51.100.9"]
    assert st_.malformed_packets in (malformed_before, malformed_before + 1)
    for r in records:
        assert len(r.src) in (4, 16) and len(r.dst) in (4, 16)
        assert r.bytes >= 0 and r.packets >= 0


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data: bytes) -> None:
    _check(FlowDecoder(), data)


@FUZZ
@given(st.sampled_from([b"\x00\x05", b"\x00\x09", b"\x00\x0a"]), st.binary(max_size=1500))
def test_random_bodies_behind_valid_versions_never_raise(version: bytes, body: bytes) -> None:
    _check(FlowDecoder(), version + body)


def _mutate(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "set", "truncate", "insert", "length"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        else:  # an absurd 16-bit length / count somewhere
            data[i:i + 2] = draw(st.sampled_from([b"\x00\x00", b"\xff\xff", b"\x00\x01", b"\x80\x00"]))
    return bytes(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    return _mutate(draw, draw(st.sampled_from(SEEDS)))


@FUZZ
@given(st.lists(mutated(), min_size=1, max_size=6))
def test_mutated_real_packets_never_raise_and_the_decoder_keeps_working(packets: list[bytes]) -> None:
    dec = FlowDecoder(pending_max_sets=4)
    for p in packets:
        _check(dec, p)
    # Still decodes a clean packet afterwards (stateful corruption must not wedge it).
    good = dec.decode(ipfix_packet(_FLOWS, export_s=EXPORT_S, sequence=0, domain=77), "198.51.100.10")
    assert len(good) == len(_FLOWS)


@pytest.fixture(scope="module")
def softflowd_export(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Real datagrams: a small generated capture exported by softflowd as v5, v9 and IPFIX (templates, options,
    data), as recorded on a loopback socket."""
    if not (softflowd.available() and shutil.which("softflowctl")):
        pytest.skip("needs Debian softflowd")
    from collector.flows.synth import traffic

    workdir = tmp_path_factory.mktemp("fuzz-softflowd")
    pcap = workdir / "seed.pcap"
    packets = traffic(seed=9, packets=400, start_s=EXPORT_S, duration_s=30, hosts=4, servers=4)
    pcap.write_bytes(pcap_bytes(packets))
    recorded = []
    for version in (5, 9, 10):
        recorded += softflowd.record_export(pcap, version=version, workdir=workdir, packets=len(packets),
                                            idle_s=0.3)
    assert len(recorded) >= 3
    return recorded


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_softflowd_datagrams_never_raise(softflowd_export: list[bytes], data: st.DataObject) -> None:
    dec = FlowDecoder(pending_max_sets=4)
    for _ in range(data.draw(st.integers(1, 4))):
        _check(dec, _mutate(data.draw, data.draw(st.sampled_from(softflowd_export))))
    # The unmutated export still decodes afterwards: every record, nothing malformed.
    fresh = FlowDecoder()
    assert sum(len(fresh.decode(d, "127.0.0.1")) for d in softflowd_export) > 0
    assert fresh.stats["127.0.0.1"].malformed_packets == 0


_PACKETS = [SynthPacket(EXPORT_S + i, "10.0.0.1", "198.51.100.1", 6 if i % 2 else 17, 1000, 443, 100 + i,
                        vlan=5 if i % 3 == 0 else None) for i in range(6)]
CAPTURES = [pcap_bytes(_PACKETS), pcap_bytes(_PACKETS, nanoseconds=True), pcapng_bytes(_PACKETS),
            pcapng_bytes(_PACKETS, simple_blocks=True)]


@st.composite
def mutated_capture(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CAPTURES)))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "truncate", "word"]))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[max(i, 1):]
        else:
            data[i:i + 4] = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x0c\x00\x00\x00"]))
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated_capture())
def test_mutated_captures_are_read_or_rejected_with_a_capture_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.pcap"
    path.write_bytes(data)
    stats = CaptureStats()
    try:
        for pkt in iter_packets(path, stats):
            assert len(pkt[1]) in (4, 16)
    except CaptureError as exc:
        assert str(path) in str(exc)
    assert stats.ip_packets <= stats.packets
