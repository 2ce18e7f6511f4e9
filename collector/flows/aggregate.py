"""Per line, per direction, per time bucket: top-N conversations by bytes, an ``other`` remainder, per-app totals.

Pure logic (no I/O, clock injected). The ranked rows plus ``other`` always add up to the bucket's total, and so do
the app classes. Memory is bounded: at most ``max_conversations`` distinct conversations per bucket are tracked;
flows of further conversations count in ``other`` directly (their number is reported).

Flows are placed in the bucket of their end time. A flow ending in a bucket that was already written (late export,
clock skew) is counted in the oldest bucket still open instead, so a written minute is never overwritten with a
partial one; flows timed in the future are placed at ``now``.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter

from collector.flows.apps import PORT_CLASS, classify
from collector.flows.linemap import LineMap
from collector.flows.records import FlowRecord, ip_text
from linewatch.choices import FlowDirection
from linewatch.influx import Point

IN, OUT = FlowDirection.IN.value, FlowDirection.OUT.value
_VALUE = itemgetter(1)


@dataclass(frozen=True, slots=True)
class Conversation:
    src: str
    dst: str
    proto: int
    dst_port: int
    bytes: int
    packets: int


@dataclass(slots=True)
class Summary:
    """One line, direction and bucket."""

    line: str
    direction: str
    start_s: int
    interval_s: int
    top: list[Conversation]
    other_bytes: int
    other_packets: int
    other_conversations: int
    apps: dict[str, tuple[int, int]]  # app -> (bytes, packets)

    @property
    def total_bytes(self) -> int:
        return sum(c.bytes for c in self.top) + self.other_bytes

    @property
    def total_packets(self) -> int:
        return sum(c.packets for c in self.top) + self.other_packets


@dataclass(slots=True)
class _Bucket:
    # (src, dst, proto, dst_port, app) -> [bytes, packets]. The app rides in the key so the hot path does one
    # update per flow; conversations and app totals are separated when the bucket is summarized.
    # Two dicts of plain ints rather than one of [bytes, packets] lists: no container per conversation for the
    # garbage collector to track, which matters at hundreds of thousands of conversations a minute.
    convs: dict[tuple[bytes, bytes, int, int, str], int] = field(default_factory=dict)  # -> bytes
    packets: dict[tuple[bytes, bytes, int, int, str], int] = field(default_factory=dict)
    apps: dict[str, list[int]] = field(default_factory=dict)  # only flows beyond max_conversations
    overflow_bytes: int = 0
    overflow_packets: int = 0
    overflow_conversations: int = 0

    def overflow(self, app: str, nbytes: int, npackets: int) -> None:
        self.overflow_bytes += nbytes
        self.overflow_packets += npackets
        self.overflow_conversations += 1
        a = self.apps.get(app)
        if a is None:
            self.apps[app] = [nbytes, npackets]
        else:
            a[0] += nbytes
            a[1] += npackets


class FlowAggregator:
    """Accumulates flows and hands out finished :class:`Summary` buckets."""

    def __init__(self, *, interval_s: int = 60, top_n: int = 10, max_conversations: int = 200_000,
                 flush_delay_s: float = 30.0, clock: Callable[[], float] = time.time):
        if interval_s <= 0 or top_n <= 0:
            raise ValueError("interval_s and top_n must be > 0")
        self.interval_s = interval_s
        self.top_n = top_n
        self.max_conversations = max_conversations
        self.flush_delay_s = flush_delay_s
        self._clock = clock
        self._buckets: dict[tuple[int, str, str], _Bucket] = {}
        self._min_open = -(2**62)  # buckets before this start were flushed
        self.late_records = 0
        self.future_records = 0
        self.unmapped_records: Counter[str] = Counter()  # per exporter
        self.unmapped_exporters: Counter[tuple[str, int]] = Counter()

    # -- input -------------------------------------------------------------------------------------------------

    def add(self, line: str, direction: str, t_s: float, src: bytes, dst: bytes, proto: int, src_port: int,
            dst_port: int, nbytes: int, npackets: int) -> None:
        """Count one flow (or packet) on one line and direction."""
        interval = self.interval_s
        start = int(t_s // interval) * interval
        if start < self._min_open:
            start = self._min_open
            self.late_records += 1
        bkey = (start, line, direction)
        b = self._buckets.get(bkey)
        if b is None:
            b = self._buckets[bkey] = _Bucket()
        app = (PORT_CLASS.get(proto << 16 | dst_port) or PORT_CLASS.get(proto << 16 | src_port)
               or classify(proto, src_port, dst_port))
        key = (src, dst, proto, dst_port, app)
        c = b.convs.get(key)
        if c is not None:
            b.convs[key] = c + nbytes
            b.packets[key] += npackets
        elif len(b.convs) < self.max_conversations:
            b.convs[key] = nbytes
            b.packets[key] = npackets
        else:
            b.overflow(app, nbytes, npackets)

    def add_records(self, records: Iterable[FlowRecord], *, exporter: str, domain: int, linemap: LineMap,
                    now_s: float | None = None) -> int:
        """Count decoded flows of one exporter datagram; return how many were placed on a line.

        The hot path of the receiver: the same arithmetic as :meth:`add`, inlined, with the buckets of the current
        time bucket kept at hand.
        """
        route = linemap.route(exporter, domain)
        if route is None:
            n = sum(1 for _ in records)
            if n:
                self.unmapped_records[exporter] += n
                self.unmapped_exporters[(exporter, domain)] += 1
            return 0
        now = self._clock() if now_s is None else now_s
        horizon = now + self.interval_s
        interval = self.interval_s
        min_open = self._min_open
        buckets = self._buckets
        max_conv = self.max_conversations
        port_class = PORT_CLASS.get
        probe_line = route.line
        probe_in, probe_out = (probe_line, IN), (probe_line, OUT)
        local = linemap.local
        in_targets = route.in_targets
        out_targets = route.out_targets
        placed = unmapped = 0
        # Buckets of this call by (line, direction) for the current start: records of one datagram share a minute.
        cur_start = None
        near: dict[tuple[str, str], _Bucket] = {}
        lo = hi = 0.0  # [lo, hi): times that fall in the current bucket without any arithmetic
        for src, dst, proto, sport, dport, nbytes, npackets, in_if, out_if, t in records:
            if not lo <= t < hi:
                if t > horizon:
                    t = now
                    self.future_records += 1
                start = int(t // interval) * interval
                if start < min_open:
                    start = min_open
                    self.late_records += 1
                    lo, hi = -1e300, min_open + interval  # everything older lands in the oldest open bucket
                else:
                    lo, hi = start, min(start + interval, horizon)
                if start != cur_start:
                    cur_start = start
                    near = {}
            elif t < min_open:
                self.late_records += 1
            # Most flows have one well-known port: two lookups; the rest (ICMP, RTP, unknown) take classify().
            app = port_class(proto << 16 | dport) or port_class(proto << 16 | sport) or classify(proto, sport, dport)
            ckey = (src, dst, proto, dport, app)
            if probe_line is not None:
                first: tuple[str, str] | None = probe_out if local(src) else probe_in
                second: tuple[str, str] | None = None
            else:
                first = in_targets.get(in_if)
                second = out_targets.get(out_if)
                if first is None:
                    if second is None:
                        unmapped += 1
                        continue
                    first, second = second, None
            placed += 1
            while first is not None:
                b = near.get(first)
                if b is None:
                    bkey = (start, first[0], first[1])
                    b = buckets.get(bkey)
                    if b is None:
                        b = buckets[bkey] = _Bucket()
                    near[first] = b
                convs = b.convs
                c = convs.get(ckey)
                if c is not None:
                    convs[ckey] = c + nbytes
                    b.packets[ckey] += npackets
                elif len(convs) < max_conv:
                    convs[ckey] = nbytes
                    b.packets[ckey] = npackets
                else:
                    b.overflow(app, nbytes, npackets)
                first, second = second, None
        if unmapped:
            self.unmapped_records[exporter] += unmapped
        return placed

    # -- output ------------------------------------------------------------------------------------------------

    def flush(self, now_s: float | None = None) -> list[Summary]:
        """Summaries of every bucket that ended ``flush_delay_s`` before ``now_s``; later flows go to open buckets."""
        now = self._clock() if now_s is None else now_s
        watermark = now - self.flush_delay_s
        ready = [k for k in self._buckets if k[0] + self.interval_s <= watermark]
        self._min_open = max(self._min_open, int(watermark // self.interval_s) * self.interval_s)
        return [self._summarize(k, self._buckets.pop(k)) for k in sorted(ready)]

    def flush_all(self) -> list[Summary]:
        """Every bucket, finished or not (end of a capture file, shutdown)."""
        keys = sorted(self._buckets)
        return [self._summarize(k, self._buckets.pop(k)) for k in keys]

    def written_until(self, end_s: int) -> None:
        """Everything before ``end_s`` was already written (by an earlier run): flows timed before it are counted
        in the first bucket from ``end_s`` on, like late flows, instead of overwriting a written bucket."""
        start = -(-end_s // self.interval_s) * self.interval_s  # round up to a bucket boundary
        self._min_open = max(self._min_open, start)

    def open_buckets(self) -> int:
        return len(self._buckets)

    def _summarize(self, key: tuple[int, str, str], b: _Bucket) -> Summary:
        start, line, direction = key
        merged: dict[tuple[bytes, bytes, int, int], list[int]] = {}
        apps: dict[str, list[int]] = {app: list(v) for app, v in b.apps.items()}
        packets = b.packets
        for key5, nbytes in b.convs.items():
            src, dst, proto, dport, app = key5
            npackets = packets[key5]
            ckey = (src, dst, proto, dport)
            m = merged.get(ckey)
            if m is None:
                merged[ckey] = [nbytes, npackets]
            else:
                m[0] += nbytes
                m[1] += npackets
            a = apps.get(app)
            if a is None:
                apps[app] = [nbytes, npackets]
            else:
                a[0] += nbytes
                a[1] += npackets
        # Values are [bytes, packets] lists: comparing them orders by bytes, then packets (all in C).
        top = heapq.nlargest(self.top_n, merged.items(), key=_VALUE)
        top_bytes = sum(v[0] for _, v in top)
        top_packets = sum(v[1] for _, v in top)
        all_bytes = sum(v[0] for v in apps.values())
        all_packets = sum(v[1] for v in apps.values())
        conversations = [Conversation(ip_text(k[0]), ip_text(k[1]), k[2], k[3], v[0], v[1]) for k, v in top]
        return Summary(
            line=line, direction=direction, start_s=start, interval_s=self.interval_s, top=conversations,
            other_bytes=all_bytes - top_bytes, other_packets=all_packets - top_packets,
            other_conversations=len(merged) - len(top) + b.overflow_conversations,
            apps={app: (v[0], v[1]) for app, v in sorted(apps.items())},
        )


def summary_points(summaries: Iterable[Summary]) -> list[Point]:
    """``flow_top`` and ``flow_proto`` points (docs/schema.md); timestamp = bucket start."""
    points: list[Point] = []
    for s in summaries:
        t_ns = s.start_s * 1_000_000_000
        per_s = 8.0 / s.interval_s
        for rank, c in enumerate(s.top, start=1):
            points.append(Point("flow_top", {"line": s.line, "direction": s.direction, "rank": str(rank)}, {
                "src": c.src, "dst": c.dst, "proto": c.proto, "dst_port": c.dst_port,
                "bytes": c.bytes, "packets": c.packets, "avg_bps": c.bytes * per_s,
            }, t_ns))
        points.append(Point("flow_top", {"line": s.line, "direction": s.direction, "rank": "other"}, {
            "bytes": s.other_bytes, "packets": s.other_packets, "conversations": s.other_conversations,
            "avg_bps": s.other_bytes * per_s,
        }, t_ns))
        for app, (nbytes, npackets) in s.apps.items():
            points.append(Point("flow_proto", {"line": s.line, "direction": s.direction, "app": app}, {
                "bytes": nbytes, "packets": npackets, "avg_bps": nbytes * per_s,
            }, t_ns))
    return points
