"""NetFlow v5, v9 and IPFIX decoders: pure functions over bytes, plus the per-exporter state they need.

No I/O here. :class:`FlowDecoder` keeps what decoding a stream needs between packets — templates (per exporter,
version and observation domain / source id), data sets waiting for their template, sequence numbers, sampling
rates — and counts every problem per exporter instead of raising: a bad packet never stops the receiver.

Hot path: each template is compiled once into a :class:`struct.Struct` that reads only the fields we use
(everything else is skipped as padding) and ``iter_unpack`` walks the records of a data set.
"""

from __future__ import annotations

import logging
import struct
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from typing import Any

from collector.flows.records import FlowRecord
from linewatch.errors import FlowDecodeError

log = logging.getLogger(__name__)

# -- wire formats ------------------------------------------------------------------------------------------------

V5_HEADER = struct.Struct("!HHIIIIBBH")  # version count sys_uptime unix_secs unix_nsecs sequence engine_type engine_id sampling
V5_RECORD = struct.Struct("!4s4s4sHHIIIIHHxBBBHHBBxx")  # 48 bytes
V9_HEADER = struct.Struct("!HHIIII")  # version count sys_uptime unix_secs sequence source_id
IPFIX_HEADER = struct.Struct("!HHIII")  # version length export_time sequence observation_domain
SET_HEADER = struct.Struct("!HH")
U16 = struct.Struct("!H")
U32 = struct.Struct("!I")

V5_MAX_COUNT = 30
V9_TEMPLATE_SET, V9_OPTIONS_SET = 0, 1
IPFIX_TEMPLATE_SET, IPFIX_OPTIONS_SET = 2, 3
VARIABLE_LENGTH = 65535
MAX_TEMPLATE_FIELDS = 512
# Per exporter address, over all its versions and domains: real exporters use tens of templates of tens of fields.
# A flood (spoofed or a broken exporter) stops there instead of growing memory and the state file without bound.
MAX_TEMPLATES_PER_EXPORTER = 1024
MAX_TEMPLATE_FIELDS_PER_EXPORTER = 32768
MAX_PENDING_BYTES = 32 * 1024 * 1024  # data sets waiting for templates, all exporters together
# Sequence-number state is kept per (exporter, version, observation domain), and the domain (v9 source id, IPFIX
# domain) is whatever the datagram says: only configured exporters get it, for at most this many domains each.
MAX_DOMAINS_PER_EXPORTER = 1024

# Information elements we read (same numbers in NetFlow v9 and IPFIX).
IE_OCTETS, IE_PACKETS, IE_PROTO, IE_SRC_PORT, IE_SRC4, IE_IN_IF = 1, 2, 4, 7, 8, 10
IE_DST_PORT, IE_DST4, IE_OUT_IF, IE_LAST_UPTIME, IE_FIRST_UPTIME = 11, 12, 14, 21, 22
IE_OUT_BYTES, IE_OUT_PKTS, IE_SRC6, IE_DST6 = 23, 24, 27, 28
IE_SAMPLING_INTERVAL, IE_SAMPLER_RANDOM_INTERVAL = 34, 50
IE_OCTETS_TOTAL, IE_PACKETS_TOTAL = 85, 86
IE_END_S, IE_END_MS = 151, 153
IE_SYSTEM_INIT_MS = 160
IE_SAMPLING_PACKET_INTERVAL, IE_SAMPLING_PACKET_SPACE = 305, 306
# Cisco ASA NSEL (RFC 5103-style biflows): bytes/packets per direction of the connection, time of the event.
IE_INITIATOR_OCTETS, IE_RESPONDER_OCTETS = 231, 232
IE_INITIATOR_PACKETS, IE_RESPONDER_PACKETS = 298, 299
IE_OBSERVATION_TIME_MS = 323

_INT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}
_make_record = partial(tuple.__new__, FlowRecord)  # FlowRecord from one tuple, without a Python-level __new__

# Canonical slot order of the values a compiled template extracts.
_SLOTS = ("src", "dst", "proto", "src_port", "dst_port", "bytes", "packets", "in_if", "out_if", "time")
_DEFAULTS = (b"\0\0\0\0", b"\0\0\0\0", 0, 0, 0, 0, 0, 0, 0, 0)
# Biflow templates (NSEL) read the responder's direction too, as two more slots after the usual ones.
_BI_SLOTS = (*_SLOTS, "rbytes", "rpackets")
_BI_DEFAULTS = (*_DEFAULTS, 0, 0)

_SLOT_CANDIDATES: dict[str, tuple[int, ...]] = {
    "src": (IE_SRC4, IE_SRC6),
    "dst": (IE_DST4, IE_DST6),
    "proto": (IE_PROTO,),
    "src_port": (IE_SRC_PORT,),
    "dst_port": (IE_DST_PORT,),
    "bytes": (IE_OCTETS, IE_OCTETS_TOTAL, IE_OUT_BYTES, IE_INITIATOR_OCTETS),
    "packets": (IE_PACKETS, IE_PACKETS_TOTAL, IE_OUT_PKTS, IE_INITIATOR_PACKETS),
    "in_if": (IE_IN_IF,),
    "out_if": (IE_OUT_IF,),
    "time": (IE_END_MS, IE_END_S, IE_OBSERVATION_TIME_MS, IE_LAST_UPTIME),
    "rbytes": (IE_RESPONDER_OCTETS,),
    "rpackets": (IE_RESPONDER_PACKETS,),
}
_ADDRESS_IES = {IE_SRC4: 4, IE_DST4: 4, IE_SRC6: 16, IE_DST6: 16}

