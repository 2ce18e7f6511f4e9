"""The demo's planned maintenance (``web/demo.py`` prepare): Deutsche Telekom announces fibre work on
**FRA-VOICE-1**, starting two hours after the demo's first start and lasting four hours (reference
``DT-CHG-4471``). The alert service mutes that line's notifications while it lasts; the line page and
``/inventory/maintenance/`` show it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from web.inventory.models import Line, PlannedMaintenance

LINE = "FRA-VOICE-1"
STARTS_IN = dt.timedelta(hours=2)
LASTS = dt.timedelta(hours=4)
REFERENCE = "DT-CHG-4471"


def seed_maintenance(*, now: dt.datetime | None = None) -> PlannedMaintenance | None:
    """The demo window (none if any window exists, or the line is missing: later starts keep the app's data)."""
    line = Line.objects.select_related("carrier").filter(name=LINE).first()
    if line is None or PlannedMaintenance.objects.exists():
        return None
    starts = (now or timezone.now()).replace(second=0, microsecond=0) + STARTS_IN
    window = PlannedMaintenance.objects.create(
        carrier=line.carrier, starts=starts, ends=starts + LASTS, carrier_reference=REFERENCE,
        description="Fibre work in the Frankfurt street cabinet: up to 30 minutes' loss of service.")
    window.lines.set([line])
    return window
