"""The ``forecast_crossing`` rule on crafted ``line_outlook`` points (the trends job's fields, docs/schema.md) in a
real influxd: a line whose busy hour is forecast to cross 80 % within 30 days fires with the date, the interval,
the busy hour now and the growth; it resolves when the forecast moves out; it is routed per department once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerting.config import AlertsConfig, load_alerts
from alerting.render import Locale, summary
from alerting.service import AlertService
from alerting.store import AlertStore
from linewatch.choices import AlertState, Language
from linewatch.errors import ConfigError
from linewatch.influx import InfluxClient, Point
from linewatch.trends.outlook import OUTLOOK_MEASUREMENT
from tests.alerting.conftest import T0, Clock, make_inventory, write

DAY_S = 86400
KO = Locale(Language.KO, "Asia/Seoul")
LINES = ({"id": "FRA-1", "department": "Operations"}, {"id": "LON-1", "department": "Finance", "device": "r2"})


def config(**rule: Any) -> AlertsConfig:
    return AlertsConfig.model_validate({
        "rules": [{"name": "capacity_forecast", "kind": "forecast_crossing", **rule}],
        "route": {"receiver": "noc", "group_by": ["rule", "department"], "group_wait_s": 0,
                  "routes": [{"matchers": ['department="Operations"'], "receiver": "ops"}]},
        "receivers": [{"name": n, "email": {"host": "127.0.0.1", "port": 9, "tls": "none",
                                            "from": "lw@example.net", "to": [f"{n}@example.net"]}}
                      for n in ("noc", "ops")],
    })


def outlook(line: str, t_s: int, *, days_to_80: float | None = None, busy_pct: float = 74.2,
            growth: float = 3.1, days_to_95: float | None = None) -> Point:
    """A line_outlook point as the trends job writes it: crossing fields only when within the horizon."""
    fields: dict[str, Any] = {"busy_hour_pct": busy_pct, "p95_pct": busy_pct - 6, "growth_pct_per_month": growth,
                              "method": "robust_seasonal", "fitted_days": 91}
    day0 = t_s - t_s % DAY_S
    if days_to_80 is not None:
        fields.update(days_to_80=float(days_to_80), date_80_s=day0 + int(days_to_80) * DAY_S,
                      date_80_earliest_s=day0 + int(days_to_80 * 0.6) * DAY_S,
                      date_80_latest_s=day0 + int(days_to_80 * 1.5) * DAY_S)
    if days_to_95 is not None:
        fields.update(days_to_95=float(days_to_95), date_95_s=day0 + int(days_to_95) * DAY_S)
    return Point(OUTLOOK_MEASUREMENT, {"line": line}, fields, t_s * 1_000_000_000)


@pytest.fixture
def make_service(tmp_path: Path, influx: InfluxClient, clock: Clock) -> Iterator[Any]:
    services: list[AlertService] = []

    def make(**rule: Any) -> AlertService:
        service = AlertService(config=config(**rule), inventory=make_inventory(*LINES), client=influx,
                               store=AlertStore(tmp_path / f"alerts{len(services)}.sqlite"), clock=clock)
        services.append(service)
        return service

    yield make
    for service in services:
        service.close()


def states(service: AlertService) -> dict[str, tuple[str, float | None]]:
    return {a.key: (a.status.state.value, a.status.value) for a in service.store.alerts().values()}


RUN = T0 - 6 * 3600  # the trends job ran this morning


@pytest.mark.parametrize(("points", "rule", "expected"), [
    ([outlook("FRA-1", RUN, days_to_80=18)], {},
     {"capacity_forecast/FRA-1": ("firing", 18.0)}),
    ([outlook("FRA-1", RUN, days_to_80=45)], {}, {}),
    ([outlook("FRA-1", RUN, days_to_80=30)], {}, {"capacity_forecast/FRA-1": ("firing", 30.0)}),
    ([outlook("FRA-1", RUN)], {}, {}),
    ([outlook("FRA-1", RUN - 5 * DAY_S, days_to_80=18)], {}, {}),
    ([outlook("FRA-1", RUN - 2 * DAY_S, days_to_80=31)], {}, {"capacity_forecast/FRA-1": ("firing", 29.0)}),
    ([outlook("FRA-1", RUN - DAY_S, days_to_80=5), outlook("FRA-1", RUN, days_to_80=40)], {}, {}),
    ([outlook("FRA-1", RUN, days_to_80=0, busy_pct=83)], {}, {"capacity_forecast/FRA-1": ("firing", 0.0)}),
    ([outlook("FRA-1", RUN, days_to_80=10, days_to_95=50)], {"level_pct": 95}, {}),
    ([outlook("FRA-1", RUN, days_to_80=10, days_to_95=50)], {"level_pct": 95, "within_days": 60},
     {"capacity_forecast/FRA-1": ("firing", 50.0)}),
    ([outlook("FRA-1", RUN, days_to_80=18), outlook("LON-1", RUN, days_to_80=12)], {"enabled": True},
     {"capacity_forecast/FRA-1": ("firing", 18.0), "capacity_forecast/LON-1": ("firing", 12.0)}),
], ids=["crosses-in-18-days", "crosses-in-45-days-quiet", "exactly-within", "no-crossing-in-horizon",
        "outlook-too-old-is-not-looked-at", "days-counted-from-now-not-from-the-run", "latest-run-wins",
        "already-above", "level-95-not-within-30", "level-95-within-60", "every-line-in-one-query"])
def test_forecast_crossing_fires_on_the_latest_outlook(make_service: Any, influx: InfluxClient,
                                                       points: list[Point], rule: dict[str, Any],
                                                       expected: dict[str, tuple[str, float]]) -> None:
    write(influx, points)
    service = make_service(**rule)
    report = service.evaluate(T0)
    assert not report.rule_errors
    assert states(service) == expected


def test_message_gives_date_interval_busy_hour_and_growth_in_both_languages(make_service: Any,
                                                                             influx: InfluxClient) -> None:
    write(influx, [outlook("FRA-1", RUN, days_to_80=18)])
    service = make_service()
    service.evaluate(T0)
    alert = service._alert_dict(service.store.alerts()["capacity_forecast/FRA-1"])
    assert summary(alert) == ("FRA-1: busy-hour utilization forecast to cross 80 % on 2026-12-13 (in 18 days); "
                              "likely between 2026-12-05 and 2026-12-22; busy hour now 74.2 %, growth +3.1 points "
                              "per month")
    assert summary(alert, KO).startswith("회선 FRA-1: 최번시 사용률이 2026-12-13에 80 %를 넘을 것으로 예측 (18일 후)")


def test_resolves_when_the_forecast_moves_out_and_hysteresis_holds_it_until_clear(make_service: Any,
                                                                                 influx: InfluxClient,
                                                                                 clock: Clock) -> None:
    service = make_service(within_days=30, clear_within_days=40)
    write(influx, [outlook("FRA-1", RUN, days_to_80=25)])
    service.evaluate(T0)
    assert states(service) == {"capacity_forecast/FRA-1": ("firing", 25.0)}
    write(influx, [outlook("FRA-1", RUN + DAY_S, days_to_80=35)])  # the next run: further out, within the clear level
    service.evaluate(T0 + DAY_S)
    assert states(service) == {"capacity_forecast/FRA-1": ("firing", 35.0)}
    write(influx, [outlook("FRA-1", RUN + 2 * DAY_S)])  # no crossing within the horizon any more
    report = service.evaluate(T0 + 2 * DAY_S)
    assert states(service)["capacity_forecast/FRA-1"][0] == "resolved"
    (change,) = report.changes
    assert summary(service._alert_dict(change)) == "FRA-1: the busy-hour forecast no longer crosses 80 % within 30 days"


def test_no_new_outlook_keeps_the_state_never_resolving_blind(make_service: Any, influx: InfluxClient) -> None:
    write(influx, [outlook("FRA-1", RUN, days_to_80=18)])
    service = make_service()
    service.evaluate(T0)
    service.evaluate(T0 + 10 * DAY_S)  # the trends job stopped: its last outlook is older than lookback_s
    assert service.store.alerts()["capacity_forecast/FRA-1"].status.state is AlertState.FIRING


def test_routed_per_department_and_notified_once(make_service: Any, influx: InfluxClient) -> None:
    write(influx, [outlook("FRA-1", RUN, days_to_80=18), outlook("LON-1", RUN, days_to_80=12)])
    service = make_service()
    for hour in range(3):  # the evaluator runs every minute; the outlook changes once a day
        service.evaluate(T0 + hour * 3600)
        service.flush(T0 + hour * 3600)
    messages = service.store.messages()
    assert sorted((m.receiver, [a["labels"]["line"] for a in m.payload["firing"]]) for m in messages) == [
        ("noc", ["LON-1"]), ("ops", ["FRA-1"])]


def test_a_level_the_trends_job_does_not_forecast_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text("rules:\n  - name: capacity_forecast\n    kind: forecast_crossing\n    level_pct: 90\n"
                    "route: {receiver: noc}\nreceivers:\n"
                    "  - {name: noc, email: {host: 127.0.0.1, tls: none, from: a@example.net, to: [b@example.net]}}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_alerts(path, forecast_levels_pct=[80.0, 95.0])
    assert "alerts.yaml:4: rules[0].level_pct: no forecast for 90 %: the trends job forecasts crossings of 80, 95" \
        in str(info.value)
    assert load_alerts(path).rules[0].level_pct == 90  # without the trends settings: not checked


@pytest.mark.parametrize(("rule", "message"), [
    ({"within_days": 30, "clear_within_days": 20}, "clear_within_days (20) must not be below within_days (30)"),
    ({"within_days": 0}, "within_days"),
], ids=["clear-below-within", "zero-days"])
def test_bad_rule_parameters_are_refused(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config(**rule)


@pytest.mark.slow
def test_shipped_rule_on_the_trends_jobs_outlook_of_the_demo_history(tmp_path: Path, influx: InfluxClient) -> None:
    """The real writer (billing_etl.trends.run_trends) on three weeks of the demo model's history, then the shipped
    capacity_forecast: the growing PAR-INET-1 (busy hour 68 % at the story's anchor, +0.6 points a day) fires with
    its crossing about 20 days ahead, the saturated FRA-MPLS-1 as already above 80 %; nothing else does."""
    from billing_etl.trends import run_trends
    from collector.demo.history import load_history
    from collector.demo.model import DEFAULT_ANCHOR_S
    from linewatch.inventory import load_inventory
    from linewatch.settings import load_settings

    repo = Path(__file__).resolve().parents[2]
    settings = load_settings(repo / "config" / "linewatch.yaml")
    settings = settings.model_copy(update={"influx": influx.settings})
    inventory = load_inventory(repo / "config" / "lines.yaml")
    now_s = DEFAULT_ANCHOR_S + 9 * 3600
    load_history(influx, inventory, start_s=DEFAULT_ANCHOR_S - 21 * DAY_S, end_s=now_s, step_s=300)
    run_trends(settings, inventory, influx, now_s=now_s)
    shipped = load_alerts(repo / "config" / "alerts.yaml", inventory=inventory,
                          forecast_levels_pct=settings.trends.thresholds_pct)
    config = shipped.model_copy(update={"rules": [r for r in shipped.rules if r.name == "capacity_forecast"]})
    service = AlertService(config=config, inventory=inventory, client=influx,
                           store=AlertStore(tmp_path / "alerts.sqlite"))
    try:
        report = service.evaluate(now_s + 600)
    finally:
        service.close()
    assert not report.rule_errors
    firing = {a.subject: a for a in report.changes if a.status.state is AlertState.FIRING}
    assert set(firing) == {"PAR-INET-1", "FRA-MPLS-1"}
    assert 14 <= firing["PAR-INET-1"].status.value <= 26
    assert firing["FRA-MPLS-1"].status.value == 0
    text = summary(service._alert_dict(firing["PAR-INET-1"]))
    assert text.startswith("PAR-INET-1: busy-hour utilization forecast to cross 80 % on 2026-12-")


def test_an_interval_of_one_day_is_not_repeated_as_a_range() -> None:
    alert = {"kind": "forecast_crossing", "state": "firing", "value": 16.0, "since_s": RUN,
             "labels": {"line": "PAR-INET-1"},
             "info": {"level_pct": 80.0, "date_s": 1_797_465_600, "earliest_s": 1_797_465_600,
                      "latest_s": 1_797_465_600, "busy_hour_pct": 69.1, "growth_pct_per_month": 18.1}}
    assert summary(alert) == ("PAR-INET-1: busy-hour utilization forecast to cross 80 % on 2026-12-17 (in 16 days); "
                              "busy hour now 69.1 %, growth +18.1 points per month")
