"""NOC wall display: kiosk mode on a 1920×1080 TV, 30 s refresh, readable from five metres, no scrolling.

Seven panels on a 24 × 26 grid (26 rows × 38 px fit a 1080 px kiosk screen): every line's status, the most
utilized lines now, the firing alerts, the open incidents (fault tickets: a count and a table per carrier and
kind), the throughput per site and the voice trunks' channels busy now. Generated into noc.json by
``linewatch dashboards build``; see docs/grafana.md.
"""

from grafanalib.core import Dashboard, StateTimeline, Time

from linewatch import dashboards as lw

FILTER = lw.line_filter()
# A line may be carried by several interfaces: one series per member (docs/schema.md); a line's figure is the sum
# over its members (traffic, utilization) or its best member (health: up while any member is up).
MEMBER = lw.MEMBER_SERIES
# A line without a point for this long shows "no data" (2.5 × the production poll interval of 60 s); the status
# query groups by a fixed 1-minute bucket over a fixed 3-hour window so the threshold always fits the buckets.
NO_DATA_AFTER_MS = 150_000
BIG_TEXT = {"titleSize": 22, "valueSize": 30}

line_status = StateTimeline(
    title="Line status — right edge is now",
    description="Health of every polled line (up / down / admin down); a line that stops reporting turns to "
    "'no data' after 2.5 minutes; a line of several member interfaces is up while any member is up. Colours from "
    "linewatch.choices.LineHealth.",
    dataSource=lw.DATASOURCE,
    gridPos=lw.grid(0, 0, 14, 13),
    targets=[
        lw.target(
            lw.line_health_query(FILTER, "1m"),
            alias="$tag_line",
        )
    ],
    timeFrom="3h",
    maxDataPoints=None,
    mappings=lw.health_mappings(),
    thresholds=lw.health_thresholds()["steps"],
    colorMode="thresholds",
    fillOpacity=90,
    rowHeight=0.85,
    showValue="auto",
    legendDisplayMode="list",
    extraJson={
        "fieldConfig": {
            "defaults": {
                "custom": {"insertNulls": NO_DATA_AFTER_MS, "spanNulls": False},
                "links": [lw.line_detail_link()],
            }
        },
        # No "text" size here: Grafana's state timeline has no such option (its labels use the axis font), so
        # from across the room the colours carry the status; the bar gauge and table set big text.
    },
)

most_utilized = lw.panel(
    "bargauge",
    title="Most utilized lines — last 5 min",
    description="Mean utilization of the contracted capacity over the last 5 minutes, in and out, highest first "
    "(a line's is the sum over its member interfaces). Orange from 80 %, red from 95 % (linewatch.choices).",
    gridPos=lw.grid(14, 0, 10, 13),
    targets=[
        lw.target(
            'SELECT sum("in") AS "in", sum("out") AS "out" FROM (SELECT mean("in_util_pct") AS "in", '
            f'mean("out_util_pct") AS "out" FROM "line_traffic" WHERE $timeFilter AND {FILTER} GROUP BY {MEMBER}) '
            'GROUP BY "line"',
            alias="$tag_line $col",
        )
    ],
    timeFrom="5m",
    transformations=[
        {
            "id": "reduce",
            "options": {"mode": "seriesToRows", "reducers": ["lastNotNull"], "includeTimeField": False},
        },
        {"id": "sortBy", "options": {"sort": [{"field": "Last *", "desc": True}]}},
        {"id": "limit", "options": {"limitField": 8}},
    ],
    fieldConfig={
        "defaults": {
            "unit": "percent",
            "min": 0,
            "max": 100,
            "decimals": 0,
            "color": {"mode": "thresholds"},
            "thresholds": lw.utilization_thresholds(),
        },
        "overrides": [],
    },
    options={
        "displayMode": "lcd",
        "orientation": "horizontal",
        "namePlacement": "left",
        "showUnfilled": True,
        "valueMode": "color",
        "reduceOptions": {"values": True, "calcs": ["lastNotNull"], "fields": ""},
        "text": BIG_TEXT,
        "minVizHeight": 20,
        "maxVizHeight": 60,
    },
)

