"""The voice trunk rules against a real influxd: crafted ``voice_trunk`` / ``voice_live`` points (docs/schema.md),
each rule firing on them and quiet on normal traffic, hysteresis, business-hours edges in time zones, the cost
baseline, the subjects (voice trunks only) and one alert routed and mailed like every other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from alerting.config import AlertsConfig, BusinessHours, load_alerts
from alerting.evaluator import Evaluator
from alerting.logic import cost_baseline
from alerting.render import summary
from alerting.service import AlertService
from alerting.store import AlertStore
from alerting.voice_calls import StoreDestinations, VoiceFacts, outside_hours_mask
from linewatch.choices import AlertState, Severity
from linewatch.errors import ConfigError
from linewatch.influx import InfluxClient, Point
from linewatch.settings import GrafanaSettings
from linewatch.voice.frame import ALL_COLUMNS, conform
from linewatch.voice.store import CallStore
from tests.alerting.conftest import T0, Clock, SmtpServer, make_inventory, traffic_point, write

WEEK_S = 7 * 86400
VOICE = {"type": "voice_trunk", "capacity_bps": 20_000_000}
LINES = (
    {"id": "FRA-VOICE-1", "department": "Sales", "channels": 30, "rate_plan": "dtag-sip-business", **VOICE},
    {"id": "PAR-VOICE-1", "department": "Operations", "site": "Paris", "device": "r2", "channels": 10, **VOICE},
    {"id": "LON-VOICE-1", "department": "Operations", "site": "London", "device": "r2", **VOICE},  # no channels
    {"id": "FRA-MPLS-1", "department": "Operations"},
)
RECEIVERS = """\
route: {{receiver: noc, group_by: [rule], group_wait_s: 0}}
receivers:
  - name: noc
    email: {{host: 127.0.0.1, port: {port}, tls: none, from: lw@example.net, to: [noc@example.net]}}
"""


def voice_point(line: str, t_s: int, **fields: float) -> Point:
    """A ``voice_trunk`` point of one minute as the voice pipeline writes it (counts as integers)."""
    return Point("voice_trunk", {"line": line, "line_type": "voice_trunk"}, dict(fields), t_s * 1_000_000_000)


def busy_minutes(line: str, busy: Sequence[int | None], *, end: int = T0, channels: int = 30) -> list[Point]:
    """One point per minute up to ``end`` with ``busy_max`` calls at once (``None``: no point, an idle minute)."""
    start = end - len(busy) * 60
    return [voice_point(line, start + i * 60, busy_max=b, channels=channels, busy_mean=b * 0.8,
                        channel_util_pct=100.0 * b / channels, attempts=b, answered=b, blocked=0)
            for i, b in enumerate(busy) if b is not None]


def live_point(line: str, t_s: int, active: int) -> Point:
    return Point("voice_live", {"source": "kamailio", "line": line}, {"active": active}, t_s * 1_000_000_000)


def _config(tmp_path: Path, rules: str, *, port: int = 9, extra: str = "") -> AlertsConfig:
    path = tmp_path / "alerts.yaml"
    path.write_text("rules:\n" + rules + extra + RECEIVERS.format(port=port), encoding="utf-8")
    return load_alerts(path, inventory=make_inventory(*LINES))


@pytest.fixture
def service_for(tmp_path: Path, influx: InfluxClient, clock: Clock) -> Iterator[Callable[..., AlertService]]:
    """``service_for(rules_yaml, port=9, extra="")``: an AlertService over the voice inventory and the test's influxd."""
    started: list[AlertService] = []

    def start(rules: str, *, port: int = 9, extra: str = "") -> AlertService:
        inventory = make_inventory(*LINES)
        service = AlertService(config=_config(tmp_path, rules, port=port, extra=extra), inventory=inventory,
                               client=influx, store=AlertStore(tmp_path / f"state{len(started)}" / "alerts.sqlite"),
                               clock=clock)
        started.append(service)
        return service

    yield start
    for service in started:
        service.close()


def states(service: AlertService, at_s: float) -> dict[str, tuple[str, str, float | None]]:
    """``subject -> (state, severity, value)`` of every alert stored after evaluating at ``at_s``."""
    service.evaluate(at_s)
    return {a.subject: (a.status.state.value, a.status.severity.value, a.status.value)
            for a in service.store.alerts().values()}


