"""The weekly NOC report: incidents (the fault tickets of web/faults), their repair times, the lines that ran
saturated, the alerts that fired, and the collector's health.

Definitions (docs/reports.md):

* **Incidents**: tickets opened in the week, by kind; **outages** and their figures (downtime, MTTR = downtime
  per incident, availability over the lines in service) from the outage tickets clipped to the week, exactly as
  the fault figures count a month (:mod:`web.faults.figures`); the previous week beside them.
* **Saturated lines**: lines whose busy hour (highest hourly mean of ``max(in, out)`` utilization) reached 80 %
  of the contracted capacity on any day of the week, with the time spent at or above 80 % (5-minute buckets)
  — from ``line_traffic`` (:mod:`.utilization`), so a line counts even when no alert rule watches it.
* **Alerts**: ``alert_events`` points of the week that entered ``firing``, by rule and severity.
* **Collector health**: ``collector_health`` per collector (cycles, the slowest cycle, the most devices failed,
  spooled bytes, batches dropped in the week, the oldest inventory) and ``collector_poll`` per device (polls and
  failed polls).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from linewatch.choices import UTILIZATION_WARNING_PCT, FaultKind
from linewatch.influx import InfluxClient
from web.reports.blocks import Figure, Table
from web.reports.providers import common, utilization

TICKET_ROWS = 30


@dataclass(frozen=True)
class OutageWeek:
    incidents: int
    downtime_s: float
    mttr_s: float | None
    availability_pct: float | None


def outage_week(start_s: int, end_s: int) -> OutageWeek:
    """Every in-service line's outage figures of ``[start_s, end_s)`` added up (web/faults/figures)."""
    from web.faults import figures
    from web.faults.figures_query import IN_SERVICE, outages
    from web.inventory.models import Line

    found = outages(start_s, end_s)
    names = set(Line.objects.filter(status__in=IN_SERVICE).values_list("name", flat=True)) | {o.line for o in found}
    total = figures.combine(figures.by_line(found, names, start_s=start_s, end_s=end_s).values())
    return OutageWeek(incidents=total.incidents, downtime_s=total.downtime_s, mttr_s=total.mttr_s,
                      availability_pct=total.availability_pct)


def tickets_opened(start_s: int, end_s: int, department: str | None) -> list[Any]:
    from web.faults.models import Ticket

    rows = Ticket.objects.filter(opened_at__gte=dt.datetime.fromtimestamp(start_s, dt.UTC),
                                 opened_at__lt=dt.datetime.fromtimestamp(end_s, dt.UTC))
    if department:
        rows = rows.filter(line__department__name=department)
    return list(rows.select_related("line").order_by("opened_at", "pk"))


def saturated_lines(frame: pd.DataFrame, months: Sequence[utilization.LineMonth], *,
                    level_pct: float = UTILIZATION_WARNING_PCT) -> list[tuple[utilization.LineMonth, float]]:
    """The lines whose busy-hour peak reached ``level_pct``, with the minutes at or above it; worst first."""
    above = frame[frame["value"] >= level_pct].groupby("line").size() * utilization.BUCKET_S / 60
    found = [(m, float(above.get(m.line, 0.0))) for m in months
             if m.busy_hour_pct is not None and m.busy_hour_pct >= level_pct]
    return sorted(found, key=lambda x: (-(x[0].busy_hour_pct or 0.0), x[0].line))


def firing_alerts(client: InfluxClient, *, start_s: int, end_s: int) -> list[dict[str, Any]]:
    """Per rule and severity: how often an alert entered ``firing`` in the window, and on how many subjects."""
    frame = client.query_frame(f'SELECT "state", "line" AS subject FROM "alert_events" WHERE time >= {start_s}s '
                               f'AND time < {end_s}s AND "state" = \'firing\' GROUP BY "rule", "severity"')
    if frame.empty:
        return []
    out = []
    for (rule, severity), rows in frame.groupby(["rule", "severity"]):
        out.append({"rule": rule, "severity": severity, "fired": len(rows),
                    "subjects": int(rows["subject"].nunique()) if "subject" in rows else 0})
    return sorted(out, key=lambda r: (-r["fired"], r["rule"]))


