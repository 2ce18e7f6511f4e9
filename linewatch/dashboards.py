"""Grafana dashboards as code: the generator behind ``linewatch dashboards build`` and the helpers sources share.

Every ``grafana/dashboards/<name>.dashboard.py`` is a small Python file that builds one dashboard with grafanalib
(and the helpers below) and assigns it to a module-level ``dashboard``. The generator runs each source, checks the
result (current panel types only, a uid, the fixed data source) and writes ``<name>.json`` beside it; the JSON is
committed and Grafana's file provider loads it (``grafana/provisioning/dashboards/linewatch.yaml``).

A new dashboard (e.g. finance) is one new source file; nothing else has to change::

    from grafanalib.core import Dashboard, GridPos
    from linewatch import dashboards as lw

    dashboard = Dashboard(
        title="Line costs", uid="linewatch-finance", panels=[...],
        templating=lw.templating(lw.line_variables()), **lw.DASHBOARD_DEFAULTS,
    )

Colours, status values and thresholds come from :mod:`linewatch.choices` through the helpers here, so the
dashboards never re-list them. Panel types grafanalib 0.7 lacks or only emits in their Grafana 6 form (bar gauge,
table) are built with :func:`panel`, a plain-JSON panel. See docs/grafana.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import sys
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import attr
from grafanalib._gen import DashboardEncoder
from grafanalib.core import Dashboard, Panel, Template, Templating, TimePicker, TimeSeries
from grafanalib.influxdb import InfluxDBTarget

from linewatch.choices import (
    UTILIZATION_CRITICAL_PCT,
    UTILIZATION_WARNING_PCT,
    LineHealth,
    Severity,
)
from linewatch.errors import DashboardError
from linewatch.settings import GrafanaSettings

# -- the contract with the provisioning files ------------------------------------------------------------------

DATASOURCE_UID = "linewatch-influxdb"
"""uid of the InfluxDB (InfluxQL) data source defined in grafana/provisioning/datasources/influxdb.yaml."""
DATASOURCE_TYPE = "influxdb"
DATASOURCE: dict[str, str] = {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}

SOURCE_SUFFIX = ".dashboard.py"
SCHEMA_VERSION = 39  # Grafana 10.4 / 11.x dashboard schema
ALLOWED_PANEL_TYPES = frozenset(
    {"timeseries", "stat", "state-timeline", "table", "bargauge", "heatmap", "text", "row"}
)
"""Current (React) panel types. Legacy Angular panels (graph, singlestat, table-old, ...) are refused."""

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DASHBOARD_DIR = REPO_ROOT / "grafana" / "dashboards"

# Keys grafanalib emits for Grafana 5/6 that current Grafana ignores; removed from the generated JSON.
_LEGACY_DASHBOARD_KEYS = ("rows", "style", "hideControls", "sharedCrosshair", "gnetId")
_LEGACY_PANEL_KEYS = ("span", "minSpan", "height", "error", "editable", "cacheTimeout", "thresholdType")
_UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

# -- helpers for dashboard sources ----------------------------------------------------------------------------

DASHBOARD_DEFAULTS: dict[str, Any] = {
    "editable": False,  # provisioned from code: UI edits may not drift from the sources
    "timezone": "utc",
    "schemaVersion": SCHEMA_VERSION,
    "graphTooltip": 1,  # shared crosshair
    "timePicker": TimePicker(
        refreshIntervals=["30s", "1m", "5m", "15m", "1h"],
        timeOptions=["5m", "15m", "1h", "3h", "6h", "12h", "24h", "2d", "7d", "30d"],
    ),
}
"""Keyword arguments every linewatch ``Dashboard(...)`` takes (``**lw.DASHBOARD_DEFAULTS``)."""

LINE_VARIABLES = ("site", "carrier", "department", "line")
ALL_VALUE = ".*"
LINE_DASHBOARD_UID: str = GrafanaSettings.model_fields["line_dashboard_uid"].default
"""uid of the line detail dashboard; alert notifications link to it with ``?var-line=<line id>``."""


def nav_links(*, include_vars: bool = True) -> list[dict[str, Any]]:
    """The dropdown linking every linewatch dashboard, keeping the time range (and the variables, when shared)."""
    return [
        {
            "type": "dashboards",
            "tags": ["linewatch"],
            "asDropdown": True,
            "title": "linewatch",
            "keepTime": True,
            "includeVars": include_vars,
        }
    ]


def target(query: str, *, ref_id: str = "A", alias: str = "", table: bool = False) -> InfluxDBTarget:
    """A raw InfluxQL query against the linewatch data source.

    ``alias`` uses Grafana's InfluxDB alias patterns (``$tag_line``, ``$col``); ``table=True`` asks for the table
    result format (one row per series, tags as columns).
    """
    return InfluxDBTarget(
        query=query,
        refId=ref_id,
        alias=alias,
        format="table" if table else "time_series",
        datasource=DATASOURCE,
        rawQuery=True,
    )


def timeseries(
    *, title: str, targets: Sequence[InfluxDBTarget], gridPos: Mapping[str, int], **kwargs: Any
) -> TimeSeries:
    """A grafanalib ``TimeSeries`` with the defaults every linewatch chart shares (any of them may be overridden).

    The linewatch data source, a 1-minute minimum interval (the poll interval: finer buckets would be empty),
    Grafana's own data-point count (no ``maxDataPoints``) and a tooltip listing every series.
    """
    defaults: dict[str, Any] = {
        "dataSource": DATASOURCE,
        "interval": "1m",
        "maxDataPoints": None,
        "tooltipMode": "multi",
    }
    return TimeSeries(title=title, targets=list(targets), gridPos=dict(gridPos), **(defaults | kwargs))


def tag_match(tag: str, variable: str | None = None) -> str:
    """``"tag" =~ /^$variable$/``: the form Grafana expands for multi-value and "All" variables."""
    return f'"{tag}" =~ /^${variable or tag}$/'


def line_filter(tags: Sequence[str] = LINE_VARIABLES) -> str:
    """The WHERE condition restricting ``line_traffic``-tagged measurements to the selected site/carrier/.../line."""
    return " AND ".join(tag_match(tag) for tag in tags)


# A line's member series (docs/schema.md): a line carried by several interfaces has one series per member.
MEMBER_SERIES = '"line", "device", "interface"'
MEMBER_SERIES_EXTRA = '"device", "interface"'  # a member within its line (with "line" and other tags kept)


def line_health_query(where: str, interval: str) -> str:
    """Each line's health per ``interval``: the best member's (``min`` of :class:`linewatch.choices.LineHealth`
    over the members' last values), so a LAG or a primary/backup pair is up while any member is."""
    return ('SELECT min("health") FROM (SELECT last("health") AS "health" FROM "line_traffic" '
            f"WHERE $timeFilter AND {where} GROUP BY time({interval}), {MEMBER_SERIES} fill(none)) "
            f'WHERE $timeFilter GROUP BY time({interval}), "line" fill(none)')


def hourly_utilization_query(where: str, *, by: Sequence[str] = ("line",), fill: str = "none") -> str:
    """Each hour's utilization per ``by`` tag(s): the hourly mean of each member interface, summed over the line's
    members (docs/schema.md), the larger of in and out, then (when ``by`` is not the line alone) the mean over the
    lines of each group.

    InfluxQL has no ``max(a, b)`` of two fields; ``(a + b + abs(a - b)) / 2`` is the same number in one pass
    (InfluxDB 1.4+ has ``abs``), where a union of an in and an out subquery would evaluate the member sums twice.
    ``fill`` is the outermost hourly grouping's ``fill()``.
    """
    keep = ", ".join(f'"{tag}"' for tag in dict.fromkeys(["line", *by]))
    members = (
        'SELECT mean("in_util_pct") AS "in", mean("out_util_pct") AS "out" FROM "line_traffic" '
        f"WHERE $timeFilter AND {where} GROUP BY time(1h), {keep}, {MEMBER_SERIES_EXTRA} fill(none)"
    )
    lines = (
        'SELECT (sum("in") + sum("out") + abs(sum("in") - sum("out"))) / 2 AS "util" '
        f"FROM ({members}) WHERE $timeFilter GROUP BY time(1h), {keep} "
    )
    if tuple(by) == ("line",):
        return lines + f"fill({fill})"
    group = ", ".join(f'"{tag}"' for tag in by)
    return (f'SELECT mean("util") AS "util" FROM ({lines}fill(none)) WHERE $timeFilter '
            f"GROUP BY time(1h), {group} fill({fill})")


HEATMAP_RANGE = "now-7d/d"
"""The heatmaps' panel range: the last 7 whole days and today (each column one weekday). Longer ranges cost the
hourly query's price 24 times over per extra day (see :func:`hour_of_day_query`)."""
HOURS_OF_DAY = tuple(f"{hour:02d}" for hour in range(24))
"""Field names of the hour-of-day × day heatmap: one per hour of the (UTC) day, ``00`` … ``23``."""
NO_DATA_CELL = -1
"""The heatmap's value for an hour without data; Grafana's heatmap hides cells ≤ ``filterValues.le``."""


def hour_of_day_query(where: str, *, by: Sequence[str] = ("line",)) -> str:
    """One row per UTC day and ``by`` group, one field per hour of the day (:data:`HOURS_OF_DAY`): the hourly
    utilization of :func:`hourly_utilization_query`, laid out for a heatmap of hour of day × day.

    InfluxQL cannot group by the hour of the day. Each field ``HH`` is therefore its own subquery: windows of one
    day that start at HH:00 (``time(1d, HHh)``), whose first hourly value is the HH:00 hour of that day; the
    outer ``GROUP BY time(1d)`` files each window under the day it starts in. Every hour of the range has a value
    (``fill(NO_DATA_CELL)``), so an hour without data is that sentinel, never the next hour's value. The day
    before the range's first midnight holds windows cut by the range (outside the panel, not drawn). The hourly
    query is evaluated once per hour of the day: keep the range to a few weeks and the panel to one line or
    department (the panels repeat per selected value).
    """
    hourly = hourly_utilization_query(where, by=by, fill=str(NO_DATA_CELL))
    group = ", ".join(f'"{tag}"' for tag in by)
    subqueries = ", ".join(
        f'(SELECT first("util") AS "h{name}" FROM ({hourly}) WHERE $timeFilter '
        f"GROUP BY time(1d, {int(name)}h), {group} fill(none))"
        for name in HOURS_OF_DAY
    )
    fields = ", ".join(f'first("h{name}") AS "{name}"' for name in HOURS_OF_DAY)
    return f"SELECT {fields} FROM {subqueries} WHERE $timeFilter GROUP BY time(1d), {group} fill(none)"


def hour_of_day_heatmap(*, title: str, description: str, gridPos: Mapping[str, int], query: str,
                        alias: str, **kwargs: Any) -> JsonPanel:
    """A Grafana heatmap of :func:`hour_of_day_query`'s rows: x the days of the range (each column one day, so
    one weekday), y the 24 hours of the day (00 at the top), colour the hour's utilization on a fixed 0–100 %
    scale (a quiet line stays pale instead of being stretched to the full colour range)."""
    options = {
        "calculate": False,  # the cells are the query's fields, not a histogram Grafana computes
        "rowsFrame": {"layout": "unknown", "value": "utilization"},  # ordinal rows: the fields 00 … 23 in order
        "yAxis": {"axisPlacement": "left", "reverse": True, "axisLabel": "hour (UTC)"},
        "color": {"mode": "scheme", "scheme": "Oranges", "scale": "linear", "steps": 20, "exponent": 0.5,
                  "fill": Severity.WARNING.colour, "min": 0, "max": 100, "reverse": False},
        "cellGap": 1,
        "cellValues": {"unit": "percent", "decimals": 0},
        "showValue": "never",
        "tooltip": {"mode": "single", "yHistogram": False, "showColorScale": True},
        "legend": {"show": True},
        "filterValues": {"le": NO_DATA_CELL / 2},  # hides the no-data sentinel only; an idle hour's 0 % shows
        "exemplars": {"color": "rgba(255,0,255,0.7)"},
    }
    field_config = {"defaults": {"unit": "percent", "custom": {"scaleDistribution": {"type": "linear"}}},
                    "overrides": []}
    kwargs.setdefault("interval", "1h")
    kwargs.setdefault("maxDataPoints", None)
    return panel("heatmap", title=title, description=description, gridPos=gridPos,
                 targets=[target(query, alias=alias)], options=options, fieldConfig=field_config, **kwargs)


def query_variable(
    name: str,
    query: str,
    *,
    label: str | None = None,
    multi: bool = True,
    include_all: bool = True,
) -> Template:
    """A query variable on the linewatch data source (multi-select with "All" = ``.*`` by default)."""
    variable = Template(
        name=name,
        query=query,
        label=label or name.replace("_", " ").capitalize(),
        dataSource=DATASOURCE,
        multi=multi,
        includeAll=include_all,
        allValue=ALL_VALUE if include_all else None,
        refresh=1,  # on dashboard load
        sort=1,  # alphabetical
    )
    if include_all:  # what Grafana itself stores for a selected "All"
        variable._current = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return variable


def tag_values_query(measurement: str, key: str, *, depends_on: Sequence[str] = ()) -> str:
    """``SHOW TAG VALUES`` for a variable, filtered by the variables it depends on (chained variables)."""
    query = f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "{key}"'
    if depends_on:
        query += " WHERE " + line_filter(depends_on)
    return query


def line_variables(*, measurement: str = "line_traffic") -> list[Template]:
    """site → carrier → department → line, each multi-select with "All", each filtered by the ones before it."""
    variables = []
    for index, name in enumerate(LINE_VARIABLES):
        variables.append(
            query_variable(name, tag_values_query(measurement, name, depends_on=LINE_VARIABLES[:index]))
        )
    return variables


def templating(variables: Iterable[Template]) -> Templating:
    return Templating(list=list(variables))


def grid(x: int, y: int, w: int, h: int) -> dict[str, int]:
    """A panel position on Grafana's 24-column grid (one row unit is 30 px plus an 8 px gap)."""
    if not (0 <= x < 24 and 0 < w <= 24 and x + w <= 24 and h > 0 and y >= 0):
        raise ValueError(f"grid position x={x} y={y} w={w} h={h} does not fit the 24-column grid")
    return {"x": x, "y": y, "w": w, "h": h}


def thresholds(*steps: tuple[float | None, str]) -> dict[str, Any]:
    """Absolute threshold steps ``(value, colour)``; the first value must be ``None`` (the base colour)."""
    if not steps or steps[0][0] is not None:
        raise ValueError("the first threshold step is the base colour and has value None")
    return {"mode": "absolute", "steps": [{"value": value, "color": colour} for value, colour in steps]}


def utilization_thresholds(*, fraction: bool = False) -> dict[str, Any]:
    """Green below 80 %, the warning colour from 80 %, the critical colour from 95 % (``linewatch.choices``);
    ``fraction=True`` for a field holding 0–1 (unit ``percentunit``): 0.8 and 0.95."""
    scale = 100 if fraction else 1
    return thresholds(
        (None, LineHealth.UP.colour),
        (UTILIZATION_WARNING_PCT / scale, Severity.WARNING.colour),
        (UTILIZATION_CRITICAL_PCT / scale, Severity.CRITICAL.colour),
    )


def utilization_chart() -> dict[str, Any]:
    """``lw.timeseries`` keywords of a utilization chart: percent from 0 to (at least) 100 with the utilization
    thresholds drawn as lines and areas."""
    return {
        "unit": "percent",
        "axisSoftMin": 0,
        "axisSoftMax": 100,
        "thresholds": utilization_thresholds()["steps"],
        "thresholdsStyleMode": "line+area",
    }


LEVEL_STYLE = ("custom.lineStyle", {"fill": "dash", "dash": [10, 10]})
"""A dashed line: how reference levels (a capacity, a warning level) are drawn on a chart."""


def level_override(name: str, colour: str) -> dict[str, Any]:
    """A field override drawing the series whose name ends in `` <name>`` as a dashed, unfilled ``colour`` line."""
    return by_name(f"/ {name}$/", ("color", {"mode": "fixed", "fixedColor": colour}), ("custom.fillOpacity", 0),
                   LEVEL_STYLE, regex=True)


def health_mappings() -> list[dict[str, Any]]:
    """Value mappings for the ``health`` field: 1 up, 2 down, 3 no data, 4 admin down, and null → no data."""
    options = {
        str(int(h)): {"text": h.label, "color": h.colour, "index": index}
        for index, h in enumerate(LineHealth)
    }
    return [
        {"type": "value", "options": options},
        {
            "type": "special",
            "options": {
                "match": "null",
                "result": {
                    "text": LineHealth.NO_DATA.label,
                    "color": LineHealth.NO_DATA.colour,
                    "index": len(options),
                },
            },
        },
    ]


def health_thresholds() -> dict[str, Any]:
    """A fallback colour per health value (mappings colour the known values; anything else shows no-data)."""
    return thresholds(
        (None, LineHealth.NO_DATA.colour), *((float(int(h)), h.colour) for h in LineHealth if int(h) > 0)
    )


def severity_mappings() -> list[dict[str, Any]]:
    """Value mappings for the ``severity`` tag with each severity's colour."""
    return [
        {
            "type": "value",
            "options": {
                s.value: {"text": s.value, "color": s.colour, "index": index}
                for index, s in enumerate(Severity)
            },
        }
    ]


def line_detail_link(line: str = "${__field.labels.line}") -> dict[str, Any]:
    """A data link to the line detail dashboard for ``line`` (a Grafana data-link expression), keeping the time."""
    return {
        "title": "Line detail",
        "url": f"/d/{LINE_DASHBOARD_UID}?var-line={line}&${{__url_time_range}}",
        "targetBlank": False,
    }


def by_name(matcher: str, *properties: tuple[str, Any], regex: bool = False) -> dict[str, Any]:
    """A field override matching a field by name (or by regular expression)."""
    return {
        "matcher": {"id": "byRegexp" if regex else "byName", "options": matcher},
        "properties": [{"id": key, "value": value} for key, value in properties],
    }


@attr.s
class JsonPanel(Panel):
    """A panel written as Grafana's current JSON model, for types grafanalib lacks or emits in a legacy form.

    ``options`` and ``fieldConfig`` are passed through as given, so anything Grafana's panel JSON supports can be set.
    """

    type = attr.ib(default="text")
    options = attr.ib(factory=dict)
    fieldConfig = attr.ib(factory=lambda: {"defaults": {}, "overrides": []})
    extra = attr.ib(factory=dict)

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "datasource": self.dataSource,
            "description": self.description,
            "gridPos": self.gridPos,
            "id": self.id,
            "interval": self.interval,
            "maxDataPoints": self.maxDataPoints,
            "timeFrom": self.timeFrom,
            "targets": self.targets,
            "transformations": self.transformations,
            "fieldConfig": self.fieldConfig,
            "options": self.options,
            "links": self.links,
            "transparent": self.transparent,
        }
        data.update(self.extra)
        return data


