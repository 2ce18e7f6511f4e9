"""Line detail: one line or a few, picked with the site → carrier → department → line variables.

In/out bits per second with the contracted capacity and the 80 % level drawn on the chart, utilization of the
contracted capacity, errors and discards, the status timeline, alert annotations, this month's 95th percentile
so far, the daily busy hour with the capacity forecast drawn dashed (the trends job's ``line_trend`` and
``line_forecast``) and an hour-of-day × day heatmap per line. The uid is the one alert notifications link to (``GrafanaSettings.line_dashboard_uid``), with
``?var-line=<line id>``. Generated into line.json by ``linewatch dashboards build``.
"""

from grafanalib.core import Annotations, Dashboard, Stat, StateTimeline, Time

from linewatch import dashboards as lw
from linewatch.choices import UTILIZATION_CRITICAL_PCT, UTILIZATION_WARNING_PCT, Severity

FILTER = lw.line_filter()
# A line may be carried by several interfaces (a LAG, a primary/backup pair): one series per member (docs/schema.md).
# Its value per interval is the SUM over its members of each member's mean in that interval, never their mean.
MEMBER = lw.MEMBER_SERIES


def member_sum(fields: dict[str, str], *, interval: str = "$__interval", fill: str = "null") -> str:
    """Per interval per line, the sum over the line's members of each member's mean of ``fields`` (alias →
    field)."""
    means = ", ".join(f'mean("{field}") AS "{alias}"' for alias, field in fields.items())
    sums = ", ".join(f'sum("{alias}") AS "{alias}"' for alias in fields)
    return (
        f'SELECT {sums} FROM (SELECT {means} FROM "line_traffic" WHERE $timeFilter AND {FILTER} '
        f"GROUP BY time({interval}), {MEMBER} fill(none)) WHERE $timeFilter "
        f'GROUP BY time({interval}), "line" fill({fill})'
    )


WARNING_FRACTION = UTILIZATION_WARNING_PCT / 100

throughput = lw.timeseries(
    title="Throughput",
    description="In/out bits per second per interval (out below zero): each member interface's mean, summed over "
    f"the line's members, with the contracted capacity and the {UTILIZATION_WARNING_PCT:g} % warning level of each "
    "line.",
    gridPos=lw.grid(0, 0, 24, 10),
    targets=[
        lw.target(member_sum({"in": "in_bps", "out": "out_bps"}), alias="$tag_line $col"),
        lw.target(
            f'SELECT max("capacity_bps") AS "capacity", max("capacity_bps") * {WARNING_FRACTION:g} AS "warning" '
            f'FROM "line_traffic" WHERE $timeFilter AND {FILTER} GROUP BY time($__interval), "line" fill(previous)',
            ref_id="B",
            alias="$tag_line $col",
        ),
    ],
    unit="bps",
    lineWidth=2,
    fillOpacity=10,
    legendDisplayMode="table",
    legendPlacement="right",
    legendCalcs=["lastNotNull", "mean", "max"],
    overrides=[
        lw.by_name("/ out$/", ("custom.transform", "negative-Y"), regex=True),
        lw.level_override("capacity", Severity.CRITICAL.colour),
        lw.level_override("warning", Severity.WARNING.colour),
    ],
)

utilization = lw.timeseries(
    title="Utilization of the contracted capacity",
    description="in_util_pct / out_util_pct summed over the line's member interfaces (each relative to the line's "
    "contracted capacity); may exceed 100 % when the ports are faster than the commit.",
    gridPos=lw.grid(0, 10, 12, 8),
    targets=[
        lw.target(member_sum({"in": "in_util_pct", "out": "out_util_pct"}), alias="$tag_line $col")
    ],
    lineWidth=2,
    legendDisplayMode="list",
    **lw.utilization_chart(),
)

errors = lw.timeseries(
    title="Errors and discards",
    description="Interface errors and discards per second (packets/s), summed over the line's member interfaces.",
    gridPos=lw.grid(12, 10, 12, 8),
    targets=[
        lw.target(
            member_sum(
                {
                    "in errors": "in_errors_ps",
                    "out errors": "out_errors_ps",
                    "in discards": "in_discards_ps",
                    "out discards": "out_discards_ps",
                }
            ),
            alias="$tag_line $col",
        )
    ],
    unit="pps",
    axisSoftMin=0,
    lineWidth=1,
    legendDisplayMode="list",
)

