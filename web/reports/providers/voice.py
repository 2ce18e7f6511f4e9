"""The monthly voice report: per voice trunk the month's calls, answer rate, blocked calls, minutes by direction
and cost; the minutes by destination class; the busiest busy hour in Erlangs with its Erlang B blocking at the
contracted channels and the channels needed at voice.yaml's grade of service; a chart of each trunk's daily busy
hour against its channels.

From the voice pipeline's measurements (docs/schema.md): ``voice_trunk`` (sums over the month's minutes: counts,
minutes and cost belong to the minute the call started in), ``voice_minutes`` (per direction and destination
class) and ``voice_capacity`` (per UTC day: the busy hour). The month's bounds are the report time zone's; the
busy hours are the UTC days' the pipeline wrote, those starting within the month. Costs are in each trunk's rate
plan currency (voice.yaml), never added across currencies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from linewatch.choices import CallDirection, DestinationClass, LineType
from linewatch.influx import InfluxClient
from linewatch.influx.influxql import exact_regex
from web.reports.blocks import Figure, Table, Text
from web.reports.providers import common


def _where(lines: Sequence[str], start_s: int, end_s: int) -> str:
    return f'"line" =~ {exact_regex(lines)} AND time >= {start_s}s AND time < {end_s}s'


def trunk_month(client: InfluxClient, lines: Sequence[str], *, start_s: int, end_s: int) -> dict[str, dict[str, Any]]:
    """Per line the month's sums of ``voice_trunk`` and its busiest minute."""
    frame = client.query_frame(
        'SELECT SUM("attempts") AS attempts, SUM("answered") AS answered, SUM("blocked") AS blocked, '
        'SUM("minutes_inbound") AS m_in, SUM("minutes_outbound") AS m_out, SUM("minutes_internal") AS m_int, '
        'SUM("cost") AS cost, SUM("premium") AS premium, SUM("high_risk") AS high_risk, MAX("busy_max") AS '
        f'busy_max FROM "voice_trunk" WHERE {_where(lines, start_s, end_s)} GROUP BY "line"')
    return {} if frame.empty else {r["line"]: r for r in frame.to_dict("records")}


def minutes_by_class(client: InfluxClient, lines: Sequence[str], *, start_s: int, end_s: int) -> pd.DataFrame:
    """``direction, dest_class, calls, minutes, cost, line`` summed over the month."""
    frame = client.query_frame(
        'SELECT SUM("calls") AS calls, SUM("minutes") AS minutes, SUM("cost") AS cost FROM "voice_minutes" WHERE '
        f'{_where(lines, start_s, end_s)} GROUP BY "line", "direction", "dest_class"')
    return frame


def busy_hours(client: InfluxClient, lines: Sequence[str], *, start_s: int, end_s: int) -> pd.DataFrame:
    """The daily busy hours (``voice_capacity``) of the month: ``time, line, erlangs, offered, blocking_pct,
    needed, blocked, calls``."""
    return client.query_frame(
        'SELECT "busy_hour_erlangs" AS erlangs, "offered_erlangs" AS offered, "blocking_pct", "channels_needed" AS '
        f'needed, "blocked", "calls" FROM "voice_capacity" WHERE {_where(lines, start_s, end_s)} GROUP BY "line"')


def currencies(lines: Sequence[common.ReportLine]) -> dict[str, str]:
    """Each line's call-cost currency: its rate plan's in voice.yaml (web/voice/config)."""
    from web.voice import config

    plans = {p.name: str(getattr(p, "currency", "") or "") for p in config.rate_plans()}
    return {line.name: plans.get(line.rate_plan, "") for line in lines}


def _float(value: Any) -> float | None:
    return None if common.missing(value) else float(value)


def _int(value: Any) -> int:
    return 0 if common.missing(value) else round(float(value))


def erlang_b_pct(offered_erl: float | None, channels: int | None) -> float | None:
    from linewatch.voice.erlang import erlang_b

    if offered_erl is None or not channels:
        return None
    return 100.0 * erlang_b(offered_erl, channels)


def channels_needed(offered_erl: float | None, gos: float) -> int | None:
    from linewatch.voice.erlang import channels_for

    return None if offered_erl is None else channels_for(offered_erl, gos)


def busy_hour_chart(frame: pd.DataFrame, lines: Sequence[common.ReportLine], *, tz: Any) -> Any:
    """Each trunk's daily busy hour (Erlangs) as lines over the month (:mod:`web.reports.charts`); None without
    data."""
    from web.reports import charts
    from web.reports.blocks import Chart

    series: dict[str, pd.Series] = {}
    for line in lines:
        rows = frame[frame["line"] == line.name] if not frame.empty else frame
        if rows.empty:
            continue
        series[line.name] = pd.Series(rows["erlangs"].astype("float64").to_numpy(),
                                      index=pd.DatetimeIndex(rows["time"]).tz_convert(tz))
    if not series:
        return None
    svg = charts.line_chart(series, y_label=_("Erlangs"))
    return Chart(title=_("Busy hour per day (Erlangs)"), svg=svg,
                 note=_("Carried traffic of each day's busiest clock hour, per trunk."))