def panel(type_: str, *, title: str, gridPos: Mapping[str, int], **kwargs: Any) -> JsonPanel:
    """A :class:`JsonPanel` on the linewatch data source (``dataSource`` may be overridden)."""
    kwargs.setdefault("dataSource", DATASOURCE)
    return JsonPanel(type=type_, title=title, gridPos=dict(gridPos), **kwargs)


# -- the generator ----------------------------------------------------------------------------------------------


@dataclass
class BuildResult:
    """What one ``build`` did (or, with ``check=True``, would do)."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # check mode: JSON missing or different from its source
    orphans: list[Path] = field(default_factory=list)  # *.json without a *.dashboard.py beside it

    @property
    def ok(self) -> bool:
        return not self.stale and not self.orphans


def discover_sources(directory: Path = DEFAULT_DASHBOARD_DIR) -> list[Path]:
    """Every ``*.dashboard.py`` in ``directory``, sorted by name."""
    return sorted(Path(directory).glob(f"*{SOURCE_SUFFIX}"))


def json_path(source: Path) -> Path:
    """``noc.dashboard.py`` → ``noc.json`` beside it."""
    return source.with_name(source.name[: -len(SOURCE_SUFFIX)] + ".json")


def _error_line(exc: BaseException, source: Path) -> int | None:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename).resolve() == source.resolve():
            return frame.lineno
    if isinstance(exc, SyntaxError):
        return exc.lineno
    return None


def load_source(source: Path) -> Any:
    """Run one dashboard source and return its module-level ``dashboard``; errors name the file and line."""
    source = Path(source)
    module_name = "linewatch_dashboard_" + re.sub(r"\W", "_", source.name[: -len(SOURCE_SUFFIX)])
    spec = importlib.util.spec_from_file_location(module_name, source)
    if spec is None or spec.loader is None:
        raise DashboardError(f"{source}: cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken source is reported, whatever it raised
        line = _error_line(exc, source)
        where = f"{source}:{line}" if line else str(source)
        raise DashboardError(f"{where}: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.modules.pop(module_name, None)
    if not hasattr(module, "dashboard"):
        raise DashboardError(f"{source}: defines no module-level 'dashboard'")
    return module.dashboard


def iter_panels(panels: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Every panel, including the panels inside collapsed rows."""
    for p in panels:
        yield p
        yield from iter_panels(p.get("panels") or [])


