"""Usage patterns: when each department uses its lines, hour of day × day, one heatmap per department.

The department heads' question is "when are we busy": office hours against nights, weekdays against weekends, and
whether that changes. Each heatmap shows a department's lines' mean utilization per hour of the day (rows, UTC)
and day (columns, each one weekday), over the last 7 whole days and today; the same measure per line is on the line
detail dashboard, and the monthly department report has the same heatmap over the month (docs/reports.md).
Generated into usage.json by ``linewatch dashboards build``.
"""

from grafanalib.core import Dashboard, Time

from linewatch import dashboards as lw

# The line variable already follows site and carrier (chained variables): filtering by it alone is cheaper.
LINES = lw.tag_match("line")
DEPARTMENT_LINES = lw.line_filter(("department", "line"))

department_heatmap = lw.hour_of_day_heatmap(
    title="$department: utilization by hour of day × day · 부서별 시간대 × 요일 사용률",
    description="The department's lines' utilization per hour of the day (rows, UTC) and day (columns: the last "
    "7 whole days and today, each column one weekday). A cell is the mean over the department's selected lines "
    "of each line's hourly mean of max(in, out), summed over its member interfaces; each line counts once "
    "whatever its size. One heatmap per selected department. 부서 회선들의 시간대별 평균 사용률 (UTC).",
    gridPos=lw.grid(0, 0, 12, 10),
    query=lw.hour_of_day_query(DEPARTMENT_LINES, by=("department",)),
    alias="$tag_department",
    timeFrom=lw.HEATMAP_RANGE,
    extra={"repeat": "department", "repeatDirection": "h", "maxPerRow": 2},
)

line_heatmap = lw.hour_of_day_heatmap(
    title="$line: utilization by hour of day × day · 회선별 시간대 × 요일 사용률",
    description="Each selected line's utilization per hour of the day (rows, UTC) and day (columns, the last 7 "
    "whole days and today): the hour's mean of max(in, out), summed over the line's member interfaces. Narrow "
    "the line variable to the lines you compare. 회선별 시간대 × 요일 사용률 (UTC).",
    gridPos=lw.grid(0, 10, 8, 9),
    query=lw.hour_of_day_query(LINES),
    alias="$tag_line",
    timeFrom=lw.HEATMAP_RANGE,
    extra={"repeat": "line", "repeatDirection": "h", "maxPerRow": 3},
)

dashboard = Dashboard(
    title="linewatch — usage patterns · 사용 패턴",
    uid="linewatch-usage",
    description="Hour of day × day utilization heatmaps per department and per line.",
    tags=["linewatch", "usage"],
    time=Time("now-7d", "now"),
    refresh="1h",
    links=lw.nav_links(include_vars=True),
    templating=lw.templating(lw.line_variables()),
    panels=[department_heatmap, line_heatmap],
    **lw.DASHBOARD_DEFAULTS,
)
