"""The simulated SNMPv2c agent: IF-MIB for many devices, one UDP port each on 127.0.0.1, one asyncio loop.

Built on linewatch's own BER codec rather than pysnmp's responder: pysnmp's pyasn1 codec costs ~230 µs per value
on the manager side (measured, docs/snmp.md) and its responder uses the same codec, so a 1,000-interface walk of 8
columns would cost the agent seconds of CPU; this agent serves ~80,000 values/s on one core. Supports GET, GETNEXT and GETBULK with lexicographic order and endOfMibView; v2c only.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from collector.simagent.model import SimDevice, SimInterface
from collector.snmp import ber
from linewatch.errors import BerError, ServerError

log = logging.getLogger(__name__)

SYSTEM = "1.3.6.1.2.1.1"
IF_NUMBER = "1.3.6.1.2.1.2.1.0"
IF_TABLE_ENTRY = "1.3.6.1.2.1.2.2.1"
IFX_TABLE_ENTRY = "1.3.6.1.2.1.31.1.1.1"
SIM_SYS_OBJECT_ID = "1.3.6.1.4.1.8072.3.2.10"
MAX_RESPONSE_BYTES = 65_000

_M32 = 2**32
_M64 = 2**64

def _octets(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


# column OID -> (tag, value of (ifIndex, interface))
Getter = Callable[[int, SimInterface], Any]
COLUMNS: dict[str, tuple[int, Getter]] = {
    f"{IF_TABLE_ENTRY}.1": (ber.TAG_INTEGER, lambda ix, i: ix),  # ifIndex
    f"{IF_TABLE_ENTRY}.2": (ber.TAG_OCTET_STRING, lambda ix, i: _octets(i.descr)),  # ifDescr
    f"{IF_TABLE_ENTRY}.3": (ber.TAG_INTEGER, lambda ix, i: i.if_type),  # ifType
    f"{IF_TABLE_ENTRY}.5": (ber.TAG_GAUGE32, lambda ix, i: min(i.speed_bps, _M32 - 1)),  # ifSpeed
    f"{IF_TABLE_ENTRY}.7": (ber.TAG_INTEGER, lambda ix, i: int(i.admin_status)),  # ifAdminStatus
    f"{IF_TABLE_ENTRY}.8": (ber.TAG_INTEGER, lambda ix, i: int(i.oper_status)),  # ifOperStatus
    f"{IF_TABLE_ENTRY}.10": (ber.TAG_COUNTER32, lambda ix, i: i.in_octets % _M32),  # ifInOctets
    f"{IF_TABLE_ENTRY}.13": (ber.TAG_COUNTER32, lambda ix, i: i.in_discards % _M32),  # ifInDiscards
    f"{IF_TABLE_ENTRY}.14": (ber.TAG_COUNTER32, lambda ix, i: i.in_errors % _M32),  # ifInErrors
    f"{IF_TABLE_ENTRY}.16": (ber.TAG_COUNTER32, lambda ix, i: i.out_octets % _M32),  # ifOutOctets
    f"{IF_TABLE_ENTRY}.19": (ber.TAG_COUNTER32, lambda ix, i: i.out_discards % _M32),  # ifOutDiscards
    f"{IF_TABLE_ENTRY}.20": (ber.TAG_COUNTER32, lambda ix, i: i.out_errors % _M32),  # ifOutErrors
    f"{IFX_TABLE_ENTRY}.1": (ber.TAG_OCTET_STRING, lambda ix, i: _octets(i.name)),  # ifName
    f"{IFX_TABLE_ENTRY}.6": (ber.TAG_COUNTER64, lambda ix, i: i.in_octets % _M64),  # ifHCInOctets
    f"{IFX_TABLE_ENTRY}.10": (ber.TAG_COUNTER64, lambda ix, i: i.out_octets % _M64),  # ifHCOutOctets
    f"{IFX_TABLE_ENTRY}.15": (
        ber.TAG_GAUGE32,
        lambda ix, i: min(i.speed_bps // 1_000_000, _M32 - 1),
    ),  # ifHighSpeed
    f"{IFX_TABLE_ENTRY}.18": (ber.TAG_OCTET_STRING, lambda ix, i: _octets(i.alias)),  # ifAlias
}

HC_COLUMNS = frozenset({f"{IFX_TABLE_ENTRY}.6", f"{IFX_TABLE_ENTRY}.10"})
OCTET_COLUMNS = frozenset({f"{IF_TABLE_ENTRY}.10", f"{IF_TABLE_ENTRY}.16"})

# scalar OID -> (tag, value of device)
SCALARS: dict[str, tuple[int, Callable[[SimDevice], Any]]] = {
    f"{SYSTEM}.1.0": (ber.TAG_OCTET_STRING, lambda d: d.sys_descr.encode()),  # sysDescr
    f"{SYSTEM}.2.0": (ber.TAG_OID, lambda d: SIM_SYS_OBJECT_ID),  # sysObjectID
    f"{SYSTEM}.3.0": (ber.TAG_TIMETICKS, lambda d: d.uptime_ticks()),  # sysUpTime
    f"{SYSTEM}.5.0": (ber.TAG_OCTET_STRING, lambda d: d.name.encode()),  # sysName
    IF_NUMBER: (ber.TAG_INTEGER, lambda d: len(d.interfaces)),  # ifNumber
}


def _arcs(oid: str) -> tuple[int, ...]:
    return tuple(int(a) for a in oid.split("."))


_OBJECT_PREFIXES = frozenset([_arcs(c) for c in COLUMNS] + [_arcs(s)[:-1] for s in SCALARS])


@dataclass
class _Entry:
    """One instance in the MIB view: its encoded name, and how to get its value."""

    oid_tlv: bytes
    tag: int
    scalar: Callable[[SimDevice], Any] | None
    column: Getter | None
    if_index: int


class _MibView:
    """Sorted instances of one device for a given interface layout; rebuilt only when the layout changes."""

    def __init__(self, device: SimDevice):
        entries: list[tuple[tuple[int, ...], _Entry]] = []
        for oid, (tag, fn) in SCALARS.items():
            entries.append((_arcs(oid), _Entry(ber.encode_oid(oid), tag, fn, None, 0)))
        for col, (tag, getter) in COLUMNS.items():
            base = _arcs(col)
            if col.startswith(IFX_TABLE_ENTRY + ".") and not device.ifx_table:
                continue
            for ix, iface in device.interfaces.items():
                if col in HC_COLUMNS and not iface.hc_counters:
                    continue
                if col in OCTET_COLUMNS and not iface.octet_counters:
                    continue
                entries.append((base + (ix,), _Entry(ber.encode_oid(f"{col}.{ix}"), tag, None, getter, ix)))
        entries.sort(key=lambda e: e[0])
        self.keys = [k for k, _ in entries]
        self.entries = [e for _, e in entries]
        self.index = {k: n for n, k in enumerate(self.keys)}


class _Request:
    """Per-request state: applies the counter model at most once per interface per request."""

    def __init__(self, device: SimDevice, now_s: float):
        self.device = device
        self.now_s = now_s
        self.sampled: set[int] = set()

    def value(self, e: _Entry) -> bytes:
        d = self.device
        if e.scalar is not None:
            return ber.encode_value(e.tag, e.scalar(d))
        iface = d.interfaces.get(e.if_index)
        if iface is None:
            return bytes((ber.TAG_NO_SUCH_INSTANCE, 0))
        if d.model is not None and e.if_index not in self.sampled:
            self.sampled.add(e.if_index)
            s = d.model.sample(d, e.if_index, self.now_s)
            iface.in_octets, iface.out_octets, iface.oper_status = s.in_octets, s.out_octets, s.oper_status
            iface.in_errors, iface.out_errors = s.in_errors, s.out_errors
            iface.in_discards, iface.out_discards = s.in_discards, s.out_discards
        assert e.column is not None
        return ber.encode_value(e.tag, e.column(e.if_index, iface))


class DeviceResponder:
    """Answers SNMP requests for one :class:`SimDevice`."""

    def __init__(
        self,
        device: SimDevice,
        *,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.device = device
        self.max_response_bytes = max_response_bytes
        self._wall_clock = wall_clock
        self._view: _MibView | None = None
        self._view_key: tuple[object, ...] | None = None
        self.requests_served = 0

    def _mib_view(self) -> _MibView:
        key = (
            self.device.layout_version,
            self.device.ifx_table,
            tuple((ix, i.hc_counters, i.octet_counters) for ix, i in self.device.interfaces.items()),
        )
        if self._view is None or key != self._view_key:
            self._view = _MibView(self.device)
            self._view_key = key
        return self._view

    def respond(self, data: bytes) -> bytes | None:
        """The response datagram for ``data``, or None to drop it (undecodable, wrong community, not v2c)."""
        try:
            msg = ber.decode_message(data)
        except BerError as exc:
            log.debug("%s: dropping undecodable request: %s", self.device.name, exc)
            return None
        d = self.device
        if msg.version != ber.VERSION_2C or msg.community != d.community.encode():
            return None
        with d.lock:
            view = self._mib_view()
            req = _Request(d, self._wall_clock())
            self.requests_served += 1
            if msg.pdu_type == ber.PDU_GET:
                body = self._get(view, req, msg.varbinds)
            elif msg.pdu_type == ber.PDU_GETNEXT:
                body = self._next(view, req, [vb[0] for vb in msg.varbinds])
            elif msg.pdu_type == ber.PDU_GETBULK:
                return self._bulk(view, req, msg)
            else:
                return self._reply(
                    msg,
                    b"".join(ber.encode_varbind(o, t, v) for o, t, v in msg.varbinds),
                    error_status=17,
                    error_index=1,
                )  # notWritable
        return self._reply(msg, body)

    def _reply(self, msg: ber.Message, body: bytes, error_status: int = 0, error_index: int = 0) -> bytes:
        return ber.encode_message_raw(
            version=msg.version,
            community=msg.community,
            pdu_type=ber.PDU_RESPONSE,
            request_id=(msg.request_id + self.device.request_id_offset) % 2**31,
            error_status=error_status,
            error_index=error_index,
            varbind_bytes=body,
        )

    @staticmethod
    def _get(view: _MibView, req: _Request, varbinds: list[ber.VarBind]) -> bytes:
        out = []
        for oid, _, _ in varbinds:
            arcs = _arcs(oid)
            n = view.index.get(arcs)
            if n is not None:
                e = view.entries[n]
                out.append(_vb(e.oid_tlv + req.value(e)))
            else:
                tag = ber.TAG_NO_SUCH_INSTANCE if arcs[:-1] in _OBJECT_PREFIXES else ber.TAG_NO_SUCH_OBJECT
                out.append(ber.encode_varbind(oid, tag))
        return b"".join(out)

    @staticmethod
    def _next_one(view: _MibView, req: _Request, arcs: tuple[int, ...]) -> tuple[tuple[int, ...], bytes]:
        n = bisect.bisect_right(view.keys, arcs)
        if n >= len(view.keys):
            return arcs, b""
        e = view.entries[n]
        return view.keys[n], _vb(e.oid_tlv + req.value(e))

    def _next(self, view: _MibView, req: _Request, oids: Iterable[str]) -> bytes:
        out = []
        for oid in oids:
            _, vb = self._next_one(view, req, _arcs(oid))
            out.append(vb or ber.encode_varbind(oid, ber.TAG_END_OF_MIB_VIEW))
        return b"".join(out)

    def _bulk(self, view: _MibView, req: _Request, msg: ber.Message) -> bytes:
        oids = [vb[0] for vb in msg.varbinds]
        nr = min(max(msg.non_repeaters, 0), len(oids))
        reps = max(msg.max_repetitions, 0)
        parts = [self._next(view, req, oids[:nr])]
        size = len(parts[0]) + 64 + len(msg.community)
        cursors = [(_arcs(o), o) for o in oids[nr:]]
        sent = 0  # repeater varbinds in the reply so far
        for _ in range(reps if cursors else 0):
            row = []
            all_end = True
            new_cursors = []
            for arcs, oid in cursors:
                key, vb = self._next_one(view, req, arcs)
                if vb:
                    all_end = False
                    new_cursors.append((key, ".".join(map(str, key))))
                else:
                    vb = ber.encode_varbind(oid, ber.TAG_END_OF_MIB_VIEW)
                    new_cursors.append((arcs, oid))
                row.append(vb)
            row_bytes = b"".join(row)
            if size + len(row_bytes) > self.max_response_bytes:
                if len(parts) == 1 and not parts[0]:
                    return self._reply(msg, b"", error_status=ber.ERROR_TOO_BIG)
                break  # RFC 3416 4.2.3: return fewer repetitions rather than tooBig
            limit = self.device.max_bulk_varbinds
            if limit is not None and sent + len(row) > limit:
                parts.append(b"".join(row[: max(limit - sent, 0 if sent else 1)]))
                break  # a reply may end in the middle of a row (RFC 3416 4.2.3): the rest comes next request
            parts.append(row_bytes)
            sent += len(row)
            size += len(row_bytes)
            cursors = new_cursors
            if all_end:
                break
        return self._reply(msg, b"".join(parts))


def _vb(content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((ber.TAG_SEQUENCE, n)) + content
    return ber._tlv(ber.TAG_SEQUENCE, content)


class _AgentProtocol(asyncio.DatagramProtocol):
    def __init__(self, responder: DeviceResponder):
        self.responder = responder
        self.transport: asyncio.DatagramTransport | None = None
        self._busy_until = 0.0  # loop time until which the device is busy with earlier delayed requests

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        d = self.responder.device
        if d.silent:
            return
        busy_s = d.next_request_delay()
        if busy_s > 0:
            if d.spend_delay is not None:
                d.spend_delay(busy_s)  # injected time passes; the counters are read after it
            else:
                loop = asyncio.get_running_loop()
                self._busy_until = max(loop.time(), self._busy_until) + busy_s
                loop.call_at(self._busy_until, self._answer, data, addr)
                return
        self._answer(data, addr)

    def _answer(self, data: bytes, addr: tuple[str, int]) -> None:
        d = self.responder.device
        try:
            reply = self.responder.respond(data)
        except Exception:  # a bug in the simulator must not kill the agent loop
            log.exception("%s: simulated agent failed on a request", d.name)
            return
        if reply is None or self.transport is None or self.transport.is_closing():
            return
        if d.delay_s > 0:
            asyncio.get_running_loop().call_later(d.delay_s, self._send, reply, addr)
        else:
            self.transport.sendto(reply, addr)

    def _send(self, reply: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)


async def serve_device(
    device: SimDevice, *, host: str = "127.0.0.1", port: int = 0, wall_clock: Callable[[], float] = time.time
) -> tuple[asyncio.DatagramTransport, int]:
    """Start answering for ``device`` on the running loop; returns the transport and the bound port.
    ``wall_clock`` is the time the counter model is sampled at."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _AgentProtocol(DeviceResponder(device, wall_clock=wall_clock)), local_addr=(host, port)
    )
    return transport, transport.get_extra_info("sockname")[1]


