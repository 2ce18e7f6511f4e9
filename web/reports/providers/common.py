"""What every built-in provider needs: the InfluxDB client of the report's settings, the lines a report covers
(from the application's inventory), the period as epoch seconds, and the few number formats the reports share
(percent, percentage points, amounts with their currency)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from linewatch.choices import UTILIZATION_CRITICAL_PCT, UTILIZATION_WARNING_PCT, LineStatus, LineType
from linewatch.influx import InfluxClient

# The lines a report counts: those in service (the fault figures count the same ones, web/faults/figures_query.py).
IN_SERVICE = (LineStatus.ACTIVE, LineStatus.OFFLINE, LineStatus.DEPROVISIONING)
REPORT_TIMEOUT_S = 180.0  # a month of 5-minute buckets for every line is a heavier query than a page's


@dataclass(frozen=True)
class ReportLine:
    """One line of the inventory as a report shows it."""

    name: str
    department: str
    carrier: str
    site: str
    type: str
    capacity_bps: int
    channels: int | None = None
    rate_plan: str = ""
    members: int = 1  # interfaces carrying it: more than one and its traffic is their sum per bucket


def report_lines(department: str | None = None, *, types: Sequence[LineType] | None = None,
                 exclude_types: Sequence[LineType] = ()) -> list[ReportLine]:
    """The lines in service (of ``department`` when given; of ``types`` when given), by name."""
    from django.db.models import Count

    from web.inventory.models import Line

    rows = (Line.objects.filter(status__in=IN_SERVICE).select_related("department", "carrier", "site")
            .annotate(member_count=Count("members")))
    if department:
        rows = rows.filter(department__name=department)
    if types is not None:
        rows = rows.filter(type__in=[t.value for t in types])
    if exclude_types:
        rows = rows.exclude(type__in=[t.value for t in exclude_types])
    return [ReportLine(name=r.name, department=r.department.name if r.department_id else "",
                       carrier=r.carrier.name if r.carrier_id else "", site=r.site.name if r.site_id else "",
                       type=r.type, capacity_bps=r.capacity_bps, channels=r.channels,
                       rate_plan=r.rate_plan, members=r.member_count)
            for r in rows.order_by("name")]


@contextlib.contextmanager
def influx(ctx: Any) -> Iterator[InfluxClient]:
    """A client of the report's InfluxDB (``ctx.settings.influx``) with a report's longer timeout."""
    settings = ctx.settings.influx_settings()
    settings = settings.model_copy(update={"timeout_s": max(settings.timeout_s, REPORT_TIMEOUT_S)})
    with InfluxClient(settings) as client:
        yield client


def period_s(ctx: Any, *, shift: int = 0) -> tuple[int, int]:
    """The report's period (``shift`` periods later, earlier when negative) as whole epoch seconds
    ``[start_s, end_s)`` in the report's time zone."""
    period = ctx.period.shift(shift) if shift else ctx.period
    start_s, end_s = period.bounds_s(ctx.tz)
    return int(start_s), int(end_s)


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value: float | None, *, decimals: int = 1) -> str:
    """``82.4 %`` (a figure's value); ``–`` when there is none."""
    return "–" if missing(value) else f"{value:,.{decimals}f} %"


def points(value: float | None, *, decimals: int = 1) -> str | None:
    """A change in percentage points with its sign: ``+3.1 pt`` (Korean ``+3.1 %p``); None when there is none."""
    if missing(value):
        return None
    unit = _("pt")  # percentage points (Korean %p)
    return f"{value:+,.{decimals}f} {unit}"


def change_pct(value: float | None, *, decimals: int = 1) -> str | None:
    """A relative change with its sign: ``+12.0 %``; None when there is none."""
    return None if missing(value) else f"{value:+,.{decimals}f} %"


def money(amount: Decimal | float | None, currency: str) -> str:
    """``12,345.67 EUR``; ``–`` without an amount."""
    if missing(amount):
        return "–"
    return f"{Decimal(str(amount)).quantize(Decimal('0.01')):,} {currency}".strip()


def amount(value: Decimal | float | None) -> str | None:
    """An amount as a table cell: two decimals with thousands separators (``1,100.00``); None stays None."""
    if missing(value):
        return None
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):,}"


def money_by_currency(amounts: dict[str, Decimal]) -> str:
    """Amounts of several currencies, never added: ``1,200.00 EUR · 350.00 GBP``; ``–`` when none."""
    return " · ".join(money(v, c) for c, v in sorted(amounts.items())) or "–"


def relative_change_pct(now: float | Decimal | None, before: float | Decimal | None) -> float | None:
    """(now − before) / before × 100; None when either is missing or before is 0."""
    if missing(now) or missing(before) or not before:
        return None
    return float((Decimal(str(now)) - Decimal(str(before))) / Decimal(str(before)) * 100)


def tone_for_util(value: float | None, *, warning_pct: float = UTILIZATION_WARNING_PCT,
                  critical_pct: float = UTILIZATION_CRITICAL_PCT) -> str:
    """A utilization's colour: bad from ``critical_pct``, warning from ``warning_pct``, else good."""
    if missing(value):
        return "neutral"
    return "bad" if value >= critical_pct else "warning" if value >= warning_pct else "good"
