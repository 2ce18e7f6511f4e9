"""The collector: poll every device concurrently, turn readings into rates, write points, persist counter state.

Failure isolation: each device is polled in its own task with its own time budget; a silent or failing device is
reported (log line with the device name, a ``collector_poll`` point with ``ok=0`` and the error) and never delays
the others beyond its own timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from linewatch.errors import SnmpError
from linewatch.influx import Point, PointWriter
from linewatch.inventory import Device, Inventory, SnmpV2c
from linewatch.inventory_source import InventorySource
from linewatch.settings import CollectorSettings

from collector.linepoints import line_traffic_point
from collector.snmp.counters import DiscardReason, Rates, compute_rates
from collector.snmp.factory import make_client
from collector.snmp.poller import DevicePoll, DevicePoller
from collector.snmp.protocol import SnmpClient, V3Credentials
from collector.state import CounterState

log = logging.getLogger(__name__)


def client_for(device: Device) -> SnmpClient:
    """The SNMP client for a configured device. Secrets are unwrapped here and nowhere else."""
    snmp = device.snmp
    common = dict(device_name=device.name, host=device.address, port=device.port, timeout_s=device.timeout_s,
                  retries=device.retries)
    if isinstance(snmp, SnmpV2c):
        return make_client(**common, v2c_community=snmp.community.get_secret_value())
    creds = V3Credentials(
        user=snmp.user,
        auth_protocol=snmp.auth_protocol,
        auth_key=snmp.auth_key.get_secret_value() if snmp.auth_key else None,
        priv_protocol=snmp.priv_protocol,
        priv_key=snmp.priv_key.get_secret_value() if snmp.priv_key else None,
    )
    return make_client(**common, v3=creds)


@dataclass(frozen=True)
class LineResult:
    """One port's figures in a cycle; ``line`` is the line id (then its interface, for a line with several members)."""

    line: str
    device: str
    in_bps: float | None
    out_bps: float | None
    in_util_pct: float | None
    out_util_pct: float | None
    oper_status: int | None
    note: str = ""


@dataclass
class CycleReport:
    started_s: float
    duration_s: float = 0.0
    polls: list[DevicePoll] = field(default_factory=list)
    lines: list[LineResult] = field(default_factory=list)
    discarded: Counter[str] = field(default_factory=Counter)

    @property
    def failed_devices(self) -> list[DevicePoll]:
        return [p for p in self.polls if not p.ok]

    @property
    def unresolved_lines(self) -> list[str]:
        """Line members (``LineResult.line`` keys) whose interface could not be located on a device that answered
        (not found, ambiguous, absent)."""
        return sorted(line_id for p in self.polls for line_id in p.unresolved)


