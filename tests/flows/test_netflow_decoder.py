"""NetFlow v5/v9/IPFIX decoding: records, templates (held data, persistence, withdrawal), sequence gaps, sampling,
and bad input counted per exporter instead of raised."""

from __future__ import annotations

import json
import logging
import struct

import pytest

from collector.flows.netflow import MAX_DOMAINS_PER_EXPORTER, V9_HEADER, FlowDecoder, TemplateCache
from collector.flows.records import ip_text
from collector.flows.service import load_templates, save_templates
from collector.flows.state import TemplateStore
from collector.flows.synth import (
    SynthFlow,
    ipfix_packet,
    v5_packet,
    v9_custom_packet,
    v9_packet,
    v9_sampling_options,
)

EXPORT_S = 1_700_000_100
FLOWS = [
    SynthFlow("10.0.0.1", "198.51.100.7", 6, 40000, 443, 150_000, 120, 3, 5, EXPORT_S - 10.0),
    SynthFlow("198.51.100.7", "10.0.0.1", 6, 443, 40000, 2_000_000, 1500, 5, 3, EXPORT_S - 2.5),
    SynthFlow("10.0.0.2", "192.0.2.53", 17, 5353, 53, 800, 8, 3, 5, EXPORT_S - 30.0),
]


class Clock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def _as_tuples(records):
    return [(ip_text(r.src), ip_text(r.dst), r.proto, r.src_port, r.dst_port, r.bytes, r.packets, r.in_if, r.out_if,
             round(r.end_s, 2)) for r in records]


EXPECTED = [(f.src, f.dst, f.proto, f.src_port, f.dst_port, f.bytes, f.packets, f.in_if, f.out_if, round(f.end_s, 2))
            for f in FLOWS]


@pytest.mark.parametrize("packet", [
    pytest.param(v5_packet(FLOWS, export_s=EXPORT_S, sequence=0), id="v5"),
    pytest.param(v9_packet(FLOWS, export_s=EXPORT_S, sequence=0), id="v9"),
    pytest.param(ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=0), id="ipfix"),
])
def test_each_version_decodes_every_field_we_use(packet: bytes) -> None:
    dec = FlowDecoder()
    assert _as_tuples(dec.decode(packet, "192.0.2.1")) == EXPECTED
    assert dec.stats["192.0.2.1"].malformed_packets == 0


@pytest.mark.parametrize("make", [
    pytest.param(lambda fl, seq, tpl: v9_packet(fl, export_s=EXPORT_S, sequence=seq, with_template=tpl), id="v9"),
    pytest.param(lambda fl, seq, tpl: ipfix_packet(fl, export_s=EXPORT_S, sequence=seq, with_template=tpl),
                 id="ipfix"),
])
def test_data_before_its_template_is_held_and_decoded_when_the_template_arrives(make) -> None:
    dec = FlowDecoder()
    assert dec.decode(make(FLOWS, 0, False), "192.0.2.1") == []
    assert dec.stats["192.0.2.1"].pending_sets == 1
    records = dec.decode(make([], 1, True), "192.0.2.1")
    assert _as_tuples(records) == EXPECTED
    st = dec.stats["192.0.2.1"]
    assert (st.pending_sets, st.pending_decoded_sets, st.malformed_packets) == (0, 1, 0)


def test_held_data_expires_after_the_hold_time_and_is_counted() -> None:
    clock = Clock()
    dec = FlowDecoder(pending_hold_s=30, clock=clock)
    dec.decode(ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=0, with_template=False), "192.0.2.1")
    clock.t += 31
    dec.expire_pending()
    assert dec.decode(ipfix_packet([], export_s=EXPORT_S, sequence=3, with_template=True), "192.0.2.1") == []
    st = dec.stats["192.0.2.1"]
    assert (st.pending_sets, st.pending_expired_sets) == (0, 1)


def test_held_data_is_bounded_per_exporter() -> None:
    dec = FlowDecoder(pending_max_sets=2)
    for seq in range(5):
        dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=seq, with_template=False), "192.0.2.1")
    st = dec.stats["192.0.2.1"]
    assert (st.pending_sets, st.pending_overflow_sets) == (2, 3)


def test_templates_are_kept_per_exporter_and_observation_domain() -> None:
    dec = FlowDecoder()
    dec.decode(ipfix_packet([], export_s=EXPORT_S, sequence=0, domain=1), "192.0.2.1")
    assert dec.decode(ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=0, domain=2, with_template=False),
                      "192.0.2.1") == []
    assert dec.decode(ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=0, domain=1, with_template=False),
                      "192.0.2.9") == []
    assert len(dec.decode(ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=0, domain=1, with_template=False),
                          "192.0.2.1")) == 3


