"""Helpers of the finance tests: the billing ETL's report of a period, as its audit returns it (real
dataclasses of billing_etl, built from a few line costs)."""

from __future__ import annotations

from decimal import Decimal as D

from billing_etl.costs import LineCost
from billing_etl.model import Period
from billing_etl.run import ImportSummary, PeriodReport


def line_cost(line: str, department: str, cost_centre: str, billed: str, allocated: str = "0", *,
               carrier: str = "Telia", circuit: str = "") -> LineCost:
    return LineCost(line=line, carrier=carrier, circuit_id=circuit or f"CID-{line}", site="Frankfurt",
                    department=department, cost_centre=cost_centre, currency="EUR", billed_amount=D(billed),
                    allocated_amount=D(allocated), expected_amount=D(billed), at_stake_amount=D(0), commit_bps=None,
                    p95_bps=None, peak_util_pct=None, volume_gb=None, availability_pct=None, down_minutes=None,
                    no_data_minutes=None)


def period_report(period: str, lines: list[LineCost], unallocated: dict[tuple[str, str], D] | None = None) -> PeriodReport:
    return PeriodReport(period=Period.parse(period), imports=ImportSummary(), usage={}, findings=[], lines=lines,
                        departments=[], proposals=[], payments=[], unallocated=unallocated or {})