TIME_NONE, TIME_MS, TIME_S, TIME_UPTIME = "none", "ms", "s", "uptime"
_TIME_KIND = {IE_END_MS: TIME_MS, IE_END_S: TIME_S, IE_OBSERVATION_TIME_MS: TIME_MS, IE_LAST_UPTIME: TIME_UPTIME}


@dataclass(frozen=True, slots=True)
class Template:
    """A v9/IPFIX (options) template: ``fields`` are ``(element_id, length, enterprise)`` in wire order."""

    version: int
    domain: int
    template_id: int
    fields: tuple[tuple[int, int, int], ...]
    scope_fields: int = 0  # > 0 for options templates

    @property
    def is_options(self) -> bool:
        return self.scope_fields > 0

    @property
    def fixed_length(self) -> int | None:
        """Record length in bytes, or ``None`` when a field has variable length (IPFIX; v9 of H3C NetStream)."""
        if any(length == VARIABLE_LENGTH for _, length, _ in self.fields):
            return None
        return sum(length for _, length, _ in self.fields)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "domain": self.domain, "template_id": self.template_id,
                "fields": [list(f) for f in self.fields], "scope_fields": self.scope_fields}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Template:
        fields = tuple((int(a), int(b), int(c)) for a, b, c in data["fields"])
        return cls(int(data["version"]), int(data["domain"]), int(data["template_id"]), fields,
                   int(data.get("scope_fields", 0)))


@dataclass(slots=True)
class _Compiled:
    """A template turned into a fast reader of its data records."""

    template: Template
    record_len: int  # 0 when variable
    reader: struct.Struct | None
    pick: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None
    time_kind: str
    convert: tuple[bool, ...]  # per slot: value came as raw bytes of an odd-sized integer
    complete: bool = False  # every slot is in the template: no defaults to append
    useful: bool = True  # carries addresses and a byte count; other data templates (NAT events...) are skipped
    biflow: bool = False  # initiator and responder counters (NSEL): each record is two flows, one per direction


def compile_template(t: Template) -> _Compiled:
    """Build the struct reader for a data template (pure; cached by :class:`FlowDecoder`)."""
    chosen: dict[str, int] = {}
    present = {ie for ie, _, ent in t.fields if ent == 0}
    for slot, candidates in _SLOT_CANDIDATES.items():
        for ie in candidates:
            if ie in present:
                chosen[slot] = ie
                break
    biflow = chosen.get("bytes") == IE_INITIATOR_OCTETS and "rbytes" in chosen
    slots = _BI_SLOTS if biflow else _SLOTS
    if not biflow:
        chosen.pop("rbytes", None)
        chosen.pop("rpackets", None)
    by_ie = {ie: slot for slot, ie in chosen.items()}
    time_ie = chosen.get("time")
    time_kind = _TIME_KIND[time_ie] if time_ie is not None else TIME_NONE
    record_len = t.fixed_length
    useful = all(slot in chosen for slot in ("src", "dst", "bytes"))
    if record_len is None:
        return _Compiled(t, 0, None, None, time_kind, (), useful=useful, biflow=biflow)
    fmt = ["!"]
    order: list[str] = []
    convert_slots: set[str] = set()
    taken: set[str] = set()
    for ie, length, ent in t.fields:
        slot = by_ie.get(ie) if ent == 0 else None
        if slot is None or slot in taken:
            fmt.append(f"{length}x" if length else "")
            continue
        if ie in _ADDRESS_IES:
            if length != _ADDRESS_IES[ie]:
                fmt.append(f"{length}x")
                continue
            fmt.append(f"{length}s")
        elif length in _INT_CODES:
            fmt.append(_INT_CODES[length])
        elif 0 < length <= 8:
            fmt.append(f"{length}s")
            convert_slots.add(slot)
        else:
            fmt.append(f"{length}x" if length else "")
            continue
        taken.add(slot)
        order.append(slot)
    reader = struct.Struct("".join(fmt))
    # Values come in template order; append the defaults and pick the canonical slot order.
    n = len(order)
    indexes = [order.index(s) if s in order else n + i for i, s in enumerate(slots)]
    pick = itemgetter(*indexes)
    convert = tuple(s in convert_slots for s in slots)
    return _Compiled(t, record_len, reader, pick, time_kind, convert, complete=n == len(slots), useful=useful,
                     biflow=biflow)


def _split_biflows(records: Any) -> Any:
    """NSEL records (…, initiator bytes/packets, …, responder bytes/packets) -> one flow per direction with
    traffic: the initiator's as exported, the responder's with addresses, ports and interfaces swapped."""
    for src, dst, proto, sport, dport, octets, pkts, in_if, out_if, tm, r_octets, r_pkts in records:
        if octets or pkts:
            yield src, dst, proto, sport, dport, octets, pkts, in_if, out_if, tm
        if r_octets or r_pkts:
            yield dst, src, proto, dport, sport, r_octets, r_pkts, out_if, in_if, tm


# -- per-exporter state ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ExporterStats:
    """What happened with one exporter since start (all counters cumulative)."""

    packets: int = 0
    records: int = 0
    malformed_packets: int = 0
    malformed_reasons: Counter[str] = field(default_factory=Counter)
    sequence_gaps: int = 0
    lost_packets: int = 0  # v9: its sequence counts packets
    lost_records: int = 0  # v5 and IPFIX: their sequence counts records
    sequence_resets: int = 0
    templates_learned: int = 0
    templates_withdrawn: int = 0
    pending_sets: int = 0  # data sets held now, waiting for their template
    pending_decoded_sets: int = 0
    pending_expired_sets: int = 0
    pending_overflow_sets: int = 0
    options_records: int = 0
    ignored_records: int = 0  # data records of templates without addresses/bytes (NAT events, MPLS...)
    template_sets_refused: int = 0  # (options) template sets of an exporter not configured: never learned
    data_sets_refused: int = 0  # data sets of such an exporter without a known template: never held
    templates_over_limit: int = 0  # templates beyond max_templates/max_template_fields per exporter: ignored
    leftover_sets: int = 0  # data sets ending in bytes that are neither a whole record nor zero padding
    leftover_bytes: int = 0  # ...those bytes (the complete records before them are decoded)

    def as_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__ if name != "malformed_reasons"}  # type: ignore[attr-defined]
        out["malformed_reasons"] = dict(self.malformed_reasons)
        return out