def test_persisted_templates_decode_data_after_a_restart(tmp_path) -> None:
    path = tmp_path / "state" / "templates.json"
    first = FlowDecoder()
    first.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=0, source_id=7), "192.0.2.1")
    assert first.templates.changed
    save_templates(first.templates, path)
    assert not first.templates.changed
    restarted = FlowDecoder(templates=load_templates(path))
    records = restarted.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=1, source_id=7, with_template=False),
                               "192.0.2.1")
    assert _as_tuples(records) == EXPECTED


def test_the_sampling_interval_survives_a_restart_with_the_templates(tmp_path) -> None:
    # A restarted receiver decodes data with the saved template at once; it must also scale it by the exporter's
    # sampling interval instead of counting 1 in 64 until the exporter sends its options again.
    path = tmp_path / "templates.json"
    first = FlowDecoder()
    first.decode(v9_sampling_options(export_s=EXPORT_S, sequence=0, rate=64), "192.0.2.1")
    first.decode(v9_packet(FLOWS[:1], export_s=EXPORT_S, sequence=1), "192.0.2.1")
    assert first.templates.changed
    save_templates(first.templates, path)
    restarted = FlowDecoder(templates=load_templates(path))
    (record,) = restarted.decode(v9_packet(FLOWS[:1], export_s=EXPORT_S, sequence=2, with_template=False),
                                 "192.0.2.1")
    assert (record.bytes, record.packets) == (FLOWS[0].bytes * 64, FLOWS[0].packets * 64)
    assert restarted.sampling_rate("192.0.2.1", 9, 0) == 64
    assert restarted.sampling_rate("192.0.2.2", 9, 0) == 1  # per exporter, not global


def test_a_template_file_without_sampling_state_still_loads(tmp_path) -> None:
    first = FlowDecoder()
    first.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=0), "192.0.2.1")
    data = first.templates.to_json()
    del data["domains"]  # written by an earlier version
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    assert len(load_templates(path)) == 1


@pytest.mark.parametrize("content", [
    pytest.param("{not json", id="not-json"),
    pytest.param(json.dumps({"format": 99}), id="unknown-format"),
    pytest.param(json.dumps({"format": 1, "templates": [{"exporter": "x"}]}), id="missing-keys"),
])
def test_an_unreadable_template_file_starts_empty_instead_of_failing(tmp_path, content: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(content)
    assert len(load_templates(path)) == 0


def _ipfix_options_template(template_id: int) -> bytes:
    """An IPFIX options template set: scope observationDomainId, option samplingPacketInterval."""
    tmpl = struct.pack("!HHH", template_id, 2, 1) + struct.pack("!HHHH", 149, 4, 305, 4)
    body = struct.pack("!HH", 3, 4 + len(tmpl)) + tmpl
    return struct.pack("!HHIII", 10, 16 + len(body), EXPORT_S, 0, 0) + body


def _ipfix_withdrawal(set_id: int, template_id: int) -> bytes:
    withdraw = struct.pack("!HH", template_id, 0)
    body = struct.pack("!HH", set_id, 4 + len(withdraw)) + withdraw
    return struct.pack("!HHIII", 10, 16 + len(body), EXPORT_S, 0, 0) + body


@pytest.mark.parametrize(("set_id", "template_id", "gone", "kept"), [
    pytest.param(2, 256, {256}, {257, 400}, id="one-template"),
    pytest.param(3, 400, {400}, {256, 257}, id="one-options-template"),
    pytest.param(2, 2, {256, 257}, {400}, id="all-templates-of-the-domain"),
    pytest.param(3, 3, {400}, {256, 257}, id="all-options-templates-of-the-domain"),
])
def test_ipfix_template_withdrawal_forgets_the_template(set_id: int, template_id: int, gone: set[int],
                                                        kept: set[int]) -> None:
    dec = FlowDecoder()
    for tid in (256, 257):
        dec.decode(ipfix_packet([], export_s=EXPORT_S, sequence=0, template_id=tid), "192.0.2.1")
    dec.decode(_ipfix_options_template(400), "192.0.2.1")
    dec.decode(ipfix_packet([], export_s=EXPORT_S, sequence=0, domain=9), "192.0.2.1")  # another domain
    dec.decode(_ipfix_withdrawal(set_id, template_id), "192.0.2.1")
    st = dec.stats["192.0.2.1"]
    assert st.malformed_packets == 0
    assert st.templates_withdrawn == len(gone)
    assert {t for t in (256, 257, 400) if dec.templates.get(("192.0.2.1", 10, 0, t)) is None} == gone
    assert {t for t in (256, 257, 400) if dec.templates.get(("192.0.2.1", 10, 0, t)) is not None} == kept
    assert dec.templates.get(("192.0.2.1", 10, 9, 256)) is not None
    if 256 in gone:  # its data is held again, not decoded with the withdrawn template
        assert dec.decode(ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=0, with_template=False),
                          "192.0.2.1") == []