status = StateTimeline(
    title="Oper status",
    description="Line health from ifOperStatus and ifAdminStatus (up / down / admin down); gaps are no data. A "
    "line of several member interfaces is up while any member is up (the best member's health).",
    dataSource=lw.DATASOURCE,
    gridPos=lw.grid(0, 18, 16, 7),
    targets=[
        lw.target(
            lw.line_health_query(FILTER, "$__interval"),
            alias="$tag_line",
        )
    ],
    interval="1m",
    maxDataPoints=None,
    mappings=lw.health_mappings(),
    thresholds=lw.health_thresholds()["steps"],
    colorMode="thresholds",
    fillOpacity=85,
    showValue="auto",
)

p95 = Stat(
    title="95th percentile this month",
    description="95th percentile of 5-minute mean rates since the first of the month (UTC), as carriers bill "
    "burstable lines; a line's 5-minute rate is the sum over its member interfaces.",
    dataSource=lw.DATASOURCE,
    gridPos=lw.grid(16, 18, 8, 7),
    targets=[
        lw.target(
            'SELECT percentile("in", 95) AS "in p95", percentile("out", 95) AS "out p95" FROM ('
            + member_sum({"in": "in_bps", "out": "out_bps"}, interval="5m", fill="none")
            + ') WHERE $timeFilter GROUP BY "line"',
            alias="$tag_line $col",
        )
    ],
    timeFrom="now/M",
    maxDataPoints=None,
    format="bps",
    decimals=1,
    reduceCalc="lastNotNull",
    graphMode="none",
    colorMode="value",
    textMode="value_and_name",
    color={"mode": "fixed", "fixedColor": "text"},
    thresholds=[{"value": None, "color": "text"}],
    noValue="no data this month",
)

LW_DASHED = lw.LEVEL_STYLE
LINE_ONLY = lw.tag_match("line")  # flow measurements are tagged with the line only (docs/schema.md)

top_talkers = lw.panel(
    "table",
    title="Top talkers",
    description="Who is using the line: conversations (source, destination, protocol, destination port) by bytes "
    "over the range, summed over every minute they were in the flow collector's top N. Direction is relative to "
    "the line. From NetFlow/IPFIX or packet captures (`linewatch flows`).",
    gridPos=lw.grid(0, 25, 16, 9),
    targets=[
        lw.target(
            'SELECT "src", "dst", "proto", "dst_port", "bytes", "packets" FROM "flow_top" '
            f"WHERE $timeFilter AND {LINE_ONLY} AND \"rank\" != 'other' GROUP BY \"line\", \"direction\"",
            table=True,
        )
    ],
    transformations=[
        {"id": "groupBy", "options": {"fields": {
            "line": {"aggregations": [], "operation": "groupby"},
            "direction": {"aggregations": [], "operation": "groupby"},
            "src": {"aggregations": [], "operation": "groupby"},
            "dst": {"aggregations": [], "operation": "groupby"},
            "proto": {"aggregations": [], "operation": "groupby"},
            "dst_port": {"aggregations": [], "operation": "groupby"},
            "bytes": {"aggregations": ["sum"], "operation": "aggregate"},
            "packets": {"aggregations": ["sum"], "operation": "aggregate"},
        }}},
        {"id": "sortBy", "options": {"sort": [{"field": "bytes (sum)", "desc": True}]}},
        {"id": "limit", "options": {"limitField": 20}},
    ],
    fieldConfig={"defaults": {}, "overrides": [lw.by_name("bytes (sum)", ("unit", "bytes"))]},
    options={"showHeader": True, "cellHeight": "sm"},
)

app_mix = lw.panel(
    "bargauge",
    title="Application mix",
    description="Bytes per application class and direction over the range (flow summaries).",
    gridPos=lw.grid(16, 25, 8, 9),
    targets=[
        lw.target(
            'SELECT sum("bytes") AS "bytes" FROM "flow_proto" '
            f'WHERE $timeFilter AND {LINE_ONLY} GROUP BY "direction", "app"',
            alias="$tag_app $tag_direction",
        )
    ],
    fieldConfig={"defaults": {"unit": "bytes", "color": {"mode": "palette-classic"}}, "overrides": []},
    options={"displayMode": "basic", "orientation": "horizontal", "reduceOptions": {"calcs": ["sum"]}},
)

# The trend measurements carry the line tag only (docs/schema.md, "Trends"): no site/carrier/department to filter on.
FORECAST_DAYS_BACK = 90  # history shown before today
FORECAST_DAYS_AHEAD = 120  # TrendsSettings.horizon_days' default: the forecast the trends job writes