# -- channel_utilization -------------------------------------------------------------------------------------------

CHANNELS = "  - {name: channels, kind: channel_utilization, for_s: 300, sample_s: 60}\n"


@pytest.mark.parametrize(("busy", "expected"), [
    ([24] * 8, ("firing", "warning", 80.0)),
    ([29] * 8, ("firing", "critical", 29 / 30 * 100)),
    ([20] * 8, None),
    ([10] * 6 + [28, 28], ("pending", "warning", 28 / 30 * 100)),
    ([25, 25, 25, None, 25, 25, 25, 25], ("pending", "warning", 25 / 30 * 100)),  # an idle minute breaks the run
], ids=["24-of-30-warning", "29-of-30-critical", "20-of-30-quiet", "two-busy-minutes-pending",
        "idle-minute-breaks-the-run"])
def test_channel_utilization_of_contracted_channels(service_for: Callable[..., AlertService], influx: InfluxClient,
                                                    busy: list[int | None],
                                                    expected: tuple[str, str, float] | None) -> None:
    write(influx, busy_minutes("FRA-VOICE-1", busy))
    got = states(service_for(CHANNELS), T0).get("FRA-VOICE-1")
    if expected is None:
        assert got is None
    else:
        assert got is not None and got[:2] == expected[:2] and got[2] == pytest.approx(expected[2])


def test_channel_utilization_minutes_not_written_yet_are_not_idle(service_for: Callable[..., AlertService],
                                                                   influx: InfluxClient) -> None:
    """The newest minutes have no point until their calls end (CDRs): a firing alert stays firing meanwhile."""
    service = service_for(CHANNELS)
    write(influx, busy_minutes("FRA-VOICE-1", [25] * 8))
    assert states(service, T0)["FRA-VOICE-1"][0] == "firing"
    assert states(service, T0 + 120)["FRA-VOICE-1"][0] == "firing"


def test_channel_utilization_counts_live_calls_the_cdrs_do_not_have_yet(service_for: Callable[..., AlertService],
                                                                        influx: InfluxClient) -> None:
    """Calls still in progress have no CDR yet: the live count (voice_live.active, polled every cycle) decides."""
    write(influx, busy_minutes("PAR-VOICE-1", [3] * 8, channels=10)
          + [live_point("PAR-VOICE-1", T0 - 480 + 30 * i, 9) for i in range(16)]
          + [Point("voice_live", {"source": "kamailio"}, {"active": 40, "ok": 1}, (T0 - 30) * 1_000_000_000)])
    got = states(service_for(CHANNELS), T0)
    assert got == {"PAR-VOICE-1": ("firing", "warning", 90.0)}


def test_channel_utilization_hysteresis_clears_below_clear_pct_and_when_idle(
        service_for: Callable[..., AlertService], influx: InfluxClient) -> None:
    service = service_for(CHANNELS)
    write(influx, busy_minutes("FRA-VOICE-1", [25] * 8))
    assert states(service, T0)["FRA-VOICE-1"][0] == "firing"
    write(influx, busy_minutes("FRA-VOICE-1", [22, 22], end=T0 + 120))  # 73 %: above clear_pct 70
    assert states(service, T0 + 120)["FRA-VOICE-1"][:2] == ("firing", "warning")
    write(influx, busy_minutes("FRA-VOICE-1", [20], end=T0 + 180))  # 67 %
    assert states(service, T0 + 180)["FRA-VOICE-1"][0] == "resolved"
    write(influx, busy_minutes("FRA-VOICE-1", [25] * 8, end=T0 + 660))
    assert states(service, T0 + 660)["FRA-VOICE-1"][0] == "firing"
    assert states(service, T0 + 660 + 3600)["FRA-VOICE-1"][0] == "resolved"  # no call for an hour: idle, cleared


def test_channel_rule_is_only_about_voice_trunks_with_channels(service_for: Callable[..., AlertService]) -> None:
    evaluator = service_for(CHANNELS).evaluator
    assert set(evaluator.subjects(evaluator.config.rules[0])) == {"FRA-VOICE-1", "PAR-VOICE-1"}


# -- blocked_calls -------------------------------------------------------------------------------------------------

BLOCKED = "  - {name: blocked, kind: blocked_calls, warning_per_hour: 5, critical_per_hour: 15}\n"