@dataclass(slots=True)
class _Pending:
    arrived_s: float
    export_s: float
    uptime_ms: int
    body: bytes


SeqKey = tuple[str, int, int]  # (exporter, version, domain)
TemplateKey = tuple[str, int, int, int]  # (exporter, version, domain, template id)


class TemplateCache:
    """Templates per (exporter, version, observation domain, template id), persisted for restarts.

    Bounded per exporter address (``max_templates`` templates, ``max_fields`` fields over all of them). What
    changed since the last save is tracked key by key, so the store (:mod:`collector.flows.state`) writes only
    that: a save costs what changed, not what is cached.
    """

    def __init__(self, *, max_templates: int = MAX_TEMPLATES_PER_EXPORTER,
                 max_fields: int = MAX_TEMPLATE_FIELDS_PER_EXPORTER) -> None:
        self.max_templates = max_templates
        self.max_fields = max_fields
        self._templates: dict[TemplateKey, Template] = {}
        self._per_exporter: Counter[str] = Counter()
        self._fields_per_exporter: Counter[str] = Counter()
        self.dirty_templates: set[TemplateKey] = set()
        self.dirty_domains: set[SeqKey] = set()
        self.dirty_meta = False
        # Learned from options data and persisted with the templates: after a restart, data decoded with a saved
        # template must be scaled by the exporter's sampling interval (and timed) before its options come again.
        self.sampling: dict[SeqKey, int] = {}
        self.system_init_ms: dict[SeqKey, int] = {}
        # Receiver state kept in the same file: the end of the last bucket written at shutdown (partial), so a
        # restarted receiver never writes that bucket again (docs/flows.md).
        self.written_until_s: int | None = None

    @property
    def changed(self) -> bool:
        """Something to persist (set on learn/withdraw/new sampling; the store clears it)."""
        return bool(self.dirty_templates or self.dirty_domains or self.dirty_meta)

    @changed.setter
    def changed(self, value: bool) -> None:
        if value:
            self.dirty_meta = True
        else:
            self.dirty_templates.clear()
            self.dirty_domains.clear()
            self.dirty_meta = False

    def mark_all_dirty(self) -> None:
        """Everything needs writing (a cache imported from another format)."""
        self.dirty_templates.update(self._templates)
        self.dirty_domains.update(self.sampling)
        self.dirty_domains.update(self.system_init_ms)
        self.dirty_meta = True

    def __len__(self) -> int:
        return len(self._templates)

    def get(self, key: TemplateKey) -> Template | None:
        return self._templates.get(key)

    def put(self, exporter: str, template: Template) -> bool:
        """Store; False when the exporter already has too many templates or fields (the template is ignored)."""
        key = (exporter, template.version, template.domain, template.template_id)
        old = self._templates.get(key)
        if old == template:
            return True
        old_fields = len(old.fields) if old is not None else 0
        if self._fields_per_exporter[exporter] - old_fields + len(template.fields) > self.max_fields:
            return False
        if old is None:
            if self._per_exporter[exporter] >= self.max_templates:
                return False
            self._per_exporter[exporter] += 1
        self._fields_per_exporter[exporter] += len(template.fields) - old_fields
        self._templates[key] = template
        self.dirty_templates.add(key)
        return True

    def keys_of(self, exporter: str, version: int, domain: int) -> list[TemplateKey]:
        return [k for k in self._templates if k[0] == exporter and k[1] == version and k[2] == domain]

    def withdraw(self, exporter: str, version: int, domain: int, template_id: int) -> None:
        key = (exporter, version, domain, template_id)
        old = self._templates.pop(key, None)
        if old is not None:
            self._per_exporter[exporter] -= 1
            self._fields_per_exporter[exporter] -= len(old.fields)
            self.dirty_templates.add(key)

    def set_sampling(self, key: SeqKey, rate: int) -> None:
        if self.sampling.get(key) != rate:
            self.sampling[key] = rate
            self.dirty_domains.add(key)

    def set_system_init_ms(self, key: SeqKey, init_ms: int) -> None:
        if self.system_init_ms.get(key) != init_ms:
            self.system_init_ms[key] = init_ms
            self.dirty_domains.add(key)

    def to_json(self) -> dict[str, Any]:
        domains = sorted(set(self.sampling) | set(self.system_init_ms))
        return {"format": 1, "templates": [{"exporter": k[0], **t.to_json()} for k, t in sorted(
            self._templates.items())],
            "domains": [{"exporter": k[0], "version": k[1], "domain": k[2],
                         "sampling_interval": self.sampling.get(k), "system_init_ms": self.system_init_ms.get(k)}
                        for k in domains],
            "written_until_s": self.written_until_s}

    @classmethod
    def from_json(cls, data: dict[str, Any], **limits: int) -> TemplateCache:
        cache = cls(**limits)
        if not isinstance(data, dict) or data.get("format") != 1:
            raise ValueError("not a linewatch template cache (format 1)")
        for item in data.get("templates", []):
            cache.put(str(item["exporter"]), Template.from_json(item))
        for item in data.get("domains", []):  # absent in files written before sampling was persisted
            key = (str(item["exporter"]), int(item["version"]), int(item["domain"]))
            if item.get("sampling_interval") is not None:
                cache.sampling[key] = int(item["sampling_interval"])
            if item.get("system_init_ms") is not None:
                cache.system_init_ms[key] = int(item["system_init_ms"])
        if data.get("written_until_s") is not None:
            cache.written_until_s = int(data["written_until_s"])
        cache.changed = False
        return cache