forecast = lw.timeseries(
    title="Busy hour and capacity forecast · 최번시 사용률과 용량 예측",
    description="Each day's busy-hour utilization of the contracted capacity (the day's highest hourly mean of "
    "max(in, out); `line_trend`, written by `linewatch trends run`) and the latest forecast continuing it, "
    "dashed, with its interval dotted (`line_forecast`: value, lower and upper bound). The dashed horizontal "
    f"lines are the {UTILIZATION_WARNING_PCT:g} % and {UTILIZATION_CRITICAL_PCT:g} % levels. The panel shows "
    f"{FORECAST_DAYS_BACK} days back and {FORECAST_DAYS_AHEAD} days ahead whatever the dashboard's range "
    "(days in UTC). 일별 최번시 사용률(실측)과 예측(점선), 예측 구간, 80 %·95 % 기준선.",
    gridPos=lw.grid(0, 34, 24, 9),
    targets=[
        lw.target(
            'SELECT max("busy_hour_pct") AS "busy hour" FROM "line_trend" '
            f'WHERE $timeFilter AND {LINE_ONLY} GROUP BY time(1d), "line" fill(none)',
            alias="$tag_line $col",
        ),
        lw.target(
            'SELECT last("value_pct") AS "forecast", last("lower_pct") AS "lower", last("upper_pct") AS "upper" '
            f'FROM "line_forecast" WHERE $timeFilter AND {LINE_ONLY} GROUP BY time(1d), "line" fill(none)',
            ref_id="B",
            alias="$tag_line $col",
        ),
    ],
    # Grafana's panel relative time "+Nd" is now → now+N days; the time shift moves that window back, so the
    # panel spans now-90d → now+120d (a shift moves the axis, not the points).
    timeFrom=f"+{FORECAST_DAYS_BACK + FORECAST_DAYS_AHEAD}d",
    timeShift=f"{FORECAST_DAYS_BACK}d",
    interval="1d",
    lineWidth=2,
    showPoints="never",
    spanNulls=True,
    legendDisplayMode="table",
    legendPlacement="right",
    legendCalcs=["lastNotNull", "max"],
    unit="percent",
    axisSoftMin=0,
    axisSoftMax=100,
    thresholds=lw.utilization_thresholds()["steps"],
    thresholdsStyleMode="dashed",
    overrides=[
        lw.by_name("/ forecast$/", LW_DASHED, ("custom.fillOpacity", 0), regex=True),
        lw.by_name("/ (lower|upper)$/", ("custom.lineStyle", {"fill": "dot", "dash": [0, 8]}),
                   ("custom.lineWidth", 1), ("custom.fillOpacity", 0), regex=True),
    ],
)

heatmap = lw.hour_of_day_heatmap(
    title="Hour of day × day, $line · 시간대 × 요일 사용률",
    description="The line's utilization per hour of the day (rows, UTC) and day (columns, the last 7 whole days "
    "and today; each column one weekday): the hour's mean of max(in, out), summed over the line's members. One "
    "heatmap per selected line. 회선별 시간대 × 요일 사용률 (UTC).",
    gridPos=lw.grid(0, 43, 12, 9),
    query=lw.hour_of_day_query(LINE_ONLY),  # the line list follows site/carrier/department
    alias="$tag_line",
    timeFrom=lw.HEATMAP_RANGE,
    extra={"repeat": "line", "repeatDirection": "h", "maxPerRow": 2},
)

alert_annotations = {
    "name": "Alerts",
    "datasource": lw.DATASOURCE,
    "enable": True,
    "hide": False,
    "iconColor": Severity.CRITICAL.colour,
    "query": 'SELECT "summary", "state", "rule", "severity", "line" FROM "alert_events" '
    f"WHERE $timeFilter AND {FILTER}",
    "textColumn": "summary",
    "tagsColumn": "line,rule,severity,state",
}

dashboard = Dashboard(
    title="linewatch — line detail",
    uid=lw.LINE_DASHBOARD_UID,
    description="Traffic, utilization, errors, status and alerts of the selected lines.",
    tags=["linewatch", "line"],
    time=Time("now-24h", "now"),
    refresh="1m",
    links=lw.nav_links(include_vars=True),
    annotations=Annotations(list=[alert_annotations]),
    templating=lw.templating(lw.line_variables()),
    panels=[throughput, utilization, errors, status, p95, top_talkers, app_mix, forecast, heatmap],
    **lw.DASHBOARD_DEFAULTS,
)
