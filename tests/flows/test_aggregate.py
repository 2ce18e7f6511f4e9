"""Per-line, per-minute summaries: top N + other adds up, apps add up, direction from ifIndex or local networks,
late and future flows, bounded memory, and the InfluxDB points they become."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from collector.flows.aggregate import FlowAggregator, summary_points
from collector.flows.apps import classify
from collector.flows.config import FlowsConfig
from collector.flows.linemap import LineMap
from collector.flows.records import FlowRecord, ip_bytes
from linewatch.choices import FlowApp
from linewatch.inventory import Inventory

T0 = 1_700_000_020  # 40 s into a minute


def rec(src: str, dst: str, nbytes: int, *, proto: int = 6, sport: int = 40000, dport: int = 443, in_if: int = 0,
        out_if: int = 0, t: float = T0, packets: int = 1) -> FlowRecord:
    return FlowRecord(ip_bytes(src), ip_bytes(dst), proto, sport, dport, nbytes, packets, in_if, out_if, t)


def _run(cfg: FlowsConfig, inventory: Inventory, records: Iterable[FlowRecord], *, exporter: str = "192.0.2.1",
         top_n: int = 3, max_conversations: int = 1000) -> tuple[FlowAggregator, list]:
    agg = FlowAggregator(interval_s=60, top_n=top_n, max_conversations=max_conversations, flush_delay_s=0)
    agg.add_records(list(records), exporter=exporter, domain=0, linemap=LineMap(cfg, inventory), now_s=T0)
    return agg, agg.flush_all()


def test_top_n_plus_other_adds_up_to_the_total(flows_cfg, inventory) -> None:
    records = [rec("10.0.0.1", f"198.51.100.{i}", 1000 * i, in_if=3, packets=i) for i in range(1, 9)]
    _, (s,) = _run(flows_cfg, inventory, records)
    assert [c.dst for c in s.top] == ["198.51.100.8", "198.51.100.7", "198.51.100.6"]
    assert (s.other_bytes, s.other_packets, s.other_conversations) == (15000, 15, 5)
    assert s.total_bytes == sum(r.bytes for r in records)
    assert sum(b for b, _ in s.apps.values()) == s.total_bytes


@pytest.mark.parametrize(("in_if", "out_if", "expected"), [
    pytest.param(3, 0, {("L-IN", "in")}, id="input-ifindex-is-inbound-on-that-line"),
    pytest.param(0, 3, {("L-IN", "out")}, id="output-ifindex-is-outbound"),
    pytest.param(4, 3, {("L-MPLS", "in"), ("L-IN", "out")}, id="line-to-line-counts-on-both"),
    pytest.param(4, 4, {("L-MPLS", "in"), ("L-MPLS", "out")}, id="ifindex-from-ifname-mapping-in-flows-yaml"),
    pytest.param(9, 10, set(), id="unknown-ifindex-is-unmapped"),
])
def test_direction_comes_from_the_lines_ifindex(flows_cfg, inventory, in_if, out_if, expected) -> None:
    agg, summaries = _run(flows_cfg, inventory, [rec("10.0.0.1", "198.51.100.1", 500, in_if=in_if, out_if=out_if)])
    assert {(s.line, s.direction) for s in summaries} == expected
    assert agg.unmapped_records["192.0.2.1"] == (0 if expected else 1)


def test_exporters_resolve_through_the_inventory_device_address(flows_cfg, inventory) -> None:
    _, summaries = _run(flows_cfg, inventory, [rec("10.0.0.1", "198.51.100.1", 500, in_if=7)], exporter="192.0.2.2")
    assert [(s.line, s.direction) for s in summaries] == [("L-R2", "in")]


def test_an_unknown_exporter_is_counted_not_summarized(flows_cfg, inventory) -> None:
    agg, summaries = _run(flows_cfg, inventory, [rec("10.0.0.1", "198.51.100.1", 500, in_if=3)] * 2,
                          exporter="203.0.113.99")
    assert summaries == []
    assert agg.unmapped_records["203.0.113.99"] == 2


@pytest.mark.parametrize(("src", "dst", "direction"), [
    pytest.param("10.0.0.5", "198.51.100.1", "out", id="local-source-goes-out"),
    pytest.param("198.51.100.1", "10.0.0.5", "in", id="remote-source-comes-in"),
])
def test_a_probe_exporter_decides_direction_by_local_networks(flows_cfg, inventory, src, dst, direction) -> None:
    _, (s,) = _run(flows_cfg, inventory, [rec(src, dst, 500)], exporter="127.0.0.1")
    assert (s.line, s.direction) == ("L-PROBE", direction)


def test_flows_land_in_the_bucket_of_their_end_time() -> None:
    agg = FlowAggregator(interval_s=60, top_n=3, flush_delay_s=0)
    for t in (T0 - 40, T0 + 19.9, T0 + 20):
        agg.add("L", "in", t, b"\x0a\0\0\1", b"\x0a\0\0\2", 6, 1, 443, 100, 1)
    assert [(s.start_s, s.total_bytes) for s in agg.flush_all()] == [(T0 - 40, 200), (T0 + 20, 100)]


def test_only_finished_buckets_are_flushed_and_late_flows_join_the_oldest_open_bucket() -> None:
    agg = FlowAggregator(interval_s=60, top_n=3, flush_delay_s=30)
    minute = T0 - 40
    agg.add("L", "in", minute + 5, b"\x0a\0\0\1", b"\x0a\0\0\2", 6, 1, 443, 100, 1)
    assert agg.flush(now_s=minute + 60 + 29) == []
    (s,) = agg.flush(now_s=minute + 60 + 30)
    assert (s.start_s, s.total_bytes) == (minute, 100)
    agg.add("L", "in", minute + 10, b"\x0a\0\0\1", b"\x0a\0\0\2", 6, 1, 443, 50, 1)  # late: minute already written
    assert agg.late_records == 1
    (s2,) = agg.flush_all()
    assert (s2.start_s, s2.total_bytes) == (minute + 60, 50)


def test_flows_timed_in_the_future_are_placed_at_now(flows_cfg, inventory) -> None:
    agg, (s,) = _run(flows_cfg, inventory, [rec("10.0.0.1", "198.51.100.1", 500, in_if=3, t=T0 + 86400)])
    assert s.start_s == T0 - 40
    assert agg.future_records == 1


def test_conversations_beyond_the_memory_bound_still_count_in_other(flows_cfg, inventory) -> None:
    records = [rec("10.0.0.1", f"198.51.{i // 250}.{i % 250}", 10, in_if=3) for i in range(150)]
    _, (s,) = _run(flows_cfg, inventory, records, max_conversations=100)
    assert s.total_bytes == 1500
    assert s.other_conversations == 147


@pytest.mark.parametrize(("proto", "sport", "dport", "app"), [
    pytest.param(6, 40000, 443, FlowApp.WEB, id="https"),
    pytest.param(6, 443, 40000, FlowApp.WEB, id="https-response-by-source-port"),
    pytest.param(17, 40000, 443, FlowApp.WEB, id="quic"),
    pytest.param(17, 40000, 53, FlowApp.DNS, id="dns"),
    pytest.param(17, 20000, 20002, FlowApp.VOICE, id="rtp-range"),
    pytest.param(1, 0, 0, FlowApp.ICMP, id="icmp"),
    pytest.param(50, 0, 0, FlowApp.VPN, id="esp"),
    pytest.param(6, 40000, 40001, FlowApp.OTHER_TCP, id="unknown-tcp"),
    pytest.param(17, 40000, 9999, FlowApp.OTHER_UDP, id="unknown-udp"),
    pytest.param(132, 1, 2, FlowApp.OTHER, id="sctp"),
])
def test_app_classes(proto: int, sport: int, dport: int, app: FlowApp) -> None:
    assert classify(proto, sport, dport) == app.value


def test_points_follow_the_schema_with_bounded_tags(flows_cfg, inventory) -> None:
    records = [rec("10.0.0.1", f"198.51.100.{i}", 1000 * i, in_if=3) for i in range(1, 6)]
    _, summaries = _run(flows_cfg, inventory, records)
    points = summary_points(summaries)
    top = [p for p in points if p.measurement == "flow_top"]
    assert [p.tags["rank"] for p in top] == ["1", "2", "3", "other"]
    assert all(set(p.tags) == {"line", "direction", "rank"} for p in top)
    assert top[0].fields == {"src": "10.0.0.1", "dst": "198.51.100.5", "proto": 6, "dst_port": 443, "bytes": 5000,
                             "packets": 1, "avg_bps": 5000 * 8 / 60}
    assert top[-1].fields["bytes"] == 3000 and top[-1].fields["conversations"] == 2
    proto = [p for p in points if p.measurement == "flow_proto"]
    assert [(p.tags["app"], p.fields["bytes"]) for p in proto] == [("web", 15000)]
    assert all(p.time_ns == (T0 - 40) * 10**9 for p in points)


def test_every_late_flow_of_a_datagram_is_counted_and_lands_in_the_oldest_open_bucket(flows_cfg, inventory) -> None:
    agg = FlowAggregator(interval_s=60, top_n=3, flush_delay_s=0)
    agg.flush(now_s=T0 + 60)  # minutes before T0 + 20 are written
    records = [rec("10.0.0.1", "198.51.100.1", 100, in_if=3, t=T0 - 300 + i) for i in range(3)]
    records.append(rec("10.0.0.1", "198.51.100.1", 100, in_if=3, t=T0 + 25))
    agg.add_records(records, exporter="192.0.2.1", domain=0, linemap=LineMap(flows_cfg, inventory), now_s=T0 + 60)
    assert agg.late_records == 3
    assert [(s.start_s, s.total_bytes) for s in agg.flush_all()] == [(T0 + 20, 400)]


@pytest.mark.parametrize(("addr", "expected"), [
    pytest.param(("192.0.2.1", 2055), "192.0.2.1", id="ipv4"),
    pytest.param(("::ffff:192.0.2.1", 2055, 0, 0), "192.0.2.1", id="ipv4-mapped-on-a-dual-stack-socket"),
    pytest.param(("2001:DB8::1", 2055, 0, 0), "2001:db8::1", id="ipv6-normalized"),
    pytest.param(("fe80::1%eth0", 2055, 0, 2), "fe80::1", id="ipv6-scope-dropped"),
])
def test_exporter_addresses_are_normalized_before_lookup(addr: tuple, expected: str) -> None:
    from collector.flows.service import exporter_address

    assert exporter_address(addr) == expected