def collector_health(client: InfluxClient, *, start_s: int, end_s: int) -> list[dict[str, Any]]:
    """One row per collector: cycles, slowest cycle, most devices failed, most spooled bytes, batches dropped in
    the window (the counters are cumulative since the collector started), oldest inventory."""
    frame = client.query_frame(
        'SELECT COUNT("cycle_duration_s") AS cycles, MAX("cycle_duration_s") AS slowest_s, '
        'MEAN("cycle_duration_s") AS mean_s, MAX("devices_failed") AS failed, MAX("devices_ok") AS ok, '
        'MAX("spool_bytes") AS spool, SPREAD("dropped_batches") AS dropped, SPREAD("overflowed_batches") AS '
        f'overflowed, MAX("inventory_stale_s") AS stale_s FROM "collector_health" WHERE time >= {start_s}s AND '
        f'time < {end_s}s GROUP BY "collector"')
    return [] if frame.empty else frame.drop(columns=["time"], errors="ignore").to_dict("records")


def poll_failures(client: InfluxClient, *, start_s: int, end_s: int) -> list[dict[str, Any]]:
    """One row per device: polls and failed polls in the window (``collector_poll`` ``ok``)."""
    frame = client.query_frame(f'SELECT COUNT("ok") AS polls, SUM("ok") AS ok FROM "collector_poll" WHERE '
                               f'time >= {start_s}s AND time < {end_s}s GROUP BY "device"')
    if frame.empty:
        return []
    rows = [{"device": r["device"], "polls": int(r["polls"]), "failed": int(r["polls"] - r["ok"])}
            for r in frame.to_dict("records")]
    return sorted(rows, key=lambda r: (-r["failed"], r["device"]))