def blocked(line: str, counts: dict[int, int]) -> list[Point]:
    """``{seconds before T0: blocked calls started in that minute}``."""
    return [voice_point(line, T0 - ago, blocked=n, attempts=n + 2, busy_max=10, channels=10)
            for ago, n in counts.items()]


@pytest.mark.parametrize(("counts", "rules", "expected"), [
    ({600: 4, 1200: 3}, BLOCKED, ("firing", "warning", 7.0)),
    ({600: 4}, BLOCKED, None),
    ({60: 10, 1800: 10}, BLOCKED, ("firing", "critical", 20.0)),
    ({3700: 10, 600: 2}, BLOCKED, None),  # older than the hour
    ({600: 5}, "  - {name: blocked, kind: blocked_calls, window_s: 1800, warning_per_hour: 10}\n",
     ("firing", "warning", 5.0)),  # 5 in 30 minutes = 10 per hour
], ids=["7-in-the-hour-warning", "4-quiet", "20-critical", "older-than-the-window", "half-hour-window-rate"])
def test_blocked_calls_per_hour(service_for: Callable[..., AlertService], influx: InfluxClient,
                                counts: dict[int, int], rules: str, expected: tuple[str, str, float] | None) -> None:
    write(influx, blocked("PAR-VOICE-1", counts) + blocked("FRA-VOICE-1", {600: 1}))
    assert states(service_for(rules), T0).get("PAR-VOICE-1") == expected
    assert "FRA-VOICE-1" not in states(service_for(rules), T0)


def test_blocked_calls_window_per_line(service_for: Callable[..., AlertService], influx: InfluxClient) -> None:
    """A line's own (overridden) window counts only its calls: the query spans the longest window of all lines."""
    override = "overrides:\n  - {rule: blocked, line: PAR-VOICE-1, set: {window_s: 1800, warning_per_hour: 10}}\n"
    write(influx, blocked("PAR-VOICE-1", {2400: 6, 600: 4}) + blocked("FRA-VOICE-1", {2400: 6, 600: 4}))
    assert states(service_for(BLOCKED, extra=override), T0) == {"FRA-VOICE-1": ("firing", "warning", 10.0)}


def test_blocked_calls_hysteresis(service_for: Callable[..., AlertService], influx: InfluxClient) -> None:
    """Fires at 5 per hour, stays firing above the clear level (half of it by default), resolves below."""
    service = service_for(BLOCKED)
    write(influx, blocked("PAR-VOICE-1", {3000: 3, 600: 3}))
    assert states(service, T0)["PAR-VOICE-1"] == ("firing", "warning", 6.0)
    assert states(service, T0 + 700)["PAR-VOICE-1"] == ("firing", "warning", 3.0)  # the 3 older ones aged out
    assert states(service, T0 + 3100)["PAR-VOICE-1"] == ("resolved", "warning", 0.0)


# -- toll fraud: premium / high-risk destinations ------------------------------------------------------------------

PREMIUM = "  - {name: toll_fraud, kind: premium_destination, lookback_s: 3600}\n"


@pytest.mark.parametrize(("minutes", "rules", "expected"), [
    ({300: (0, 1)}, PREMIUM, ("firing", "critical", 1.0)),
    ({300: (2, 0), 900: (0, 10)}, PREMIUM, ("firing", "critical", 12.0)),
    ({4000: (0, 5)}, PREMIUM, None),  # older than lookback_s
    ({300: (1, 1)}, "  - {name: toll_fraud, kind: premium_destination, min_calls: 2}\n", None),  # one call, both
    ({300: (0, 0)}, PREMIUM, None),
], ids=["one-high-risk-call", "premium-and-high-risk", "older-than-lookback", "premium-and-high-risk-counted-once",
        "normal-calls"])
def test_premium_destination(service_for: Callable[..., AlertService], influx: InfluxClient,
                             minutes: dict[int, tuple[int, int]], rules: str,
                             expected: tuple[str, str, float] | None) -> None:
    write(influx, [voice_point("FRA-VOICE-1", T0 - ago, premium=p, high_risk=h, attempts=20, busy_max=5)
                   for ago, (p, h) in minutes.items()])
    assert states(service_for(rules), T0).get("FRA-VOICE-1") == expected


# -- toll fraud: international calls outside business hours --------------------------------------------------------

def _at(zone: str, *args: int) -> int:
    return int(dt.datetime(*args, tzinfo=ZoneInfo(zone)).timestamp())


