"""CDR rating benchmark: 1,000,000 Asterisk CDRs parsed, rated and aggregated per trunk and minute, against pyarrow's
CSV reader reading the same file.

Data: the demo's modelled month (``collector.voice.synth.write_asterisk_month`` over the demo inventory,
November 2026, scaled to about 1,000,000 rows: Poisson arrivals with the working-day busy-hour profile, both demo
trunks, inbound/outbound/internal, the destination mix, blocked calls, the toll-fraud burst) written once to a
temporary Master.csv (about 250 bytes a row).

Figure: the whole path a CDR file takes into the measures, in one process —
``linewatch.voice.formats.read_file`` (H1's Asterisk parser: pyarrow CSV, times, outcomes, trunk mapping,
call keys), ``Rater.rate`` (E.164, destination classes, high-risk prefixes, the demo rate plans: increments,
bands, bundles, minimum charges, connection fees) and ``collector.voice.aggregate.minute_table`` (per trunk and
minute: concurrency sweep, counts, ASR/ACD, minutes, cost) — in CPU seconds of the process (every thread:
``time.process_time``, so other load on the machine does not distort it), best of 3 runs. Reference:
``pyarrow.csv.read_csv`` of the same file (column names generated, types inferred: the least any reader of the
file must do), measured the same way, interleaved with ours. Ratio = ours / reference (target ≤ 3). The time of
each step is printed on stderr (``BENCH_CDR_ROWS`` overrides the million for quick checks).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.csv as pacsv

from collector.voice.aggregate import minute_table
from collector.voice.synth import write_asterisk_month
from linewatch.choices import LineType
from linewatch.inventory import load_inventory
from linewatch.voice.config import load_voice_file
from linewatch.voice.formats import read_file
from linewatch.voice.mapping import TrunkMapper
from linewatch.voice.rating import Rater

ROOT = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("BENCH_CDR_ROWS", "1000000"))
RUNS = 3
BERLIN = ZoneInfo("Europe/Berlin")
START_S = dt.datetime(2026, 11, 1, tzinfo=BERLIN).timestamp()
END_S = dt.datetime(2026, 12, 1, tzinfo=BERLIN).timestamp()


def _reference(path: Path) -> float:
    start = time.process_time()
    table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(autogenerate_column_names=True))
    elapsed = time.process_time() - start
    assert table.num_rows > 0
    return elapsed


def main() -> None:
    inventory = load_inventory(ROOT / "config" / "lines.yaml")
    config = load_voice_file(ROOT / "config" / "voice.yaml", inventory)
    source = config.source("asterisk")
    assert source is not None, "config/voice.yaml has no asterisk source"
    mapper = TrunkMapper(config.trunks, inventory, source=source.name)
    rater = Rater(config.rate_plans, config.numbering)
    lines = {ln.id: ln for ln in inventory.lines if ln.type is LineType.VOICE_TRUNK}
    plan_of_line = {ln.id: ln.rate_plan for ln in lines.values() if ln.rate_plan}
    country_of_line = {ln: mapper.country_code_of(ln) or config.numbering.country_code for ln in lines}
    with tempfile.TemporaryDirectory(prefix="bench-cdr-") as tmp:
        path = Path(tmp) / "Master.csv"
        rows = write_asterisk_month(path, inventory, start_s=START_S, end_s=END_S, seed=1, target_rows=ROWS)
        best = best_ref = float("inf")
        steps: dict[str, float] = {}
        for _ in range(RUNS):
            best_ref = min(best_ref, _reference(path))
            t0 = time.process_time()
            batch = read_file(path, source, mapper=mapper)
            t1 = time.process_time()
            rated = rater.rate(batch.calls, plan_of_line=plan_of_line, country_of_line=country_of_line)
            t2 = time.process_time()
            table = minute_table(rated.frame, lines=lines, start_s=START_S, end_s=END_S)
            t3 = time.process_time()
            if t3 - t0 < best:
                best = t3 - t0
                steps = {"parse": t1 - t0, "rate": t2 - t1, "aggregate": t3 - t2}
        calls = len(batch.calls)
        if batch.problems or calls != rows or not len(table):
            raise SystemExit(f"bench cdr-rate: {rows:,} rows written, {calls:,} calls parsed, "
                             f"{len(batch.problems)} quarantined, {len(table)} minute rows")
    print(f"bench cdr-rate: {rows / best:,.0f} CDRs/s ({best:.2f} s) | pyarrow csv read: {rows / best_ref:,.0f} "
          f"CDRs/s ({best_ref:.2f} s) | ratio {best / best_ref:.2f}")
    print("bench cdr-rate steps (CPU s): " + ", ".join(f"{k} {v:.2f}" for k, v in steps.items())
          + f"; {rows:,} rows, {rated.unrated} unrated, {len(table):,} trunk-minutes", file=sys.stderr)


if __name__ == "__main__":
    main()
