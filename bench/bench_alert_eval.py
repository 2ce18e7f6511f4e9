"""Alert evaluator benchmark: one full evaluation of every rule over 10,000 lines with an hour of one-minute data.

A private influxd (``linewatch.servers.InfluxdServer``) is loaded with 10,000 lines × 60 one-minute
``line_traffic`` points (600,000 points; 5 % of the lines saturated, 1 % down, 1 % silent for the last 20 minutes)
plus ``collector_poll`` for 100 devices. The rules are the production defaults: utilization (5 minutes of 1-minute
buckets), error rate, line down, device unreachable, no data for lines and for devices — six rules, six queries.

Figure: wall seconds of ``AlertService.evaluate()`` + ``flush()`` (queries, JSON decoding, verdicts, state
transitions, SQLite, routing), best of 4 warm runs. Reference: the same six InfluxQL statements sent through
``InfluxClient.query`` (HTTP + JSON decoding, nothing else), best of 4 runs, in the same process against the same
server. Ratio = evaluator / bare queries (target ≤ 1.5). Best-of (as ``timeit`` does) because the figure is meant
to show what the evaluator adds, not what other processes on a shared box take away.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

from alerting.config import AlertsConfig
from alerting.service import AlertService
from alerting.store import AlertStore
from linewatch.choices import OperStatus
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.inventory import Inventory
from linewatch.servers import InfluxdServer

LINES = 10_000
DEVICES = 100
MINUTES = 60
RUNS = 4
NOW_S = 1_795_608_000  # fixed: the data and the evaluation time are deterministic
DEPARTMENTS = ("Operations", "Engineering", "Sales", "Finance", "Support", "Logistics", "HR", "Legal", "R&D", "IT")

CONFIG = {
    "rules": [
        {"name": "utilization", "kind": "utilization"},
        {"name": "errors", "kind": "error_rate"},
        {"name": "line_down", "kind": "line_down"},
        {"name": "device_unreachable", "kind": "device_unreachable"},
        {"name": "no_data", "kind": "no_data"},
        {"name": "collector_silent", "kind": "no_data", "scope": "device"},
    ],
    "route": {"receiver": "noc", "routes": [{"matchers": ['severity="critical"'], "receiver": "noc",
                                             "continue": True}]},
    "receivers": [{"name": "noc", "email": {"host": "127.0.0.1", "port": 9, "tls": "none",
                                             "from": "lw@example.net", "to": ["noc@example.net"]}}],
}


def inventory() -> Inventory:
    devices = [{"name": f"r{d:03d}", "address": "127.0.0.1", "snmp": {"version": "2c", "community": "c"}}
               for d in range(DEVICES)]
    lines = [{"id": f"L{i:05d}", "carrier": f"carrier{i % 7}", "circuit_id": f"C{i:05d}", "type": "mpls",
              "site": f"site{i % 50}", "department": DEPARTMENTS[i % len(DEPARTMENTS)], "device": f"r{i % DEVICES:03d}",
              "interface": f"if{i // DEVICES}", "capacity_bps": 100_000_000} for i in range(LINES)]
    return Inventory.model_validate({"devices": devices, "lines": lines})


def data_lines(inv: Inventory) -> list[str]:
    """Line protocol of the hour, written directly (600k Point objects would only slow the setup down)."""
    out = []
    start = NOW_S - MINUTES * 60
    for i, line in enumerate(inv.lines):
        tags = ",".join(f"{k}={v.replace(' ', chr(92) + ' ')}" for k, v in sorted(line.tags().items()))
        saturated, down, silent = i % 20 == 0, i % 100 == 1, i % 100 == 2
        for m in range(MINUTES):
            t = start + m * 60
            if silent and t > NOW_S - 1200:
                break
            util = 88.0 + (i + m) % 5 if saturated else 10.0 + (i * 7 + m * 13) % 50
            oper = OperStatus.DOWN if down and m >= MINUTES - 5 else OperStatus.UP
            out.append(f"line_traffic,{tags} in_util_pct={util},out_util_pct={util / 2},in_bps={util * 1e6},"
                       f"out_bps={util * 5e5},in_errors_ps=0.0,out_errors_ps=0.0,in_discards_ps=0.0,"
                       f"out_discards_ps=0.0,oper_status={int(oper)}i,admin_status=1i,health=1i "
                       f"{t * 1_000_000_000}")
    for d in range(DEVICES):
        for m in range(MINUTES):
            t = start + m * 60
            out.append(f"collector_poll,collector=bench,device=r{d:03d} ok=1i,duration_s=0.5 {t * 1_000_000_000}")
    return out


def load(client: InfluxClient, lines: list[str], batch: int = 10_000) -> None:
    for i in range(0, len(lines), batch):
        client.write(("\n".join(lines[i:i + batch]) + "\n").encode())


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="lw-bench-alert-") as tmp:
        server = InfluxdServer(Path(tmp) / "influxd").start()
        try:
            client = InfluxClient(InfluxSettings(url=server.url, database="bench", timeout_s=120, gzip=True))
            client.ensure_database()
            inv = inventory()
            t0 = time.perf_counter()
            load(client, data_lines(inv))
            load_s = time.perf_counter() - t0
            config = AlertsConfig.model_validate(CONFIG)
            service = AlertService(config=config, inventory=inv, client=client,
                                   store=AlertStore(Path(tmp) / "alerts.sqlite"), clock=lambda: float(NOW_S))
            first = service.evaluate(NOW_S)  # creates the states of the lines in trouble (not timed)
            service.flush(NOW_S)
            queries = [q for rule in config.rules for q in service.evaluator.queries(rule, end_s=NOW_S)]

            real_query = client.query
            in_queries = [0.0]

            def timed_query(q: str, **kw: object) -> object:
                t = time.perf_counter()
                try:
                    return real_query(q, **kw)  # type: ignore[arg-type]
                finally:
                    in_queries[0] += time.perf_counter() - t

            client.query = timed_query  # type: ignore[method-assign]

            def evaluation() -> tuple[float, float]:
                in_queries[0] = 0.0
                t = time.perf_counter()
                service.evaluate(NOW_S)
                service.flush(NOW_S)
                return time.perf_counter() - t, in_queries[0]

            def bare() -> float:
                t = time.perf_counter()
                for q in queries:
                    real_query(q, epoch="s")
                return time.perf_counter() - t

            evals, bares = [], []
            for run in range(RUNS):  # interleaved, alternating order, so both see the same server and box
                if run % 2:
                    evals.append(evaluation())
                    bares.append(bare())
                else:
                    bares.append(bare())
                    evals.append(evaluation())
            ours, ref = min(e for e, _ in evals), min(bares)
            own_s = min(e - q for e, q in evals)
            firing = sum(1 for a in service.store.alerts().values() if a.status.state.value == "firing")
            print(f"# {LINES} lines x {MINUTES} min loaded in {load_s:.1f} s; first evaluation: "
                  f"{len(first.changes)} state changes, {firing} firing; evaluator's own time per evaluation "
                  f"(outside its queries): {own_s:.2f} s", file=sys.stderr)
            print(f"bench alert-eval: {ours:.3f} s | bare InfluxQL: {ref:.3f} s | ratio {ours / ref:.2f}")
            service.close()
            client.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
