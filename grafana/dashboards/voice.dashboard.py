"""Voice trunks: channels busy against contracted, blocked calls, busy-hour Erlangs, minutes by destination class,
cost today against the baseline, ASR/ACD and the live calls — from the points the voice collector writes
(``voice_trunk``, ``voice_minutes``, ``voice_capacity``, ``voice_live``: docs/schema.md, docs/voice.md).

The site → carrier → department → line variables list the voice lines only (from ``voice_trunk``). Titles are
English · Korean, like the other dashboards' newer panels. Money carries no unit: each call is rated in its rate
plan's currency (voice.yaml ``rate_plans``), and a trunk's figures are in its plan's currency. Generated into
voice.json by ``linewatch dashboards build``; see docs/grafana.md.
"""

from grafanalib.core import Dashboard, Stat, Time

from linewatch import dashboards as lw
from linewatch.choices import UTILIZATION_WARNING_PCT, Severity

MEASUREMENT = "voice_trunk"
FILTER = lw.line_filter()
WARNING_FRACTION = UTILIZATION_WARNING_PCT / 100
BASELINE_DAYS = 28
AMOUNT = "none"  # the plan's currency (see the module docstring)


busy_channels = lw.timeseries(
    title="Busy channels against contracted · 사용 채널 / 계약 채널",
    description="Most calls in progress at once per interval (busy_max: a call holds a channel from its start to "
    f"its end, from the CDRs), with the contracted channels and the {UTILIZATION_WARNING_PCT:g} % level the "
    "channel_utilization alert uses.",
    gridPos=lw.grid(0, 4, 12, 9),
    targets=[
        lw.target(f'SELECT max("busy_max") AS "busy" FROM "{MEASUREMENT}" WHERE $timeFilter AND {FILTER} '
                  'GROUP BY time($__interval), "line" fill(0)', alias="$tag_line $col"),
        lw.target(f'SELECT max("channels") AS "channels", max("channels") * {WARNING_FRACTION:g} AS "warning" '
                  f'FROM "{MEASUREMENT}" WHERE $timeFilter AND {FILTER} GROUP BY time($__interval), "line" '
                  "fill(previous)", ref_id="B", alias="$tag_line $col"),
    ],
    unit="none",
    valueDecimals=0,
    axisSoftMin=0,
    lineWidth=2,
    fillOpacity=10,
    legendDisplayMode="table",
    legendPlacement="bottom",
    legendCalcs=["lastNotNull", "max"],
    overrides=[lw.level_override("channels", Severity.CRITICAL.colour),
               lw.level_override("warning", Severity.WARNING.colour)],
)

utilization = lw.timeseries(
    title="Channel utilization · 채널 사용률",
    description="Busy channels as a share of the contracted channels (channel_util_pct, the highest minute of "
    "each interval). Orange from 80 %, red from 95 % (linewatch.choices).",
    gridPos=lw.grid(12, 4, 12, 9),
    targets=[lw.target(f'SELECT max("channel_util_pct") AS "utilization" FROM "{MEASUREMENT}" WHERE $timeFilter '
                       f'AND {FILTER} GROUP BY time($__interval), "line" fill(0)', alias="$tag_line")],
    lineWidth=2,
    legendDisplayMode="list",
    **lw.utilization_chart(),
)

blocked_per_hour = lw.timeseries(
    title="Blocked calls per hour · 시간당 호 손실",
    description="Calls refused because every channel was busy (SIP 503/486, Q.850 34: the CDR outcome 'blocked'), "
    "counted per hour of their start. The blocked_calls alert counts the same over its window.",
    gridPos=lw.grid(0, 13, 12, 8),
    targets=[lw.target(f'SELECT sum("blocked") AS "blocked" FROM "{MEASUREMENT}" WHERE $timeFilter AND {FILTER} '
                       'GROUP BY time(1h), "line" fill(0)', alias="$tag_line")],
    interval="1h",
    unit="none",
    valueDecimals=0,
    drawStyle="bars",
    fillOpacity=70,
    legendDisplayMode="table",
    legendPlacement="bottom",
    legendCalcs=["sum", "max"],
    overrides=[lw.by_name("/.*/", ("color", {"mode": "fixed", "fixedColor": Severity.CRITICAL.colour}),
                          regex=True)],
)

