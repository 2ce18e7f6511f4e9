"""Collector health: poll success and duration per device, spool size, last data per line — so a silent
collector is seen. Generated into collector.json by ``linewatch dashboards build``.
"""

from grafanalib.core import Dashboard, Stat, Time

from linewatch import dashboards as lw
from linewatch.choices import LineHealth, Severity

DEVICE = lw.tag_match("device")
COLLECTOR = lw.tag_match("collector")
OK, WARN, BAD = LineHealth.UP.colour, Severity.WARNING.colour, Severity.CRITICAL.colour


def stat(title: str, query: str, *, x: int, unit: str, steps: list, description: str, **kwargs) -> Stat:
    return Stat(
        title=title,
        description=description,
        dataSource=lw.DATASOURCE,
        gridPos=lw.grid(x, 0, 6, 5),
        targets=[lw.target(query, alias="$tag_collector")],
        maxDataPoints=None,
        format=unit,
        reduceCalc="lastNotNull",
        graphMode="none",
        colorMode="background",
        textMode="value",
        color={"mode": "thresholds"},
        thresholds=steps,
        **kwargs,
    )


last_cycle = stat(
    "Last collector cycle",
    f'SELECT last("cycle_duration_s") FROM "collector_health" WHERE $timeFilter AND {COLLECTOR} '
    'GROUP BY "collector"',
    x=0,
    unit="dateTimeFromNow",
    steps=[{"value": None, "color": "text"}],
    description="When each collector last finished a poll cycle (collector_health). More than a few poll "
    "intervals ago means the collector is silent.",
    fields="/^Time$/",
    noValue="no collector reported",
)
devices_failed = stat(
    "Devices failing",
    f'SELECT last("devices_failed") FROM "collector_health" WHERE $timeFilter AND {COLLECTOR} '
    'GROUP BY "collector"',
    x=6,
    unit="none",
    steps=[{"value": None, "color": OK}, {"value": 1, "color": BAD}],
    description="Devices that did not answer in the last cycle.",
)
spool_now = stat(
    "Spool waiting for InfluxDB",
    f'SELECT last("spool_bytes") FROM "collector_health" WHERE $timeFilter AND {COLLECTOR} GROUP BY "collector"',
    x=12,
    unit="bytes",
    steps=[{"value": None, "color": OK}, {"value": 1, "color": WARN}],
    description="Bytes of points spooled on disk because InfluxDB could not take them; 0 is healthy.",
)
lost_batches = stat(
    "Batches lost",
    'SELECT last("dropped_batches") + last("overflowed_batches") FROM "collector_health" '
    f'WHERE $timeFilter AND {COLLECTOR} GROUP BY "collector"',
    x=18,
    unit="none",
    steps=[{"value": None, "color": OK}, {"value": 1, "color": BAD}],
    description="Batches rejected by InfluxDB or lost to spool overflow since the collector started.",
)

poll_success = lw.timeseries(
    title="Poll success per device",
    description="Share of successful polls per interval (collector_poll.ok).",
    gridPos=lw.grid(0, 5, 12, 9),
    targets=[
        lw.target(
            f'SELECT mean("ok") * 100 FROM "collector_poll" WHERE $timeFilter AND {DEVICE} '
            'GROUP BY time($__interval), "device" fill(null)',
            alias="$tag_device",
        )
    ],
    unit="percent",
    valueMin=0,
    valueMax=100,
    lineWidth=2,
    thresholds=[{"value": None, "color": BAD}, {"value": 99, "color": OK}],
    legendDisplayMode="list",
)

poll_duration = lw.timeseries(
    title="Poll duration per device",
    description="Mean and worst wall time of a device poll per interval.",
    gridPos=lw.grid(12, 5, 12, 9),
    targets=[
        lw.target(
            'SELECT mean("duration_s") AS "mean", max("duration_s") AS "max" FROM "collector_poll" '
            f'WHERE $timeFilter AND {DEVICE} GROUP BY time($__interval), "device" fill(null)',
            alias="$tag_device $col",
        )
    ],
    unit="s",
    axisSoftMin=0,
    lineWidth=1,
    legendDisplayMode="list",
    overrides=[lw.by_name("/ max$/", ("custom.lineStyle", {"fill": "dot", "dash": [0, 10]}), regex=True)],
)

