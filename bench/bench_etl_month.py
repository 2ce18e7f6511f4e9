"""Billing ETL benchmark: a full ``etl run`` of one month against the bare InfluxQL aggregation it needs.

Data: N lines (1,000 at full scale) × one month (October 2026, 8,928 five-minute samples) of ``line_traffic``
in a private influxd, and ~50,000 invoice rows (5 carriers, CSV, 25 months of monthly-recurring + usage rows
for every line, planted problems included). Contracts: 60 % burstable max(in, out), 20 % burstable "in", 20 %
volume quota.

The load and the bare queries are timed on the first tenth of the lines; if loading everything would take
longer than ``BENCH_ETL_LOAD_BUDGET_S`` (420 s), or the whole benchmark longer than ``BENCH_ETL_BUDGET_S``
(900 s), on this machine, the line count is scaled down (the output line says which scale ran and why). On the
2-core test box InfluxDB 1.6 needs ~10 minutes for the month's 5-minute buckets of 1,000 lines, so the default
run is scaled; ``BENCH_ETL_BUDGET_S=3600`` runs the full 8.9 M points.

Figure: wall seconds of ``billing_etl.run.run_period`` (import of every invoice file into a fresh store, usage
queries, history queries, audit, allocation, savings, CSV/XLSX/Parquet exports, line_cost/billing_findings
writes), best of ``BENCH_ETL_RUNS`` runs (default 2, interleaved with the reference runs), each in its own
subprocess (peak RSS of that subprocess printed). Reference: the InfluxQL statements the run sends
(``usage_statements`` for the month and for the history months) through ``InfluxClient.query``, best of as
many runs, also in a subprocess. Ratio = ETL / bare queries (target ≤ 2). ``BENCH_ETL_LINES`` overrides the
1,000 lines (quick checks).
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from linewatch.influx import InfluxClient, InfluxSettings
from linewatch.servers import InfluxdServer

FULL_LINES = int(os.environ.get("BENCH_ETL_LINES", "1000"))
PERIOD = "2026-10"
START_S = 1_790_812_800  # 2026-10-01T00:00:00Z
SAMPLES = 31 * 288
LOAD_BUDGET_S = float(os.environ.get("BENCH_ETL_LOAD_BUDGET_S", "420"))
TOTAL_BUDGET_S = float(os.environ.get("BENCH_ETL_BUDGET_S", "900"))
CARRIERS = ("Alpha", "Bravo", "Charlie", "Delta", "Echo")
DEPARTMENTS = ("Operations", "Engineering", "Sales", "Finance", "Support", "Logistics", "HR", "Legal")
INVOICE_MONTHS = 25
RUNS = int(os.environ.get("BENCH_ETL_RUNS", "2"))
BATCH_LINES = 20_000

# one day's shape, 288 five-minute steps: night low, working day high
DAY = [0.15 + 0.85 * max(0.0, math.sin(math.pi * (i / 288 - 0.25))) ** 2 for i in range(288)]


def _line_id(i: int) -> str:
    return f"L{i:04d}"


def _capacity(i: int) -> int:
    return (10, 20, 50, 100, 200, 500)[i % 6] * 1_000_000


def inventory_yaml(lines: int) -> dict:
    devices = [
        {"name": f"r{d:02d}", "address": "127.0.0.1", "snmp": {"version": "2c", "community": "c"}}
        for d in range(20)
    ]
    items = [
        {
            "id": _line_id(i),
            "carrier": CARRIERS[i % 5],
            "circuit_id": f"C-{i:05d}",
            "type": "mpls",
            "site": f"site{i % 40}",
            "department": DEPARTMENTS[i % len(DEPARTMENTS)],
            "device": f"r{i % 20:02d}",
            "interface": f"ge-{i // 20}",
            "capacity_bps": _capacity(i),
            "install_date": "2020-01-01",
        }
        for i in range(lines)
    ]
    return {"devices": devices, "lines": items}


def line_protocol(i: int) -> bytes:
    """One line's month: bytes of line protocol (5-minute samples, fields the ETL reads)."""
    line = _line_id(i)
    cap = _capacity(i)
    scale_in = cap * (0.05 + 0.9 * ((i * 37) % 100) / 100)
    scale_out = scale_in * (0.3 + 0.7 * ((i * 53) % 10) / 10)
    tags = (
        f"line_traffic,carrier={CARRIERS[i % 5]},department={DEPARTMENTS[i % len(DEPARTMENTS)]},line={line}"
    )
    down_from = (i * 97) % SAMPLES if i % 10 == 0 else -1
    out = []
    for k in range(SAMPLES):
        f = DAY[k % 288]
        ib = int(scale_in * f)
        ob = int(scale_out * f)
        oper = 2 if down_from <= k < down_from + 6 else 1
        out.append(
            f"{tags} in_bps={ib}.0,out_bps={ob}.0,in_util_pct={ib * 100 // cap}.0,"
            f"out_util_pct={ob * 100 // cap}.0,capacity_bps={cap}i,oper_status={oper}i,admin_status=1i,"
            f"interval_s=300.0 {(START_S + k * 300) * 1_000_000_000}"
        )
    return ("\n".join(out) + "\n").encode()


