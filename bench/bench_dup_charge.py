"""Duplicate-charge check of the audit on one 200,000-row invoice, against pandas over the same rows.

Data (one October invoice, 200,000 rows, built in memory): 100,000 one-time charges on 50 voice trunks (2,000
calls each, each call its own text), 93,000 daily usage rows (3,000 circuits × 31 days) and 7,000 monthly
charges; 1 % of the rows of each kind repeat an earlier row exactly (the planted duplicates). The pairwise check
this replaced compared every row with every earlier row of its circuit: ~2·10⁸ comparisons here, over 400 s.

Figure: wall seconds of ``Auditor._duplicates()`` (indexed: one-time rows by amount and text, periodic rows by
the months they cover), best of ``BENCH_DUP_RUNS`` (default 3). Reference: pandas ``DataFrame.duplicated()``
over the same rows (carrier, circuit, charge type, service days, and amount + text for one-time charges), which
finds exact repeats only, best of as many runs. Both must find the planted duplicates, and the same number
(the data has no partial overlaps, so exact repeats are all there is). Ratio = audit / pandas.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROWS = 200_000
RUNS = int(os.environ.get("BENCH_DUP_RUNS", "3"))
OCT_1, OCT_31 = dt.date(2026, 10, 1), dt.date(2026, 10, 31)


def build_rows() -> tuple[list, int]:
    """The invoice rows and the number of planted duplicates."""
    from billing_etl.model import InvoiceLine
    from linewatch.choices import ChargeType

    rnd = random.Random(9)
    specs: list[tuple] = []  # (circuit, type, start, end, amount, text)
    for trunk in range(50):
        for call in range(2_000):
            cents = rnd.randrange(5, 5_000)
            specs.append((f"SIP-{trunk:03d}", ChargeType.ONE_TIME, None, None, cents, f"call {trunk}-{call}"))
    for circuit in range(3_000):
        for day in range(31):
            d = OCT_1 + dt.timedelta(days=day)
            specs.append(
                (f"USE-{circuit:05d}", ChargeType.USAGE, d, d, rnd.randrange(100, 9_999), "daily usage")
            )
    for circuit in range(7_000):
        specs.append((f"MRC-{circuit:05d}", ChargeType.MONTHLY_RECURRING, OCT_1, OCT_31, 31_000, "monthly"))
    planted = len(specs) // 100
    originals = rnd.sample(range(len(specs)), planted)
    specs = specs[: ROWS - planted] + [specs[i] for i in originals]
    rnd.shuffle(specs)
    planted = sum(1 for i in originals if i < ROWS - planted)  # a repeat of a dropped row is no duplicate
    rows = [
        InvoiceLine(
            carrier="Bench",
            invoice_number="BIG-1",
            invoice_date=dt.date(2026, 11, 5),
            due_date=dt.date(2026, 12, 5),
            circuit_id=circuit,
            charge_type=kind,
            period_start=start,
            period_end=end,
            amount=Decimal(cents).scaleb(-2),
            currency="EUR",
            description=text,
            source_file="big.csv",
            source_row=n + 2,
        )
        for n, (circuit, kind, start, end, cents, text) in enumerate(specs)
    ]
    return rows, planted


def build_auditor(rows: list):
    from billing_etl.audit import Auditor
    from billing_etl.config import BillingConfig, CarriersFile, ContractsFile
    from billing_etl.model import Invoice, Period
    from linewatch.inventory import Inventory

    config = BillingConfig(
        carriers=CarriersFile.model_validate({"invoice_dir": "invoices", "carriers": []}),
        contracts=ContractsFile.model_validate({"contracts": []}),
        inventory=Inventory.model_validate({"devices": [], "lines": []}),
        invoice_dir=Path("invoices"),
    )
    invoice = Invoice(
        carrier="Bench",
        invoice_number="BIG-1",
        billing_account="ACC",
        invoice_date=dt.date(2026, 11, 5),
        due_date=dt.date(2026, 12, 5),
        currency="EUR",
        stated_total=None,
        source_file="big.csv",
        lines=tuple(rows),
    )
    return Auditor(config=config, invoices=[invoice], period=Period(2026, 10), usage={})


def build_frame(rows: list):
    import pandas as pd

    return pd.DataFrame(
        {
            "carrier": [r.carrier for r in rows],
            "circuit": [r.circuit_id for r in rows],
            "type": [r.charge_type.value for r in rows],
            "start": [r.service_start for r in rows],
            "end": [r.service_end for r in rows],
            "amount": [str(r.amount) for r in rows],
            "text": [r.description for r in rows],
        }
    )


def pandas_duplicates(df) -> int:
    """Exact repeats: one-time rows by circuit, amount and text; periodic rows by circuit, type and days."""
    one_time = df["type"] == "one_time"
    a = df[one_time].duplicated(subset=["carrier", "circuit", "amount", "text"]).sum()
    b = df[~one_time].duplicated(subset=["carrier", "circuit", "type", "start", "end"]).sum()
    return int(a + b)


def main() -> None:
    t0 = time.perf_counter()
    rows, planted = build_rows()
    auditor = build_auditor(rows)
    df = build_frame(rows)
    setup_s = time.perf_counter() - t0
    ours, ref = [], []
    found = reference = 0
    for _ in range(RUNS):  # interleaved, so a noisy neighbour slows both
        t = time.perf_counter()
        found = len(auditor._duplicates())
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        reference = pandas_duplicates(df)
        ref.append(time.perf_counter() - t)
    if not found == reference == planted:
        print(
            f"bench dup-charge: found {found}, pandas {reference}, planted {planted}: mismatch",
            file=sys.stderr,
        )
        sys.exit(1)
    best, best_ref = min(ours), min(ref)
    print(f"# {len(rows):,} rows, {planted:,} planted duplicates; setup {setup_s:.1f} s; runs {RUNS}")
    print(
        f"bench dup-charge: {best:.2f} s ({len(rows):,} rows, {found:,} duplicates) | "
        f"pandas duplicated(): {best_ref:.2f} s | ratio {best / best_ref:.1f}"
    )


if __name__ == "__main__":
    main()
