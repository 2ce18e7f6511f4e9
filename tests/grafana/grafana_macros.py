"""What Grafana does to an InfluxQL query before sending it, re-done in Python for the dashboard tests.

Grafana's InfluxDB data source (InfluxQL mode) replaces ``$timeFilter`` with ``time >= <from>ms and time <= <to>ms``
and ``$__interval``/``$interval`` with the panel's interval (time range / max data points, at least the panel's
min interval, rounded to a "nice" duration), then expands template variables: a multi-value or "All"-capable
variable inside a regex becomes ``(a|b)`` with regex metacharacters escaped; a selected "All" with a custom
``allValue`` becomes that value verbatim (``.*``). Panel "relative time" (``timeFrom``: ``5m``, ``30d``,
``now/M``) replaces the dashboard range for that panel.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Variables Grafana defines itself; anything else a query uses must be a dashboard variable.
BUILTIN_VARIABLES = frozenset(
    {
        "timeFilter", "__timeFilter", "__interval", "__interval_ms", "interval", "__range", "__range_s",
        "__range_ms", "__from", "__to", "__rate_interval", "__dashboard", "__org", "__user", "__name",
    }
)  # fmt: skip
# InfluxDB alias patterns (only in a target's alias, never sent to InfluxDB).
ALIAS_PATTERNS = re.compile(r"^(tag_\w+|col|m|measurement)$")

_VARIABLE_RE = re.compile(r"\$(\w+)|\$\{(\w+)(?::[\w:]+)?\}|\[\[(\w+)\]\]")
_REGEX_SPECIALS = re.compile(r"[\\^$*+?.()|\[\]{}/]")  # Grafana's escapeRegex character class
_DURATION_RE = re.compile(r"^(\d+)(ms|s|m|h|d|w|M|y)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000,
            "M": 30 * 86_400_000, "y": 365 * 86_400_000}  # fmt: skip
# Grafana's rounding table for auto intervals (kbn.roundInterval), as (upper bound ms, interval).
_NICE_INTERVALS = [
    (15, "10ms"), (35, "20ms"), (75, "50ms"), (150, "100ms"), (250, "200ms"), (350, "300ms"), (750, "500ms"),
    (1_500, "1s"), (3_500, "2s"), (7_500, "5s"), (12_500, "10s"), (17_500, "15s"), (25_000, "20s"),
    (45_000, "30s"), (90_000, "1m"), (210_000, "2m"), (450_000, "5m"), (750_000, "10m"), (1_050_000, "15m"),
    (1_500_000, "20m"), (2_700_000, "30m"), (5_400_000, "1h"), (9_000_000, "2h"), (16_200_000, "3h"),
    (24_300_000, "6h"), (54_000_000, "12h"), (129_600_000, "24h"), (864_000_000, "1w"),
]  # fmt: skip


def duration_ms(text: str) -> int:
    match = _DURATION_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a Grafana duration: {text!r}")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def _ms_to_interval(ms: int) -> str:
    for unit in ("w", "d", "h", "m", "s"):
        if ms % _UNIT_MS[unit] == 0:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    return f"{ms}ms"


def round_interval(ms: float) -> str:
    for bound, interval in _NICE_INTERVALS:
        if ms < bound:
            return interval
    return "1y"


@dataclass(frozen=True)
class TimeRange:
    from_ms: int
    to_ms: int

    @property
    def span_ms(self) -> int:
        return self.to_ms - self.from_ms


def _round_down(ms: int, unit: str) -> int:
    """``.../d``, ``.../M``, ``.../y``: the start of that day, month or year (dashboard timezone UTC)."""
    to = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    starts = {
        "d": to.replace(hour=0, minute=0, second=0, microsecond=0),
        "M": to.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
        "y": to.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0),
    }
    return int(starts[unit].timestamp() * 1000)


def panel_range(dashboard_range: TimeRange, time_from: str | None, time_shift: str | None = None) -> TimeRange:
    """The range a panel queries: its relative time (``timeFrom``) replaces the dashboard's range, then its time
    shift (``timeShift``) moves the whole range back.

    Grafana's ``rangeutil.describeTextRange``: ``5m`` / ``now-5m`` is now-5m → now, ``now/M`` this month so far,
    ``now-14d/d`` from midnight 14 days ago to now, ``+30d`` (a leading plus) now → now+30d.
    """
    to_ms = dashboard_range.to_ms
    result = dashboard_range
    if time_from and time_from.startswith("+"):
        result = TimeRange(to_ms, to_ms + duration_ms(time_from[1:]))
    elif time_from and time_from.startswith("now/"):  # "now/M": this month so far
        result = TimeRange(_round_down(to_ms, time_from[4:]), to_ms)
    elif time_from:
        text, _, unit = time_from.removeprefix("now-").partition("/")
        from_ms = to_ms - duration_ms(text)
        result = TimeRange(_round_down(from_ms, unit) if unit else from_ms, to_ms)
    if time_shift:
        shift_ms = duration_ms(time_shift)
        result = TimeRange(result.from_ms - shift_ms, result.to_ms - shift_ms)
    return result


def dashboard_range(model: Mapping[str, Any], *, to_ms: int) -> TimeRange:
    """The dashboard's default time range (``time.from`` like ``now-3h``, ``to`` = now) ending at ``to_ms``."""
    time = model.get("time", {})
    if time.get("to", "now") != "now":
        raise ValueError(f"dashboard time.to {time.get('to')!r}: only ranges ending now are supported")
    return panel_range(TimeRange(to_ms, to_ms), time.get("from", "now-6h"))