class Collector:
    """One collector instance over an inventory. ``run_cycle`` is safe to call repeatedly (never concurrently)."""

    def __init__(self, *, settings: CollectorSettings, inventory: Inventory, writer: PointWriter | None,
                 state: CounterState, client_factory: Callable[[Device], SnmpClient] = client_for,
                 clock: Callable[[], float] = time.time, inventory_source: InventorySource | None = None):
        self.settings = settings
        self.inventory = inventory
        self.writer = writer
        self.state = state
        self.clock = clock
        self._sem = asyncio.Semaphore(settings.max_concurrent_devices)
        self.in_flight: dict[str, float] = {}  # device -> monotonic start, for "which devices were slow"
        self.pollers: dict[str, DevicePoller] = {}
        self._client_factory = client_factory
        self.inventory_source = inventory_source
        self._build_pollers(inventory)
        self.max_interval_s = max(5 * settings.interval_s, 300.0)
        self._said: dict[str, str] = {}  # line id -> the problem last logged for it (each is logged once)
        self.cycles = 0

    def _build_pollers(self, inventory: Inventory) -> list[DevicePoller]:
        """Pollers for ``inventory``; a device whose entry and lines are unchanged keeps its poller (and its
        interface names). Returns the pollers replaced or dropped (their clients still to be closed)."""
        old, self.pollers = self.pollers, {}
        lines = inventory.polled_lines()
        for device in inventory.devices:
            dev_lines = [line for line in lines if any(m.device == device.name for m in line.members)]
            if not dev_lines:
                continue
            kept = old.get(device.name)
            if kept is not None and kept.device == device and kept.lines == dev_lines:
                self.pollers[device.name] = old.pop(device.name)
            else:
                self.pollers[device.name] = DevicePoller(device, dev_lines, self._client_factory(device),
                                                         max_repetitions=self.settings.max_repetitions,
                                                         clock=self.clock)
        self.inventory = inventory
        return list(old.values())

    async def refresh_inventory(self) -> None:
        """Take the inventory source's current inventory (each cycle): a change applies from this cycle on."""
        if self.inventory_source is None:
            return
        inventory = await asyncio.to_thread(self.inventory_source.current)
        if inventory is self.inventory or inventory == self.inventory:
            return
        for poller in self._build_pollers(inventory):
            await poller.client.close()
        log.info("inventory changed: %d devices, %d lines polled on %d interfaces", len(self.pollers),
                 len({line.id for p in self.pollers.values() for line in p.lines}),
                 sum(len(p.ports) for p in self.pollers.values()))

    async def _poll_device(self, poller: DevicePoller, budget_s: float) -> DevicePoll:
        name = poller.device.name
        async with self._sem:
            started = time.monotonic()
            self.in_flight[name] = started
            try:
                return await asyncio.wait_for(poller.poll(), timeout=budget_s)
            except SnmpError as exc:
                error = str(exc)
            except TimeoutError:
                error = f"{name}: poll did not finish within {budget_s:.1f} s"
            except Exception as exc:  # a bug or a garbled answer must not stop the other devices
                log.exception("%s: poll failed unexpectedly", name)
                error = f"{name}: {type(exc).__name__}: {exc}"
            finally:
                self.in_flight.pop(name, None)
            log.warning("poll failed: %s", error)
            return DevicePoll(device=name, ok=False, duration_s=time.monotonic() - started, error=error)

    async def run_cycle(self) -> CycleReport:
        """Poll all devices once, write the points, save the counter state."""
        await self.refresh_inventory()
        report = CycleReport(started_s=self.clock())
        t0 = time.monotonic()
        budget_s = max(1.0, self.settings.interval_s * 0.9)
        polls = await asyncio.gather(*(self._poll_device(p, budget_s) for p in self.pollers.values()))
        report.polls = list(polls)
        points = self._points(report)
        report.duration_s = time.monotonic() - t0
        points.append(self._health_point(report))
        if self.writer is not None:
            await asyncio.to_thread(self.writer.write, points)
        await asyncio.to_thread(self.state.save)
        self.cycles += 1
        if report.duration_s > self.settings.interval_s:
            slow = sorted(report.polls, key=lambda p: -p.duration_s)[:5]
            log.warning("cycle took %.1f s, longer than the %.0f s interval; slowest devices: %s",
                        report.duration_s, self.settings.interval_s,
                        ", ".join(f"{p.device} {p.duration_s:.1f}s" for p in slow))
        return report

    def _points(self, report: CycleReport) -> list[Point]:
        points: list[Point] = []
        now_ns = int(report.started_s * 1e9)
        for poll in report.polls:
            discarded_here = 0
            ports = self.pollers[poll.device].ports
            for line_id, sample in poll.samples.items():  # line_id: the port's key (Port.key)
                port = ports[line_id]
                line, member, label = port.line, port.member, port.member.interface_label
                prev = self.state.get(poll.device, line.id, label)
                rates = compute_rates(prev, sample.reading, port_speed_bps=sample.port_speed_bps,
                                      max_interval_s=self.max_interval_s)
                self.state.put(poll.device, line.id, sample.reading, label)
                if rates.discarded is not None:
                    report.discarded[rates.discarded.value] += 1
                    if rates.discarded is not DiscardReason.FIRST_SAMPLE:
                        discarded_here += 1
                        log.info("%s %s: rate discarded (%s)", poll.device, line_id, rates.discarded.value)
                point = line_traffic_point(line, member=member, time_ns=int(sample.reading.time_s * 1e9),
                                           reading=sample.reading,
                                           rates=rates, oper_status=sample.oper_status,
                                           admin_status=sample.admin_status, port_speed_bps=sample.port_speed_bps)
                points.append(point)
                result = _line_result(line_id, poll.device, rates, point, sample.oper_status)
                if line_id in poll.notes:
                    result = replace(result, note="; ".join(filter(None, (result.note, poll.notes[line_id]))))
                report.lines.append(result)
                if self._said.pop(line_id, None) is not None:
                    log.info("%s %s: sampled again", poll.device, line_id)
            for line_id, why in poll.line_errors.items():
                if self._said.get(line_id) != why:
                    log.warning("%s %s: %s", poll.device, line_id, why)
                    self._said[line_id] = why
                report.lines.append(LineResult(line_id, poll.device, None, None, None, None, None, why))
            if not poll.ok:
                for key in ports:
                    report.lines.append(LineResult(key, poll.device, None, None, None, None, None, "no data"))
            points.append(Point("collector_poll", {"device": poll.device, "collector": self.settings.name}, {
                "ok": int(poll.ok), "duration_s": poll.duration_s, "varbinds": poll.varbinds,
                "lines": len(poll.samples), "discarded_samples": discarded_here, "error": poll.error,
                "unresolved_lines": len(poll.unresolved),
            }, now_ns))
        return points

    def _health_point(self, report: CycleReport) -> Point:
        fields: dict[str, float | int] = {
            "cycle_duration_s": report.duration_s,
            "devices_ok": sum(p.ok for p in report.polls),
            "devices_failed": len(report.failed_devices),
            "lines_unresolved": len(report.unresolved_lines),
        }
        if self.inventory_source is not None:
            fields["inventory_stale_s"] = self.inventory_source.stale_s
        if self.writer is not None:
            st = self.writer.stats()
            fields.update(spool_bytes=st.spool_bytes, spool_batches=st.spooled_batches,
                          overflowed_batches=st.overflowed_batches, dropped_batches=st.dropped_batches)
        return Point("collector_health", {"collector": self.settings.name}, fields, int(report.started_s * 1e9))

    async def close(self) -> None:
        for poller in self.pollers.values():
            await poller.client.close()


