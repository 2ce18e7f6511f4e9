"""The capacity outlook (the trends job's latest ``line_outlook`` point per line, read by
:func:`linewatch.trends.outlook.read_outlook`): lines sorted by the days left until their busy hour crosses
80 % of the contracted capacity, with the growth per month, the crossing dates and their interval, and for
burstable and volume lines the projected end-of-period bill beside the contracted amount.

The outlook is the latest run's, whatever period the report covers (a forecast is made once, from the history
up to its run): the table's note says when that run was. Lines the trends job has not reached (too short a
history) are not in it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from linewatch.influx import InfluxClient
from web.reports.blocks import Figure, Table
from web.reports.providers import common

OUTLOOK_ROWS = 20  # the lines nearest 80 %; the app's outlook page lists them all


def _value(row: pd.Series, column: str) -> Any:
    value = row.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _day(row: pd.Series, column: str, tz: dt.tzinfo) -> dt.date | None:
    value = _value(row, column)
    if value is None:
        return None
    return dt.datetime.fromtimestamp(float(value), tz=tz).date()


def read(client: InfluxClient, lines: Sequence[str]) -> pd.DataFrame:
    """The latest outlook of ``lines`` (empty frame without lines or without a trends run)."""
    from linewatch.trends.outlook import read_outlook

    if not lines:
        return pd.DataFrame()
    return read_outlook(client, lines=list(lines))


def run_time(frame: pd.DataFrame, tz: dt.tzinfo) -> dt.datetime | None:
    """When the newest outlook point was written (the trends run), in ``tz``; None when the frame has no time."""
    if frame.empty or "time" not in frame.columns:
        return None
    newest = pd.to_datetime(frame["time"], utc=True).max()
    return None if pd.isna(newest) else newest.to_pydatetime().astimezone(tz)


def outlook_table(frame: pd.DataFrame, *, tz: dt.tzinfo, limit: int = OUTLOOK_ROWS) -> Table:
    """Lines by days left to 80 % (none within the horizon last): busy hour, growth, 80 % date with its interval,
    95 % date."""
    columns = [_("Line"), _("Busy hour (%)"), _("Growth (pt/month)"), _("Days to 80 %"), _("Reaches 80 %"),
               _("Earliest – latest"), _("Reaches 95 %")]
    rows = []
    for _index, row in frame.head(limit).iterrows():
        earliest, latest = _day(row, "date_80_earliest_s", tz), _day(row, "date_80_latest_s", tz)
        interval = (f"{earliest.isoformat() if earliest else '…'} – {latest.isoformat() if latest else '…'}"
                    if earliest or latest else None)
        days = _value(row, "days_to_80")
        rows.append([str(row["line"]), _value(row, "busy_hour_pct"), _value(row, "growth_pct_per_month"),
                     None if days is None else round(float(days)), _day(row, "date_80_s", tz), interval,
                     _day(row, "date_95_s", tz)])
    when = run_time(frame, tz)
    note = (_("Forecast of the trends run of %(when)s; 80 %% and 95 %% of the contracted capacity, interval "
              "80 %%.") % {"when": when.strftime("%Y-%m-%d %H:%M")} if when else
            _("No forecast yet: the trends job (linewatch trends run) has not run for these lines."))
    return Table(title=_("Capacity outlook"), columns=columns, rows=rows, note=note, numeric={1, 2, 3})


def _usage(row: pd.Series) -> str | None:
    """The projected billed usage: the 95th percentile (burstable) or the volume (quota)."""
    p95_bps, volume_gb = _value(row, "projected_p95_bps"), _value(row, "projected_volume_gb")
    if p95_bps is not None:
        return _("%(rate)s Mbit/s (95th percentile)") % {"rate": f"{float(p95_bps) / 1e6:,.1f}"}
    if volume_gb is not None:
        return f"{float(volume_gb):,.0f} GB"
    return None


def projection_table(frame: pd.DataFrame) -> Table:
    """The burstable and volume lines' projected bill for the running period beside the contracted amount."""
    columns = [_("Line"), _("Month to date"), _("Projected"), _("Contracted"), _("Overage"), _("Currency"),
               _("Projected usage")]
    rows = []
    if not frame.empty and "projected_amount" in frame.columns:
        for _index, row in frame[frame["projected_amount"].notna()].iterrows():
            projected, contracted = _value(row, "projected_amount"), _value(row, "contracted_amount")
            overage = None if projected is None or contracted is None else float(projected) - float(contracted)
            rows.append([str(row["line"]), _value(row, "month_to_date_amount"), projected, contracted, overage,
                         str(_value(row, "currency") or ""), _usage(row)])
    rows.sort(key=lambda r: (-(r[4] or 0.0), r[0]))
    rows = [[r[0], *(common.amount(v) for v in r[1:5]), *r[5:]] for r in rows]
    note = "" if rows else _("No burstable or volume line with a projection.")
    return Table(title=_("Projected bills of the running period"), columns=columns, rows=rows, note=note,
                 numeric={1, 2, 3, 4})


def soonest_figure(frame: pd.DataFrame) -> Figure:
    """How many lines cross 80 % within 30 days (warning when any)."""
    within = 0
    if not frame.empty and "days_to_80" in frame.columns:
        within = int((pd.to_numeric(frame["days_to_80"], errors="coerce") <= 30).sum())
    return Figure(label=_("Lines reaching 80 % within 30 days"), value=f"{within:,}",
                  tone="warning" if within else "good")


def provide(ctx: Any) -> dict[str, Any]:
    """Provider ``outlook``: ``outlook`` (table), ``projections`` (table), ``outlook_soon`` (figure) for the
    report's department (all lines without one)."""
    lines = [line.name for line in common.report_lines(ctx.department)]
    with common.influx(ctx) as client:
        frame = read(client, lines)
    return {"outlook": outlook_table(frame, tz=ctx.tz), "projections": projection_table(frame),
            "outlook_soon": soonest_figure(frame)}
