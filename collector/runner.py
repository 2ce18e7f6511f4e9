"""Long-running collection: apscheduler runs one cycle per interval, never overlapping."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from linewatch.influx import PointWriter
from linewatch.inventory import Inventory
from linewatch.inventory_source import InventorySource
from linewatch.settings import Settings

from collector.service import Collector, CycleReport
from collector.state import CounterState

log = logging.getLogger(__name__)


def build_collector(settings: Settings, *, inventory: Inventory | None = None) -> Collector:
    """Collector, writer (with its disk spool) and restored counter state, all from settings."""
    # Without an inventory given, the configured source (lines.yaml or the app) is asked again every cycle.
    source = InventorySource(settings) if inventory is None else None
    inventory = inventory or source.current()
    # A cycle must never wait on InfluxDB for long: what cannot be sent quickly goes to the spool and the next
    # cycle polls on time (at most a quarter of the interval of retrying, plus one request timeout).
    influx = settings.influx_settings()
    writer = PointWriter.from_settings(influx, max_retry_s=min(influx.max_retry_s, settings.collector.interval_s / 4))
    try:
        writer.client.ensure_database()
    except Exception as exc:  # InfluxDB may be down at start: points go to the spool until it returns
        log.warning("InfluxDB not ready (%s); points will be spooled until it is", exc)
    state = CounterState(settings.resolve(settings.collector.state_path))
    restored = state.load()
    if restored:
        log.info("restored counter state for %d lines from %s", restored, state.path)
    return Collector(settings=settings.collector, inventory=inventory, writer=writer, state=state,
                     inventory_source=source)


async def run_forever(collector: Collector, *, stop: asyncio.Event,
                      on_report: Callable[[CycleReport], None] | None = None) -> None:
    """Run a cycle every ``interval_s`` until ``stop`` is set. Overlaps are skipped and the slow devices logged."""
    interval_s = collector.settings.interval_s
    running: set[asyncio.Task] = set()

    async def cycle() -> None:
        task = asyncio.current_task()
        assert task is not None
        running.add(task)
        try:
            report = await collector.run_cycle()
        finally:
            running.discard(task)
        if on_report is not None:
            on_report(report)

    def listener(event: JobEvent) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            now = time.monotonic()
            slow = ", ".join(f"{d} ({now - t:.1f} s)" for d, t in sorted(collector.in_flight.items()))
            log.warning("previous cycle still running after %.0f s; skipped this one. Still polling: %s",
                        interval_s, slow or "none (writing to InfluxDB)")
        elif event.code == EVENT_JOB_ERROR:
            log.error("collector cycle failed: %s", getattr(event, "exception", "?"))

    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
    scheduler.add_listener(listener, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
    scheduler.add_job(cycle, IntervalTrigger(seconds=interval_s), id="collect", max_instances=1, coalesce=True,
                      misfire_grace_time=max(1, int(interval_s // 2)), next_run_time=_now())
    scheduler.start()
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        if running:  # let a cycle in progress finish (and write its points) rather than cancel it midway
            await asyncio.wait(running, timeout=interval_s)
        await collector.close()
        if collector.writer is not None:
            await asyncio.to_thread(collector.writer.close)


def _now():  # noqa: ANN202 - apscheduler wants an aware datetime
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
