"""The Grafana substitution the query test relies on behaves like Grafana's InfluxDB data source."""

from __future__ import annotations

import pytest
from grafana_macros import Selection, TimeRange, interpolate, panel_interval, panel_range

MULTI = {"name": "site", "multi": True, "includeAll": True, "allValue": ".*"}
MULTI_NO_ALL_VALUE = {"name": "site", "multi": True, "includeAll": True, "allValue": None}
SINGLE = {"name": "site", "multi": False, "includeAll": False}
RANGE = TimeRange(from_ms=1_000_000, to_ms=1_000_000 + 3 * 3_600_000)


@pytest.mark.parametrize(
    ("variable", "selection", "expected"),
    [
        pytest.param(MULTI, {"all": True}, ".*", id="all-uses-custom-all-value-verbatim"),
        pytest.param(
            MULTI_NO_ALL_VALUE, {"all": True}, "(a|b\\.c)", id="all-without-all-value-lists-options"
        ),
        pytest.param(
            MULTI, {"values": ("Orange Business", "Telia")}, "(Orange Business|Telia)", id="two-values"
        ),
        pytest.param(MULTI, {"values": ("Frankfurt",)}, "Frankfurt", id="one-value-no-parentheses"),
        pytest.param(MULTI, {"values": ("ge-0/0/1", "a.b")}, "(ge-0\\/0\\/1|a\\.b)", id="regex-escaped"),
        pytest.param(SINGLE, {"values": ("a.b",)}, "a.b", id="single-value-variable-not-escaped"),
    ],
)
def test_variable_renders_like_grafana(variable: dict, selection: dict, expected: str) -> None:
    assert Selection(variable, **selection).render(["a", "b.c"]) == expected


@pytest.mark.parametrize(
    ("time_from", "expected_from_ms"),
    [
        pytest.param(None, RANGE.from_ms, id="dashboard-range"),
        pytest.param("5m", RANGE.to_ms - 300_000, id="relative-minutes"),
        pytest.param("now-30d", RANGE.to_ms - 30 * 86_400_000, id="relative-now-days"),
        pytest.param("now/M", 0, id="this-month-so-far"),
    ],
)
def test_panel_relative_time(time_from: str | None, expected_from_ms: int) -> None:
    assert panel_range(RANGE, time_from).from_ms == expected_from_ms  # 1970-01: the month starts at 0


DAY_MS = 86_400_000
LATER = TimeRange(from_ms=20 * DAY_MS, to_ms=20 * DAY_MS + 15 * 3_600_000)  # 1970-01-21 15:00 UTC


@pytest.mark.parametrize(
    ("time_from", "time_shift", "expected"),
    [
        pytest.param("now-14d/d", None, TimeRange(6 * DAY_MS, LATER.to_ms), id="whole-days-from-midnight"),
        pytest.param("+30d", None, TimeRange(LATER.to_ms, LATER.to_ms + 30 * DAY_MS), id="plus-is-the-future"),
        pytest.param("+210d", "90d", TimeRange(LATER.to_ms - 90 * DAY_MS, LATER.to_ms + 120 * DAY_MS),
                     id="shifted-future-window-spans-past-and-future"),
        pytest.param(None, "1d", TimeRange(LATER.from_ms - DAY_MS, LATER.to_ms - DAY_MS), id="shift-alone"),
    ],
)
def test_panel_relative_time_and_shift(time_from: str | None, time_shift: str | None, expected: TimeRange) -> None:
    """The forecast panel reaches into the future (+Nd shifted back) and the heatmap starts at a midnight."""
    assert panel_range(LATER, time_from, time_shift) == expected


@pytest.mark.parametrize(
    ("max_points", "min_interval", "expected"),
    [
        pytest.param(None, None, "10s", id="auto-3h-over-1000-points"),
        pytest.param(None, "1m", "1m", id="min-interval-wins"),
        pytest.param(100, None, "2m", id="fewer-points-coarser"),
    ],
)
def test_panel_interval(max_points: int | None, min_interval: str | None, expected: str) -> None:
    assert panel_interval(RANGE, max_data_points=max_points, min_interval=min_interval) == expected


def test_interpolate_replaces_macros_and_variables_and_refuses_unknown_ones() -> None:
    query = 'SELECT x FROM m WHERE $timeFilter AND "site" =~ /^${site}$/ GROUP BY time($__interval)'
    out = interpolate(query, time_range=RANGE, interval="1m", variables={"site": "(a|b)"})
    assert (
        out == 'SELECT x FROM m WHERE time >= 1000000ms and time <= 11800000ms AND "site" =~ /^(a|b)$/ '
        "GROUP BY time(1m)"
    )
    with pytest.raises(KeyError, match=r"\$nope"):
        interpolate("$nope", time_range=RANGE, interval="1m", variables={})