def panel_interval(time_range: TimeRange, *, max_data_points: int | None, min_interval: str | None) -> str:
    """``$__interval`` for a panel: range / max data points (default: ~1000 px wide), rounded, >= min interval."""
    auto_ms = time_range.span_ms / (max_data_points or 1000)
    interval = round_interval(auto_ms)
    if min_interval and duration_ms(min_interval) > duration_ms(interval):
        return _ms_to_interval(duration_ms(min_interval))
    return interval


@dataclass(frozen=True)
class Selection:
    """The selected values of one variable: ``all=True`` for "All"."""

    variable: Mapping[str, Any]
    values: tuple[str, ...] = ()
    all: bool = False

    def render(self, all_values: Sequence[str]) -> str:
        """Grafana's InfluxDB ``interpolateQueryExpr``."""
        var = self.variable
        if self.all and var.get("allValue"):
            return str(var["allValue"])
        values = list(all_values) if self.all else list(self.values)
        if not var.get("multi") and not var.get("includeAll"):
            return values[0]
        escaped = [_REGEX_SPECIALS.sub(lambda m: "\\" + m.group(0), v) for v in values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def variable_names(text: str) -> Iterator[str]:
    for match in _VARIABLE_RE.finditer(text):
        yield next(g for g in match.groups() if g)


def interpolate(
    text: str,
    *,
    time_range: TimeRange,
    interval: str,
    variables: Mapping[str, str],
) -> str:
    """Replace Grafana macros and the (already rendered) template variables in ``text``."""
    builtins = {
        "timeFilter": f"time >= {time_range.from_ms}ms and time <= {time_range.to_ms}ms",
        "__interval": interval,
        "interval": interval,
        "__interval_ms": str(duration_ms(interval)),
        "__range": _ms_to_interval(time_range.span_ms),
        "__range_s": str(time_range.span_ms // 1000),
        "__range_ms": str(time_range.span_ms),
        "__from": str(time_range.from_ms),
        "__to": str(time_range.to_ms),
    }
    builtins["__timeFilter"] = builtins["timeFilter"]

    def replace(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        if name in builtins:
            return builtins[name]
        if name in variables:
            return variables[name]
        raise KeyError(f"query uses ${name}, which is neither a Grafana macro nor a dashboard variable")

    return _VARIABLE_RE.sub(replace, text)


@dataclass(frozen=True)
class QueryTarget:
    """One query a dashboard sends: a panel target or an annotation query."""

    dashboard: str
    panel: str
    ref_id: str
    query: str
    time_from: str | None
    min_interval: str | None
    max_data_points: int | None
    datasource: Mapping[str, Any] | None
    time_shift: str | None = None

    @property
    def id(self) -> str:
        return f"{self.dashboard}:{self.panel}:{self.ref_id}"


def query_targets(name: str, model: Mapping[str, Any]) -> Iterator[QueryTarget]:
    """Every panel target and annotation query of a dashboard JSON model, as written in the JSON."""

    def panels(items: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for item in items:
            yield item
            yield from panels(item.get("panels") or [])

    for panel in panels(model.get("panels", [])):
        for target in panel.get("targets", []):
            yield QueryTarget(
                dashboard=name,
                panel=panel.get("title", ""),
                ref_id=target.get("refId", ""),
                query=target["query"],
                time_from=panel.get("timeFrom"),
                min_interval=panel.get("interval"),
                max_data_points=panel.get("maxDataPoints"),
                datasource=target.get("datasource") or panel.get("datasource"),
                time_shift=panel.get("timeShift"),
            )
    for annotation in model.get("annotations", {}).get("list", []):
        if "query" in annotation:
            yield QueryTarget(
                dashboard=name,
                panel=f"annotation {annotation.get('name', '')}",
                ref_id="annotation",
                query=annotation["query"],
                time_from=None,
                min_interval=None,
                max_data_points=None,
                datasource=annotation.get("datasource"),
            )