def to_json_model(dashboard: Any, *, source: Path) -> dict[str, Any]:
    """Turn a grafanalib ``Dashboard`` (or a plain dict) into Grafana's JSON model, cleaned and checked."""
    if isinstance(dashboard, Dashboard):
        data = json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))
    elif isinstance(dashboard, Mapping):
        data = json.loads(json.dumps(dashboard, cls=DashboardEncoder))
    else:
        raise DashboardError(
            f"{source}: 'dashboard' is a {type(dashboard).__name__}, not a grafanalib Dashboard"
        )
    for key in _LEGACY_DASHBOARD_KEYS:
        if key == "rows" and data.get("rows"):
            raise DashboardError(f"{source}: uses legacy rows; put panels in 'panels' with gridPos")
        data.pop(key, None)
    if not data.get("__inputs"):
        data.pop("__inputs", None)
    data["id"] = None
    uid = data.get("uid")
    if not isinstance(uid, str) or not _UID_RE.match(uid):
        raise DashboardError(f"{source}: dashboard uid {uid!r} must be 1-40 letters, digits, '-' or '_'")
    next_id = 1 + max((p.get("id") or 0 for p in iter_panels(data.get("panels", []))), default=0)
    for p in iter_panels(data.get("panels", [])):
        assert isinstance(p, dict)
        title = p.get("title") or "(untitled)"
        if p.get("type") not in ALLOWED_PANEL_TYPES:
            raise DashboardError(
                f"{source}: panel {title!r} has type {p.get('type')!r}; use one of {sorted(ALLOWED_PANEL_TYPES)}"
            )
        if not p.get("gridPos"):
            raise DashboardError(f"{source}: panel {title!r} has no gridPos")
        if not p.get("id"):
            p["id"] = next_id
            next_id += 1
        for key in _LEGACY_PANEL_KEYS:
            p.pop(key, None)
        for key in [k for k, v in p.items() if v is None]:
            del p[key]
        if p.get("repeat") is None:
            for key in ("repeat", "repeatDirection", "maxPerRow"):
                p.pop(key, None)
    return data


