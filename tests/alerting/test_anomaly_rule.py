"""The ``anomaly`` rule in a real influxd: five weeks of seasonal 5-minute traffic (office hours, nights, weekends,
noise) per line, then crafted departures. A sudden drop on a busy line and a 3 am surge fire (pending first,
sustained 15 minutes) and resolve; a normal seasonal day, a short burst, an idle line going quiet at night and a
line without enough history stay quiet; the baseline is read once an hour, not every cycle."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alerting.config import AlertsConfig
from alerting.render import summary
from alerting.service import AlertService
from alerting.store import AlertStore
from alerting.trend_rules import build_baseline
from linewatch.choices import OperStatus
from linewatch.influx import InfluxClient, Point
from linewatch.inventory import Inventory
from tests.alerting.conftest import T0, Clock, make_inventory, traffic_point, write

STEP_S = 300
WEEK_S = 7 * 86400
HISTORY_S = 5 * WEEK_S
LINES = ({"id": "BUSY-1", "department": "Operations"}, {"id": "BUSY-2", "department": "Finance", "device": "r2"},
         {"id": "NEW-1", "department": "Operations"})
RULE = {"name": "traffic_anomaly", "kind": "anomaly", "k_mad": 5, "baseline_weeks": 4, "for_s": 900,
        "sample_s": 300, "min_expected_pct": 10}


def usual_pct(t_s: int, *, office: float = 60.0, night: float = 8.0, weekend: float = 12.0) -> float:
    """The line's weekly pattern (UTC): office hours Monday to Friday (ramping up 07–09, down 17–19), nights,
    weekends."""
    day = (t_s // 86400 + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    hour = t_s % 86400 / 3600
    if day >= 5:
        return weekend
    if 7 <= hour < 9:
        return night + (office - night) * (hour - 7) / 2
    if 17 <= hour < 19:
        return office - (office - night) * (hour - 17) / 2
    return office if 9 <= hour < 17 else night


def history(line: str, *, start_s: int, end_s: int, seed: int,
            override: Callable[[int], float | None] = lambda t: None,
            down: Callable[[int], bool] = lambda t: False, share: float = 1.0,
            tags: dict[str, str] | None = None) -> list[Point]:
    """5-minute points of the usual pattern with noise (σ 1.5 points), ``override`` replacing some; ``down``:
    oper down (admin up) then; ``share``, ``tags``: one member's part of the line (a LAG member)."""
    rng = np.random.default_rng(seed)
    times = range(start_s - start_s % STEP_S, end_s, STEP_S)
    noise = rng.normal(0, 1.5, len(times))
    points = []
    for t, n in zip(times, noise, strict=True):
        forced = override(t)
        util = forced if forced is not None else max(0.0, usual_pct(t) + n)
        oper = OperStatus.DOWN if down(t) else OperStatus.UP
        points.append(traffic_point(line, t, util=util * share, out_util=util * share / 3, oper=oper, tags=tags))
    return points


def config(*more_rules: dict[str, Any], **rule: Any) -> AlertsConfig:
    return AlertsConfig.model_validate({
        "rules": [{**RULE, **rule}, *more_rules],
        "route": {"receiver": "noc", "group_by": ["rule", "department"], "group_wait_s": 0,
                  "routes": [{"matchers": ['department="Operations"'], "receiver": "ops"}]},
        "receivers": [{"name": n, "email": {"host": "127.0.0.1", "port": 9, "tls": "none",
                                            "from": "lw@example.net", "to": [f"{n}@example.net"]}}
                      for n in ("noc", "ops")],
    })


@pytest.fixture
def service(tmp_path: Path, influx: InfluxClient, clock: Clock) -> Iterator[AlertService]:
    svc = AlertService(config=config(), inventory=make_inventory(*LINES), client=influx,
                       store=AlertStore(tmp_path / "alerts.sqlite"), clock=clock)
    yield svc
    svc.close()


def load(influx: InfluxClient, *, until_s: int, busy1: Callable[[int], float | None] = lambda t: None,
         busy2: Callable[[int], float | None] = lambda t: None) -> None:
    write(influx, history("BUSY-1", start_s=T0 - HISTORY_S, end_s=until_s, seed=1, override=busy1))
    write(influx, history("BUSY-2", start_s=T0 - HISTORY_S, end_s=until_s, seed=2, override=busy2))
    write(influx, history("NEW-1", start_s=T0 - 2 * 86400, end_s=until_s, seed=3))  # two days: no baseline yet


def state(service: AlertService, key: str) -> tuple[str, str | None] | None:
    alert = service.store.alerts().get(key)
    return None if alert is None else (alert.status.state.value, alert.info.get("direction"))


def between(start_s: int, end_s: int, util: float) -> Callable[[int], float | None]:
    return lambda t: util if start_s <= t < end_s else None


