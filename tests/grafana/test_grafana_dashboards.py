"""The generated dashboards: committed JSON matches the sources, panels are current types on the provisioned data
source, every variable a query uses is defined, the NOC wall fits one screen, colours come from linewatch.choices,
and the generator reports broken sources by file and line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from grafana_macros import ALIAS_PATTERNS, BUILTIN_VARIABLES, query_targets, variable_names

from linewatch import dashboards
from linewatch.choices import UTILIZATION_CRITICAL_PCT, UTILIZATION_WARNING_PCT, LineHealth, Severity
from linewatch.cli import main
from linewatch.errors import DashboardError
from linewatch.settings import GrafanaSettings, Settings

REPO = Path(__file__).resolve().parents[2]
PROVISIONING = REPO / "grafana" / "provisioning"
MODELS = dashboards.load_dashboards()
NAMES = sorted(MODELS)
# A 1080 px kiosk screen holds 26 grid rows of 30 px + 8 px gap (kiosk mode has no header).
WALL_ROWS = 26


def _panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return list(dashboards.iter_panels(model["panels"]))


def _panel(name: str, title_start: str) -> dict[str, Any]:
    return next(p for p in _panels(MODELS[name]) if p["title"].startswith(title_start))


def _provisioned_datasources() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted((PROVISIONING / "datasources").glob("*.yaml")):
        for ds in yaml.safe_load(path.read_text())["datasources"]:
            found[ds["uid"]] = ds
    return found


# -- generated JSON is what the sources generate ------------------------------------------------------------


def test_committed_json_equals_what_the_sources_generate() -> None:
    result = dashboards.build(dashboards.DEFAULT_DASHBOARD_DIR, check=True)
    assert result.stale == [], "stale dashboards: run `make dashboards` and commit the JSON"
    assert result.orphans == []
    assert {p.name for p in result.unchanged} == set(NAMES)


def test_cli_build_check_exits_zero_when_json_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "build", "--check"]) == 0
    assert "0 written" in capsys.readouterr().out


def _write_source(directory: Path, name: str, body: str) -> Path:
    path = directory / f"{name}{dashboards.SOURCE_SUFFIX}"
    path.write_text(textwrap.dedent(body))
    return path


MINIMAL = """\
    from grafanalib.core import Dashboard, Text
    from linewatch import dashboards as lw
    dashboard = Dashboard(title="t", uid="{uid}", panels=[Text(title="hello", content="x", gridPos=lw.grid(0, 0, 4, 2))],
                          **lw.DASHBOARD_DEFAULTS)