def provide(ctx: Any) -> dict[str, Any]:
    """Provider ``voice``: figures ``voice_calls``, ``voice_minutes``, ``voice_blocked``, ``voice_cost``;
    tables ``trunks``, ``capacity``, ``classes``; chart ``busy_hours`` (when there are any)."""
    import web.voice.labels  # noqa: F401  (registers the call enumerations' labels)
    from web.labels import label
    from web.voice import config

    lines = common.report_lines(ctx.department, types=[LineType.VOICE_TRUNK])
    names = [line.name for line in lines]
    start_s, end_s = common.period_s(ctx)
    previous_start_s, _previous_end = common.period_s(ctx, shift=-1)
    money_of = currencies(lines)
    gos = config.target_gos()
    if names:
        with common.influx(ctx) as client:
            month = trunk_month(client, names, start_s=start_s, end_s=end_s)
            before = trunk_month(client, names, start_s=previous_start_s, end_s=start_s)
            classes = minutes_by_class(client, names, start_s=start_s, end_s=end_s)
            busy = busy_hours(client, names, start_s=start_s, end_s=end_s)
    else:
        month, before, classes, busy = {}, {}, pd.DataFrame(), pd.DataFrame()

    trunk_rows, capacity_rows = [], []
    cost: dict[str, float] = defaultdict(float)
    calls = answered = blocked = 0
    minutes = 0.0
    for line in lines:
        row = month.get(line.name, {})
        attempts, ok, refused = _int(row.get("attempts")), _int(row.get("answered")), _int(row.get("blocked"))
        talk = sum(_float(row.get(k)) or 0.0 for k in ("m_in", "m_out", "m_int"))
        calls, answered, blocked, minutes = calls + attempts, answered + ok, blocked + refused, minutes + talk
        currency = money_of.get(line.name, "")
        if _float(row.get("cost")) is not None:
            cost[currency] += float(row["cost"])
        trunk_rows.append([line.name, line.department, attempts, 100.0 * ok / attempts if attempts else None,
                           refused, _float(row.get("m_in")), _float(row.get("m_out")), _float(row.get("m_int")),
                           common.amount(_float(row.get("cost"))), currency])
        mine = busy[busy["line"] == line.name] if not busy.empty else busy
        peak = mine.loc[mine["erlangs"].astype("float64").idxmax()] if not mine.empty else None
        offered = None if peak is None else _float(peak.get("offered")) or _float(peak.get("erlangs"))
        capacity_rows.append([
            line.name, line.channels, _int(row.get("busy_max")) if row else None,
            None if peak is None else _float(peak["erlangs"]),
            None if peak is None else pd.Timestamp(peak["time"]).tz_convert(ctx.tz).date(),
            offered, erlang_b_pct(offered, line.channels), channels_needed(offered, gos)])
    before_calls = sum(_int(r.get("attempts")) for r in before.values())

    class_rows = []
    if not classes.empty:
        classes = classes.assign(currency=classes["line"].map(money_of).fillna(""))
        grouped = classes.groupby(["direction", "dest_class", "currency"], as_index=False)[
            ["calls", "minutes", "cost"]].sum()
        for r in grouped.sort_values(["minutes", "dest_class"], ascending=[False, True]).to_dict("records"):
            class_rows.append([str(label(CallDirection, r["direction"])) if r["direction"] in set(CallDirection)
                               else r["direction"],
                               str(label(DestinationClass, r["dest_class"])) if r["dest_class"] in
                               set(DestinationClass) else r["dest_class"],
                               _int(r["calls"]), _float(r["minutes"]), common.amount(_float(r["cost"])),
                               r["currency"]])
    blocks: dict[str, Any] = {
        "voice_calls": Figure(label=_("Calls"), value=f"{calls:,}",
                              change=common.change_pct(common.relative_change_pct(calls, before_calls))),
        "voice_minutes": Figure(label=_("Talk minutes"), value=f"{minutes:,.0f}"),
        "voice_blocked": Figure(label=_("Blocked calls"), value=f"{blocked:,}",
                                change=(f"{100.0 * blocked / calls:.1f} %" if calls else None),
                                tone="bad" if blocked else "good"),
        "voice_cost": Figure(label=_("Call cost"),
                             value=common.money_by_currency({c: Decimal(str(round(v, 2)))
                                                             for c, v in cost.items()})),
        "trunks": Table(
            title=_("Voice trunks"),
            columns=[_("Trunk"), _("Department"), _("Calls"), _("Answered (%)"), _("Blocked"), _("Inbound (min)"),
                     _("Outbound (min)"), _("Internal (min)"), _("Cost"), _("Currency")],
            rows=trunk_rows, numeric={2, 3, 4, 5, 6, 7, 8},
            note="" if lines else _("No voice trunk in service.")),
        "capacity": Table(
            title=_("Busy hour and channels"),
            columns=[_("Trunk"), _("Channels"), _("Most calls at once"), _("Busy hour (Erl)"), _("Busiest day"),
                     _("Offered (Erl)"), _("Erlang B blocking (%)"), _("Channels needed")],
            rows=capacity_rows, numeric={1, 2, 3, 5, 6, 7},
            note=_("Channels needed for a grade of service of %(gos)s %% (voice.yaml capacity.target_gos_pct).")
            % {"gos": f"{gos * 100:g}"}),
        "classes": Table(
            title=_("Minutes by destination class"),
            columns=[_("Direction"), _("Destination class"), _("Calls"), _("Minutes"), _("Cost"), _("Currency")],
            rows=class_rows, numeric={2, 3, 4}, note="" if class_rows else _("No calls in the month.")),
    }
    blocks["busy_hours"] = busy_hour_chart(busy, lines, tz=ctx.tz) or Text(body=_("No busy hour recorded in the month."))
    return blocks