def test_sudden_drop_on_a_busy_line_is_pending_then_fires_then_resolves(service: AlertService,
                                                                        influx: InfluxClient) -> None:
    """Wednesday noon, BUSY-1 (60 % in office hours) falls to 2 % for 40 minutes: a fault before anything is down."""
    drop_s = T0 - 1800
    load(influx, until_s=T0 + 3600, busy1=between(drop_s, drop_s + 2400, 2.0))
    service.evaluate(drop_s + 600)  # two buckets low: not sustained yet
    assert state(service, "traffic_anomaly/BUSY-1") == ("pending", "drop")
    report = service.evaluate(drop_s + 1200)
    assert state(service, "traffic_anomaly/BUSY-1") == ("firing", "drop")
    (alert,) = [a for a in report.changes if a.key == "traffic_anomaly/BUSY-1"]
    assert alert.status.since_s == drop_s
    assert alert.info["expected_pct"] == pytest.approx(60, abs=1.5) and alert.info["observed_pct"] == 2.0
    assert alert.info["score_mad"] < -5
    text = summary(service._alert_dict(alert))
    assert text.startswith("BUSY-1: traffic drop to 2.0 % of its contracted capacity where ")
    assert "is usual for this hour of the week" in text and text.endswith("since 2026-11-25 11:30 UTC")
    assert state(service, "traffic_anomaly/BUSY-2") is None  # the other line carried on as usual
    service.evaluate(drop_s + 2400 + 900)  # back to normal for 15 minutes
    assert state(service, "traffic_anomaly/BUSY-1")[0] == "resolved"


def test_a_3am_surge_fires_and_names_the_direction(service: AlertService, influx: InfluxClient) -> None:
    night_s = T0 - 9 * 3600  # Wednesday 03:00 UTC, the line usually carries 8 %
    load(influx, until_s=T0, busy2=between(night_s, night_s + 3600, 70.0))
    report = service.evaluate(night_s + 1200)
    assert state(service, "traffic_anomaly/BUSY-2") == ("firing", "surge")
    (alert,) = report.changes
    assert alert.info["expected_pct"] == pytest.approx(8, abs=1.5)
    assert "traffic surge to 70.0 %" in summary(service._alert_dict(alert))


@pytest.mark.parametrize(("busy1", "times"), [
    (lambda t: None, [T0 - 86400 + i * 1800 for i in range(49)]),  # a whole ordinary day, every half hour
    (between(T0 - 600, T0, 2.0), [T0]),  # ten minutes low: a burst, not sustained
    (between(T0 - 9 * 3600, T0 - 8 * 3600, 0.0), [T0 - 9 * 3600 + 1800]),  # 8 % at night to 0: nothing to lose
    (between(T0 - 1800, T0, 55.0), [T0]),  # 60 → 55 % in office hours: within the noise
], ids=["seasonal-day-with-noise", "short-dip", "idle-line-quiet-at-night", "small-change"])
def test_normal_traffic_stays_quiet(service: AlertService, influx: InfluxClient,
                                    busy1: Callable[[int], float | None], times: list[int]) -> None:
    load(influx, until_s=T0 + 600, busy1=busy1)
    for t in times:
        report = service.evaluate(t)
        assert not report.rule_errors
        assert not any(a.status.state.value == "firing" for a in report.changes), (t, report.changes)
    assert all(a.status.state.value != "firing" for a in service.store.alerts().values())


def test_a_line_without_enough_history_is_not_judged(service: AlertService, influx: InfluxClient) -> None:
    """NEW-1 has two days of data: no hour of the week has the baseline's minimum samples, so it holds."""
    load(influx, until_s=T0 + 600)
    report = service.evaluate(T0, report_rows=True)
    rows = {r.subject: r.state for r in report.rows}
    assert rows == {"BUSY-1": "ok", "BUSY-2": "ok", "NEW-1": "no data"}


def test_no_recent_traffic_at_all_holds_every_line(service: AlertService, influx: InfluxClient) -> None:
    """Regression: the collector silent for the last hour (only history) — no line judged, no error."""
    load(influx, until_s=T0 - 2 * 3600)
    report = service.evaluate(T0, report_rows=True)
    assert not report.rule_errors
    assert {r.subject: r.state for r in report.rows} == {"BUSY-1": "no data", "BUSY-2": "no data",
                                                         "NEW-1": "no data"}