@pytest.mark.parametrize(("packets", "field", "expected"), [
    pytest.param([v5_packet(FLOWS, export_s=EXPORT_S, sequence=0), v5_packet(FLOWS, export_s=EXPORT_S, sequence=3)],
                 "lost_records", 0, id="v5-contiguous"),
    pytest.param([v5_packet(FLOWS, export_s=EXPORT_S, sequence=0), v5_packet(FLOWS, export_s=EXPORT_S, sequence=10)],
                 "lost_records", 7, id="v5-seven-flows-lost"),
    pytest.param([v9_packet(FLOWS, export_s=EXPORT_S, sequence=5), v9_packet(FLOWS, export_s=EXPORT_S, sequence=6)],
                 "lost_packets", 0, id="v9-contiguous"),
    pytest.param([v9_packet(FLOWS, export_s=EXPORT_S, sequence=5), v9_packet(FLOWS, export_s=EXPORT_S, sequence=9)],
                 "lost_packets", 3, id="v9-three-packets-lost"),
    pytest.param([ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=0),
                  ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=3)], "lost_records", 0, id="ipfix-contiguous"),
    pytest.param([ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=0),
                  ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=8)], "lost_records", 5, id="ipfix-five-lost"),
    pytest.param([ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=3),
                  ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=6)], "lost_records", 0,
                 id="ipfix-softflowd-numbers-include-the-message-itself"),
    pytest.param([v9_packet(FLOWS, export_s=EXPORT_S, sequence=0xFFFFFFFF),
                  v9_packet(FLOWS, export_s=EXPORT_S, sequence=0)], "lost_packets", 0, id="v9-wraps-at-2**32"),
])
def test_sequence_gaps_are_counted_as_loss_per_exporter(packets, field: str, expected: int) -> None:
    dec = FlowDecoder()
    for p in packets:
        dec.decode(p, "192.0.2.1")
    assert getattr(dec.stats["192.0.2.1"], field) == expected
    assert dec.stats["192.0.2.1"].sequence_gaps == (1 if expected else 0)


def test_interleaved_exporters_and_domains_keep_their_own_sequence() -> None:
    # Two routers and two source ids on one address, interleaved: only 192.0.2.2's gap of 4 packets is loss.
    dec = FlowDecoder()
    for seq_a, seq_b in ((10, 500), (11, 501), (12, 506), (13, 507)):
        dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=seq_a, source_id=1), "192.0.2.1")
        dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=seq_a + 1000, source_id=2), "192.0.2.1")
        dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=seq_b, source_id=1), "192.0.2.2")
    a, b = dec.stats["192.0.2.1"], dec.stats["192.0.2.2"]
    assert (a.sequence_gaps, a.lost_packets, a.sequence_resets) == (0, 0, 0)
    assert (b.sequence_gaps, b.lost_packets, b.sequence_resets) == (1, 4, 0)


@pytest.mark.parametrize(("exporter", "tracked"), [
    pytest.param("198.51.100.7", 0, id="unconfigured-exporter-keeps-none"),
    pytest.param("192.0.2.1", MAX_DOMAINS_PER_EXPORTER, id="configured-exporter-capped"),
])
def test_spoofed_observation_domains_do_not_grow_sequence_state(exporter: str, tracked: int) -> None:
    """A flood with a new v9 source id in every datagram (spoofed, no templates needed) used to add sequence state
    for each: ~230 bytes a datagram, without bound. Only configured exporters keep it, for a bounded number of
    domains; the domains already tracked still count their gaps."""
    dec = FlowDecoder(accept=lambda address, domain: address == "192.0.2.1")
    n = MAX_DOMAINS_PER_EXPORTER + 500
    for source_id in range(n):
        dec.decode(V9_HEADER.pack(9, 0, 1000, EXPORT_S, 7, source_id), exporter)
    assert dec.stats[exporter].packets == n
    assert len(dec._last_seq) == tracked
    dec.decode(V9_HEADER.pack(9, 0, 1000, EXPORT_S, 12, 0), exporter)  # source id 0: 4 datagrams lost
    assert dec.stats[exporter].lost_packets == (4 if tracked else 0)