def render(source: Path) -> str:
    """The JSON text a source generates (stable key order, two-space indent, trailing newline)."""
    model = to_json_model(load_source(source), source=source)
    return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def build(directory: Path = DEFAULT_DASHBOARD_DIR, *, check: bool = False) -> BuildResult:
    """Generate ``<name>.json`` for every source in ``directory``.

    ``check=True`` writes nothing and reports JSON files that are missing or differ (``stale``). Either way,
    JSON files without a source are reported as ``orphans`` and dashboard uids must be unique.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DashboardError(f"{directory}: dashboard directory does not exist")
    result = BuildResult()
    uids: dict[str, Path] = {}
    sources = discover_sources(directory)
    for source in sources:
        text = render(source)
        uid = json.loads(text)["uid"]
        if uid in uids:
            raise DashboardError(f"{source}: uid {uid!r} is already used by {uids[uid]}")
        uids[uid] = source
        target_path = json_path(source)
        current = target_path.read_text(encoding="utf-8") if target_path.exists() else None
        if current == text:
            result.unchanged.append(target_path)
        elif check:
            result.stale.append(target_path)
        else:
            target_path.write_text(text, encoding="utf-8")
            result.written.append(target_path)
    expected = {json_path(s) for s in sources}
    result.orphans = sorted(p for p in directory.glob("*.json") if p not in expected)
    return result


def load_dashboards(directory: Path = DEFAULT_DASHBOARD_DIR) -> dict[str, dict[str, Any]]:
    """The committed JSON models, by file name (what Grafana loads)."""
    return {
        json_path(s).name: json.loads(json_path(s).read_text(encoding="utf-8"))
        for s in discover_sources(directory)
        if json_path(s).exists()
    }


# -- CLI and demo -------------------------------------------------------------------------------------------


def _cmd_build(args: argparse.Namespace) -> int:
    directory = Path(args.dir) if args.dir else DEFAULT_DASHBOARD_DIR
    result = build(directory, check=args.check)
    for path in result.written:
        print(f"wrote {path}")
    for path in result.stale:
        print(f"error: {path} differs from its source; run `make dashboards`", file=sys.stderr)
    for path in result.orphans:
        print(f"error: {path} has no {path.stem}{SOURCE_SUFFIX} beside it", file=sys.stderr)
    if result.ok:
        print(f"{len(result.written)} written, {len(result.unchanged)} unchanged")
        return 0
    return 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("dashboards", help="Grafana dashboards as code")
    sub = parser.add_subparsers(dest="dashboards_command", required=True, metavar="ACTION")
    build_parser = sub.add_parser(
        "build", help="generate grafana/dashboards/*.json from the *.dashboard.py sources"
    )
    build_parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any JSON is stale"
    )
    build_parser.add_argument("--dir", help=f"dashboard directory (default {DEFAULT_DASHBOARD_DIR})")
    build_parser.set_defaults(func=_cmd_build)


GRAFANA_IMAGE = "grafana/grafana-oss:11.2.2"


def grafana_run_command(*, influx_url: str, database: str, repo_root: Path = REPO_ROOT) -> str:
    """A ``docker run`` that shows the provisioned dashboards against an InfluxDB reachable from this host.

    Grafana listens on 127.0.0.1 only and asks for a login: the finance dashboards are among those provisioned,
    so they are never shown to anonymous users or to the network (docs/docker.md has the wall set-up).
    """
    return " ".join(
        [
            "docker run --rm --network host",
            f"-e LINEWATCH_GRAFANA_INFLUX_URL={influx_url}",
            f"-e LINEWATCH_GRAFANA_INFLUX_DATABASE={database}",
            "-e GF_SERVER_HTTP_ADDR=127.0.0.1 -e GF_AUTH_ANONYMOUS_ENABLED=false",
            f"-v {repo_root / 'grafana' / 'provisioning'}:/etc/grafana/provisioning:ro",
            f"-v {repo_root / 'grafana' / 'dashboards'}:/var/lib/grafana/dashboards/linewatch:ro",
            GRAFANA_IMAGE,
        ]
    )


def demo_stage(ctx: Any) -> None:
    """Demo stage: regenerate the dashboards if their sources changed, then print how to view them in Grafana."""
    result = build(DEFAULT_DASHBOARD_DIR)
    changed = ", ".join(p.name for p in result.written) or "none"
    print(f"dashboards: {len(result.unchanged) + len(result.written)} dashboards, regenerated: {changed}")
    influx = ctx.settings.influx
    docker = "found" if shutil.which("docker") else "not found on this machine"
    print(f"dashboards: to view them in Grafana against this demo's InfluxDB (docker {docker}):")
    print("  " + grafana_run_command(influx_url=influx.url, database=influx.database))
    print(
        "  then open http://127.0.0.1:3000/d/linewatch-noc?kiosk (NOC wall), /d/linewatch-line, "
        "/d/linewatch-collector, /d/linewatch-voice, /d/linewatch-finance, /d/linewatch-usage "
        "(log in as admin/admin; Grafana asks for a new password)"
    )
    print(
        "dashboards: the whole stack (InfluxDB 2, Grafana, collector, alerting, demo network): "
        "cp .env.example .env && docker compose --profile demo up -d"
    )
