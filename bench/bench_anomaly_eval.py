"""Anomaly rule benchmark: the ``anomaly`` rule (alerts.yaml ``traffic_anomaly``: 5 MADs, 4 weeks, 15 minutes of
5-minute buckets) over 2,000 lines in a private influxd.

Data: per line five weeks of hourly ``line_traffic`` points (office hours, nights, weekends, deterministic noise)
and the last hour at one-minute steps; 1 % of the lines lose their traffic 20 minutes before the evaluation (the
rule fires on them). 1.8 million points.

Figure: wall seconds of one steady-state ``AlertService.evaluate()`` + ``flush()`` of the rule (its recent-traffic
query, JSON decoding, the utilization frame, ``departures``, the verdicts, the state machine, SQLite, routing) with
the baseline already kept, best of 4 runs. Reference: the same InfluxQL statement sent bare through
``InfluxClient.query``, best of 4, interleaved. Ratio = evaluator / bare query. On stderr: the hourly baseline
refresh: the first cycle (four weeks of hourly means of every line, then ``hour_of_week_baseline``) against its
bare query, and the cycle an hour later, which reads only that hour (one-minute points) and rebuilds the baseline.
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
from bench.bench_alert_eval import load
from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.inventory import Inventory
from linewatch.servers import InfluxdServer

LINES = 2_000
DEVICES = 50
WEEKS = 5
RUNS = 4
NOW_S = 1_795_608_000  # Wednesday 2026-11-25 12:00 UTC: office hours
DEPARTMENTS = ("Operations", "Engineering", "Sales", "Finance", "Support")
RULE = {"name": "traffic_anomaly", "kind": "anomaly", "k_mad": 5, "baseline_weeks": 4, "for_s": 900,
        "sample_s": 300, "min_expected_pct": 10}
CONFIG = {
    "rules": [RULE],
    "route": {"receiver": "noc", "group_by": ["rule", "department"]},
    "receivers": [{"name": "noc", "email": {"host": "127.0.0.1", "port": 9, "tls": "none",
                                             "from": "lw@example.net", "to": ["noc@example.net"]}}],
}


def inventory() -> Inventory:
    devices = [{"name": f"r{d:03d}", "address": "127.0.0.1", "snmp": {"version": "2c", "community": "c"}}
               for d in range(DEVICES)]
    lines = [{"id": f"L{i:05d}", "carrier": f"carrier{i % 7}", "circuit_id": f"C{i:05d}", "type": "mpls",
              "site": f"site{i % 20}", "department": DEPARTMENTS[i % len(DEPARTMENTS)],
              "device": f"r{i % DEVICES:03d}", "interface": f"if{i // DEVICES}", "capacity_bps": 100_000_000}
             for i in range(LINES)]
    return Inventory.model_validate({"devices": devices, "lines": lines})


def usual_pct(i: int, t_s: int) -> float:
    day = (t_s // 86400 + 3) % 7  # 0 = Monday
    hour = t_s % 86400 // 3600
    peak = 30.0 + i % 40
    if day >= 5:
        return peak / 5
    return peak if 8 <= hour < 18 else peak / 6


def data_lines(inv: Inventory) -> list[str]:
    out = []
    start = NOW_S - WEEKS * 7 * 86400
    for i, line in enumerate(inv.lines):
        tags = ",".join(f"{k}={v.replace(' ', chr(92) + ' ')}" for k, v in sorted(line.tags().items()))
        steps = [(t, 3600) for t in range(start, NOW_S - 3600, 3600)] + [(t, 60) for t in range(NOW_S - 3600, NOW_S, 60)]
        for t, _ in steps:
            noise = ((i * 7919 + t // 60 * 104729) % 1000) / 1000 * 3 - 1.5
            util = max(0.0, usual_pct(i, t) + noise)
            if i % 100 == 7 and t >= NOW_S - 1200:
                util = 0.5  # the lines in trouble: their traffic gone, the interface still up
            out.append(f"line_traffic,{tags} in_bps={util * 1e6},out_bps={util * 4e5},oper_status=1i,admin_status=1i "
                       f"{t * 1_000_000_000}")
    return out


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="lw-bench-anomaly-") as tmp:
        server = InfluxdServer(Path(tmp) / "influxd").start()
        try:
            client = InfluxClient(InfluxSettings(url=server.url, database="bench", timeout_s=300, gzip=True))
            client.ensure_database()
            inv = inventory()
            t0 = time.perf_counter()
            points = data_lines(inv)
            load(client, points, batch=20_000)
            load_s = time.perf_counter() - t0
            config = AlertsConfig.model_validate(CONFIG)
            service = AlertService(config=config, inventory=inv, client=client,
                                   store=AlertStore(Path(tmp) / "alerts.sqlite"), clock=lambda: float(NOW_S))
            rule = config.rules[0]
            full_queries = service.evaluator.refresh_queries(rule, end_s=NOW_S - 3600)
            t = time.perf_counter()
            service.evaluate(NOW_S - 3600)  # the first cycle reads four weeks of hourly means
            full_s = time.perf_counter() - t
            t = time.perf_counter()
            for q in full_queries:
                client.query(q, epoch="s")
            bare_full_s = time.perf_counter() - t
            t = time.perf_counter()
            first = service.evaluate(NOW_S)  # an hour later: reads that hour only, fires on the lines in trouble
            hourly_s = time.perf_counter() - t
            service.flush(NOW_S)
            queries = service.evaluator.queries(rule, end_s=NOW_S)
            assert not service.evaluator.refresh_queries(rule, end_s=NOW_S)  # kept: steady state from here

            def evaluation() -> float:
                t = time.perf_counter()
                service.evaluate(NOW_S)
                service.flush(NOW_S)
                return time.perf_counter() - t

            def bare() -> float:
                t = time.perf_counter()
                for q in queries:
                    client.query(q, epoch="s")
                return time.perf_counter() - t

            evals, bares = [], []
            for run in range(RUNS):
                if run % 2:
                    evals.append(evaluation())
                    bares.append(bare())
                else:
                    bares.append(bare())
                    evals.append(evaluation())
        finally:
            server.stop()
    firing = sum(1 for a in first.changes if a.status.state.value == "firing")
    print(f"# {LINES} lines x {WEEKS} weeks ({len(points):,} points) loaded in {load_s:.1f} s; first cycle "
          f"(reads 4 weeks of hourly means) {full_s:.2f} s, its bare baseline query {bare_full_s:.2f} s; the cycle "
          f"an hour later (reads that hour, {firing} firing) {hourly_s:.2f} s", file=sys.stderr)
    ours, ref = min(evals), min(bares)
    print(f"bench anomaly-eval: {ours:.3f} s | bare InfluxQL: {ref:.3f} s | ratio {ours / ref:.2f}")


if __name__ == "__main__":
    main()
