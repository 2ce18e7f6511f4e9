"""The collector's part of ``linewatch demo``, registered by name in ``linewatch.demo`` (the core imports no area).

* ``demo_network`` (a ``DEMO_SETUP`` entry): the simulated routers answering real SNMP on loopback, and the
  history backfill, before any other stage starts (dashboards, alerts and billing read that history).
* ``collect_stage`` (a ``DEMO_STAGES`` entry): the collector, printing per-line rates every cycle until
  ``ctx.stop_event`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

from collector.demo.history import load_history
from collector.demo.model import start_story
from collector.demo.network import demo_devices
from collector.runner import build_collector, run_forever
from collector.service import format_report
from collector.simagent.agent import SimAgent
from linewatch.influx import InfluxClient
from linewatch.inventory import Inventory

HISTORY_FINE_S = 6 * 3600  # the last hours at 1-minute resolution
HISTORY_MIN_DAYS = 35  # at least 5 weeks: the anomaly rule's 4-week hour-of-week baseline, whatever the date


def say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


def backfill(client: InfluxClient, inventory: Inventory, *, now_s: int) -> int:
    """Deterministic history up to now (5-minute steps, 1-minute lately) from the start of the previous month (the
    billing stage audits that month) or ``HISTORY_MIN_DAYS`` ago, whichever is earlier."""
    start_s = backfill_start_s(now_s)
    fine_start = (now_s - HISTORY_FINE_S) // 300 * 300
    n = load_history(client, inventory, start_s=start_s, end_s=fine_start, step_s=300)
    n += load_history(client, inventory, start_s=fine_start, end_s=now_s // 60 * 60, step_s=60)
    return n


def backfill_start_s(now_s: int) -> int:
    """The first of the previous month (UTC) or ``HISTORY_MIN_DAYS`` days before ``now_s``, whichever is earlier,
    at a midnight."""
    today = dt.datetime.fromtimestamp(now_s, dt.UTC).date()
    first_of_prev = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    start = min(first_of_prev, today - dt.timedelta(days=HISTORY_MIN_DAYS))
    return int(dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC).timestamp())


@contextlib.contextmanager
def demo_network(ctx: Any) -> Iterator[None]:
    """Start the simulated routers (and backfill the history unless ``ctx.history`` is off); stop them on exit.

    The traffic model's story (the growing line, the anomaly) is anchored at this start first, so the history
    and the routers' live counters agree (collector/demo/model.py)."""
    inventory = ctx.inventory
    start_story(time.time())
    agent = SimAgent(demo_devices(inventory), ports={d.name: d.port for d in inventory.devices})
    agent.start()
    try:
        say(f"demo network: {len(agent.ports)} simulated routers on 127.0.0.1 ports "
            + ", ".join(f"{n}:{p}" for n, p in agent.ports.items()))  # fmt: skip
        if ctx.history:
            t0 = time.monotonic()
            n = backfill(ctx.influx, inventory, now_s=int(time.time()))
            say(f"backfilled {n} points of demo history in {time.monotonic() - t0:.1f} s")
        yield
    finally:
        agent.stop()


def collect_stage(ctx: Any) -> None:
    """Poll the demo network every ``collector.interval_s`` and print each cycle until ``ctx.stop_event``."""
    # inventory.source http (the management application's demo entry sets it): re-read every cycle, no restart.
    from_app = ctx.settings.inventory.source == "http"
    collector = build_collector(ctx.settings, inventory=None if from_app else ctx.inventory)
    say(f"collector polling {len(ctx.inventory.polled_lines())} lines every {ctx.settings.collector.interval_s:g} s"
        + (f" for {ctx.seconds:g} s" if ctx.seconds else " (Ctrl-C stops)"))  # fmt: skip

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # The demo's stop event is a threading.Event: wait for it in a worker thread, then stop the loop's run.
        watcher = loop.run_in_executor(None, ctx.stop_event.wait)
        watcher.add_done_callback(lambda _f: stop.set())
        await run_forever(collector, stop=stop, on_report=lambda r: print(format_report(r) + "\n", flush=True))

    asyncio.run(main())