def load(client: InfluxClient, lines: range) -> int:
    buffer: list[bytes] = []
    count = 0
    for i in lines:
        buffer.append(line_protocol(i))
        count += SAMPLES
        if len(buffer) * SAMPLES >= BATCH_LINES:
            client.write(b"".join(buffer))
            buffer = []
    if buffer:
        client.write(b"".join(buffer))
    return count


def write_config(root: Path, lines: int, url: str, database: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    contracts = []
    for i in range(lines):
        mrc = _capacity(i) // 100_000
        if i % 5 in (0, 1, 2):
            billing = {"model": "burstable_95th", "price_per_mbps": 3.0}
        elif i % 5 == 3:
            billing = {"model": "burstable_95th", "direction": "in", "price_per_mbps": 3.0}
        else:
            billing = {"model": "volume_quota", "included_gb": 20_000, "price_per_gb": 0.02}
        contracts.append(
            {
                "line": _line_id(i),
                "carrier": CARRIERS[i % 5],
                "mrc": mrc,
                "billing": billing,
                "sla": {"target_pct": 99.9, "credit_tiers": [{"below_pct": 99.9, "credit_pct": 5}]},
                "term": {"start": "2024-01-01", "months": 36, "auto_renew": True},
            }
        )
    layout = {
        "format": "csv",
        "columns": {
            "invoice_number": "invoice",
            "invoice_date": "date",
            "circuit_id": "circuit",
            "charge_type": "type",
            "period_start": "from",
            "period_end": "to",
            "amount": "amount",
            "invoice_total": "total",
        },
        "charge_types": {"MRC": "monthly_recurring", "USE": "usage", "TAX": "tax"},
    }
    carriers = {
        "invoice_dir": "invoices",
        "carriers": [
            {
                "name": c,
                "files": [f"{c.lower()}-*.csv"],
                "currency": "EUR",
                "layout": copy.deepcopy(layout),  # one copy each: linewatch refuses YAML aliases
                "rate_card": [{"commit_bps": _capacity(k), "mrc": _capacity(k) // 100_000} for k in range(6)],
            }
            for c in CARRIERS
        ],
    }
    (root / "lines.yaml").write_text(yaml.safe_dump(inventory_yaml(lines), sort_keys=False))
    (root / "carriers.yaml").write_text(yaml.safe_dump(carriers, sort_keys=False))
    (root / "contracts.yaml").write_text(yaml.safe_dump({"contracts": contracts}, sort_keys=False))
    settings = {
        "influx": {
            "url": url,
            "database": database,
            "gzip": False,
            "timeout_s": 600,
            "spool": {"path": str(root / "spool")},
        },
        "inventory_path": "lines.yaml",
        "carriers_path": "carriers.yaml",
        "contracts_path": "contracts.yaml",
        "state_dir": "var",
    }
    (root / "linewatch.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    invoices = root / "invoices"
    invoices.mkdir()
    rows = 0
    for m in range(INVOICE_MONTHS):
        year, month = 2024 + (9 + m) // 12, (9 + m) % 12 + 1
        import calendar

        last = calendar.monthrange(year, month)[1]
        for c, carrier in enumerate(CARRIERS):
            number = f"{carrier[0]}{year}{month:02d}"
            body = []
            total = 0
            for i in range(c, lines, 5):
                mrc = _capacity(i) // 100_000
                if (year, month) == (2026, 10) and i % 50 == 0:
                    mrc += 7  # planted rate mismatch
                body.append(
                    (
                        number,
                        f"{year}-{month:02d}-{last}",
                        f"C-{i:05d}",
                        "MRC",
                        f"{year}-{month:02d}-01",
                        f"{year}-{month:02d}-{last}",
                        f"{mrc}.00",
                    )
                )
                body.append(
                    (
                        number,
                        f"{year}-{month:02d}-{last}",
                        f"C-{i:05d}",
                        "USE",
                        f"{year}-{month:02d}-01",
                        f"{year}-{month:02d}-{last}",
                        "0.00",
                    )
                )
                total += mrc
            body.append((number, f"{year}-{month:02d}-{last}", "", "TAX", "", "", f"{total * 0.2:.2f}"))
            total_text = f"{total * 1.2:.2f}"
            text = "invoice,date,circuit,type,from,to,amount,total\n" + "".join(
                ",".join(r) + f",{total_text}\n" for r in body
            )
            (invoices / f"{carrier.lower()}-{year}{month:02d}.csv").write_text(text)
            rows += len(body)
    return root / "linewatch.yaml"


RUNNER = r"""
import json, resource, sys, time
from pathlib import Path
mode, cfg, out = sys.argv[1], sys.argv[2], sys.argv[3]
from linewatch.settings import load_settings
from billing_etl.model import Period
period = Period.parse("{period}")
settings = load_settings(cfg)
t0 = time.perf_counter()
if mode == "etl":
    import shutil
    from billing_etl.run import run_period
    shutil.rmtree(Path(cfg).parent / "var", ignore_errors=True)
    report = run_period(settings, period, out_dir=Path(out), progress_enabled=False)
    extra = {"findings": len(report.findings), "rows": report.imports.good_rows, "lines": len(report.lines)}
else:
    from billing_etl.config import load_billing_config
    from billing_etl.run import _directions
    from billing_etl.usage import usage_statements
    from linewatch.influx import InfluxClient
    config = load_billing_config(settings)
    directions = _directions(config)
    statements = usage_statements(period, directions)
    p = period
    for _ in range(config.contracts.savings.underused_months - 1):
        p = p.previous()
        statements += usage_statements(p, directions)
    t0 = time.perf_counter()
    with InfluxClient(settings.influx) as client:
        for q in statements:
            client.query(q)
    extra = {"statements": len(statements)}
elapsed = time.perf_counter() - t0
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"s": elapsed, "maxrss_kb": peak_kb, **extra}))
""".replace("{period}", PERIOD)


def _child(mode: str, cfg: Path, out: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, mode, str(cfg), str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    if result.returncode:
        raise RuntimeError(f"{mode} run failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-etl-") as tmp:
        root = Path(tmp)
        server = InfluxdServer(root / "influxd")
        server.start()
        try:
            settings = InfluxSettings(url=server.url, database="bench", gzip=False, timeout_s=600)
            with InfluxClient(settings) as client:
                client.ensure_database()
                probe = max(FULL_LINES // 10, 1)
                t0 = time.perf_counter()
                load(client, range(probe))
                probe_s = time.perf_counter() - t0
                # What would the full scale cost here? Loading, and the queries (timed on the probe's lines).
                probe_query_s = _child(
                    "bare", write_config(root / "probe", probe, server.url, "bench"), root / "probe-out"
                )["s"]
                per_line_s = probe_s / probe + RUNS * 2.2 * probe_query_s / probe
                lines = min(
                    FULL_LINES,
                    max(probe, int(LOAD_BUDGET_S * probe / probe_s)),
                    max(probe, int(TOTAL_BUDGET_S / per_line_s)),
                )
                lines = lines // 10 * 10 if lines > 10 else lines
                t1 = time.perf_counter()
                load(client, range(probe, lines))
                load_s = probe_s + time.perf_counter() - t1
            points = lines * SAMPLES
            cfg = write_config(root / "cfg", lines, server.url, "bench")
            bare_runs, etl_runs = [], []
            for _ in range(RUNS):  # interleaved, so compactions after the load or a busy neighbour hit both
                bare_runs.append(_child("bare", cfg, root / "out")["s"])
                etl_runs.append(_child("etl", cfg, root / "out"))
            bare = min(bare_runs)
            etl = min(r["s"] for r in etl_runs)
            peak_mib = max(r["maxrss_kb"] for r in etl_runs) / 1024
            rows = etl_runs[0]["rows"]
        finally:
            server.stop()
    scale = (
        "full scale"
        if lines == FULL_LINES
        else f"scaled to {lines} of {FULL_LINES} lines to fit BENCH_ETL_BUDGET_S={TOTAL_BUDGET_S:.0f} s: "
        f"the bare queries took {probe_query_s:.1f} s for {probe} lines"
    )
    print(
        f"bench etl-month: {etl:.2f} s | bare InfluxQL: {bare:.2f} s | ratio {etl / bare:.2f} "
        f"(peak RSS {peak_mib:.0f} MiB; {lines} lines × {SAMPLES} samples = {points / 1e6:.2f}M points, "
        f"{rows} invoice rows, {scale}; load {load_s:.0f} s = {points / load_s / 1000:.0f}k points/s)"
    )


if __name__ == "__main__":
    main()