"""


def test_build_writes_json_then_check_reports_a_source_change(tmp_path: Path) -> None:
    """A new source (e.g. the finance dashboard) is picked up by name alone; editing it makes its JSON stale."""
    source = _write_source(tmp_path, "finance", MINIMAL.format(uid="linewatch-finance"))
    assert [p.name for p in dashboards.build(tmp_path).written] == ["finance.json"]
    assert dashboards.build(tmp_path, check=True).ok
    source.write_text(source.read_text().replace('content="x"', 'content="y"'))
    result = dashboards.build(tmp_path, check=True)
    assert [p.name for p in result.stale] == ["finance.json"] and not result.ok
    assert json.loads((tmp_path / "finance.json").read_text())["panels"][0]["options"]["content"] == "x"


def test_build_check_reports_json_without_a_source(tmp_path: Path) -> None:
    (tmp_path / "leftover.json").write_text("{}")
    result = dashboards.build(tmp_path, check=True)
    assert [p.name for p in result.orphans] == ["leftover.json"] and not result.ok


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "x = 1\nraise ValueError('boom')\n", "bad.dashboard.py:2: ValueError: boom", id="exception-line"
        ),
        pytest.param("def broken(:\n", "bad.dashboard.py:1: SyntaxError", id="syntax-error"),
        pytest.param("x = 1\n", "defines no module-level 'dashboard'", id="no-dashboard"),
        pytest.param(
            "from grafanalib.core import Dashboard, Graph\n"
            "dashboard = Dashboard(title='t', uid='u', panels=[Graph(title='old', targets=[], "
            "gridPos={'x': 0, 'y': 0, 'w': 4, 'h': 4})])\n",
            "panel 'old' has type 'graph'",
            id="legacy-angular-panel",
        ),
        pytest.param(
            "from grafanalib.core import Dashboard\ndashboard = Dashboard(title='t')\n",
            "dashboard uid None must be",
            id="missing-uid",
        ),
        pytest.param(
            "from grafanalib.core import Dashboard, Text\n"
            "dashboard = Dashboard(title='t', uid='u', panels=[Text(title='nowhere')])\n",
            "panel 'nowhere' has no gridPos",
            id="panel-without-position",
        ),
    ],
)
def test_broken_source_is_reported_with_file_and_reason(tmp_path: Path, body: str, expected: str) -> None:
    _write_source(tmp_path, "bad", body)
    with pytest.raises(DashboardError) as excinfo:
        dashboards.build(tmp_path)
    assert expected in str(excinfo.value)
    assert not (tmp_path / "bad.json").exists()


def test_duplicate_uid_across_sources_is_refused(tmp_path: Path) -> None:
    _write_source(tmp_path, "a", MINIMAL.format(uid="same"))
    _write_source(tmp_path, "b", MINIMAL.format(uid="same"))
    with pytest.raises(DashboardError, match="uid 'same' is already used"):
        dashboards.build(tmp_path)


# -- what Grafana will load -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_only_current_panel_types(name: str) -> None:
    types = {p["type"] for p in _panels(MODELS[name])}
    assert types <= dashboards.ALLOWED_PANEL_TYPES, types - dashboards.ALLOWED_PANEL_TYPES


@pytest.mark.parametrize("name", NAMES)
def test_every_datasource_uid_is_provisioned(name: str) -> None:
    provisioned = _provisioned_datasources()
    model = MODELS[name]
    refs = [(p["title"], p.get("datasource")) for p in _panels(model) if p.get("targets")]
    refs += [(t.id, t.datasource) for t in query_targets(name, model)]
    refs += [
        (f"${v['name']}", v.get("datasource")) for v in model["templating"]["list"] if v["type"] == "query"
    ]
    assert refs
    for where, ref in refs:
        assert isinstance(ref, dict), f"{name}: {where} names its data source by name, not by uid: {ref!r}"
        assert ref.get("uid") in provisioned, f"{name}: {where} uses data source uid {ref.get('uid')!r}"
        assert provisioned[ref["uid"]]["type"] == ref.get("type")


def test_provisioned_datasource_is_influxql_with_credentials_from_the_environment() -> None:
    ds = _provisioned_datasources()[dashboards.DATASOURCE_UID]
    assert ds["type"] == "influxdb" and ds["jsonData"]["version"] == "InfluxQL"
    assert ds["url"].startswith("${") and ds["jsonData"]["dbName"].startswith("${")
    assert ds["jsonData"]["httpHeaderName1"] == "Authorization"
    assert ds["secureJsonData"]["httpHeaderValue1"] == "Token ${LINEWATCH_GRAFANA_INFLUX_TOKEN}"
    assert ds["editable"] is False


def test_dashboard_provider_loads_the_generated_json_read_only() -> None:
    (provider,) = yaml.safe_load((PROVISIONING / "dashboards" / "linewatch.yaml").read_text())["providers"]
    assert provider["type"] == "file" and provider["folder"] == "linewatch"
    assert provider["allowUiUpdates"] is False and provider["disableDeletion"] is True
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts


@pytest.mark.parametrize("name", NAMES)
def test_every_variable_a_query_uses_is_defined(name: str) -> None:
    model = MODELS[name]
    defined = {v["name"] for v in model["templating"]["list"]}
    texts = [(t.id, t.query) for t in query_targets(name, model)]
    texts += [(f"${v['name']}", v["query"]) for v in model["templating"]["list"]]
    texts += [(p["title"], p["title"]) for p in _panels(model)]
    for where, text in texts:
        used = set(variable_names(text)) - BUILTIN_VARIABLES
        assert used <= defined, f"{name}: {where} uses undefined {sorted(used - defined)}"
    for panel in _panels(model):
        for target in panel.get("targets", []):
            aliases = set(variable_names(target.get("alias", "")))
            assert all(ALIAS_PATTERNS.match(a) or a in defined for a in aliases), (panel["title"], aliases)


@pytest.mark.parametrize("name", ["noc.json", "line.json"])
def test_line_variables_are_chained_multi_select_with_all(name: str) -> None:
    variables = {v["name"]: v for v in MODELS[name]["templating"]["list"]}
    assert list(variables) == ["site", "carrier", "department", "line"]
    for v in variables.values():
        assert v["multi"] and v["includeAll"] and v["allValue"] == ".*"
    assert "WHERE" not in variables["site"]["query"]
    assert '"site" =~ /^$site$/' in variables["line"]["query"]
    assert '"department" =~ /^$department$/' in variables["line"]["query"]


@pytest.mark.parametrize("name", NAMES)
def test_panels_do_not_overlap_and_fit_the_grid(name: str) -> None:
    cells: dict[tuple[int, int], str] = {}
    for p in MODELS[name]["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = p["title"]


def test_noc_wall_fits_one_1080p_screen_and_refreshes_every_30_s() -> None:
    noc = MODELS["noc.json"]
    assert max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in noc["panels"]) <= WALL_ROWS
    assert noc["refresh"] == "30s"
    assert {p["type"] for p in noc["panels"]} >= {"state-timeline", "bargauge", "table", "timeseries"}


def test_status_colours_and_labels_come_from_line_health() -> None:
    mappings = _panel("noc.json", "Line status")["fieldConfig"]["defaults"]["mappings"]
    values = mappings[0]["options"]
    assert {k: (v["text"], v["color"]) for k, v in values.items()} == {
        str(int(h)): (h.label, h.colour) for h in LineHealth
    }
    assert mappings[1]["options"]["result"]["color"] == LineHealth.NO_DATA.colour
    assert _panel("line.json", "Oper status")["fieldConfig"]["defaults"]["mappings"] == mappings


def test_utilization_thresholds_come_from_choices() -> None:
    steps = _panel("noc.json", "Most utilized")["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps == [
        {"value": None, "color": LineHealth.UP.colour},
        {"value": UTILIZATION_WARNING_PCT, "color": Severity.WARNING.colour},
        {"value": UTILIZATION_CRITICAL_PCT, "color": Severity.CRITICAL.colour},
    ]
    assert _panel("line.json", "Utilization")["fieldConfig"]["defaults"]["thresholds"]["steps"] == steps


def test_firing_alerts_colour_severity_from_choices() -> None:
    overrides = _panel("noc.json", "Firing alerts")["fieldConfig"]["overrides"]
    severity = next(o for o in overrides if o["matcher"]["options"] == "Severity")
    mapping = next(p["value"] for p in severity["properties"] if p["id"] == "mappings")[0]["options"]
    assert {k: v["color"] for k, v in mapping.items()} == {s.value: s.colour for s in Severity}


def test_line_dashboard_uid_is_the_one_alert_links_point_to() -> None:
    assert MODELS["line.json"]["uid"] == GrafanaSettings().line_dashboard_uid
    annotations = MODELS["line.json"]["annotations"]["list"]
    assert [a["name"] for a in annotations] == ["Alerts"] and "alert_events" in annotations[0]["query"]


def test_capacity_and_warning_level_are_drawn_on_the_throughput_chart() -> None:
    queries = [t["query"] for t in _panel("line.json", "Throughput")["targets"]]
    assert any('max("capacity_bps") * 0.8 AS "warning"' in q for q in queries)


def test_demo_stage_prints_how_to_view_the_dashboards(capsys: pytest.CaptureFixture[str]) -> None:
    ctx = SimpleNamespace(settings=Settings(), influx=None, inventory=None, run_dir=REPO, stop_event=None)
    dashboards.demo_stage(ctx)
    out = capsys.readouterr().out
    assert "regenerated: none" in out
    assert (
        "docker run --rm --network host" in out
        and "LINEWATCH_GRAFANA_INFLUX_URL=http://127.0.0.1:8086" in out
    )
    assert "docker compose --profile demo up" in out


def test_demo_grafana_command_is_loopback_only_and_never_anonymous() -> None:
    """Regression (issue 9): the demo's docker run showed every dashboard, finance included, to anyone on the
    network without a login."""
    command = dashboards.grafana_run_command(influx_url="http://127.0.0.1:8086", database="lw")
    assert "GF_SERVER_HTTP_ADDR=127.0.0.1" in command
    assert "GF_AUTH_ANONYMOUS_ENABLED=false" in command and "ORG_ROLE=Viewer" not in command
