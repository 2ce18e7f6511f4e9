"""The reliability figures and the open incidents in InfluxDB (docs/schema.md ``fault_figures``,
``incidents_open``), for the Grafana panels: pure point builders, and the worker jobs that read the tickets and
write through :class:`linewatch.influx.InfluxClient`.

``fault_figures``: one point per line and month (tags ``line``, ``carrier``), time = the month's first instant in
the application's time zone; re-writing a month overwrites its points (same series, same timestamp; every field
always written, ``mttr_s``/``mtbf_s`` 0 without incidents). ``incidents_open``: one point per fault kind × carrier
(every carrier of the inventory and ``none``) each minute, ``count`` 0 included, so a cleared incident stops showing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping

from linewatch.choices import FaultKind
from linewatch.influx import Point
from web.faults.figures import Figures

__all__ = ["NO_CARRIER", "figure_points", "open_incident_points", "write_figures", "write_open_incidents"]

log = logging.getLogger(__name__)
NO_CARRIER = "none"  # the carrier tag of a ticket without a carrier
FIGURES_MEASUREMENT = "fault_figures"
OPEN_MEASUREMENT = "incidents_open"
_NS = 1_000_000_000


def figure_points(figures: Mapping[str, Figures], carrier_of: Mapping[str, str], *, month_start_s: float) -> list[Point]:
    """One ``fault_figures`` point per line of ``figures`` (line → its figures of the month starting then)."""
    time_ns = int(month_start_s) * _NS
    return [Point(FIGURES_MEASUREMENT, {"line": line, "carrier": carrier_of[line] or NO_CARRIER}, {
        "incidents": f.incidents, "downtime_s": float(f.downtime_s), "period_s": float(f.period_s),
        "mttr_s": float(f.mttr_s or 0.0), "mtbf_s": float(f.mtbf_s or 0.0),
        "availability_pct": float(100.0 if f.availability_pct is None else f.availability_pct),
    }, time_ns) for line, f in sorted(figures.items())]


def open_incident_points(counts: Mapping[tuple[str, str], int], carriers: Iterable[str], *, now_s: float) -> list[Point]:
    """One ``incidents_open`` point per fault kind × carrier (and :data:`NO_CARRIER`), 0 where ``counts`` (by
    (kind, carrier)) has none."""
    time_ns = int(now_s) * _NS
    names = sorted({*carriers, NO_CARRIER})
    return [Point(OPEN_MEASUREMENT, {"kind": kind.value, "carrier": carrier},
                  {"count": int(counts.get((kind.value, carrier), 0))}, time_ns)
            for kind in FaultKind for carrier in names]


# -- the worker jobs (web/inspections/apps.py registers them: contracts §5) ---------------------------------------


def _client():  # type: ignore[no-untyped-def]
    from django.conf import settings

    from linewatch.influx import InfluxClient

    return InfluxClient(settings.LINEWATCH.influx)


def write_figures(*, now: dt.datetime | None = None, months: int = 2) -> int:
    """Worker job: the figures of this month so far and the ``months - 1`` before it (a late resolution changes
    the month before), per line, to ``fault_figures``. Returns the number of points written."""
    from django.utils import timezone

    from linewatch.influx import encode_points
    from web.faults.figures_query import month_figures, previous_months

    now = now or timezone.now()
    points: list[Point] = []
    for year, month in previous_months(now, months):
        result = month_figures(year, month, now=now)
        points += figure_points(result.by_line, result.carrier_of, month_start_s=result.start_s)
    if points:
        with _client() as client:
            client.write(encode_points(points))
    return len(points)


def write_open_incidents(*, now: dt.datetime | None = None) -> int:
    """Worker job (every minute): the active tickets per fault kind and carrier to ``incidents_open``."""
    from django.utils import timezone

    from linewatch.influx import encode_points
    from web.faults.figures_query import open_incident_counts
    from web.inventory.models import Carrier

    now = now or timezone.now()
    points = open_incident_points(open_incident_counts(), Carrier.objects.values_list("name", flat=True),
                                  now_s=now.timestamp())
    with _client() as client:
        client.write(encode_points(points))
    return len(points)
