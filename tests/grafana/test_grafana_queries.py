"""Every query the committed dashboards send runs against a real InfluxDB holding the demo network's data.

The database is seeded once per module: four hours of the demo traffic model at one-minute resolution
(``collector.demo.history.load_history``, the same point builder the collector uses) plus crafted
``alert_events``, ``collector_poll`` and ``collector_health`` points, and three months of ``line_cost`` and
``billing_findings`` (the billing ETL's monthly results), and the trends job's ``line_trend`` and ``line_forecast``
(tests/grafana/trends_demo_data.py). Each target's text is taken from the JSON
Grafana loads, its macros and variables substituted the way Grafana does (tests/grafana/grafana_macros.py), for
three selections: everything ("All"), two values of each variable, one value of each. A query that errors or
returns no series fails the test.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from grafana_macros import (
    QueryTarget,
    Selection,
    TimeRange,
    dashboard_range,
    interpolate,
    panel_interval,
    panel_range,
    query_targets,
)
from trends_demo_data import trend_points
from voice_demo_data import VOICE_MEASUREMENTS, load_voice_demo

from collector.demo.history import load_history
from collector.flows.config import load_flows_config
from collector.flows.demo import backfill as flow_backfill
from linewatch import dashboards
from linewatch.choices import UTILIZATION_WARNING_PCT, LineHealth, LineType, OperStatus, Severity
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.inventory import Inventory, load_inventory
from linewatch.servers import InfluxdServer

REPO = Path(__file__).resolve().parents[2]
# A fixed clock: mid-month, so "this month so far" and every relative panel range hold data.
NOW_S = int(dt.datetime(2026, 11, 16, 12, 0, tzinfo=dt.UTC).timestamp())
HISTORY_S = 4 * 3600
STEP_S = 60
VARIABLE_RANGE = TimeRange(from_ms=(NOW_S - 3 * 3600) * 1000, to_ms=NOW_S * 1000)
BILLING_PERIODS = ("2026-09", "2026-10", "2026-11")
COLLECTOR = "collector-1"
SCENARIOS = ("all", "two-values", "one-value")

MODELS = dashboards.load_dashboards()
TARGETS = [t for name, model in sorted(MODELS.items()) for t in query_targets(name, model)]


def _influxql(url: str, statement: str) -> None:
    response = requests.post(f"{url}/query", params={"q": statement}, timeout=10)
    response.raise_for_status()
    assert "error" not in response.json()["results"][0], response.text


# The alert histories the seeded alert_events hold, as the evaluator writes them (docs/schema.md: one point per state
# change, the severity tag of the new state; a severity change while firing is a new point, so a new series).
ALERT_HISTORIES: dict[str, tuple[str, tuple[tuple[str, Severity], ...]]] = {
    # saturated line: warning, escalated to critical, still firing
    "FRA-MPLS-1": ("utilization_high", (("firing", Severity.WARNING), ("firing", Severity.CRITICAL))),
    "AMS-MPLS-1": ("line_down", (("firing", Severity.CRITICAL),)),
    # escalated, then resolved: must not linger on the wall as a firing warning
    "LON-LL-1": ("utilization_high", (("firing", Severity.WARNING), ("firing", Severity.CRITICAL),
                                      ("resolved", Severity.CRITICAL))),
}  # fmt: skip
DEFAULT_HISTORY = (
    "errors_high",
    (("pending", Severity.INFO), ("firing", Severity.INFO), ("resolved", Severity.INFO)),
)
# A device-level alert: ``line`` is the device name, site/department/carrier the comma-joined values of its lines.
DEVICE_ALERT = {"line": "ams-edge-1", "site": "Amsterdam,Frankfurt", "department": "IT,Sales",
                "carrier": "Colt", "rule": "device_unreachable", "severity": "critical"}  # fmt: skip
FIRING_NOW = {
    ("FRA-MPLS-1", "utilization_high", "critical"),
    ("AMS-MPLS-1", "line_down", "critical"),
    ("ams-edge-1", "device_unreachable", "critical"),
}


def _alert_points(inventory: Inventory) -> list[Point]:
    """One alert history per polled line (ALERT_HISTORIES), events ten minutes apart."""
    points = []
    for n, line in enumerate(inventory.polled_lines()):
        rule, events = ALERT_HISTORIES.get(line.id, DEFAULT_HISTORY)
        base = {k: v for k, v in line.tags().items() if k in ("line", "site", "department", "carrier")}
        started = NOW_S - 3 * 3600 + n * 60
        since = started
        for step, (state, severity) in enumerate(events):
            t = started + step * 600
            if state != "firing" or step == 0 or events[step - 1][0] != "firing":
                since = t  # a severity change while firing keeps its since (alerting.logic.transition)
            fields = {
                "state": state,
                "firing": int(state == "firing"),
                "value": 87.5,
                "since_s": since,
                "summary": f"{line.id}: {rule} {state}",
            }
            tags = base | {"rule": rule, "severity": severity.value}
            points.append(Point("alert_events", tags, fields, t * 1_000_000_000))
    t = NOW_S - 600
    fields = {"state": "firing", "firing": 1, "value": 3.0, "since_s": t, "summary": "ams-edge-1 unreachable"}
    points.append(Point("alert_events", DEVICE_ALERT, fields, t * 1_000_000_000))
    return points


def _billing_points(inventory: Inventory) -> list[Point]:
    """The billing ETL's monthly results (docs/schema.md): one line_cost point per line and period, findings."""
    points = []
    for period in BILLING_PERIODS:
        year, month = (int(part) for part in period.split("-"))
        t_ns = int(dt.datetime(year, month, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
        for n, line in enumerate(inventory.polled_lines()):
            tags = {"line": line.id, "department": line.department, "carrier": line.carrier, "currency": "EUR",
                    "period": period}  # fmt: skip
            expected = 100.0 + 10 * n
            fields = {"billed_amount": expected + 5, "total_amount": expected + 7, "expected_amount": expected,
                      "at_stake_amount": 5.0 if n % 3 == 0 else 0.0,
                      "saving_amount": 12.5 if n % 4 == 0 else 0.0}  # fmt: skip
            points.append(Point("line_cost", tags, fields, t_ns))
        for line in inventory.polled_lines()[::2]:
            tags = {"rule": "rate_above_contract", "carrier": line.carrier, "department": line.department,
                    "currency": "EUR", "period": period}  # fmt: skip
            points.append(Point("billing_findings", tags, {"count": 1, "amount": 5.0}, t_ns))
    return points


def _finance_kpi_points(inventory: Inventory) -> list[Point]:
    """The worker's finance KPIs (web/finance/points.py): disputes in every state and invoices paid on time, late
    and overdue for every carrier each month; a year budget per department and per cost centre."""
    from decimal import Decimal

    from linewatch.choices import BudgetScope, DisputeState
    from web.finance.budgets import ActualFact, BudgetFact, budget_status
    from web.finance.kpis import DisputeFact, PaymentKpi, dispute_kpis
    from web.finance.points import budget_points, dispute_points, payment_points

    today = dt.datetime.fromtimestamp(NOW_S, dt.UTC).date()
    lines = inventory.polled_lines()
    disputes: list[DisputeFact] = []
    payments: list[PaymentKpi] = []
    budgets: list[BudgetFact] = []
    actuals: list[ActualFact] = []
    for n, period in enumerate(BILLING_PERIODS):
        year, month = (int(part) for part in period.split("-"))
        due = dt.date(year, month, 20)
        for carrier in sorted({line.carrier for line in lines}):
            for state in DisputeState:
                sent = None if state == DisputeState.DRAFT else due - dt.timedelta(days=30 * (2 - n))
                disputes.append(DisputeFact(carrier, "EUR", period, state, Decimal("50.00"),
                                            Decimal("30.00") if state == DisputeState.RESOLVED else Decimal(0),
                                            sent_on=sent))
            payments.append(PaymentKpi(carrier, period, "EUR", invoices=3, paid_on_time=1,
                                       paid_on_time_amount=Decimal(900), paid_late=1, paid_late_amount=Decimal(400),
                                       overdue=1, overdue_amount=Decimal(300), late_fees_avoided=Decimal("13.5")))
        for line in lines:
            actuals.append(ActualFact(BudgetScope.DEPARTMENT, line.department, year, month, Decimal(110), "EUR"))
            if line.cost_centre:
                actuals.append(ActualFact(BudgetScope.COST_CENTRE, line.cost_centre, year, month, Decimal(110),
                                          "EUR"))
    for scope, targets in ((BudgetScope.DEPARTMENT, {line.department for line in lines}),
                           (BudgetScope.COST_CENTRE, {line.cost_centre for line in lines if line.cost_centre})):
        budgets += [BudgetFact(scope, target, 2026, None, Decimal(12000), "EUR") for target in sorted(targets)]
    return (dispute_points(dispute_kpis(disputes, today=today)) + payment_points(payments)
            + budget_points(budget_status(budgets, actuals, year=2026)))


def _collector_points(inventory: Inventory) -> list[Point]:
    points = []
    for t in range(NOW_S - HISTORY_S, NOW_S, STEP_S):
        for n, device in enumerate(inventory.devices):
            ok = int(not (device.name == "ams-edge-1" and (t // STEP_S) % 10 == 0))
            fields = {
                "ok": ok,
                "duration_s": 0.05 + n / 100,
                "varbinds": 40,
                "lines": len(inventory.lines_on(device.name)),
                "discarded_samples": 0,
                "error": "" if ok else "timeout after 2.0 s",
            }
            points.append(
                Point("collector_poll", {"device": device.name, "collector": COLLECTOR}, fields, t * 10**9)
            )
        health = {
            "cycle_duration_s": 0.4,
            "devices_ok": len(inventory.devices),
            "devices_failed": 0,
            "spool_bytes": 0,
            "spool_batches": 0,
            "overflowed_batches": 0,
            "dropped_batches": 0,
        }
        points.append(Point("collector_health", {"collector": COLLECTOR}, health, t * 10**9))
    return points


def _fault_points(inventory: Inventory) -> list[Point]:
    """The worker's fault figures (one point per line and month) and open incidents (web/faults/figures_influx.py)."""
    from web.faults.figures import Figures
    from web.faults.figures_influx import figure_points, open_incident_points

    lines = inventory.polled_lines()
    carrier_of = {line.id: line.carrier for line in lines}
    points = []
    for period in BILLING_PERIODS:
        year, month = (int(part) for part in period.split("-"))
        start_s = dt.datetime(year, month, 1, tzinfo=dt.UTC).timestamp()
        figures = {line.id: Figures(incidents=n % 3, downtime_s=600.0 * (n % 3), period_s=30 * 86400.0)
                   for n, line in enumerate(lines)}
        points += figure_points(figures, carrier_of, month_start_s=start_s)
    counts = {("line_down", carrier_of["AMS-MPLS-1"]): 1}
    return points + open_incident_points(counts, set(carrier_of.values()), now_s=NOW_S - 30)


DOWN_LINE = "AMS-MPLS-1"


def _line_went_down(inventory: Inventory) -> Point:
    """The demo's down line (up in the history) reports oper down in the last minute, as the collector writes it."""
    line = inventory.lines_by_id[DOWN_LINE]
    fields = {"oper_status": int(OperStatus.DOWN), "admin_status": int(OperStatus.UP),
              "health": int(LineHealth.DOWN), "capacity_bps": line.capacity_bps}  # fmt: skip
    return Point("line_traffic", line.tags(), fields, (NOW_S - 20) * 1_000_000_000)


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(REPO / "config" / "lines.yaml")


@pytest.fixture(scope="module")
def demo_client(influxd: InfluxdServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxClient]:
    """A database holding four hours of the demo network (a module-scoped variant of the ``influx_db`` fixture)."""
    database = f"lw_grafana_{uuid.uuid4().hex[:12]}"
    _influxql(influxd.url, f'CREATE DATABASE "{database}"')
    client = InfluxClient(InfluxSettings(url=influxd.url, database=database))
    try:
        inventory = load_inventory(REPO / "config" / "lines.yaml")
        written = load_history(client, inventory, start_s=NOW_S - HISTORY_S, end_s=NOW_S, step_s=STEP_S)
        # one point per member interface of each polled line per step (a LAG or primary/backup line has two)
        assert written == sum(len(line.members) for line in inventory.polled_lines()) * HISTORY_S // STEP_S
        client.write(
            encode_points(
                _alert_points(inventory)
                + _collector_points(inventory)
                + _billing_points(inventory)
                + _fault_points(inventory)
                + _finance_kpi_points(inventory)
                + trend_points(inventory, now_s=NOW_S)
                + [_line_went_down(inventory)]
            )
        )
        flows_cfg = load_flows_config(REPO / "config" / "flows.yaml", inventory)
        client.write(
            encode_points(flow_backfill(flows_cfg, inventory, start_s=NOW_S - HISTORY_S, end_s=NOW_S))
        )
        # a day of the demo trunks' calls through the voice pipeline, live counts over the history (voice_*)
        load_voice_demo(client, inventory, tmp_path_factory.mktemp("voice"), start_s=NOW_S - 86400, end_s=NOW_S,
                        live_from_s=NOW_S - HISTORY_S)
        yield client
    finally:
        client.close()
        _influxql(influxd.url, f'DROP DATABASE "{database}"')


def _selects_a_voice_line(variables: dict[str, str], inventory: Inventory) -> bool:
    """Whether the rendered ``$line`` selection (``.*`` or ``(a|b)``) holds a voice trunk."""
    return any(re.fullmatch(variables["line"], line.id) for line in inventory.lines
               if line.type is LineType.VOICE_TRUNK)


def _tag_values(client: InfluxClient, query: str) -> list[str]:
    values = sorted({row[1] for series in client.query(query) for row in series["values"]})
    return values


def _resolve_variables(client: InfluxClient, model: dict, scenario: str) -> dict[str, str]:
    """Run each variable's own query (with the variables before it substituted: chained) and pick values."""
    rendered: dict[str, str] = {}
    for variable in model.get("templating", {}).get("list", []):
        query = interpolate(variable["query"], time_range=VARIABLE_RANGE, interval="1m", variables=rendered)
        options = _tag_values(client, query)
        assert options, f"variable ${variable['name']} has no values: {query}"
        if scenario == "all":
            selection = Selection(variable, all=True)
        elif scenario == "two-values":
            selection = Selection(variable, values=tuple(options[:2]))
        else:
            selection = Selection(variable, values=tuple(options[:1]))
        rendered[variable["name"]] = selection.render(options)
    return rendered


@pytest.fixture(scope="module")
def variable_values(demo_client: InfluxClient) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (name, scenario): _resolve_variables(demo_client, model, scenario)
        for name, model in MODELS.items()
        for scenario in SCENARIOS
    }


def test_every_dashboard_has_queries_to_check() -> None:
    """Guards the parametrization below: the committed dashboards are found and hold queries."""
    assert {"noc.json", "line.json", "collector.json"} <= set(MODELS)
    assert len(TARGETS) >= 15


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("target", TARGETS, ids=[t.id for t in TARGETS])
def test_panel_query_returns_series_from_demo_data(
    demo_client: InfluxClient,
    variable_values: dict[tuple[str, str], dict[str, str]],
    inventory: Inventory,
    target: QueryTarget,
    scenario: str,
) -> None:
    """The query text in the JSON, substituted as Grafana would, runs without error and returns data."""
    time_range = panel_range(dashboard_range(MODELS[target.dashboard], to_ms=NOW_S * 1000), target.time_from,
                             target.time_shift)
    interval = panel_interval(
        time_range, max_data_points=target.max_data_points, min_interval=target.min_interval
    )
    query = interpolate(
        target.query,
        time_range=time_range,
        interval=interval,
        variables=variable_values[(target.dashboard, scenario)],
    )
    series = demo_client.query(query, epoch="ms")
    if VOICE_MEASUREMENTS.search(target.query) and not _selects_a_voice_line(
            variable_values[(target.dashboard, scenario)], inventory):
        # a voice panel of a wall narrowed to sites or lines without a voice trunk shows nothing, without error
        assert not any(s["values"] for s in series), f"{target.id} shows data of lines not selected:\n{query}"
        return
    assert series, f"{target.id} returned no series for {scenario!r}:\n{query}"
    assert any(s["values"] for s in series), f"{target.id} returned only empty series:\n{query}"


# -- what the NOC wall shows, not only that it shows something ------------------------------------------------


def _run_panel(client: InfluxClient, variables: dict, dashboard: str, title: str) -> list[dict]:
    (target,) = [t for t in TARGETS if t.dashboard == dashboard and t.panel.startswith(title)]
    time_range = panel_range(dashboard_range(MODELS[dashboard], to_ms=NOW_S * 1000), target.time_from,
                             target.time_shift)
    interval = panel_interval(
        time_range, max_data_points=target.max_data_points, min_interval=target.min_interval
    )
    query = interpolate(target.query, time_range=time_range, interval=interval, variables=variables)
    return client.query(query, epoch="ms")


def _rows(series: dict) -> list[dict]:
    return [dict(zip(series["columns"], values, strict=True)) for values in series["values"]]


def test_firing_alerts_list_each_firing_alert_once_with_its_current_severity(
    demo_client: InfluxClient, variable_values: dict[tuple[str, str], dict[str, str]], inventory: Inventory
) -> None:
    """Regression: grouping by severity kept an escalated-then-resolved warning "firing" on the wall."""
    series = _run_panel(demo_client, variable_values[("noc.json", "all")], "noc.json", "Firing alerts")
    rows = [(s["tags"]["line"], s["tags"]["rule"], row) for s in series for row in _rows(s)]
    assert len(rows) == len({(line, rule) for line, rule, _ in rows}), "more than one row per alert"
    firing = {(line, rule, row["severity"]) for line, rule, row in rows if row["firing"] == 1}
    assert firing == FIRING_NOW
    fra = next(row for line, _, row in rows if line == "FRA-MPLS-1")
    first_event = next(p for p in _alert_points(inventory) if p.tags["line"] == "FRA-MPLS-1")
    assert fra["since"] == first_event.time_ns // 1_000_000, (
        "an escalation keeps the time the alert started firing"
    )


def test_wall_status_has_every_polled_line_and_shows_the_down_line_down(
    demo_client: InfluxClient, variable_values: dict[tuple[str, str], dict[str, str]], inventory: Inventory
) -> None:
    series = _run_panel(demo_client, variable_values[("noc.json", "all")], "noc.json", "Line status")
    latest = {s["tags"]["line"]: s["values"][-1][1] for s in series}
    assert set(latest) == {line.id for line in inventory.polled_lines()}
    assert latest[DOWN_LINE] == LineHealth.DOWN
    assert {latest[line] for line in latest if line != DOWN_LINE} == {LineHealth.UP}


def test_most_utilized_puts_the_saturated_line_above_the_warning_level(
    demo_client: InfluxClient, variable_values: dict[tuple[str, str], dict[str, str]]
) -> None:
    series = _run_panel(demo_client, variable_values[("noc.json", "all")], "noc.json", "Most utilized")
    peak = {s["tags"]["line"]: max(v for v in s["values"][-1][1:] if v is not None) for s in series}
    top = max(peak, key=peak.__getitem__)
    assert top == "FRA-MPLS-1" and peak[top] >= UTILIZATION_WARNING_PCT
    assert peak["LON-MPLS-1"] < UTILIZATION_WARNING_PCT


@pytest.mark.parametrize("scenario", ["two-values", "one-value"])
def test_status_query_follows_the_line_selection(
    demo_client: InfluxClient, variable_values: dict[tuple[str, str], dict[str, str]], scenario: str
) -> None:
    """A narrowed selection narrows the wall: the variables really reach the query."""
    everything = _run_panel(demo_client, variable_values[("noc.json", "all")], "noc.json", "Line status")
    narrowed = _run_panel(demo_client, variable_values[("noc.json", scenario)], "noc.json", "Line status")
    assert 0 < len(narrowed) < len(everything)