@pytest.mark.parametrize(("hours", "t_s", "inside"), [
    ({"timezone": "Europe/Berlin"}, _at("Europe/Berlin", 2026, 11, 25, 8, 0), True),
    ({"timezone": "Europe/Berlin"}, _at("Europe/Berlin", 2026, 11, 25, 7, 59), False),
    ({"timezone": "Europe/Berlin"}, _at("Europe/Berlin", 2026, 11, 25, 17, 59), True),
    ({"timezone": "Europe/Berlin"}, _at("Europe/Berlin", 2026, 11, 25, 18, 0), False),
    ({"timezone": "Europe/Berlin"}, _at("Europe/Berlin", 2026, 11, 28, 12, 0), False),  # Saturday
    ({"timezone": "Europe/Berlin", "weekdays": ["saturday"]}, _at("Europe/Berlin", 2026, 11, 28, 12, 0), True),
    ({"timezone": "Europe/Berlin"}, _at("UTC", 2026, 11, 25, 7, 30), True),  # 08:30 CET
    ({"timezone": "Europe/Berlin"}, _at("UTC", 2026, 7, 1, 6, 30), True),  # 08:30 CEST: summer time
    ({"timezone": "Europe/Berlin"}, _at("UTC", 2026, 11, 25, 6, 30), False),  # 07:30 CET
    ({"timezone": "Asia/Seoul"}, _at("UTC", 2026, 11, 25, 12, 0), False),  # 21:00 KST, 13:00 in Berlin
    ({"timezone": "Asia/Seoul", "weekdays": ["monday"]}, _at("UTC", 2026, 11, 29, 23, 30), True),  # Mon 08:30 KST
    ({"timezone": "America/New_York"}, _at("UTC", 2026, 11, 28, 1, 0), False),  # Friday 20:00 EST
], ids=["berlin-08:00-opens", "berlin-07:59-closed", "berlin-17:59-open", "berlin-18:00-closed", "saturday-closed",
        "saturday-as-workday", "utc-07:30-is-08:30-cet", "utc-06:30-is-08:30-cest", "utc-06:30-is-07:30-cet",
        "seoul-evening", "seoul-monday-while-utc-sunday", "new-york-friday-evening"])
def test_business_hours_edges_in_their_time_zone(hours: dict[str, Any], t_s: int, inside: bool) -> None:
    assert BusinessHours.model_validate(hours).contains(t_s) is inside


AFTER_HOURS = ("  - name: after_hours\n    kind: after_hours_international\n    lookback_s: 7200\n    min_calls: 3\n"
               "    business_hours: {timezone: Europe/Berlin, start: '08:00', end: '18:00'}\n")


@pytest.mark.parametrize(("calls", "expected"), [
    ({(2026, 11, 25, 3, 0): 2, (2026, 11, 25, 3, 1): 2}, ("firing", "warning", 4.0)),
    ({(2026, 11, 25, 9, 0): 5}, None),  # during business hours
    ({(2026, 11, 25, 7, 59): 2, (2026, 11, 25, 8, 0): 5}, None),  # only 2 before opening
    ({(2026, 11, 25, 17, 59): 5, (2026, 11, 25, 18, 0): 3}, ("firing", "warning", 3.0)),  # 3 after closing
], ids=["night-burst", "working-hours", "before-opening", "after-closing"])
def test_after_hours_international_in_the_business_hours_zone(service_for: Callable[..., AlertService],
                                                               influx: InfluxClient,
                                                               calls: dict[tuple[int, ...], int],
                                                               expected: tuple[str, str, float] | None) -> None:
    """Minutes placed by their start in Europe/Berlin; evaluated an hour after the newest minute."""
    times = {_at("Europe/Berlin", *when): n for when, n in calls.items()}
    write(influx, [voice_point("FRA-VOICE-1", t, international=n, attempts=n) for t, n in times.items()])
    assert states(service_for(AFTER_HOURS), max(times) + 3600).get("FRA-VOICE-1") == expected