def test_an_exporter_restart_counts_a_reset_not_loss() -> None:
    dec = FlowDecoder()
    dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=5000), "192.0.2.1")
    dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=0), "192.0.2.1")
    st = dec.stats["192.0.2.1"]
    assert (st.sequence_resets, st.lost_packets) == (1, 0)


@pytest.mark.parametrize(("packet", "rate"), [
    pytest.param(v5_packet(FLOWS[:1], export_s=EXPORT_S, sequence=0, sampling=0x4000 | 100), 100, id="v5-header"),
    pytest.param(None, 64, id="v9-options-template"),
])
def test_sampled_flows_are_scaled_by_the_sampling_interval(packet, rate: int) -> None:
    dec = FlowDecoder()
    if packet is None:
        dec.decode(v9_sampling_options(export_s=EXPORT_S, sequence=0, rate=rate), "192.0.2.1")
        packet = v9_packet(FLOWS[:1], export_s=EXPORT_S, sequence=1)
    (record,) = dec.decode(packet, "192.0.2.1")
    assert (record.bytes, record.packets) == (FLOWS[0].bytes * rate, FLOWS[0].packets * rate)


def _ipfix_with(fields: list[tuple[int, int]], record: bytes, *, enterprise: dict[int, int] | None = None) -> bytes:
    spec = b""
    for i, (ie, length) in enumerate(fields):
        if enterprise and i in enterprise:  # enterprise: field position -> enterprise number
            spec += struct.pack("!HHI", ie | 0x8000, length, enterprise[i])
        else:
            spec += struct.pack("!HH", ie, length)
    tmpl = struct.pack("!HH", 300, len(fields)) + spec
    sets = struct.pack("!HH", 2, 4 + len(tmpl)) + tmpl + struct.pack("!HH", 300, 4 + len(record)) + record
    return struct.pack("!HHIII", 10, 16 + len(sets), EXPORT_S, 0, 0) + sets


@pytest.mark.parametrize(("fields", "record", "enterprise", "expected"), [
    pytest.param([(8, 4), (12, 4), (4, 1), (1, 3), (2, 2)],
                 bytes([10, 0, 0, 1, 10, 0, 0, 2, 6]) + (70000).to_bytes(3, "big") + (9).to_bytes(2, "big"), None,
                 ("10.0.0.1", "10.0.0.2", 6, 70000, 9), id="reduced-size-3-byte-octets"),
    pytest.param([(8, 4), (12, 4), (4, 1), (82, 65535), (1, 4)],
                 bytes([10, 0, 0, 1, 10, 0, 0, 2, 17, 4]) + b"eth0" + (1234).to_bytes(4, "big"), None,
                 ("10.0.0.1", "10.0.0.2", 17, 1234, 0), id="variable-length-interface-name"),
    pytest.param([(8, 4), (1, 4), (12, 4), (4, 1), (1, 4)],
                 bytes([10, 0, 0, 1]) + (5).to_bytes(4, "big") + bytes([10, 0, 0, 2, 6]) + (77).to_bytes(4, "big"),
                 {1: 9}, ("10.0.0.1", "10.0.0.2", 6, 77, 0), id="enterprise-field-with-a-standard-number-skipped"),
    pytest.param([(27, 16), (28, 16), (4, 1), (85, 8)],
                 bytes(15) + b"\x01" + bytes(15) + b"\x02" + b"\x11" + (99).to_bytes(8, "big"), None,
                 ("::1", "::2", 17, 99, 0), id="ipv6-total-octets"),
])
def test_unusual_but_valid_templates_decode(fields, record: bytes, enterprise, expected) -> None:
    dec = FlowDecoder()
    (r,) = dec.decode(_ipfix_with(fields, record, enterprise=enterprise), "192.0.2.1")
    assert (ip_text(r.src), ip_text(r.dst), r.proto, r.bytes, r.packets) == expected
    assert dec.stats["192.0.2.1"].malformed_packets == 0


def test_data_templates_without_addresses_or_bytes_are_skipped_and_counted() -> None:
    dec = FlowDecoder()
    packet = _ipfix_with([(4, 1), (7, 2), (11, 2)], bytes([6, 0, 80, 1, 187]) * 2)
    assert dec.decode(packet, "192.0.2.1") == []
    st = dec.stats["192.0.2.1"]
    assert (st.ignored_records, st.malformed_packets) == (2, 0)