firing_alerts = lw.panel(
    "table",
    title="Firing alerts",
    description="Alerts whose latest event in the last 30 days is 'firing' (alert_events), newest first.",
    gridPos=lw.grid(0, 13, 8, 13),
    targets=[
        # One row per alert (line × rule): its latest event, with the severity tag of that event. Grouping by
        # severity too would keep a warning that escalated to critical (a new series) "firing" for 30 days.
        lw.target(
            'SELECT last("firing") AS "firing", "severity"::tag AS "severity", "summary", "since_s" * 1000 AS "since" '
            f'FROM "alert_events" WHERE $timeFilter AND {FILTER} GROUP BY "line", "rule"',
            table=True,
        )
    ],
    timeFrom="30d",
    transformations=[
        {
            "id": "filterByValue",
            "options": {
                "type": "include",
                "match": "all",
                "filters": [{"fieldName": "firing", "config": {"id": "equal", "options": {"value": 1}}}],
            },
        },
        {
            "id": "organize",
            "options": {
                "excludeByName": {"Time": True, "firing": True},
                "indexByName": {"severity": 0, "line": 1, "rule": 2, "summary": 3, "since": 4},
                "renameByName": {
                    "severity": "Severity",
                    "line": "Line",
                    "rule": "Rule",
                    "summary": "Summary",
                    "since": "Since",
                },
            },
        },
    ],
    fieldConfig={
        "defaults": {
            "custom": {"align": "auto", "cellOptions": {"type": "auto"}},
            "noValue": "no alert firing",
        },
        "overrides": [
            lw.by_name(
                "Severity",
                ("mappings", lw.severity_mappings()),
                ("custom.cellOptions", {"type": "color-background", "mode": "basic"}),
                ("custom.width", 130),
            ),
            lw.by_name("Since", ("unit", "dateTimeFromNow"), ("custom.width", 170)),
            lw.by_name("Line", ("custom.width", 150), ("links", [lw.line_detail_link("${__value.raw}")])),
        ],
    },
    options={
        "showHeader": True,
        "cellHeight": "lg",
        "footer": {"show": False, "reducer": ["count"]},
        "sortBy": [{"displayName": "Since", "desc": True}],
    },
)

# Open incidents: the active fault tickets (web/faults), counted per kind and carrier each minute by the worker
# (incidents_open, docs/schema.md; a count of 0 is written too, so the last value is the current one).
OPEN_NOW = ('SELECT last("count") AS "open" FROM "incidents_open" WHERE $timeFilter AND '
            f'{lw.tag_match("carrier")} GROUP BY "carrier", "kind"')

open_incidents = lw.panel(
    "stat",
    title="Open incidents · 미해결 장애",
    description="Fault tickets not yet resolved (open, carrier notified, in progress), every kind, of the selected "
    "carriers.",
    gridPos=lw.grid(8, 13, 4, 4),
    targets=[lw.target(f'SELECT sum("open") AS "open" FROM ({OPEN_NOW})', alias="open")],
    timeFrom="5m",
    fieldConfig={
        "defaults": {
            "unit": "none",
            "decimals": 0,
            "noValue": "0",
            "color": {"mode": "thresholds"},
            "thresholds": lw.thresholds((None, "green"), (1, "red")),
        },
        "overrides": [],
    },
    options={
        "reduceOptions": {"values": False, "calcs": ["lastNotNull"], "fields": ""},
        "colorMode": "background",
        "graphMode": "none",
        "textMode": "value",
        "text": BIG_TEXT,
    },
)

open_incidents_table = lw.panel(
    "table",
    title="Open incidents by carrier · 통신사별 미해결 장애",
    description="Open fault tickets per carrier and kind ('none': a ticket without a carrier).",
    gridPos=lw.grid(8, 17, 4, 9),
    targets=[lw.target(OPEN_NOW, table=True)],
    timeFrom="5m",
    transformations=[
        {
            "id": "filterByValue",
            "options": {
                "type": "exclude",
                "match": "all",
                "filters": [{"fieldName": "open", "config": {"id": "equal", "options": {"value": 0}}}],
            },
        },
        {
            "id": "organize",
            "options": {
                "excludeByName": {"Time": True},
                "indexByName": {"carrier": 0, "kind": 1, "open": 2},
                "renameByName": {"carrier": "Carrier", "kind": "Kind", "open": "Open"},
            },
        },
    ],
    fieldConfig={"defaults": {"noValue": "no open incident"}, "overrides": []},
    options={"showHeader": True, "cellHeight": "md", "footer": {"show": False, "reducer": ["sum"]},
             "sortBy": [{"displayName": "Open", "desc": True}]},
)