def test_after_hours_business_hours_per_department(service_for: Callable[..., AlertService],
                                                   influx: InfluxClient) -> None:
    """The same UTC minute is 13:00 in Berlin (open) and 21:00 in Seoul (closed): an override sets the zone."""
    override = ("overrides:\n  - {rule: after_hours, department: Operations, "
                "set: {business_hours: {timezone: Asia/Seoul}}}\n")
    write(influx, [voice_point(line, T0 - 600, international=5, attempts=5) for line in ("FRA-VOICE-1", "PAR-VOICE-1")])
    assert states(service_for(AFTER_HOURS, extra=override), T0) == {"PAR-VOICE-1": ("firing", "warning", 5.0)}


# -- cost_spike ----------------------------------------------------------------------------------------------------

SPIKE = "  - {name: cost_spike, kind: cost_spike, factor: 3, min_cost: 20, baseline_weeks: 4}\n"


def costs(line: str, hours: dict[int, float], *, end: int = T0) -> list[Point]:
    """``{hour start before end: cost}`` spread over two minutes of that hour."""
    return [voice_point(line, end - ago + m * 60, cost=c / 2, attempts=10) for ago, c in hours.items() for m in (5, 6)]


@pytest.mark.parametrize(("hours", "expected"), [
    ({3600: 60.0, **{3600 + w * WEEK_S: 4.0 for w in range(1, 5)}}, ("firing", "critical", 60.0)),
    ({3600: 11.0, **{3600 + w * WEEK_S: 4.0 for w in range(1, 5)}}, None),  # below 3 x 4
    ({3600: 19.0, 7200 + WEEK_S: 1.0}, None),  # 19 > 3 x 0, but below min_cost
    ({3600: 25.0, 7200 + WEEK_S: 1.0}, ("firing", "critical", 25.0)),  # a quiet hour (0) in a week with calls
    ({3600: 500.0}, None),  # a new trunk: no baseline week
    ({3600: 60.0, 3600 + WEEK_S: 30.0, 3600 + 2 * WEEK_S: 10.0}, None),  # baseline 20 over the two weeks with data
], ids=["15-times-the-baseline", "below-factor", "below-min-cost", "quiet-hour-baseline-0", "no-baseline-week",
        "weeks-without-data-left-out"])
def test_cost_spike_against_the_same_hour_of_the_week(service_for: Callable[..., AlertService],
                                                      influx: InfluxClient, hours: dict[int, float],
                                                      expected: tuple[str, str, float] | None) -> None:
    write(influx, costs("FRA-VOICE-1", hours))
    got = states(service_for(SPIKE), T0).get("FRA-VOICE-1")
    assert got == (None if expected is None else (expected[0], expected[1], pytest.approx(expected[2])))


def test_cost_spike_message_names_the_rate_plans_currency(tmp_path: Path, influx: InfluxClient, clock: Clock) -> None:
    write(influx, costs("FRA-VOICE-1", {3600: 60.0, **{3600 + w * WEEK_S: 4.0 for w in range(1, 5)}}))
    service = AlertService(config=_config(tmp_path, SPIKE), inventory=make_inventory(*LINES), client=influx,
                           store=AlertStore(tmp_path / "state" / "alerts.sqlite"), clock=clock,
                           voice=VoiceFacts(plan_currency={"dtag-sip-business": "EUR"}))
    try:
        (change,) = service.evaluate(T0).changes
    finally:
        service.close()
    assert summary(service._alert_dict(change)) == (
        "FRA-VOICE-1: call cost 60.00 EUR in the last hour against a baseline of 4.00 EUR for this hour of the week "
        "(alert above 3× the baseline and 20 EUR)")


@pytest.mark.parametrize(("hourly", "expected"), [
    ([(T0 - 3600, 10.0), (T0 - 3600 - WEEK_S, 2.0), (T0 - 3600 - 2 * WEEK_S, 4.0)], (10.0, 3.0, 2)),
    ([(T0 - 3600 - WEEK_S + 7200, 2.0)], (0.0, 0.0, 1)),  # the week had calls, not in that hour
    ([(T0 - 3600, 10.0)], (10.0, None, 0)),
    ([], (0.0, None, 0)),
], ids=["two-weeks", "week-with-other-hours", "no-week", "nothing"])
def test_cost_baseline_is_the_mean_of_the_weeks_with_data(hourly: list[tuple[int, float]],
                                                          expected: tuple[float, float | None, int]) -> None:
    figures = cost_baseline(hourly, end_s=T0, weeks=4)
    assert (figures.cost, figures.baseline, figures.weeks) == expected


# -- subjects, queries, routing ------------------------------------------------------------------------------------