_V9 = v9_packet(FLOWS, export_s=EXPORT_S, sequence=0)
_IPFIX = ipfix_packet(FLOWS, export_s=EXPORT_S, sequence=0)


def _ipfix_raw(sets: bytes) -> bytes:
    return struct.pack("!HHIII", 10, 16 + len(sets), EXPORT_S, 0, 0) + sets


@pytest.mark.parametrize(("packet", "reason"), [
    pytest.param(b"", "truncated", id="empty"),
    pytest.param(b"\x00\x07" + bytes(30), "version", id="unknown-version-7"),
    pytest.param(v5_packet(FLOWS, export_s=EXPORT_S, sequence=0)[:-10], "truncated", id="v5-cut-off"),
    pytest.param(b"\x00\x05\x00\xff" + bytes(20), "absurd_length", id="v5-count-255"),
    pytest.param(_V9[:10], "truncated", id="v9-short-header"),
    pytest.param(_V9[:20] + struct.pack("!HH", 0, 60000) + _V9[24:], "absurd_length", id="v9-set-longer-than-datagram"),
    pytest.param(_V9[:20] + struct.pack("!HH", 0, 2) + _V9[24:], "absurd_length", id="v9-set-shorter-than-header"),
    pytest.param(_V9[:20] + struct.pack("!HH", 7, 8) + bytes(4), "bad_set_id", id="v9-reserved-set-id"),
    pytest.param(_IPFIX[:2] + struct.pack("!H", 9000) + _IPFIX[4:], "absurd_length", id="ipfix-length-past-end"),
    pytest.param(_ipfix_raw(struct.pack("!HHHH", 2, 8, 256, 1)), "truncated", id="ipfix-template-cut-off"),
    pytest.param(_ipfix_raw(struct.pack("!HHHHHH", 2, 12, 256, 1, 8, 0)), "bad_template",
                 id="ipfix-zero-length-records"),
    pytest.param(_ipfix_raw(struct.pack("!HHHH", 2, 8, 12, 0)), "bad_template", id="ipfix-template-id-below-256"),
    pytest.param(_ipfix_raw(struct.pack("!HHHH", 2, 8, 256, 9999)), "absurd_length", id="ipfix-9999-fields"),
    pytest.param(_V9[:20] + struct.pack("!HHHHHH", 1, 12, 300, 0, 4, 34) + struct.pack("!H", 4), "bad_template",
                 id="v9-options-template-without-scope"),
])
def test_bad_packets_are_counted_per_exporter_never_raised(packet: bytes, reason: str) -> None:
    dec = FlowDecoder()
    assert dec.decode(packet, "192.0.2.66") == []
    st = dec.stats["192.0.2.66"]
    assert st.malformed_packets == 1
    assert st.malformed_reasons == {reason: 1}
    # ...and the decoder still works for the next good packet.
    assert len(dec.decode(_IPFIX, "192.0.2.66")) == 3


def test_malformed_input_is_logged_once_per_interval_naming_the_exporter(caplog) -> None:
    clock = Clock()
    dec = FlowDecoder(clock=clock, log_interval_s=60)
    for _ in range(5):
        dec.decode(b"\x00\x07junk", "192.0.2.66")
    clock.t += 61
    dec.decode(b"\x00\x07junk", "192.0.2.66")
    messages = [r.getMessage() for r in caplog.records if "192.0.2.66" in r.getMessage()]
    assert len(messages) == 2
    assert "4 more like it" in messages[1]


def test_template_cache_json_round_trip_is_identical() -> None:
    dec = FlowDecoder()
    dec.decode(_V9, "192.0.2.1")
    dec.decode(_IPFIX, "192.0.2.2")
    data = dec.templates.to_json()
    assert TemplateCache.from_json(json.loads(json.dumps(data))).to_json() == data


def test_state_is_bounded_when_datagrams_come_from_too_many_exporters() -> None:
    dec = FlowDecoder(max_exporters=2)
    for i in range(5):
        dec.decode(_IPFIX, f"198.51.100.{i}")
    assert sorted(dec.stats) == ["198.51.100.0", "198.51.100.1"]
    assert dec.refused_datagrams == 3
    assert len(dec.decode(_IPFIX, "198.51.100.1")) == 3


