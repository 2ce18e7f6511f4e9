"""The demo network for ``docker compose --profile demo``: simulated routers plus a history backfill.

Runs in the collector container's network namespace (``network_mode: service:collector``), so the routers answer
SNMP on the loopback addresses and ports config/lines.yaml gives them, exactly as in ``make run``. On start it
backfills the demo history (idempotent: the same points again) so Grafana has a month to show at once.
"""

from __future__ import annotations

import signal
import sys
import threading
import time

from collector.demo.network import demo_devices
from collector.demo.stage import backfill
from collector.simagent.agent import SimAgent
from linewatch.errors import LinewatchError
from linewatch.influx import InfluxClient
from linewatch.inventory import load_inventory
from linewatch.settings import load_settings


def main() -> int:
    settings = load_settings()
    inventory = load_inventory(settings.resolve(settings.inventory_path))
    agent = SimAgent(demo_devices(inventory), ports={d.name: d.port for d in inventory.devices})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    agent.start()
    print(f"demo network: {len(inventory.devices)} simulated routers answering SNMP", flush=True)
    with InfluxClient(settings.influx) as client:
        for attempt in range(30):
            try:
                n = backfill(client, inventory, now_s=int(time.time()))
                print(f"demo network: backfilled {n} points of history", flush=True)
                break
            except (
                LinewatchError
            ) as exc:  # InfluxDB still starting, token not yet valid: retry, then carry on
                print(
                    f"demo network: backfill attempt {attempt + 1} failed: {exc}", file=sys.stderr, flush=True
                )
                if stop.wait(5):
                    break
    stop.wait()
    agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