ALL_VOICE = CHANNELS + BLOCKED + PREMIUM + AFTER_HOURS + SPIKE


def test_voice_rules_are_only_about_voice_trunks(service_for: Callable[..., AlertService],
                                                 influx: InfluxClient) -> None:
    """voice_trunk points tagged with an MPLS line (a mapping mistake) raise nothing; the MPLS line's own rules
    are untouched."""
    write(influx, [voice_point("FRA-MPLS-1", T0 - 300, premium=5, blocked=50, busy_max=30, international=9)])
    service = service_for(ALL_VOICE)
    assert states(service, T0) == {}
    assert all("FRA-MPLS-1" not in service.evaluator.subjects(rule) for rule in service.config.rules)


def test_no_voice_query_without_voice_trunks_and_none_without_voice_rules(tmp_path: Path) -> None:
    """bench alert-eval: a configuration without voice rules sends exactly the queries it sent before; voice rules
    over an inventory without voice trunks send none."""
    config = _config(tmp_path, ALL_VOICE)
    no_voice = Evaluator(config, make_inventory({"id": "FRA-MPLS-1"}), GrafanaSettings())
    assert [q for rule in config.rules for q in no_voice.queries(rule, end_s=T0)] == []
    with_voice = Evaluator(config, make_inventory(*LINES), GrafanaSettings())
    assert len([q for rule in config.rules for q in with_voice.queries(rule, end_s=T0)]) == len(config.rules)


def test_toll_fraud_alert_is_routed_and_mailed_with_its_figures(service_for: Callable[..., AlertService],
                                                                 influx: InfluxClient, clock: Clock,
                                                                 smtp_factory: Callable[..., SmtpServer]) -> None:
    smtp = smtp_factory("plain")
    write(influx, [voice_point("FRA-VOICE-1", T0 - 600 + 60 * i, high_risk=3, international=3, attempts=3)
                   for i in range(4)] + [traffic_point("FRA-VOICE-1", T0 - 60, util=10)])
    service = service_for(PREMIUM, port=smtp.port)
    service.tick()
    (message,) = smtp.messages
    assert message["Subject"] == ("[linewatch] [CRITICAL] toll_fraud: FRA-VOICE-1: 12 calls to premium or high-risk "
                                  "destinations in the last hour (possible toll fraud)")
    body = message.get_body(("plain",)).get_content()
    for fact in ("Contracted channels:  30", "Department:           Sales", "Since:                2026-11-25 11:50"):
        assert fact in body, body
    (alert,) = service.store.alerts().values()
    assert (alert.status.state, alert.status.severity, alert.labels["line_type"]) == (
        AlertState.FIRING, Severity.CRITICAL, "voice_trunk")


# -- alerts.yaml ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "key", "reason"), [
    ("{name: b, kind: blocked_calls, warning_per_hour: 5, clear_per_hour: 6}", "rules[0]",
     "clear_per_hour (6.0) must be below warning_per_hour (5.0)"),
    ("{name: c, kind: channel_utilization, warning_pct: 80, critical_pct: 70}", "rules[0]",
     "critical_pct (70.0) must be above warning_pct (80.0)"),
    ("{name: a, kind: after_hours_international, business_hours: {start: '18:00', end: '08:00'}}",
     "rules[0].business_hours", "start (18:00) must be before end (08:00)"),
    ("{name: a, kind: after_hours_international, business_hours: {timezone: Europe/Berln}}",
     "rules[0].business_hours.timezone", "unknown time zone 'Europe/Berln'"),
    ("{name: a, kind: after_hours_international, business_hours: {weekdays: [moonday]}}",
     "rules[0].business_hours.weekdays", "unknown weekday 'moonday'"),
    ("{name: s, kind: cost_spike, factor: 0.5}", "rules[0].factor", "greater than 1"),
    ("{name: p, kind: premium_destination, min_calls: 0}", "rules[0].min_calls", "greater than or equal to 1"),
], ids=["blocked-clear-above-warning", "channel-critical-below-warning", "business-hours-reversed",
        "business-hours-unknown-zone", "business-hours-unknown-weekday", "spike-factor-below-1", "min-calls-0"])
