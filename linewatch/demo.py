"""``linewatch demo`` (what ``make run`` runs): the whole system on the built-in demo network.

1. InfluxDB: the one in the settings when it answers; otherwise a private ``influxd`` (Debian's package) on the
   settings' loopback port with its data under the run directory. Without either it says how to use Docker.
2. The demo network: simulated routers answering real SNMP on loopback, driven by the demo traffic model.
3. History: the same model backfilled into InfluxDB (last month at 5-minute, the last hours at 1-minute
   resolution), so dashboards and billing have something to show from the first second.
4. The collector, printing per-line rates every cycle, and each stage in ``DEMO_STAGES`` (alerts, billing,
   flows, dashboards) in its own thread.

``--seconds N`` (``RUN_SECONDS=N make run``) stops everything cleanly after N seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from linewatch.errors import InfluxError
from linewatch.influx import InfluxClient
from linewatch.inventory import Inventory, load_inventory
from linewatch.plugins import load
from linewatch.settings import Settings, load_settings

log = logging.getLogger("linewatch.demo")

# Each area adds one "module:function" taking a DemoContext; one-shot stages return, long-running ones watch stop_event.
DEMO_STAGES: list[str] = [
    "alerting.demo:demo_stage",
    "collector.flows.demo:demo_stage",
    "billing_etl.demo:demo_stage",
    "linewatch.dashboards:demo_stage",
]

HISTORY_FINE_S = 6 * 3600  # the last hours at 1-minute resolution


@dataclass
class DemoContext:
    settings: Settings
    run_dir: Path
    influx: InfluxClient
    inventory: Inventory
    stop_event: threading.Event


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run everything on the built-in demo network (what `make run` does)")
    p.add_argument("--run-dir", default="run", help="where the demo keeps its data, mailbox and exports")
    p.add_argument("--seconds", type=float, default=0, help="stop after N seconds (0: run until Ctrl-C)")
    p.add_argument("--no-history", action="store_true", help="skip the history backfill")
    p.set_defaults(func=_demo)


def say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


def demo_settings(settings: Settings, run_dir: Path) -> Settings:
    """The demo keeps everything it writes (spool, counter state, alert store, exports) under its run directory."""
    var = run_dir / "var"
    influx = settings.influx.model_copy(
        update={"spool": settings.influx.spool.model_copy(update={"path": var / "spool"})})
    collector = settings.collector.model_copy(update={"state_path": var / "collector-state.json"})
    return settings.model_copy(update={"influx": influx, "collector": collector, "state_dir": var})


def start_influx(settings: Settings, run_dir: Path):
    """Use the configured InfluxDB if it answers, else start a private influxd on its port. None: already running."""
    client = InfluxClient(settings.influx)
    try:
        version = client.ping()
        say(f"using InfluxDB {version} at {settings.influx.url}")
        return None
    except InfluxError:  # nothing answers there (or not as InfluxDB): start our own below
        pass
    finally:
        client.close()
    from linewatch.errors import LinewatchError
    from linewatch.servers.influxd import InfluxdServer

    url = urlparse(settings.influx.url)
    if url.hostname not in ("127.0.0.1", "localhost"):
        raise LinewatchError(f"InfluxDB at {settings.influx.url} does not answer; start it or point "
                             "LINEWATCH_INFLUX__URL at a running one")
    try:
        server = InfluxdServer(run_dir / "influxdb", http_port=url.port or 8086).start()
    except LinewatchError as exc:
        raise LinewatchError(f"{exc}\nWithout a local influxd: `docker compose up -d influxdb` and set "
                             "LINEWATCH_INFLUX__URL / LINEWATCH_INFLUX__TOKEN (see README)") from None
    say(f"started influxd {server.url} (data in {server.data_dir})")
    return server


def backfill(client: InfluxClient, inventory: Inventory, *, now_s: int) -> int:
    """Deterministic history from the start of the previous month up to now."""
    from collector.demo.history import load_history

    today = dt.datetime.fromtimestamp(now_s, dt.UTC).date()
    first_of_prev = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    start_s = int(dt.datetime(first_of_prev.year, first_of_prev.month, 1, tzinfo=dt.UTC).timestamp())
    fine_start = (now_s - HISTORY_FINE_S) // 300 * 300
    n = load_history(client, inventory, start_s=start_s, end_s=fine_start, step_s=300)
    n += load_history(client, inventory, start_s=fine_start, end_s=now_s // 60 * 60, step_s=60)
    return n


def _run_stage(spec: str, ctx: DemoContext) -> None:
    try:
        load(spec)(ctx)
    except Exception:
        log.exception("demo stage %s failed", spec)
        say(f"stage {spec} failed (see the log above); the rest of the demo goes on")


def _demo(args: argparse.Namespace) -> int:
    import time

    from collector.demo.network import demo_devices
    from collector.runner import build_collector, run_forever
    from collector.service import format_report
    from collector.simagent.agent import SimAgent

    run_dir = Path(args.run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(load_settings(args.config), run_dir)
    inventory = load_inventory(settings.resolve(settings.inventory_path))
    server = start_influx(settings, run_dir)
    agent = SimAgent(demo_devices(inventory), ports={d.name: d.port for d in inventory.devices})
    stop_event = threading.Event()
    threads: list[threading.Thread] = []
    client = InfluxClient(settings.influx)
    try:
        agent.start()
        say(f"demo network: {len(agent.ports)} simulated routers on 127.0.0.1 ports "
            + ", ".join(f"{n}:{p}" for n, p in agent.ports.items()))
        client.ensure_database()
        if not args.no_history:
            t0 = time.monotonic()
            n = backfill(client, inventory, now_s=int(time.time()))
            say(f"backfilled {n} points of demo history in {time.monotonic() - t0:.1f} s")
        ctx = DemoContext(settings=settings, run_dir=run_dir, influx=client, inventory=inventory,
                          stop_event=stop_event)
        for spec in DEMO_STAGES:
            t = threading.Thread(target=_run_stage, args=(spec, ctx), name=spec, daemon=True)
            t.start()
            threads.append(t)
        collector = build_collector(settings, inventory=inventory)
        say(f"collector polling {len(inventory.polled_lines())} lines every {settings.collector.interval_s:g} s"
            + (f" for {args.seconds:g} s" if args.seconds else " (Ctrl-C stops)"))

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            if args.seconds:
                loop.call_later(args.seconds, stop.set)
            await run_forever(collector, stop=stop, on_report=lambda r: print(format_report(r) + "\n", flush=True))

        asyncio.run(main())
    finally:
        stop_event.set()
        for t in threads:
            t.join(timeout=15)
        agent.stop()
        client.close()
        if server is not None:
            server.stop()
            say("influxd stopped")
    say(f"done; everything the demo wrote is under {run_dir}")
    return 0