def _duration(seconds: float | None) -> str:
    """``2 h 05 min`` / ``35 min``; ``–`` without a value."""
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def provide(ctx: Any) -> dict[str, Any]:
    """Provider ``noc``: figures ``incidents``, ``mttr``, ``availability``, ``saturated_count``; tables
    ``tickets``, ``tickets_by_kind``, ``saturated``, ``alerts``, ``collectors``, ``polls``."""
    from web.labels import label

    start_s, end_s = common.period_s(ctx)
    previous_start_s, _previous_end_s = common.period_s(ctx, shift=-1)
    week, before = outage_week(start_s, end_s), outage_week(previous_start_s, start_s)
    tickets = tickets_opened(start_s, end_s, ctx.department)
    lines = common.report_lines(ctx.department)
    names = [line.name for line in lines]
    with common.influx(ctx) as client:
        frame = utilization.read_lines(client, lines, start_s=start_s, end_s=end_s)
        alerts = firing_alerts(client, start_s=start_s, end_s=end_s)
        collectors = collector_health(client, start_s=start_s, end_s=end_s)
        polls = poll_failures(client, start_s=start_s, end_s=end_s)
    months = utilization.line_months(frame, names, start_s=start_s, end_s=end_s, previous_start_s=start_s,
                                     tz=ctx.tz)
    saturated = saturated_lines(frame, months)
    capacity = {line.name: line for line in lines}
    kinds = Counter(t.kind for t in tickets)

    mttr_change = (None if week.mttr_s is None or before.mttr_s is None
                   else f"{(week.mttr_s - before.mttr_s) / 60:+,.0f} min")
    blocks: dict[str, Any] = {
        "incidents": Figure(label=_("Incidents (outages)"), value=f"{week.incidents:,}",
                            change=f"{week.incidents - before.incidents:+,}",
                            tone="bad" if week.incidents > before.incidents else "good"),
        "tickets_opened": Figure(label=_("Tickets opened"), value=f"{len(tickets):,}"),
        "mttr": Figure(label=_("MTTR"), value=_duration(week.mttr_s), change=mttr_change, tone="neutral"),
        "availability": Figure(label=_("Availability"), value=common.pct(week.availability_pct, decimals=3),
                               tone="good" if (week.availability_pct or 100.0) >= 99.9 else "warning"),
        "saturated_count": Figure(label=_("Saturated lines (busy hour ≥ 80 %)"), value=f"{len(saturated):,}",
                                  tone="warning" if saturated else "good"),
        "tickets_by_kind": Table(
            title=_("Tickets by kind"), columns=[_("Kind"), _("Tickets")],
            rows=[[str(label(FaultKind, k)), n] for k, n in sorted(kinds.items(), key=lambda x: (-x[1], x[0]))],
            numeric={1}, note="" if tickets else _("No ticket opened this week.")),
        "tickets": Table(
            title=_("Tickets opened"),
            columns=[_("Ticket"), _("Opened"), _("Line or location"), _("Kind"), _("State"), _("Time to repair")],
            rows=[[f"#{t.pk}", t.opened_at.astimezone(ctx.tz).replace(tzinfo=None),
                   t.line.name if t.line_id else t.location, str(label(FaultKind, t.kind)),
                   str(t.get_state_display()), _duration(t.duration_s)] for t in tickets[:TICKET_ROWS]],
            note=(_("%(shown)s of %(total)s tickets shown.") % {"shown": TICKET_ROWS, "total": len(tickets)}
                  if len(tickets) > TICKET_ROWS else "")),
        "saturated": Table(
            title=_("Saturated lines"),
            columns=[_("Line"), _("Department"), _("Capacity (Mbit/s)"), _("Busy-hour peak (%)"), _("Peak day"),
                     _("p95 (%)"), _("Minutes ≥ 80 %")],
            rows=[[m.line, capacity[m.line].department, capacity[m.line].capacity_bps / 1e6, m.busy_hour_pct,
                   m.busy_hour_day, m.p95_pct, round(minutes)] for m, minutes in saturated],
            numeric={2, 3, 5, 6}, note="" if saturated else _("No line's busy hour reached 80 % this week.")),
        "alerts": Table(
            title=_("Alerts fired"), columns=[_("Rule"), _("Severity"), _("Times fired"), _("Subjects")],
            rows=[[a["rule"], a["severity"], a["fired"], a["subjects"]] for a in alerts], numeric={2, 3},
            note="" if alerts else _("No alert fired this week.")),
        "collectors": Table(
            title=_("Collector health"),
            note=_("Per collector: its cycles, their mean and slowest duration, the most devices failed in a cycle, the "
                   "most spooled, the batches lost in the week (rejected or overflowed), the oldest inventory."),
            columns=[_("Collector"), _("Cycles"), _("Mean (s)"), _("Slowest (s)"), _("Devices failed"),
                     _("Spool (KiB)"), _("Batches lost"), _("Inventory age (s)")],
            rows=[[c["collector"], int(c["cycles"]), c.get("mean_s"), c.get("slowest_s"), _int(c.get("failed")),
                   (c.get("spool") or 0) / 1024, _int((c.get("dropped") or 0) + (c.get("overflowed") or 0)),
                   c.get("stale_s")] for c in collectors],
            numeric={1, 2, 3, 4, 5, 6, 7}) if collectors else Table(
            title=_("Collector health"), columns=[_("Collector")], rows=[],
            note=_("No collector reported this week.")),
        "polls": Table(
            title=_("Device polls"), columns=[_("Device"), _("Polls"), _("Failed"), _("Failed (%)")],
            rows=[[p["device"], p["polls"], p["failed"], 100.0 * p["failed"] / p["polls"] if p["polls"] else None]
                  for p in polls], numeric={1, 2, 3},
            note="" if polls else _("No device poll recorded this week.")),
    }
    return blocks


def _int(value: Any) -> int | None:
    return None if common.missing(value) else int(value)