def test_bad_voice_rules_give_clear_errors(tmp_path: Path, rule: str, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        _config(tmp_path, f"  - {rule}\n")
    problems = [p for p in info.value.problems if p.key == key]
    assert problems and reason in problems[0].reason, info.value.problems
    assert problems[0].line == 2


def test_voice_rule_override_for_a_line_that_is_no_voice_trunk_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _config(tmp_path, PREMIUM, extra="overrides:\n  - {rule: toll_fraud, line: FRA-MPLS-1, set: {min_calls: 3}}\n")
    (problem,) = info.value.problems
    assert (problem.key, problem.line) == ("overrides[0].line", 4)
    assert "FRA-MPLS-1 is a mpls line, not a voice_trunk: rule toll_fraud never looks at it" in problem.reason


# -- the destinations named by a toll-fraud alert (the call store) -------------------------------------------------


CALL_FIELDS = ("start_s", "direction", "callee_e164", "dest_class", "high_risk", "rate_prefix")


def call_frame(calls: list[dict[str, Any]]) -> pd.DataFrame:
    """Rated calls (the call frame's ALL_COLUMNS) from dicts; defaults: FRA-VOICE-1, answered, 120 s."""
    defaults = {"line": "FRA-VOICE-1", "outcome": "answered", "direction": "outbound", "duration_s": 120.0,
                "dest_class": "national", "high_risk": False, "cost": 0.0}
    full = [{**defaults, "call_key": f"k{i}", "source": f"test:{i}", **c} for i, c in enumerate(calls)]
    for c in full:
        c.setdefault("end_s", c["start_s"] + c["duration_s"])
        c.setdefault("answer_s", c["start_s"] if c["outcome"] == "answered" else float("nan"))
        c.setdefault("billsec_s", c["end_s"] - c["answer_s"] if c["outcome"] == "answered" else 0.0)
    return conform(pd.DataFrame([{name: c.get(name) for name in ALL_COLUMNS} for c in full]), ALL_COLUMNS)


def call_rows(rows: list[tuple[float, str, str, str, bool, str]]) -> pd.DataFrame:
    """Rated calls of FRA-VOICE-1: ``(start_s, direction, callee_e164, dest_class, high_risk, rate_prefix)``."""
    return call_frame([dict(zip(CALL_FIELDS, row, strict=True)) for row in rows])


@pytest.fixture
def call_store(tmp_path: Path) -> Path:
    """A real call store with the night's calls of FRA-VOICE-1: 3 to +882 (satellite, high-risk), 2 premium +53
    (Cuba), 1 to +90 after hours, and normal national calls."""
    night = _at("Europe/Berlin", 2026, 11, 25, 3, 0)
    rows = [(night + 60 * i, "outbound", f"8821600{i:04d}", "international", True, "882") for i in range(3)]
    rows += [(night + 300 + i, "outbound", f"535512{i:04d}", "premium", True, "53") for i in range(2)]
    rows += [(night + 400, "outbound", "905321234567", "international", False, "")]
    rows += [(night + 500 + i, "outbound", f"4969123{i:04d}", "national", False, "49") for i in range(4)]
    path = tmp_path / "calls.sqlite"
    with CallStore(path) as store:
        store.add(call_rows(rows))
    return path


@pytest.mark.parametrize(("rules", "expected"), [
    (PREMIUM, ["+882… (3)", "+53… (2)"]),
    (AFTER_HOURS, ["+882… (3)", "+9053…"]),
], ids=["premium-or-high-risk", "after-hours-international"])
def test_fraud_alert_names_the_destinations_from_the_call_store(tmp_path: Path, call_store: Path, rules: str,
                                                                expected: list[str]) -> None:
    config = _config(tmp_path, rules)
    destinations = StoreDestinations(call_store)
    night = _at("Europe/Berlin", 2026, 11, 25, 3, 0)
    assert destinations(config.rules[0], line="FRA-VOICE-1", start_s=night - 3600, end_s=night + 3600) == expected
    assert destinations(config.rules[0], line="PAR-VOICE-1", start_s=night - 3600, end_s=night + 3600) == []


def test_fraud_alert_mail_lists_destinations_and_survives_a_missing_store(
        tmp_path: Path, influx: InfluxClient, clock: Clock, call_store: Path,
        smtp_factory: Callable[..., SmtpServer]) -> None:
    smtp = smtp_factory("plain")
    night = _at("Europe/Berlin", 2026, 11, 25, 3, 0)
    write(influx, [voice_point("FRA-VOICE-1", night, high_risk=3), voice_point("FRA-VOICE-1", night + 300, premium=2,
                                                                               high_risk=2)])
    inventory = make_inventory(*LINES)
    subjects = []
    for i, store_file in enumerate((call_store, tmp_path / "no-such.sqlite")):
        clock.now_s = night + 600 + i
        service = AlertService(config=_config(tmp_path, PREMIUM, port=smtp.port), inventory=inventory, client=influx,
                               store=AlertStore(tmp_path / f"s{i}" / "alerts.sqlite"), clock=clock,
                               voice=VoiceFacts(StoreDestinations(store_file)))
        try:
            service.tick()
        finally:
            service.close()
        subjects.append(smtp.messages[-1]["Subject"])
    text = ("[linewatch] [CRITICAL] toll_fraud: FRA-VOICE-1: 5 calls to premium or high-risk destinations in the last "
            "hour (possible toll fraud)")
    assert subjects == [f"{text}: +882… (3), +53… (2)", text]


@pytest.mark.parametrize(("hours", "t_s", "inside"), [
    ({"timezone": "Europe/Berlin"}, _at("Europe/Berlin", 2026, 11, 25, 7, 59), False),
    ({"timezone": "Europe/Berlin"}, _at("Europe/Berlin", 2026, 11, 25, 8, 0), True),
    ({"timezone": "Europe/Berlin"}, _at("Europe/Berlin", 2026, 11, 25, 18, 0), False),
    ({"timezone": "Europe/Berlin"}, _at("UTC", 2026, 7, 1, 6, 30), True),
    ({"timezone": "Asia/Seoul", "weekdays": ["monday"]}, _at("UTC", 2026, 11, 29, 23, 30), True),
], ids=["07:59", "08:00", "18:00", "summer-time", "seoul-monday"])
def test_call_level_business_hours_agree_with_the_minute_level(hours: dict[str, Any], t_s: int,
                                                               inside: bool) -> None:
    """The column-wise mask of the call store lookup and BusinessHours.contains of the evaluator say the same."""
    parsed = BusinessHours.model_validate(hours)
    assert parsed.contains(t_s) is inside
    assert bool(outside_hours_mask(pd.Series([float(t_s)]), parsed).iloc[0]) is not inside


# -- with the voice pipeline's own aggregation ---------------------------------------------------------------------


def test_rules_fire_on_what_the_voice_pipeline_writes(service_for: Callable[..., AlertService],
                                                      influx: InfluxClient) -> None:
    """Calls aggregated by collector.voice.aggregate (minute_table → points), not hand-made points: PAR-VOICE-1 with
    9 of its 10 channels busy for 10 minutes and 6 calls blocked, FRA-VOICE-1 with 4 night calls to +882."""
    from collector.voice.aggregate import minute_table, points

    night = _at("Europe/Berlin", 2026, 11, 25, 3, 0)
    end = night + 1200
    par = [{"line": "PAR-VOICE-1", "start_s": night + i, "duration_s": 1100.0, "dest_class": "local"} for i in range(9)]
    par += [{"line": "PAR-VOICE-1", "start_s": night + 60 * i + 30, "duration_s": 0.0, "outcome": "blocked",
             "sip_code": 503} for i in range(6)]
    fra = [{"start_s": night + 300 + 10 * i, "dest_class": "international", "high_risk": True,
            "callee_e164": f"8821600{i:04d}", "rate_prefix": "882", "cost": 3.5} for i in range(4)]
    calls = call_frame(par + fra)
    lines = {line.id: line for line in make_inventory(*LINES).lines}
    table = minute_table(calls, lines=lines, start_s=night, end_s=end)
    write(influx, points(minutes=table, lines=lines))
    service = service_for(CHANNELS + BLOCKED + PREMIUM + AFTER_HOURS)
    service.evaluate(end)
    alerts = {a.key: (a.status.state.value, a.status.severity.value, a.status.value)
              for a in service.store.alerts().values()}
    assert alerts == {
        "channels/PAR-VOICE-1": ("firing", "warning", 90.0),
        "blocked/PAR-VOICE-1": ("firing", "warning", 6.0),
        "toll_fraud/FRA-VOICE-1": ("firing", "critical", 4.0),
        "after_hours/FRA-VOICE-1": ("firing", "warning", 4.0),
    }
