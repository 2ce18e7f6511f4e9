"""``/faults/figures/``: the reliability figures of one month (``?month=YYYY-MM``, default this month) per carrier
and per line (web/faults/figures.py; months in the application's time zone, docs/faults.md "Figures")."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse, HttpResponseBadRequest
from django.template.defaultfilters import floatformat
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import View

from web.accounts.permissions import ModelPermissionRequiredMixin
from web.faults.figures import Figures
from web.faults.figures_query import month_figures, previous_months
from web.faults.models import Ticket

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
MONTHS_OFFERED = 13  # this month and the twelve before it


def duration_text(seconds: float | None) -> str:
    """``seconds`` as ``[D d ]HH:MM:SS`` (``—`` for none)."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days} d {clock}" if days else clock


@dataclass(frozen=True)
class Row:
    name: str
    carrier: str
    incidents: int
    downtime: str
    mttr: str
    mtbf: str
    availability_pct: float | None

    @property
    def availability(self) -> str:
        """The percentage rounded to three decimals in the active language's format (``—`` without observed time)."""
        return "—" if self.availability_pct is None else floatformat(self.availability_pct, 3)


def _row(name: str, carrier: str, f: Figures) -> Row:
    return Row(name=name, carrier=carrier, incidents=f.incidents, downtime=duration_text(f.downtime_s),
               mttr=duration_text(f.mttr_s), mtbf=duration_text(f.mtbf_s), availability_pct=f.availability_pct)


def parse_month(text: str | None, today: dt.date) -> tuple[int, int]:
    """``YYYY-MM`` (empty: ``today``'s month); ValueError naming the field otherwise."""
    if not text:
        return today.year, today.month
    match = MONTH_RE.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(_("month: %(value)s is not a month (YYYY-MM)") % {"value": text})
    return int(match.group(1)), int(match.group(2))


class FiguresView(ModelPermissionRequiredMixin, View):
    model = Ticket

    def get(self, request: Any) -> HttpResponse:
        now = timezone.now()
        try:
            year, month = parse_month(request.GET.get("month"), timezone.localdate(now))
        except ValueError as exc:
            return HttpResponseBadRequest(str(exc))
        result = month_figures(year, month, now=now)
        carriers = [_row(name, name, f) for name, f in result.by_carrier.items()]
        lines = sorted((_row(line, result.carrier_of[line], f) for line, f in result.by_line.items()),
                       key=lambda r: (r.availability_pct if r.availability_pct is not None else 100.0, r.name))
        offered = [f"{y:04d}-{m:02d}" for y, m in reversed(previous_months(now, MONTHS_OFFERED))]
        selected = f"{year:04d}-{month:02d}"
        return TemplateResponse(request, "faults/figures.html", {
            "carriers": carriers, "lines": lines, "months": offered if selected in offered else [selected, *offered],
            "selected": selected, "timezone": timezone.get_current_timezone_name(),
            "observed_to": dt.datetime.fromtimestamp(result.end_s, tz=dt.UTC),
            "month_start": dt.datetime.fromtimestamp(result.start_s, tz=dt.UTC),
        })