class SimAgent:
    """Runs the simulated agent in a background thread of this process, so tests can mutate devices directly.

    >>> agent = SimAgent([SimDevice.with_interfaces("r1", 4)]); agent.start(); agent.port("r1"); agent.stop()
    """

    def __init__(
        self,
        devices: Iterable[SimDevice] = (),
        *,
        host: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ):
        """``ports`` fixes the UDP port of named devices (others, and port 0, get a free port); ``wall_clock`` is
        the time counter models are sampled at (tests inject theirs)."""
        self.host = host
        self._wall_clock = wall_clock
        self._fixed_ports = dict(ports or {})
        self.devices: dict[str, SimDevice] = {}
        for d in devices:
            if d.name in self.devices:
                raise ValueError(f"duplicate simulated device {d.name!r}")
            self.devices[d.name] = d
        self._ports: dict[str, int] = {}
        self._transports: dict[str, asyncio.DatagramTransport] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("SimAgent already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="simagent", daemon=True)
        self._thread.start()
        ready.wait(10)
        try:
            for d in list(self.devices.values()):
                self._serve(d)
        except BaseException:
            self.stop()  # do not leave the loop thread behind
            raise
        return self

    def _serve(self, device: SimDevice) -> None:
        assert self._loop is not None
        port = self._fixed_ports.get(device.name, 0)
        fut = asyncio.run_coroutine_threadsafe(
            serve_device(device, host=self.host, port=port, wall_clock=self._wall_clock), self._loop
        )
        try:
            transport, port = fut.result(10)
        except OSError as exc:
            raise ServerError(
                f"simulated device {device.name}: cannot listen on udp:{self.host}:{port}: {exc}"
            ) from exc
        self._transports[device.name] = transport
        self._ports[device.name] = port

    def add_device(self, device: SimDevice) -> int:
        """Add (and, if running, start serving) a device; returns its port once served, else 0."""
        if device.name in self.devices:
            raise ValueError(f"duplicate simulated device {device.name!r}")
        self.devices[device.name] = device
        if self._loop is not None:
            self._serve(device)
            return self._ports[device.name]
        return 0

    def port(self, name: str) -> int:
        return self._ports[name]

    @property
    def ports(self) -> dict[str, int]:
        return dict(self._ports)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        def close_all() -> None:
            for t in self._transports.values():
                t.close()
            loop.call_soon(loop.stop)

        loop.call_soon_threadsafe(close_all)
        thread.join(10)
        self._loop = None
        self._thread = None
        self._transports.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
