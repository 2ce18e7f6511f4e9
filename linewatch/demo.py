"""``linewatch demo`` (what ``make run`` runs): the whole system on the built-in demo network.

1. InfluxDB: the one in the settings when it answers; otherwise a private ``influxd`` (Debian's package) on the
   settings' loopback port with its data under the run directory. Without either it says how to use Docker.
2. ``DEMO_SETUP``, in order: what every stage needs first. The collector's entry starts the demo network
   (simulated routers answering real SNMP on loopback, driven by the demo traffic model) and backfills the same
   model into InfluxDB (last month at 5-minute, the last hours at 1-minute resolution), so dashboards and billing
   have something to show from the first second.
3. ``DEMO_STAGES``, each in its own thread: the collector (printing per-line rates every cycle), alerts,
   flows, billing, dashboards. A stage that fails is reported and the others go on.

The core imports no area: each area registers its entries here by name (``"module:function"``, loaded through
:mod:`linewatch.plugins`, as the CLI's ``SUBCOMMAND_MODULES`` does); an area that is not installed is skipped.
The demo owns the lifetime: Ctrl-C, SIGTERM or ``--seconds N`` (``RUN_SECONDS=N make run``) set
``DemoContext.stop_event``, every stage returns, setup entries are undone in reverse order.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from linewatch.errors import InfluxError
from linewatch.influx import InfluxClient
from linewatch.inventory import Inventory, load_inventory
from linewatch.plugins import load
from linewatch.settings import Settings, load_settings

log = logging.getLogger("linewatch.demo")

# Each area adds one "module:function" taking a DemoContext.
# Setup entries return a context manager, entered in order before any stage starts and exited in reverse at the end.
DEMO_SETUP: list[str] = [
    "collector.demo.stage:demo_network",
    "collector.voice.demo:backfill",  # the month of calls in the call store before the billing stage audits it
    "web.demo:demo_web",  # the management application on 127.0.0.1:18000, up before any stage reads from it
]
# Stages run in threads; one-shot stages return, long-running ones return once stop_event is set.
DEMO_STAGES: list[str] = [
    "alerting.demo:demo_stage",
    "collector.flows.demo:demo_stage",
    "billing_etl.demo:demo_stage",
    "web.demo:finance_stage",  # after the billing stage's invoices: intake, audit, disputes, payments, budgets
    "web.reports.demo:demo_stage",  # after billing and the trends job: last month's reports in run/reports/
    "linewatch.dashboards:demo_stage",
    "collector.demo.stage:collect_stage",
    "collector.voice.demo:demo_stage",  # the live PBX: Kamailio + SIPp calls, the voice collector tailing its CDRs
]


@dataclass
class DemoContext:
    settings: Settings
    run_dir: Path
    influx: InfluxClient
    inventory: Inventory
    stop_event: threading.Event
    seconds: float = 0  # --seconds: 0 runs until Ctrl-C
    history: bool = True  # backfill the demo history (--no-history turns it off)


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


def _run_stage(spec: str, ctx: DemoContext) -> None:
    try:
        stage = load(spec, optional=True)
        if stage is None:  # that area is not installed
            log.info("demo stage %s skipped: its module is not installed", spec)
            return
        stage(ctx)
    except Exception:
        log.exception("demo stage %s failed", spec)
        say(f"stage {spec} failed (see the log above); the rest of the demo goes on")


def _demo(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(load_settings(args.config), run_dir)
    inventory = load_inventory(settings.resolve(settings.inventory_path))
    server = start_influx(settings, run_dir)
    stop_event = threading.Event()
    threads: list[threading.Thread] = []
    client = InfluxClient(settings.influx)
    try:
        with contextlib.ExitStack() as setup:
            client.ensure_database()
            ctx = DemoContext(settings=settings, run_dir=run_dir, influx=client, inventory=inventory,
                              stop_event=stop_event, seconds=args.seconds, history=not args.no_history)
            for spec in DEMO_SETUP:
                entry = load(spec, optional=True)
                if entry is not None:
                    setup.enter_context(entry(ctx))
            try:
                for spec in DEMO_STAGES:
                    t = threading.Thread(target=_run_stage, args=(spec, ctx), name=spec, daemon=True)
                    t.start()
                    threads.append(t)
                _wait_for_stop(stop_event, seconds=args.seconds)
            finally:
                stop_event.set()
                for t in threads:
                    t.join(timeout=15)
    finally:
        stop_event.set()
        client.close()
        if server is not None:
            server.stop()
            say("influxd stopped")
    say(f"done; everything the demo wrote is under {run_dir}")
    return 0


def _wait_for_stop(stop_event: threading.Event, *, seconds: float) -> None:
    """Until Ctrl-C, SIGTERM or ``seconds`` (0: no limit); the stages watch the same event."""
    previous = {sig: signal.signal(sig, lambda *_: stop_event.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        deadline = time.monotonic() + seconds if seconds else None
        while not stop_event.is_set():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            stop_event.wait(timeout=1.0 if remaining is None else min(1.0, remaining))
    finally:
        stop_event.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
