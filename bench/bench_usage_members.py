"""Usage of lines carried by two interfaces (issue 10): what the member-sum statements cost against the plain ones.

A private influxd (``linewatch.servers.InfluxdServer``) is loaded with a month (October 2026, 8,928 five-minute
samples) of ``LINES`` lines, each carried by two member series (a LAG: tags ``device``, ``interface``), and the same
number of single-member lines. Figure: wall seconds of ``measure_usage`` over the two-member lines (the member
series are counted, then the member-sum statements run: per member per bucket, summed per line per bucket, then
the period's aggregate). Reference: ``measure_usage`` over the single-member lines holding the same number of points
(the plain per-line statements), same process, same server. Best of ``RUNS``. The ratio is what a multi-member line
costs the billing ETL compared with a single-member line of the same number of points; it is why
``billing_etl.usage`` measures single-member lines with the plain statements (identical figures for them).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from billing_etl.model import Period
from billing_etl.usage import measure_usage
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.servers import InfluxdServer

LINES = 10
RUNS = 3
PERIOD = Period(2026, 10)
BUCKETS = (PERIOD.end_s - PERIOD.start_s) // 300


def _points(line: str, members: int, k: int) -> list[Point]:
    out = []
    for i in range(BUCKETS):
        t = PERIOD.start_s + i * 300
        for m in range(members):
            in_bps = 1e6 * (10 + (i * (m + 1) + k) % 90)
            fields = {"in_bps": in_bps, "out_bps": in_bps / 2, "in_util_pct": in_bps / 1e7,
                      "out_util_pct": in_bps / 2e7, "capacity_bps": 1_000_000_000, "interval_s": 300.0,
                      "oper_status": 2 if (i + m) % 997 == 0 else 1, "admin_status": 1}  # fmt: skip
            tags = {"line": line, "device": f"r{k % 4}", "interface": f"xe-0/0/{m}"}
            out.append(Point("line_traffic", tags, fields, t * 10**9))
    return out


def _best(client: InfluxClient, lines: list[str]) -> float:
    best = float("inf")
    for _ in range(RUNS):
        t0 = time.perf_counter()
        measure_usage(client, PERIOD, lines)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-members-") as tmp:
        server = InfluxdServer(Path(tmp) / "influxd")
        server.start()
        try:
            settings = InfluxSettings(url=server.url, database="bench", gzip=False, timeout_s=900)
            with InfluxClient(settings) as client:
                client.ensure_database()
                lags = [f"LAG-{k:03d}" for k in range(LINES)]
                singles = [f"ONE-{k:03d}" for k in range(LINES)]
                for k in range(LINES):
                    # a single-member line holds as many points as a LAG: two months' worth in one series would
                    # change the period, so it gets two points per bucket instead (one a minute apart)
                    single = _points(singles[k], 1, k)
                    single += [Point(p.measurement, p.tags, p.fields, p.time_ns + 60 * 10**9) for p in single]
                    for batch in (_points(lags[k], 2, k), single):
                        for start in range(0, len(batch), 20_000):
                            client.write(encode_points(batch[start : start + 20_000]))
                ours = _best(client, lags)
                ref = _best(client, singles)
            print(
                f"bench usage-members: {ours:.3f} s for {LINES} two-member lines × {BUCKETS} five-minute samples | "
                f"plain statements, {LINES} single-member lines of as many points: {ref:.3f} s | ratio {ours / ref:.2f}"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