busy_hour = lw.timeseries(
    title="Busy-hour traffic per day and channels needed · 일별 최번시 트래픽(얼랑)과 필요 채널",
    description="Per UTC day (voice_capacity): the carried traffic of the busiest clock hour in Erlangs, the "
    "offered traffic (carried plus the blocked attempts at the mean holding time), the contracted channels and "
    "the fewest channels whose Erlang B blocking stays within the target grade of service (voice.yaml capacity). "
    "Channels needed below the contracted line: a FEWER_CHANNELS proposal; above it: MORE_CHANNELS.",
    gridPos=lw.grid(12, 13, 12, 8),
    targets=[lw.target(
        'SELECT max("busy_hour_erlangs") AS "carried E", max("offered_erlangs") AS "offered E", '
        'max("channels") AS "channels", max("channels_needed") AS "channels needed" FROM "voice_capacity" '
        f'WHERE $timeFilter AND {FILTER} GROUP BY time(1d), "line" fill(none)', alias="$tag_line $col")],
    timeFrom="30d",
    interval="1d",
    unit="none",
    valueDecimals=1,
    axisSoftMin=0,
    drawStyle="bars",
    fillOpacity=60,
    legendDisplayMode="table",
    legendPlacement="bottom",
    legendCalcs=["lastNotNull", "max"],
    overrides=[
        lw.by_name("/ channels$/", ("custom.drawStyle", "line"), ("custom.fillOpacity", 0), lw.LEVEL_STYLE,
                   ("color", {"mode": "fixed", "fixedColor": Severity.CRITICAL.colour}), regex=True),
        lw.by_name("/ channels needed$/", ("custom.drawStyle", "line"), ("custom.fillOpacity", 0),
                   ("custom.lineWidth", 2), regex=True),
    ],
)

minutes_by_class = lw.timeseries(
    title="Minutes by destination class · 착신 구분별 통화 시간(분)",
    description="Talk minutes of the answered calls per destination class (local, national, mobile, "
    "international, premium, emergency, toll-free; voice_minutes), every direction, stacked, by the start of "
    "the calls.",
    gridPos=lw.grid(0, 21, 16, 8),
    targets=[lw.target(f'SELECT sum("minutes") AS "minutes" FROM "voice_minutes" WHERE $timeFilter AND {FILTER} '
                       'GROUP BY time($__interval), "dest_class" fill(0)', alias="$tag_dest_class")],
    interval="1h",
    unit="none",
    valueDecimals=0,
    drawStyle="bars",
    fillOpacity=80,
    stacking={"mode": "normal", "group": "A"},
    legendDisplayMode="table",
    legendPlacement="right",
    legendCalcs=["sum"],
)

minutes_by_direction = lw.panel(
    "bargauge",
    title="Minutes by class and direction · 착신 구분·방향별 통화 시간",
    description="Talk minutes over the time range per destination class and direction (voice_minutes).",
    gridPos=lw.grid(16, 21, 8, 8),
    targets=[lw.target(f'SELECT sum("minutes") AS "minutes" FROM "voice_minutes" WHERE $timeFilter AND {FILTER} '
                       'GROUP BY "dest_class", "direction"', alias="$tag_dest_class $tag_direction")],
    fieldConfig={"defaults": {"unit": "none", "decimals": 0, "color": {"mode": "palette-classic"}},
                 "overrides": []},
    options={"displayMode": "basic", "orientation": "horizontal", "namePlacement": "left", "showUnfilled": True,
             "valueMode": "color", "reduceOptions": {"values": False, "calcs": ["sum"], "fields": ""}},
)

asr_acd = lw.timeseries(
    title="ASR and ACD · 응답률 / 평균 통화 시간",
    description="Answer-seizure ratio (answered ÷ attempts × 100, weighted over the interval's calls, not a mean "
    "of minutes) and average call duration (talk seconds of the answered calls ÷ answered calls), by the start "
    "of the calls.",
    gridPos=lw.grid(0, 29, 12, 8),
    targets=[
        lw.target(f'SELECT 100 * sum("answered") / sum("attempts") AS "ASR" FROM "{MEASUREMENT}" WHERE $timeFilter '
                  f'AND {FILTER} GROUP BY time($__interval), "line" fill(none)', alias="$tag_line $col"),
        lw.target('SELECT sum("talk_s") / sum("answered") AS "ACD" FROM (SELECT "acd_s" * "answered" AS "talk_s", '
                  f'"answered" FROM "{MEASUREMENT}" WHERE $timeFilter AND {FILTER} AND "answered" > 0 GROUP BY '
                  '"line") WHERE $timeFilter GROUP BY time($__interval), "line" fill(none)', ref_id="B",
                  alias="$tag_line $col"),
    ],
    interval="15m",
    unit="percent",
    axisSoftMin=0,
    lineWidth=2,
    legendDisplayMode="list",
    overrides=[lw.by_name("/ ACD$/", ("unit", "s"), ("custom.axisPlacement", "right"),
                          lw.LEVEL_STYLE, regex=True)],
)