spool = lw.timeseries(
    title="Spool size and cycle duration",
    description="Bytes waiting on disk for InfluxDB (left) and the wall time of each poll cycle (right).",
    gridPos=lw.grid(0, 14, 12, 9),
    targets=[
        lw.target(
            f'SELECT max("spool_bytes") AS "spool" FROM "collector_health" WHERE $timeFilter AND {COLLECTOR} '
            'GROUP BY time($__interval), "collector" fill(null)',
            alias="$tag_collector $col",
        ),
        lw.target(
            'SELECT mean("cycle_duration_s") AS "cycle" FROM "collector_health" '
            f'WHERE $timeFilter AND {COLLECTOR} GROUP BY time($__interval), "collector" fill(null)',
            ref_id="B",
            alias="$tag_collector $col",
        ),
    ],
    unit="bytes",
    axisSoftMin=0,
    lineWidth=2,
    legendDisplayMode="list",
    overrides=[lw.by_name("/ cycle$/", ("unit", "s"), ("custom.axisPlacement", "right"), regex=True)],
)

last_data = lw.panel(
    "table",
    title="Last data per line",
    description="When each line last got a line_traffic point (last 7 days) and its health then. A line whose "
    "'Last data' is minutes old is not being polled.",
    gridPos=lw.grid(12, 14, 12, 9),
    targets=[
        lw.target(
            'SELECT last("health") AS "health" FROM "line_traffic" '
            f'WHERE $timeFilter AND {DEVICE} GROUP BY "line", "device"',
            table=True,
        )
    ],
    timeFrom="7d",
    transformations=[
        {
            "id": "organize",
            "options": {
                "indexByName": {"line": 0, "device": 1, "Time": 2, "health": 3},
                "renameByName": {"line": "Line", "device": "Device", "Time": "Last data", "health": "Health"},
            },
        }
    ],
    fieldConfig={
        "defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}},
        "overrides": [
            lw.by_name("Last data", ("unit", "dateTimeFromNow")),
            lw.by_name(
                "Health",
                ("mappings", lw.health_mappings()),
                ("custom.cellOptions", {"type": "color-background", "mode": "basic"}),
            ),
        ],
    },
    options={"showHeader": True, "cellHeight": "sm", "sortBy": [{"displayName": "Last data", "desc": False}]},
)

last_poll = lw.panel(
    "table",
    title="Last poll per device",
    description="Result of each device's latest poll: ok, duration and the error text when it failed.",
    gridPos=lw.grid(0, 23, 24, 7),
    targets=[
        lw.target(
            'SELECT last("ok") AS "ok", last("duration_s") AS "duration_s", last("error") AS "error", '
            'last("lines") AS "lines" '
            f'FROM "collector_poll" WHERE $timeFilter AND {DEVICE} GROUP BY "device", "collector"',
            table=True,
        )
    ],
    transformations=[
        {
            "id": "organize",
            "options": {
                "excludeByName": {"Time": True},
                "indexByName": {
                    "device": 0,
                    "collector": 1,
                    "ok": 2,
                    "duration_s": 3,
                    "lines": 4,
                    "error": 5,
                },
                "renameByName": {
                    "device": "Device",
                    "collector": "Collector",
                    "ok": "OK",
                    "duration_s": "Duration",
                    "lines": "Lines",
                    "error": "Error",
                },
            },
        }
    ],
    fieldConfig={
        "defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}},
        "overrides": [
            lw.by_name(
                "OK",
                (
                    "mappings",
                    [
                        {
                            "type": "value",
                            "options": {
                                "1": {"text": "ok", "color": OK, "index": 0},
                                "0": {"text": "failed", "color": BAD, "index": 1},
                            },
                        }
                    ],
                ),
                ("custom.cellOptions", {"type": "color-background", "mode": "basic"}),
            ),
            lw.by_name("Duration", ("unit", "s")),
        ],
    },
    options={"showHeader": True, "cellHeight": "sm", "sortBy": [{"displayName": "OK", "desc": False}]},
)

dashboard = Dashboard(
    title="linewatch — collector health",
    uid="linewatch-collector",
    description="Is the collector polling, and is InfluxDB taking its points?",
    tags=["linewatch", "collector"],
    time=Time("now-6h", "now"),
    refresh="30s",
    links=lw.nav_links(include_vars=False),
    templating=lw.templating(
        [
            lw.query_variable("collector", lw.tag_values_query("collector_health", "collector")),
            lw.query_variable("device", lw.tag_values_query("collector_poll", "device")),
        ]
    ),
    panels=[
        last_cycle,
        devices_failed,
        spool_now,
        lost_batches,
        poll_success,
        poll_duration,
        spool,
        last_data,
        last_poll,
    ],
    **lw.DASHBOARD_DEFAULTS,
)