def test_the_baseline_is_read_once_an_hour_not_every_cycle(service: AlertService, influx: InfluxClient) -> None:
    load(influx, until_s=T0 + 3600)
    service.evaluate(T0)
    first = service.evaluator.baselines["traffic_anomaly"]
    for minute in range(1, 60, 10):
        assert service.evaluator.refresh_queries(service.config.rules[0], end_s=T0 + minute * 60) == []
        service.evaluate(T0 + minute * 60)
    assert service.evaluator.baselines["traffic_anomaly"] is first
    assert first.frame.loc[("BUSY-1", 2 * 24 + 11), "samples"] == 4  # Wednesdays 11:00 of four weeks, hourly means
    assert (T0 - 3600) not in set(first.hourly["time"].astype("int64") // 10**9)  # 12:00 is not over yet
    rule = service.config.rules[0]
    [statement] = service.evaluator.refresh_queries(rule, end_s=T0 + 3600)
    assert f"time >= {T0 * 10**9} AND time < {(T0 + 3600) * 10**9}" in statement  # only the hour since
    service.evaluate(T0 + 3600)
    second = service.evaluator.baselines["traffic_anomaly"]
    assert second.built_s == T0 + 3600
    assert second.frame.loc[("BUSY-1", 2 * 24 + 12), "samples"] == 4  # this Wednesday's 12:00 in, the oldest out
    rebuilt = build_baseline(rule, None, second.hourly, end_s=T0 + 3600)  # the same as read whole at once
    pd.testing.assert_frame_equal(second.frame, rebuilt.frame)
    assert second.hourly["time"].min() == pd.Timestamp(T0 + 3600 - 4 * WEEK_S, unit="s", tz="UTC")  # no older hour kept


def test_anomaly_is_routed_to_the_department_receiver_once(service: AlertService, influx: InfluxClient) -> None:
    drop_s = T0 - 1800
    load(influx, until_s=T0 + 600, busy1=between(drop_s, T0 + 600, 1.0))
    for t in (drop_s + 1200, drop_s + 1260, drop_s + 1320, T0):
        service.evaluate(t)
        service.flush(t)
    messages = service.store.messages()
    assert [(m.receiver, [a["key"] for a in m.payload["firing"]]) for m in messages] == [
        ("ops", ["traffic_anomaly/BUSY-1"])]


def test_a_line_that_is_down_notifies_line_down_not_also_its_traffic_drop(tmp_path: Path, influx: InfluxClient,
                                                                           clock: Clock) -> None:
    """Both rules fire on BUSY-1 going down at noon; the anomaly is inhibited: line_down already says why."""
    drop_s = T0 - 1800
    write(influx, history("BUSY-1", start_s=T0 - HISTORY_S, end_s=T0 + 600, seed=1,
                          override=between(drop_s, T0 + 600, 0.0), down=lambda t: t >= drop_s))
    service = AlertService(config=config({"name": "line_down", "kind": "line_down"}),
                           inventory=make_inventory(*LINES), client=influx,
                           store=AlertStore(tmp_path / "alerts.sqlite"), clock=clock)
    try:
        service.evaluate(T0)
        service.flush(T0)
        assert {k: a.status.state.value for k, a in service.store.alerts().items()} == {
            "traffic_anomaly/BUSY-1": "firing", "line_down/BUSY-1": "firing"}
        assert [[a["rule"] for a in m.payload["firing"]] for m in service.store.messages()] == [["line_down"]]
    finally:
        service.close()


def test_a_lag_is_judged_on_its_members_sum(tmp_path: Path, influx: InfluxClient, clock: Clock) -> None:
    """BUSY-1 on two LAG members, each carrying half; at noon one member loses its half: the line is at 30 %
    where 60 % is usual (the members' mean, 30 → 15 %, would tell another story), a drop."""
    drop_s = T0 - 1800
    m1 = {"device": "r1", "interface": "ae0-member-1"}
    m2 = {"device": "r1", "interface": "ae0-member-2"}
    write(influx, history("BUSY-1", start_s=T0 - HISTORY_S, end_s=T0 + 600, seed=1, share=0.5, tags=m1))
    write(influx, history("BUSY-1", start_s=T0 - HISTORY_S, end_s=T0 + 600, seed=4, share=0.5, tags=m2,
                          override=between(drop_s, T0 + 600, 0.0)))
    write(influx, history("BUSY-2", start_s=T0 - HISTORY_S, end_s=T0 + 600, seed=2))
    data = make_inventory(*LINES).model_dump(mode="json")
    data["lines"][0]["members"] = [{**m1, "role": "member"}, {**m2, "role": "member"}]
    service = AlertService(config=config(), inventory=Inventory.model_validate(data), client=influx,
                           store=AlertStore(tmp_path / "alerts.sqlite"), clock=clock)
    try:
        report = service.evaluate(T0)
    finally:
        service.close()
    (alert,) = report.changes
    assert (alert.key, alert.status.state.value, alert.info["direction"]) == ("traffic_anomaly/BUSY-1", "firing", "drop")
    assert alert.info["expected_pct"] == pytest.approx(60, abs=2)
    assert alert.info["observed_pct"] == pytest.approx(30, abs=3)


@pytest.mark.parametrize(("rule", "message"), [
    ({"k_mad": 5, "clear_k_mad": 6}, "clear_k_mad (6) must be below k_mad (5)"),
    ({"directions": []}, "directions must name at least one of drop, surge"),
    ({"timezone": "Asia/Sel"}, "unknown time zone 'Asia/Sel'"),
], ids=["clear-above-k", "no-direction", "bad-zone"])
def test_bad_rule_parameters_are_refused(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config(**rule)