live_calls = lw.timeseries(
    title="Live active calls · 실시간 통화 수",
    description="Calls in progress per trunk as the PBX reports them (voice_live: Kamailio's dialog profile per "
    "trunk, polled every collector cycle). CDRs arrive when calls end: this is the only figure that shows the "
    "calls still up.",
    gridPos=lw.grid(12, 29, 12, 8),
    targets=[lw.target(f'SELECT max("active") AS "active" FROM "voice_live" WHERE $timeFilter AND {FILTER} '
                       "AND \"line\" != '' GROUP BY time($__interval), \"line\" fill(none)", alias="$tag_line")],
    unit="none",
    valueDecimals=0,
    axisSoftMin=0,
    lineWidth=2,
    fillOpacity=10,
    legendDisplayMode="list",
)


def stat(title: str, targets: list, *, x: int, description: str, time_from: str, calc: str = "lastNotNull",
         unit: str = "none", decimals: int = 0, colour: str = "text", text_mode: str = "value_and_name") -> Stat:
    return Stat(
        title=title,
        description=description,
        dataSource=lw.DATASOURCE,
        gridPos=lw.grid(x, 0, 6, 4),
        targets=targets,
        timeFrom=time_from,
        maxDataPoints=None,
        format=unit,
        decimals=decimals,
        reduceCalc=calc,
        graphMode="none",
        colorMode="value",
        textMode=text_mode,
        color={"mode": "fixed", "fixedColor": colour},
        thresholds=[{"value": None, "color": colour}],
        noValue="no calls",
    )


live_now = stat(
    "Calls up now · 현재 통화 중",
    [lw.target(f'SELECT last("active") AS "active" FROM "voice_live" WHERE $timeFilter AND {FILTER} '
               "AND \"line\" != '' GROUP BY \"line\"", alias="$tag_line")],
    x=0, time_from="5m",
    description="The latest live count per trunk in the last 5 minutes (voice_live).",
)
blocked_today = stat(
    "Blocked calls today · 오늘 호 손실",
    [lw.target(f'SELECT sum("blocked") AS "blocked" FROM "{MEASUREMENT}" WHERE $timeFilter AND {FILTER} '
               'GROUP BY "line"', alias="$tag_line")],
    x=6, time_from="now/d", calc="sum", colour=Severity.CRITICAL.colour,
    description="Calls blocked since midnight UTC, per trunk.",
)
cost_today = stat(
    "Cost today against the 28-day baseline · 오늘 요금 / 28일 평균",
    [
        lw.target(f'SELECT sum("cost") AS "today" FROM "{MEASUREMENT}" WHERE $timeFilter AND {FILTER} '
                  'GROUP BY time(1d), "line" fill(0)', alias="$tag_line $col"),
        lw.target(f'SELECT sum("cost") / {BASELINE_DAYS} AS "baseline" FROM "{MEASUREMENT}" WHERE $timeFilter AND '
                  f'{FILTER} GROUP BY "line"', ref_id="B", alias="$tag_line $col"),
    ],
    x=12, time_from=f"{BASELINE_DAYS}d", decimals=2,
    description="Today: the rated cost of the calls started since midnight UTC (the last day of the daily sums). "
    f"Baseline: the mean daily cost over the last {BASELINE_DAYS} days (their total ÷ {BASELINE_DAYS}, today "
    "included), in each trunk's rate-plan currency. The cost_spike alert compares hours instead.",
)
erlangs_yesterday = stat(
    "Busy hour, channels needed · 최번시 얼랑 / 필요 채널",
    [lw.target('SELECT last("busy_hour_erlangs") AS "Erlangs", last("channels_needed") AS "needed", '
               f'last("channels") AS "channels" FROM "voice_capacity" WHERE $timeFilter AND {FILTER} GROUP BY "line"',
               alias="$tag_line $col")],
    x=18, time_from="2d", decimals=1,
    description="The latest day's busy-hour traffic (today so far), the channels it needs at the target grade "
    "of service, and the contracted channels (voice_capacity).",
)

dashboard = Dashboard(
    title="linewatch — voice trunks · 음성 트렁크",
    uid="linewatch-voice",
    description="Channels busy against contracted, blocked calls, busy-hour Erlangs, minutes by destination "
    "class, cost against the baseline, ASR/ACD and live calls of the voice trunks.",
    tags=["linewatch", "voice"],
    time=Time("now-24h", "now"),
    refresh="1m",
    links=lw.nav_links(include_vars=True),
    templating=lw.templating(lw.line_variables(measurement=MEASUREMENT)),
    panels=[live_now, blocked_today, cost_today, erlangs_yesterday, busy_channels, utilization, blocked_per_hour,
            busy_hour, minutes_by_class, minutes_by_direction, asr_acd, live_calls],
    **lw.DASHBOARD_DEFAULTS,
)