# -- the decoder --------------------------------------------------------------------------------------------------


class FlowDecoder:
    """Decodes NetFlow v5/v9/IPFIX datagrams of any number of exporters into :class:`FlowRecord` lists.

    ``decode(data, exporter)`` never raises for bad input: problems are counted in ``stats[exporter]`` and logged
    (rate-limited). Data sets whose template is unknown wait up to ``pending_hold_s`` (at most
    ``pending_max_sets`` per exporter and ``pending_max_bytes`` in all) and are decoded as soon as the template
    arrives.

    ``accept(exporter, domain)`` says whether templates of that exporter may be learned (the receiver: only
    configured exporters). Templates of the others are counted and dropped, and their data is never held; data
    they send under a template already known (persisted before) is still decoded. ``None`` accepts everyone.
    """

    def __init__(
        self,
        *,
        templates: TemplateCache | None = None,
        pending_hold_s: float = 30.0,
        pending_max_sets: int = 256,
        clock: Callable[[], float] = time.time,
        log_interval_s: float = 60.0,
        max_exporters: int = 10_000,
        plain_tuples: bool = False,
        accept: Callable[[str, int], bool] | None = None,
        pending_max_bytes: int = MAX_PENDING_BYTES,
    ):
        self.templates = templates if templates is not None else TemplateCache()
        self.pending_hold_s = pending_hold_s
        self.pending_max_sets = pending_max_sets
        self._clock = clock
        self._log_interval_s = log_interval_s
        self.stats: dict[str, ExporterStats] = {}
        self.max_exporters = max_exporters
        # Records as plain tuples in FlowRecord's field order (the receiver's hot path) instead of FlowRecord.
        self.plain_tuples = plain_tuples
        self.refused_datagrams = 0  # from new exporters beyond max_exporters (spoofed floods cannot grow state)
        self._accept = accept
        self._accepted: dict[tuple[str, int], bool] = {}
        self.pending_max_bytes = pending_max_bytes
        self._pending_bytes = 0
        self._compiled: dict[TemplateKey, _Compiled] = {}
        self._pending: dict[TemplateKey, deque[_Pending]] = {}
        self._pending_count: Counter[str] = Counter()
        self._last_seq: dict[SeqKey, tuple[int, tuple[int, ...]]] = {}
        self._seq_domains: Counter[str] = Counter()  # exporter -> keys it has in _last_seq
        self._sampling = self.templates.sampling  # shared: persisted with the templates
        self._system_init_ms = self.templates.system_init_ms
        self._last_log: dict[tuple[str, str], float] = {}
        self._msg_records = 0  # data records of the IPFIX message being decoded (for its sequence number)
        self._msg_options = 0  # ...of which options data records
        self._msg_held = False
        self._suppressed: Counter[tuple[str, str]] = Counter()

    # -- public ------------------------------------------------------------------------------------------------

    def decode(self, data: bytes, exporter: str, *, domain_out: list[int] | None = None) -> list[FlowRecord]:
        """Decode one datagram from ``exporter`` (its address). Never raises on bad input.

        ``domain_out``, when given, receives the packet's observation domain (v9 source id, IPFIX domain, v5
        ``engine_type << 8 | engine_id``) so the caller can map (exporter, domain, ifIndex) to a line.
        """
        stats = self.stats.get(exporter)
        if stats is None:
            if len(self.stats) >= self.max_exporters:
                self.refused_datagrams += 1
                self._note("*", "too_many_exporters",
                           f"more than {self.max_exporters} exporters; ignoring datagrams from {exporter}")
                return []
            stats = self.stats[exporter] = ExporterStats()
        stats.packets += 1
        out: list[FlowRecord] = []
        try:
            if len(data) < 2:
                raise FlowDecodeError(f"datagram of {len(data)} bytes is too short for a header", kind="truncated")
            version = data[0] << 8 | data[1]
            if version == 5:
                domain = self._decode_v5(data, exporter, stats, out)
            elif version == 9:
                domain = self._decode_v9(data, exporter, stats, out)
            elif version == 10:
                domain = self._decode_ipfix(data, exporter, stats, out)
            else:
                raise FlowDecodeError(f"unsupported version {version} (expected 5, 9 or 10)", kind="version")
            if domain_out is not None:
                domain_out.append(domain)
        except FlowDecodeError as exc:
            self._bad(exporter, stats, exc.kind, exc.reason)
        except (struct.error, IndexError, ValueError, OverflowError) as exc:  # defensive: never crash the receiver
            self._bad(exporter, stats, "malformed", f"{type(exc).__name__}: {exc}")
        stats.records += len(out)
        if self._pending_count[exporter]:
            self.expire_pending()
        return out

    def expire_pending(self, now_s: float | None = None) -> int:
        """Drop held data sets older than ``pending_hold_s``; return how many were dropped."""
        now = self._clock() if now_s is None else now_s
        dropped = 0
        for key in list(self._pending):
            queue = self._pending[key]
            while queue and now - queue[0].arrived_s > self.pending_hold_s:
                self._pending_bytes -= len(queue.popleft().body)
                dropped += 1
                self._pending_count[key[0]] -= 1
                st = self.stats[key[0]]
                st.pending_expired_sets += 1
                st.pending_sets -= 1
                self._note(key[0], "template_timeout",
                           f"data set for template {key[3]} (domain {key[2]}) expired after "
                           f"{self.pending_hold_s:g} s without its template")
            if not queue:
                del self._pending[key]
        return dropped

    def sampling_rate(self, exporter: str, version: int, domain: int) -> int:
        return self._sampling.get((exporter, version, domain), 1)

    # -- v5 ----------------------------------------------------------------------------------------------------

    def _decode_v5(self, data: bytes, exporter: str, stats: ExporterStats, out: list[FlowRecord]) -> int:
        if len(data) < V5_HEADER.size:
            raise FlowDecodeError(f"v5 header needs {V5_HEADER.size} bytes, got {len(data)}", kind="truncated")
        _, count, uptime_ms, secs, nsecs, seq, engine_type, engine_id, sampling = V5_HEADER.unpack_from(data)
        if count == 0 or count > V5_MAX_COUNT:
            raise FlowDecodeError(f"v5 record count {count} outside 1..{V5_MAX_COUNT}", kind="absurd_length")
        need = V5_HEADER.size + count * V5_RECORD.size
        if len(data) < need:
            raise FlowDecodeError(f"v5 packet with {count} records needs {need} bytes, got {len(data)}",
                                  kind="truncated")
        domain = engine_type << 8 | engine_id
        self._sequence(exporter, 5, domain, seq, (count,), stats, counts_records=True)
        rate = sampling & 0x3FFF or 1
        base_s = secs + nsecs / 1e9 - uptime_ms / 1000.0
        body = data[V5_HEADER.size:need]
        append = out.append
        for (src, dst, _hop, in_if, out_if, pkts, octets, _first, last, sport, dport, _flags, proto, _tos,
             _sas, _das, _sm, _dm) in V5_RECORD.iter_unpack(body):
            append(_make_record((src, dst, proto, sport, dport, octets * rate, pkts * rate, in_if, out_if,
                                 base_s + last / 1000.0)))
        return domain

    # -- v9 ----------------------------------------------------------------------------------------------------

    def _decode_v9(self, data: bytes, exporter: str, stats: ExporterStats, out: list[FlowRecord]) -> int:
        if len(data) < V9_HEADER.size:
            raise FlowDecodeError(f"v9 header needs {V9_HEADER.size} bytes, got {len(data)}", kind="truncated")
        _, _count, uptime_ms, secs, seq, domain = V9_HEADER.unpack_from(data)
        self._sequence(exporter, 9, domain, seq, (1,), stats, counts_records=False)
        self._walk_sets(data, V9_HEADER.size, len(data), exporter, 9, domain, float(secs), uptime_ms, stats, out,
                        padding_ok=True)
        return domain

    # -- IPFIX -------------------------------------------------------------------------------------------------

    def _decode_ipfix(self, data: bytes, exporter: str, stats: ExporterStats, out: list[FlowRecord]) -> int:
        if len(data) < IPFIX_HEADER.size:
            raise FlowDecodeError(f"IPFIX header needs {IPFIX_HEADER.size} bytes, got {len(data)}",
                                  kind="truncated")
        _, length, export_s, seq, domain = IPFIX_HEADER.unpack_from(data)
        if length < IPFIX_HEADER.size or length > len(data):
            raise FlowDecodeError(f"IPFIX message length {length} but datagram has {len(data)} bytes",
                                  kind="absurd_length")
        self._msg_records = 0
        self._msg_options = 0
        self._msg_held = False
        try:
            self._walk_sets(data, IPFIX_HEADER.size, length, exporter, 10, domain, float(export_s), None, stats,
                            out, padding_ok=False)
        finally:
            # IPFIX sequence = data records sent before this message (RFC 7011 3.1). A held set's record count
            # is unknown until its template comes, so the next message cannot be checked.
            self._sequence(exporter, 10, domain, seq, (self._msg_records, self._msg_records - self._msg_options),
                           stats, counts_records=True)
            if self._msg_held and self._last_seq.pop((exporter, 10, domain), None) is not None:
                self._seq_domains[exporter] -= 1
        return domain

    # -- sets --------------------------------------------------------------------------------------------------

    def _walk_sets(self, data: bytes, pos: int, end: int, exporter: str, version: int, domain: int,
                   export_s: float, uptime_ms: int | None, stats: ExporterStats, out: list[FlowRecord], *,
                   padding_ok: bool) -> None:
        while pos < end:
            if end - pos < SET_HEADER.size:
                if padding_ok:
                    return  # v9 pads to 32 bits
                raise FlowDecodeError(f"{end - pos} stray bytes after the last set", kind="truncated")
            set_id, set_len = SET_HEADER.unpack_from(data, pos)
            if set_len < SET_HEADER.size and padding_ok and data.count(0, pos, end) == end - pos:
                return  # zero padding after the last flowset (Cisco ACI, PAN-OS, softflowd): legal in v9
            if set_len < SET_HEADER.size or pos + set_len > end:
                raise FlowDecodeError(f"set {set_id} at offset {pos} claims {set_len} bytes, "
                                      f"{end - pos} left", kind="absurd_length")
            body = data[pos + 4:pos + set_len]
            pos += set_len
            if set_id >= 256:  # data: the hot path, tested first
                key = (exporter, version, domain, set_id)
                compiled = self._compiled.get(key)
                if compiled is None:
                    template = self.templates.get(key)
                    if template is not None:
                        compiled = self._compiled[key] = compile_template(template)
                if compiled is not None:
                    self._msg_records += self._data_set(compiled, body, exporter, version, domain, export_s,
                                                        uptime_ms or 0, stats, out)
                elif not self._accepts(exporter, domain):
                    stats.data_sets_refused += 1
                else:
                    self._msg_held = True
                    self._hold(key, body, export_s, uptime_ms or 0, stats)
                continue
            is_options = set_id == (V9_OPTIONS_SET if version == 9 else IPFIX_OPTIONS_SET)
            if is_options or set_id == (V9_TEMPLATE_SET if version == 9 else IPFIX_TEMPLATE_SET):
                if self._accepts(exporter, domain):
                    self._templates_set(body, exporter, version, domain, stats, out, export_s, uptime_ms,
                                        options=is_options)
                else:
                    stats.template_sets_refused += 1
                    self._note("*", "unconfigured_exporter",
                               f"templates from {exporter} (domain {domain}) ignored: not an exporter of flows.yaml "
                               "or the inventory")
            else:
                raise FlowDecodeError(f"reserved set id {set_id}", kind="bad_set_id")

    def _templates_set(self, body: bytes, exporter: str, version: int, domain: int, stats: ExporterStats,
                       out: list[FlowRecord], export_s: float, uptime_ms: int | None, *, options: bool) -> None:
        pos, end = 0, len(body)
        while end - pos >= 4:
            template_id, count = struct.unpack_from("!HH", body, pos)
            pos += 4
            scope = 0
            if count == 0 and version == 10:
                # Withdrawal (RFC 7011 8.1): 4 bytes in template and options template sets alike; id 2 / 3
                # withdraws every (options) template of the domain.
                self._withdraw(exporter, domain, template_id, options=options, stats=stats)
                continue
            if options and version == 9:
                # v9 options: scope length and option length in bytes.
                if end - pos < 2:
                    raise FlowDecodeError("truncated v9 options template header", kind="truncated")
                scope_len, option_len = count, U16.unpack_from(body, pos)[0]
                pos += 2
                if scope_len % 4 or option_len % 4:
                    raise FlowDecodeError(f"v9 options template {template_id}: lengths {scope_len}/"
                                          f"{option_len} are not multiples of 4", kind="bad_template")
                scope = scope_len // 4
                count = scope + option_len // 4
                if scope == 0:
                    raise FlowDecodeError(f"v9 options template {template_id} has no scope field",
                                          kind="bad_template")
            elif options:
                if end - pos < 2:
                    raise FlowDecodeError("truncated IPFIX options template header", kind="truncated")
                scope = U16.unpack_from(body, pos)[0]
                pos += 2
                if count == 0 or scope == 0 or scope > count:
                    raise FlowDecodeError(f"IPFIX options template {template_id}: scope count {scope} of "
                                          f"{count} fields", kind="bad_template")
            if template_id < 256:
                raise FlowDecodeError(f"template id {template_id} below 256", kind="bad_template")
            if count > MAX_TEMPLATE_FIELDS:
                raise FlowDecodeError(f"template {template_id} has {count} fields (max {MAX_TEMPLATE_FIELDS})",
                                      kind="absurd_length")
            fields = []
            for _ in range(count):
                if end - pos < 4:
                    raise FlowDecodeError(f"template {template_id} truncated", kind="truncated")
                ie, length = struct.unpack_from("!HH", body, pos)
                pos += 4
                enterprise = 0
                if version == 10 and ie & 0x8000:
                    if end - pos < 4:
                        raise FlowDecodeError(f"template {template_id} truncated", kind="truncated")
                    enterprise = U32.unpack_from(body, pos)[0]
                    pos += 4
                    ie &= 0x7FFF
                # Length 65535 is variable length in IPFIX (RFC 7011 7); H3C NetStream v9 uses it the same way.
                fields.append((ie, length, enterprise))
            template = Template(version, domain, template_id, tuple(fields), scope)
            fixed = template.fixed_length
            if fixed == 0:
                raise FlowDecodeError(f"template {template_id} describes 0-byte records", kind="bad_template")
            key = (exporter, version, domain, template_id)
            known = self.templates.get(key)
            if known != template:
                if not self.templates.put(exporter, template):
                    if known is not None:  # redefined beyond the limits: the old layout no longer describes the data
                        self.templates.withdraw(exporter, version, domain, template_id)
                        self._compiled.pop(key, None)
                    stats.templates_over_limit += 1
                    self._note(exporter, "too_many_templates",
                               f"template {template_id} (domain {domain}) ignored: more than "
                               f"{self.templates.max_templates} templates or {self.templates.max_fields} fields "
                               "from this exporter")
                    continue
                stats.templates_learned += 1
                self._compiled[key] = compile_template(template)
            elif key not in self._compiled:
                self._compiled[key] = compile_template(template)
            queue = self._pending.pop(key, None)
            if queue:
                for held in queue:
                    self._pending_bytes -= len(held.body)
                    stats.pending_sets -= 1
                    stats.pending_decoded_sets += 1
                    self._pending_count[exporter] -= 1
                    self._data_set(self._compiled[key], held.body, exporter, version, domain, held.export_s,
                                   held.uptime_ms, stats, out)

    def _withdraw(self, exporter: str, domain: int, template_id: int, *, options: bool,
                  stats: ExporterStats) -> None:
        if template_id == (IPFIX_OPTIONS_SET if options else IPFIX_TEMPLATE_SET):
            ids = [k[3] for k in self.templates.keys_of(exporter, 10, domain)
                   if self.templates.get(k).is_options == options]  # type: ignore[union-attr]
        elif template_id >= 256:
            ids = [template_id]
        else:
            raise FlowDecodeError(f"withdrawal of template id {template_id}", kind="bad_template")
        for tid in ids:
            self.templates.withdraw(exporter, 10, domain, tid)
            self._compiled.pop((exporter, 10, domain, tid), None)
            stats.templates_withdrawn += 1

    def _accepts(self, exporter: str, domain: int) -> bool:
        if self._accept is None:
            return True
        ok = self._accepted.get((exporter, domain))
        if ok is None:
            if len(self._accepted) >= 4 * self.max_exporters:
                self._accepted.clear()
            ok = self._accepted[(exporter, domain)] = bool(self._accept(exporter, domain))
        return ok

    def _hold(self, key: TemplateKey, body: bytes, export_s: float, uptime_ms: int, stats: ExporterStats) -> None:
        exporter = key[0]
        if self._pending_count[exporter] >= self.pending_max_sets:
            full = f"more than {self.pending_max_sets} data sets of this exporter wait for templates"
        elif self._pending_bytes + len(body) > self.pending_max_bytes:
            full = f"data waiting for templates would exceed {self.pending_max_bytes} bytes (all exporters)"
        else:
            full = ""
        if full:
            stats.pending_overflow_sets += 1
            self._note(exporter, "pending_overflow", f"{full}; dropping template {key[3]} data")
            return
        self._pending.setdefault(key, deque()).append(_Pending(self._clock(), export_s, uptime_ms, body))
        self._pending_bytes += len(body)
        self._pending_count[exporter] += 1
        stats.pending_sets += 1

    def _data_set(self, c: _Compiled, body: bytes, exporter: str, version: int, domain: int, export_s: float,
                  uptime_ms: int, stats: ExporterStats, out: list[FlowRecord]) -> int:
        """Decode one data set into ``out``; return its number of data records (options records included)."""
        t = c.template
        seq_key = (exporter, version, domain)
        if t.is_options:
            n = self._options_records(c, body, seq_key, stats)
            self._msg_options += n
            return n
        if not c.useful:
            if c.reader is None:
                n = len(self._fields_of(c, body, exporter, stats))
            else:
                n = len(body) // c.record_len
                self._leftover(body, n * c.record_len, c, exporter, stats)
            stats.ignored_records += n
            return n
        rate = self._sampling.get(seq_key, 1)
        kind = c.time_kind
        if kind == TIME_MS:
            scale, offset = 0.001, 0.0
        elif kind == TIME_S:
            scale, offset = 1.0, 0.0
        elif kind == TIME_UPTIME:
            init_ms = self._system_init_ms.get(seq_key)
            if version == 9:
                scale, offset = 0.001, export_s - uptime_ms / 1000.0
            elif init_ms is not None:
                scale, offset = 0.001, init_ms / 1000.0
            else:
                scale, offset = 0.0, export_s
        else:
            scale, offset = 0.0, export_s
        if c.reader is None:
            records: Any = self._variable_records(c, body, exporter, stats)
            n = len(records)
        else:
            n = len(body) // c.record_len
            usable = n * c.record_len
            if usable != len(body):
                # Keep the complete records; what is left is zero padding or counted (nProbe DPI sets).
                self._leftover(body, usable, c, exporter, stats)
            if n == 0:
                return 0
            unpacked = c.reader.iter_unpack(body[:usable] if usable != len(body) else body)
            defaults = _BI_DEFAULTS if c.biflow else _DEFAULTS
            records = map(c.pick, unpacked if c.complete else (v + defaults for v in unpacked))
            if any(c.convert):
                records = (tuple(int.from_bytes(x, "big") if conv else x for x, conv in zip(r, c.convert))
                           for r in list(records))
        if c.biflow:
            records = _split_biflows(records)
        append = out.append
        if self.plain_tuples:
            if rate == 1:
                for src, dst, proto, sport, dport, octets, pkts, in_if, out_if, tm in records:
                    append((src, dst, proto, sport, dport, octets, pkts, in_if, out_if, tm * scale + offset))
            else:
                for src, dst, proto, sport, dport, octets, pkts, in_if, out_if, tm in records:
                    append((src, dst, proto, sport, dport, octets * rate, pkts * rate, in_if, out_if,
                            tm * scale + offset))
            return n
        mk = _make_record
        for src, dst, proto, sport, dport, octets, pkts, in_if, out_if, tm in records:
            append(mk((src, dst, proto, sport, dport, octets * rate, pkts * rate, in_if, out_if,
                       tm * scale + offset)))
        return n

    def _leftover(self, body: bytes, start: int, c: _Compiled, exporter: str, stats: ExporterStats) -> None:
        """Bytes after the last complete record: zero padding is legal; anything else is counted (once per set)."""
        rest = len(body) - start
        if rest <= 0 or body.count(0, start) == rest:
            return
        stats.leftover_sets += 1
        stats.leftover_bytes += rest
        self._note(exporter, "leftover_bytes",
                   f"data set of template {c.template.template_id} (domain {c.template.domain}) ends in {rest} "
                   "bytes that are not a whole record; the complete records before them are kept")

    def _fields_of(self, c: _Compiled, body: bytes, exporter: str, stats: ExporterStats) -> list[dict[int, bytes]]:
        """Generic (slow) walk: each record as {element id: raw bytes}; handles variable-length fields.

        A last record that runs past the set is not a record: the ones before it are returned and its bytes are
        counted as leftover (or ignored when they are zero padding).
        """
        records = []
        pos, end = 0, len(body)
        min_len = sum(1 if length == VARIABLE_LENGTH else length for _, length, _ in c.template.fields)
        while end - pos >= max(min_len, 1):
            rec = self._one_record(c, body, pos, end)
            if rec is None:
                break  # the last record does not fit: leftover (or padding) from ``pos``
            pos, fields = rec
            records.append(fields)
        self._leftover(body, pos, c, exporter, stats)
        return records

    @staticmethod
    def _one_record(c: _Compiled, body: bytes, pos: int, end: int) -> tuple[int, dict[int, bytes]] | None:
        """(position after it, {element id: raw bytes}) of the record at ``pos``, or None if it runs past ``end``."""
        rec: dict[int, bytes] = {}
        for ie, length, ent in c.template.fields:
            if length == VARIABLE_LENGTH:
                if pos >= end:
                    return None
                length = body[pos]
                pos += 1
                if length == 255:
                    if end - pos < 2:
                        return None
                    length = U16.unpack_from(body, pos)[0]
                    pos += 2
            if pos + length > end:
                return None
            if ent == 0:
                rec.setdefault(ie, body[pos:pos + length])
            pos += length
        return pos, rec

    def _variable_records(self, c: _Compiled, body: bytes, exporter: str, stats: ExporterStats) -> list[tuple[Any, ...]]:
        out = []
        slots, defaults = (_BI_SLOTS, _BI_DEFAULTS) if c.biflow else (_SLOTS, _DEFAULTS)
        for rec in self._fields_of(c, body, exporter, stats):
            values = []
            for slot, default in zip(slots, defaults):
                raw = None
                for ie in _SLOT_CANDIDATES[slot]:
                    if ie in rec:
                        raw = rec[ie]
                        break
                if raw is None:
                    values.append(default)
                elif slot in ("src", "dst"):
                    values.append(raw if len(raw) in (4, 16) else default)
                else:
                    values.append(int.from_bytes(raw[:8], "big"))
            out.append(tuple(values))
        return out

    def _options_records(self, c: _Compiled, body: bytes, seq_key: SeqKey, stats: ExporterStats) -> int:
        records = self._fields_of(c, body, seq_key[0], stats)
        for rec in records:
            stats.options_records += 1
            rate = 0
            for ie in (IE_SAMPLING_INTERVAL, IE_SAMPLER_RANDOM_INTERVAL):
                raw = rec.get(ie)
                if raw:
                    rate = int.from_bytes(raw[:8], "big")
                    break
            else:
                interval, space = rec.get(IE_SAMPLING_PACKET_INTERVAL), rec.get(IE_SAMPLING_PACKET_SPACE)
                if interval and int.from_bytes(interval[:8], "big"):
                    # RFC 5477: select `interval` packets, then skip `space` packets.
                    n = int.from_bytes(interval[:8], "big")
                    skip = int.from_bytes(space[:8], "big") if space else 0
                    rate = round((n + skip) / n)
            if 1 <= rate <= 1_000_000:
                self.templates.set_sampling(seq_key, rate)
            raw = rec.get(IE_SYSTEM_INIT_MS)
            if raw and len(raw) == 8:
                self.templates.set_system_init_ms(seq_key, int.from_bytes(raw, "big"))
        return len(records)

    # -- sequence numbers and problems -------------------------------------------------------------------------

    def _sequence(self, exporter: str, version: int, domain: int, seq: int, advance: tuple[int, ...],
                  stats: ExporterStats, *, counts_records: bool) -> None:
        """Count sequence gaps. ``advance``: what this message may add to the sequence (several readings).

        RFC 3954/7011 say the sequence counts what was sent *before* this message; some exporters (softflowd's
        IPFIX) send the count *including* it, and some leave options records out. A message is in order when its
        number matches any of these readings after the previous message; otherwise the smallest forward gap is
        counted as lost.
        """
        key = (exporter, version, domain)
        prev = self._last_seq.get(key)
        if prev is None and not self._tracks_sequence(exporter, domain):
            return
        self._last_seq[key] = (seq, advance)
        if prev is None:
            return
        prev_seq, prev_advance = prev
        candidates = {(prev_seq + a) & 0xFFFFFFFF for a in (*prev_advance, *advance)}
        if seq in candidates:
            return
        gaps = [(seq - c) & 0xFFFFFFFF for c in candidates]
        gap = min(gaps)
        if gap < 0x10000000:  # ahead by a plausible amount: that many went missing
            stats.sequence_gaps += 1
            if counts_records:
                stats.lost_records += gap
            else:
                stats.lost_packets += gap
        else:  # behind: exporter restart or reordering
            stats.sequence_resets += 1

    def _tracks_sequence(self, exporter: str, domain: int) -> bool:
        """May (exporter, domain) get sequence state? Not for an exporter that is not configured (a spoofed flood
        with a new source id per datagram grew it by ~230 bytes a datagram), nor beyond
        MAX_DOMAINS_PER_EXPORTER domains of a configured one (its address may be spoofed too)."""
        if not self._accepts(exporter, domain):
            return False
        if self._seq_domains[exporter] >= MAX_DOMAINS_PER_EXPORTER:
            self._note(exporter, "too_many_domains", f"more than {MAX_DOMAINS_PER_EXPORTER} observation domains: "
                       f"sequence numbers of domain {domain} are not checked")
            return False
        self._seq_domains[exporter] += 1
        return True

    def _bad(self, exporter: str, stats: ExporterStats, kind: str, reason: str) -> None:
        stats.malformed_packets += 1
        stats.malformed_reasons[kind] += 1
        self._note(exporter, kind, reason)

    def _note(self, exporter: str, kind: str, reason: str) -> None:
        now = self._clock()
        key = (exporter, kind)
        last = self._last_log.get(key)
        if last is not None and now - last < self._log_interval_s:
            self._suppressed[key] += 1
            return
        self._last_log[key] = now
        more = self._suppressed.pop(key, 0)
        suffix = f" ({more} more like it since the last message)" if more else ""
        log.warning("flow exporter %s: %s: %s%s", exporter, kind, reason, suffix)
