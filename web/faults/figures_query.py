"""The outages and open incidents from the fault tickets, for :mod:`web.faults.figures` (the page and the
InfluxDB writer read the same figures).

Months are calendar months in the application's time zone (``TIME_ZONE``, Django's current time zone): the page
and the InfluxDB points agree. The lines counted in a month are those in service (status active, offline or
deprovisioning) plus any line with an outage ticket in the month; a month not over yet is observed up to now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from linewatch.choices import LineStatus
from web.faults import figures
from web.faults.figures import Figures, Outage
from web.faults.figures_influx import NO_CARRIER

IN_SERVICE = (LineStatus.ACTIVE, LineStatus.OFFLINE, LineStatus.DEPROVISIONING)


@dataclass(frozen=True)
class MonthFigures:
    year: int
    month: int
    start_s: float
    end_s: float  # the month's end, or now for the current month
    by_line: dict[str, Figures]
    by_carrier: dict[str, Figures]
    carrier_of: dict[str, str]


def _aware(moment_s: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(moment_s, tz=dt.UTC)


def outages(start_s: float, end_s: float) -> list[Outage]:
    """The outage tickets of a line overlapping ``[start_s, end_s)``."""
    from web.faults.models import Ticket

    start, end = _aware(start_s), _aware(end_s)
    rows = (Ticket.objects.filter(outage=True, line__isnull=False, opened_at__lt=end)
            .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=start))
            .values_list("line__name", "opened_at", "resolved_at"))
    return [Outage(line, opened.timestamp(), resolved.timestamp() if resolved else None)
            for line, opened, resolved in rows]


def month_figures(year: int, month: int, *, now: dt.datetime | None = None) -> MonthFigures:
    """Every counted line's and carrier's figures of ``year-month`` (see the module's docstring)."""
    from web.inventory.models import Line

    now_s = (now or timezone.now()).timestamp()
    start_s, month_end_s = figures.month_bounds(year, month, timezone.get_current_timezone())
    end_s = max(start_s, min(month_end_s, now_s))
    found = outages(start_s, end_s)
    names = {o.line for o in found}
    carrier_of = dict(Line.objects.filter(Q(status__in=IN_SERVICE) | Q(name__in=names))
                      .values_list("name", "carrier__name"))
    carrier_of = {line: carrier or NO_CARRIER for line, carrier in carrier_of.items()}
    by_line = figures.by_line(found, carrier_of, start_s=start_s, end_s=end_s)
    return MonthFigures(year=year, month=month, start_s=start_s, end_s=end_s, by_line=by_line,
                        by_carrier=figures.by_carrier(by_line, carrier_of), carrier_of=carrier_of)


def previous_months(now: dt.datetime, count: int) -> list[tuple[int, int]]:
    """(year, month) of ``now``'s month (current time zone) and the ``count - 1`` before it, oldest first."""
    year, month = figures.month_of(now.timestamp(), timezone.get_current_timezone())
    result = []
    for _ in range(count):
        result.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return result[::-1]


def open_incident_counts() -> dict[tuple[str, str], int]:
    """Active tickets by (fault kind, carrier name or ``none``): the ticket's carrier, else its line's."""
    from web.faults.models import Ticket

    rows = (Ticket.objects.active().annotate(carrier_name=Coalesce("carrier__name", "line__carrier__name"))
            .values("kind", "carrier_name").annotate(n=Count("pk")))
    return {(r["kind"], r["carrier_name"] or NO_CARRIER): r["n"] for r in rows}