site_throughput = lw.timeseries(
    title="Throughput per site",
    description="Sum over the site's lines (and their member interfaces) of each one's mean rate per interval; out "
    "is drawn below zero.",
    gridPos=lw.grid(12, 13, 12, 8),
    targets=[
        lw.target(
            'SELECT sum("in") AS "in", sum("out") AS "out" FROM ('
            'SELECT mean("in_bps") AS "in", mean("out_bps") AS "out" FROM "line_traffic" '
            f'WHERE $timeFilter AND {FILTER} GROUP BY time($__interval), {MEMBER}, "site"'
            ') WHERE $timeFilter GROUP BY time($__interval), "site" fill(none)',
            alias="$tag_site $col",
        )
    ],
    unit="bps",
    lineWidth=2,
    fillOpacity=10,
    legendDisplayMode="table",
    legendPlacement="right",
    legendCalcs=["lastNotNull", "max"],
    overrides=[lw.by_name("/ out$/", ("custom.transform", "negative-Y"), regex=True)],
)

# Voice trunks: busy now is the PBX's live count (voice_live: CDRs arrive only when calls end), the contracted
# channels are in the CDR points (voice_trunk; a quiet trunk writes none for hours, hence the week), joined per
# trunk in Grafana. Coloured like utilization: 80 % and 95 % of the channels (linewatch.choices).
VOICE_TIMES = ("Time", "Time 1", "Time 2", "Time A", "Time B")
voice_channels = lw.panel(
    "table",
    title="Voice trunks — channels busy now · 음성 트렁크 사용 채널",
    description="Calls up now on each voice trunk (the PBX's live count in the last 5 minutes) against its "
    "contracted channels; the share turns orange from 80 % and red from 95 %, as the channel_utilization alert.",
    gridPos=lw.grid(12, 21, 12, 5),
    targets=[
        lw.target(f'SELECT last("active") AS "busy" FROM "voice_live" WHERE $timeFilter AND {FILTER} '
                  "AND \"line\" != '' GROUP BY \"line\"", table=True),
        lw.target('SELECT last("channels") AS "channels" FROM "voice_trunk" WHERE time >= ${__to}ms - 7d AND '
                  f'time <= ${{__to}}ms AND {FILTER} GROUP BY "line"', ref_id="B", table=True),
    ],
    timeFrom="5m",
    transformations=[
        {"id": "joinByField", "options": {"byField": "line", "mode": "outer"}},
        {"id": "calculateField", "options": {"mode": "binary", "alias": "busy share", "replaceFields": False,
                                             "binary": {"left": "busy", "operator": "/", "right": "channels"}}},
        {"id": "organize", "options": {
            "excludeByName": {name: True for name in VOICE_TIMES},
            "indexByName": {"line": 0, "busy": 1, "channels": 2, "busy share": 3},
            "renameByName": {"line": "Trunk", "busy": "Busy now", "channels": "Channels", "busy share": "Busy"},
        }},
    ],
    fieldConfig={
        "defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}, "noValue": "no voice trunk"},
        "overrides": [
            lw.by_name("Busy", ("unit", "percentunit"), ("decimals", 0), ("color", {"mode": "thresholds"}),
                       ("thresholds", lw.utilization_thresholds(fraction=True)),
                       ("custom.cellOptions", {"type": "color-background", "mode": "basic"})),
            lw.by_name("Trunk", ("links", [lw.line_detail_link("${__value.raw}")])),
        ],
    },
    options={"showHeader": True, "cellHeight": "md", "footer": {"show": False, "reducer": ["sum"]},
             "sortBy": [{"displayName": "Busy", "desc": True}]},
)

dashboard = Dashboard(
    title="linewatch — NOC wall",
    uid="linewatch-noc",
    description="Wall display for the NOC: open /d/linewatch-noc?kiosk on the TV.",
    tags=["linewatch", "noc"],
    time=Time("now-3h", "now"),
    refresh="30s",
    links=lw.nav_links(include_vars=True),
    templating=lw.templating(lw.line_variables()),
    panels=[line_status, most_utilized, firing_alerts, open_incidents, open_incidents_table, site_throughput,
            voice_channels],
    **lw.DASHBOARD_DEFAULTS,
)