def test_a_json_template_cache_of_an_earlier_version_is_imported_once(tmp_path) -> None:
    first = FlowDecoder()
    first.decode(v9_sampling_options(export_s=EXPORT_S, sequence=0, rate=64), "192.0.2.1")
    first.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=1), "192.0.2.1")
    (tmp_path / "flow-templates.json").write_text(json.dumps(first.templates.to_json()))
    path = tmp_path / "flow-templates.sqlite3"
    store = TemplateStore(path)
    imported = store.load()
    assert (len(imported), imported.sampling[("192.0.2.1", 9, 0)]) == (2, 64)
    assert (tmp_path / "flow-templates.json").exists()  # kept until its content is saved in the new file
    assert store.save(imported) == 4  # 2 templates, 1 domain, the meta row: into SQLite
    store.close()
    assert not (tmp_path / "flow-templates.json").exists() and (tmp_path / "flow-templates.json.imported").exists()
    again = load_templates(path)
    assert (len(again), again.sampling[("192.0.2.1", 9, 0)]) == (2, 64)


def test_an_unreadable_sqlite_state_file_is_moved_aside_and_starts_empty(tmp_path) -> None:
    path = tmp_path / "flow-templates.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    assert len(load_templates(path)) == 0
    assert (tmp_path / "flow-templates.sqlite3.unreadable").exists()


def test_unconfigured_exporters_teach_no_templates_and_their_data_is_not_held() -> None:
    dec = FlowDecoder(accept=lambda exporter, domain: exporter == "192.0.2.1")
    assert dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=0), "192.0.2.66") == []
    assert dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=1, with_template=False), "192.0.2.66") == []
    st = dec.stats["192.0.2.66"]
    assert (st.template_sets_refused, st.data_sets_refused, st.pending_sets, st.malformed_packets) == (1, 2, 0, 0)
    assert len(dec.templates) == 0
    assert len(dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=0), "192.0.2.1")) == 3


def test_templates_beyond_the_per_exporter_limits_are_counted_and_the_packet_still_decodes() -> None:
    dec = FlowDecoder(templates=TemplateCache(max_templates=2))
    for tid in (256, 257):
        dec.decode(v9_packet([], export_s=EXPORT_S, sequence=0, template_id=tid), "192.0.2.1")
    assert len(dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=1, template_id=258), "192.0.2.1")) == 0
    assert len(dec.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=2, template_id=257), "192.0.2.1")) == 3
    st = dec.stats["192.0.2.1"]
    assert (st.templates_learned, st.templates_over_limit, st.malformed_packets) == (2, 1, 0)
    few_fields = FlowDecoder(templates=TemplateCache(max_fields=20))  # V9_FIELDS has 13: one template fits
    few_fields.decode(v9_packet([], export_s=EXPORT_S, sequence=0, template_id=256), "192.0.2.1")
    few_fields.decode(v9_packet([], export_s=EXPORT_S, sequence=1, template_id=257), "192.0.2.1")
    assert few_fields.stats["192.0.2.1"].templates_over_limit == 1
    # Template 256 redefined with more fields than the limit: the old layout is dropped, never used on new data.
    wide = [(8, 4), (12, 4), (1, 4)] + [(1000 + i, 4) for i in range(18)]
    few_fields.decode(v9_custom_packet(wide, b"", export_s=EXPORT_S, sequence=2), "192.0.2.1")
    assert few_fields.stats["192.0.2.1"].templates_over_limit == 2
    assert few_fields.decode(v9_packet(FLOWS, export_s=EXPORT_S, sequence=3, with_template=False), "192.0.2.1") == []
    assert few_fields.stats["192.0.2.1"].pending_sets == 1


def test_held_data_is_bounded_in_bytes_over_all_exporters(caplog: pytest.LogCaptureFixture) -> None:
    packet = v9_packet(FLOWS, export_s=EXPORT_S, sequence=0, with_template=False)
    limit = 3 * (len(packet) - 20)
    dec = FlowDecoder(pending_max_bytes=limit)
    with caplog.at_level(logging.WARNING, logger="collector.flows.netflow"):
        for i in range(5):
            dec.decode(packet, f"192.0.2.{i + 1}")
    assert sum(s.pending_sets for s in dec.stats.values()) == 3
    assert sum(s.pending_overflow_sets for s in dec.stats.values()) == 2
    # The log names the limit that was hit (each exporter holds one set: not the per-exporter count).
    assert f"would exceed {limit} bytes (all exporters)" in caplog.text
    assert "data sets of this exporter" not in caplog.text
