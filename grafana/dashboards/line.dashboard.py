"""Line detail: one line or a few, picked with the site → carrier → department → line variables.

In/out bits per second with the contracted capacity and the 80 % level drawn on the chart, utilization of the
contracted capacity, errors and discards, the status timeline, alert annotations and this month's 95th percentile
so far. The uid is the one alert notifications link to (``GrafanaSettings.line_dashboard_uid``), with
``?var-line=<line id>``. Generated into line.json by ``linewatch dashboards build``.
"""

from grafanalib.core import Annotations, Dashboard, Stat, StateTimeline, Time

from linewatch import dashboards as lw
from linewatch.choices import UTILIZATION_WARNING_PCT, Severity

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
    panels=[throughput, utilization, errors, status, p95, top_talkers, app_mix],
    **lw.DASHBOARD_DEFAULTS,
)