def _line_result(line_id: str, device: str, rates: Rates, point: Point, oper: int | None) -> LineResult:
    f = point.fields
    note = "" if rates.discarded is None else rates.discarded.value.replace("_", " ")
    return LineResult(line_id, device, f.get("in_bps"), f.get("out_bps"), f.get("in_util_pct"),
                      f.get("out_util_pct"), oper, note)


def _fmt_bps(v: float | None) -> str:
    if v is None:
        return "-"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= div:
            return f"{v / div:.1f} {unit}b/s"
    return f"{v:.0f} b/s"


def format_report(report: CycleReport) -> str:
    """A per-line table for humans (``collect --once``, the demo)."""
    from linewatch.choices import OperStatus

    rows = [("LINE", "DEVICE", "IN", "OUT", "IN %", "OUT %", "STATUS", "NOTE")]
    for r in sorted(report.lines, key=lambda r: r.line):
        status = OperStatus(r.oper_status).name.lower() if r.oper_status in OperStatus._value2member_map_ else "-"
        pct = (lambda v: "-" if v is None else f"{v:.1f}")
        rows.append((r.line, r.device, _fmt_bps(r.in_bps), _fmt_bps(r.out_bps), pct(r.in_util_pct),
                     pct(r.out_util_pct), status, r.note))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    failed = report.failed_devices
    tail = f"{len(report.polls) - len(failed)}/{len(report.polls)} devices ok"
    unresolved = report.unresolved_lines
    if unresolved:
        tail += f", {len(unresolved)} line{'s' if len(unresolved) != 1 else ''} unresolved ({', '.join(unresolved)})"
    tail += f", cycle {report.duration_s:.2f} s"
    if failed:
        tail += "; failed: " + "; ".join(p.error for p in failed)
    return "\n".join([*lines, tail])

